"""Neuron stack-plot data and mono/polysemantic classification (§7, §8) on hand-built weights."""

import jax.numpy as jnp
import numpy as np

from toyjax.analysis import neurons
from toyjax.analysis.neurons import DEAD, MONOSEMANTIC, POLYSEMANTIC
from toyjax.families.toy.models import abs_mlp


def test_classes_of_hand_built_neurons():
    W = np.array(
        [
            [0.0, 1.0, 0.0, 0.02],  # monosemantic despite a little noise
            [0.7, 0.0, -0.7, 0.0],  # two features
            [0.0, 0.0, 0.0, 0.001],  # dead
        ]
    )
    np.testing.assert_array_equal(neurons.classify_neurons(W), [MONOSEMANTIC, POLYSEMANTIC, DEAD])
    np.testing.assert_allclose(neurons.monosemanticity(W)[:2], [1 / 1.0004, 0.5], rtol=1e-6)


def test_abs_mlp_normalisation_keeps_the_function_and_sets_max_weight_one():
    rng = np.random.default_rng(0)
    params = {
        "W1": rng.normal(size=(2, 6, 3)).astype(np.float32),
        "W2": rng.normal(size=(2, 3, 6)).astype(np.float32),
        "b": rng.normal(size=(2, 3)).astype(np.float32),
    }
    params["W1"][0, 4] = 0.0  # a dead neuron stays as it is
    norm = neurons.normalize_abs_mlp(params)
    peak = np.abs(norm["W1"]).max(axis=-1)
    np.testing.assert_allclose(np.delete(peak[0], 4), 1.0, rtol=1e-6)
    np.testing.assert_allclose(peak[1], 1.0, rtol=1e-6)
    x = jnp.asarray(rng.uniform(-1, 1, size=(3, 64)), jnp.float32)
    for g in range(2):
        before = abs_mlp({k: jnp.asarray(v[g]) for k, v in params.items()}, x)
        after = abs_mlp({k: jnp.asarray(v[g]) for k, v in norm.items()}, x)
        np.testing.assert_allclose(before, after, rtol=1e-5, atol=1e-5)


def test_neurons_are_ordered_by_their_top_feature_importance():
    importance = 0.8 ** np.arange(4)
    W = np.array([[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.9, 0.1, 0.0, 0.0], [0.0, 2.0, 0.0, 0.5]])
    np.testing.assert_array_equal(neurons.neuron_order(W, importance), [2, 3, 0, 1])
    grid = np.stack([W, W[::-1]])
    np.testing.assert_array_equal(neurons.neuron_order(grid, importance), [[2, 3, 0, 1], [1, 0, 3, 2]])


def test_stack_plot_data_for_relu_hidden_and_abs_mlp():
    W = np.array([[0.5, -0.25, 1.0], [0.0, 0.0, 2.0]])
    data = neurons.stack_plot_data({"W": W, "b": np.zeros(3)}, np.array([1.0, 0.9, 0.8]))
    np.testing.assert_array_equal(data["order"], [0, 1])  # neuron 0's top feature (2) ties with neuron 1's
    np.testing.assert_allclose(data["bottom"][0], [0.0, 0.0, 0.5])  # positives stack up, negatives down
    np.testing.assert_array_equal(data["neuron_class"], [POLYSEMANTIC, MONOSEMANTIC])
    params = {"W1": 3 * W, "W2": W.T.copy(), "b": np.zeros(3)}
    data = neurons.stack_plot_data(params, np.ones(3))
    np.testing.assert_allclose(np.abs(data["weights"]).max(axis=-1), 1.0)
    assert data["output_weights"].shape == (3, 2)
    np.testing.assert_allclose(data["output_weights"][:, 1], W.T[:, 1] * 6.0)


def test_with_non_negative_inputs_only_positive_weights_code_a_feature():
    W = np.array([[0.8, -2.0, 0.5, 0.0],    # inhibited by feature 1: codes features 0 and 2 (positive drive)
                  [0.9, 0.05, 0.0, -0.6],   # 0.05 is noise: monosemantic without inputs of both signs
                  [-0.5, -0.5, 0.0, 0.0]])  # only inhibition: it never fires, dead
    np.testing.assert_array_equal(neurons.classify_neurons(W, signed=False), [POLYSEMANTIC, MONOSEMANTIC, DEAD])
    np.testing.assert_array_equal(neurons.classify_neurons(W, signed=True), [POLYSEMANTIC, POLYSEMANTIC, POLYSEMANTIC])
    np.testing.assert_array_equal(neurons.coded_features(W, signed=False)[0], [True, False, True, False])


def test_configuration_counts_the_papers_regimes():
    dedicated = np.eye(5, 10)[:3]                                   # neurons 0-2: features 0-2
    binary = np.array([[0, 0, 0, 1.0, 0, 0.6, 0, 0, 0, 0],           # a binary code for features 3-5
                       [0, 0, 0, 0, 1.0, 0.6, 0, 0, 0, 0]])
    found = neurons.configuration(np.concatenate([dedicated, binary]), signed=False)
    assert {k: int(v) for k, v in found.items()} == {"monosemantic": 3, "polysemantic": 2, "shared": 3, "coded": 6,
                                                     "max_neurons_per_feature": 2}
    assert neurons.describe_configuration(found) == "3 monosemantic + 3 features in 2 neurons"
    assert neurons.describe_configuration(neurons.configuration(np.eye(5, 10))) == "5 monosemantic"
