"""The §6 analytic L2 attack on hand-built models with known answers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from toyjax.analysis import adversarial
from toyjax.data import DataSpec, sample
from toyjax.families.toy.architecture import SHORTHANDS, Architecture

TIED = [name for name, arch in SHORTHANDS.items() if arch.tied]  # linear, relu_output, relu_hidden


@pytest.fixture
def key():
    return jax.random.PRNGKey(0)


def reference_params(n: int, m: int, density: float) -> dict:
    """The orthogonal reference: top-m features on unit axes, bias E[x_i] = density/2 on the rest."""
    W = np.eye(m, n, dtype=np.float32)
    b = np.where(np.arange(n) < m, 0.0, density / 2).astype(np.float32)
    return {"W": W, "b": b}


@pytest.mark.parametrize("kind", TIED)
def test_reference_model_has_vulnerability_one(kind, key):
    n, m, density = 5, 2, 0.3
    importance = 0.7 ** np.arange(n)
    params = reference_params(n, m, density)
    out = adversarial.attack(kind, params, np.full(n, density), importance, DataSpec(n_features=n), key=key, batch=4096)
    assert out["vulnerability"] == pytest.approx(1.0, rel=1e-4)
    assert out["feature"] == 0  # the most important represented feature is the most harmful to attack
    assert out["harm"] == pytest.approx(out["scale"] ** 2, rel=1e-4)
    assert out["features_per_dimension"] == pytest.approx(1.0)


def test_linear_pair_has_vulnerability_four(key):
    # W = [1, 1] (m=1): δ = λ(1, 1)/√2 moves both outputs by λ√2, so L' − L = 2λ²(I_0 + I_1) = 4 λ² max I,
    # given biases −s/2 that make the residuals mean-zero.
    s = 0.5
    params = {"W": np.array([[1.0, 1.0]], np.float32), "b": np.array([-s / 2, -s / 2], np.float32)}
    out = adversarial.attack("linear", params, [s, s], [1.0, 1.0], DataSpec(n_features=2), key=key, batch=100_000)
    assert out["vulnerability"] == pytest.approx(4.0, rel=0.05)


def test_superposition_is_more_vulnerable_than_the_reference(key):
    density = np.array([[0.02, 0.02], [0.1, 0.1]])  # a grid of two sparse models
    params = {"W": np.array([[[1.0, -1.0]]] * 2, np.float32), "b": np.zeros((2, 2), np.float32)}
    out = adversarial.attack("relu_output", params, density, [1.0, 1.0], DataSpec(n_features=2), key=key, batch=8192)
    assert out["vulnerability"].shape == (2,)
    assert np.all(out["vulnerability"] > 1.5)
    np.testing.assert_allclose(out["features_per_dimension"], 2.0)


def test_attack_matches_a_direct_computation_on_a_grid(key):
    rng = np.random.default_rng(0)
    n, m, batch = 4, 2, 2048
    params = {"W": rng.normal(size=(3, m, n)).astype(np.float32), "b": rng.normal(size=(3, n)).astype(np.float32)}
    density = np.array([0.1, 0.4, 1.0])[:, None] * np.ones(n)
    importance = 0.9 ** np.arange(n)
    out = adversarial.attack("relu_output", params, density, importance, DataSpec(n_features=n), key=key, batch=batch)
    for g in range(3):
        x = np.asarray(sample(DataSpec(n_features=n), batch, jnp.asarray(density[g], jnp.float32), key=key)).T
        W, b = params["W"][g].astype(np.float64), params["b"][g]
        G = W.T @ W
        lam = 0.1 * np.linalg.norm(x, axis=1).mean()

        def loss(inputs, W=W, b=b):
            return np.mean(np.sum(importance * (x - np.maximum(inputs @ W.T @ W + b, 0)) ** 2, axis=1))

        harmed = [loss(x + lam * G[i] / np.linalg.norm(G[i])) for i in range(n)]
        assert out["attacked_loss"][g] == pytest.approx(max(harmed), rel=1e-4)
        assert out["feature"][g] == np.argmax(harmed)
        assert out["vulnerability"][g] == pytest.approx((max(harmed) - loss(x)) / (lam**2 * importance.max()), rel=1e-3)


def test_attack_directions_and_errors(key):
    W = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    d = adversarial.attack_directions(W)
    np.testing.assert_allclose(np.linalg.norm(d, axis=-1), [1, 0, 1])
    assert isinstance(adversarial.attack_directions(jnp.asarray(W)), jax.Array)
    params = {"W1": np.zeros((2, 3)), "W2": np.zeros((3, 2)), "b": np.zeros(3)}
    with pytest.raises(ValueError, match="tied"):
        adversarial.attack("abs_mlp", params, np.ones(3), np.ones(3), DataSpec(n_features=3), key=key)


def test_the_attack_reads_the_architecture_not_the_name(key):
    """A described tied model is attacked like its shorthand; any untied one is refused, in one line."""
    n, m, density = 5, 2, 0.3
    args = (reference_params(n, m, density), np.full(n, density), np.ones(n), DataSpec(n_features=n))
    described = adversarial.attack(Architecture(hidden_activation="relu"), *args, key=key, batch=1024)
    named = adversarial.attack("relu_hidden", *args, key=key, batch=1024)
    assert described["vulnerability"] == pytest.approx(named["vulnerability"])
    assert set(TIED) == {"linear", "relu_output", "relu_hidden"}
    with pytest.raises(ValueError, match=r"^model: the §6 attack needs a tied encoder \(model.encoder: tied\), "
                       "got untied$"):
        adversarial.attack(Architecture(encoder="untied"), *args, key=key)


@pytest.mark.parametrize("kind", TIED)
def test_per_input_size_also_gives_the_reference_vulnerability_one(kind, key):
    n, m, density = 5, 2, 0.3
    params = reference_params(n, m, density)
    out = adversarial.attack(kind, params, np.full(n, density), np.ones(n), DataSpec(n_features=n), key=key,
                             batch=4096, size="per_input")
    assert out["vulnerability"] == pytest.approx(1.0, rel=1e-4)


def test_per_input_size_scales_each_input_by_its_own_norm(key):
    n, batch = 3, 4096
    params = {"W": np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]], np.float32), "b": np.full(n, -0.1, np.float32)}
    density = np.full(n, 0.05)
    out = adversarial.attack("relu_output", params, density, np.ones(n), DataSpec(n_features=n), key=key,
                             batch=batch, size="per_input")
    x = np.asarray(sample(DataSpec(n_features=n), batch, jnp.asarray(density, jnp.float32), key=key)).T
    W = params["W"].astype(np.float64)
    G = W.T @ W
    lam = 0.1 * np.linalg.norm(x, axis=1, keepdims=True)

    def loss(inputs):
        return np.mean(np.sum((x - np.maximum(inputs @ G + params["b"], 0)) ** 2, axis=1))

    harmed = [loss(x + lam * G[i] / np.linalg.norm(G[i])) for i in range(n)]
    assert out["attacked_loss"] == pytest.approx(max(harmed), rel=1e-4)
    assert out["vulnerability"] == pytest.approx((max(harmed) - loss(x)) / np.mean(lam**2), rel=1e-3)


def test_a_shared_size_is_clipped_where_most_inputs_are_zero(key):
    """An antipodal pair with negative biases at low density: the shared λ (0.1 × mean ‖x‖, tiny because most
    inputs are zero) stays under the biases and barely harms; λ per input does not (module docstring)."""
    params = {"W": np.array([[1.0, -1.0]], np.float32), "b": np.full(2, -0.05, np.float32)}
    args = ("relu_output", params, np.full(2, 0.02), np.ones(2), DataSpec(n_features=2))
    shared = adversarial.attack(*args, key=key, batch=20_000)["vulnerability"]
    per_input = adversarial.attack(*args, key=key, batch=20_000, size="per_input")["vulnerability"]
    assert shared < 1 < per_input


def test_unknown_attack_size(key):
    with pytest.raises(ValueError, match="per_input"):
        adversarial.attack("linear", reference_params(3, 2, 0.5), np.full(3, 0.5), np.ones(3), DataSpec(n_features=3),
                           key=key, size="huge")
