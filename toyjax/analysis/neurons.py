"""Per-neuron analysis of privileged-basis models, Elhage et al. (2022) §7 (relu_hidden) and §8 (abs_mlp).

Neuron k's input weights are row k of W (relu_hidden; tied, so its output weights are the same) or of W1
(abs_mlp). The paper's stack plots draw one column per neuron and one block per feature of height |w_ki|
(negative weights below the axis), colour = feature. For abs_mlp each neuron is first normalised so that its
largest |W1| weight is 1, with the neuron's W2 column scaled inversely: ReLU is positively homogeneous, so
the function is unchanged.

Thresholds:

    MONOSEMANTIC_FRACTION = 0.9   monosemantic when the largest weight holds ≥ 90% of the neuron's squared
                                  weight, max_i w_ki² / Σ_i w_ki² ≥ 0.9 (noise spread over many features
                                  barely counts); polysemantic otherwise
    DEAD_WEIGHT = 1e-2            a neuron with max_i |w_ki| < 0.01 (before normalisation) is dead

Inputs may be NumPy or JAX arrays with any leading grid dimensions; outputs are NumPy.
"""

from __future__ import annotations

import numpy as np

from toyjax.models import feature_matrix

MONOSEMANTIC_FRACTION = 0.9
DEAD_WEIGHT = 1e-2

NEURON_CLASSES = ("dead", "monosemantic", "polysemantic")
DEAD, MONOSEMANTIC, POLYSEMANTIC = range(len(NEURON_CLASSES))


def normalize_abs_mlp(params) -> dict[str, np.ndarray]:
    """abs_mlp params with each neuron's largest |W1| weight scaled to 1 and W2 scaled inversely (§8).

    W1'[k, :] = W1[k, :] / c_k and W2'[:, k] = c_k W2[:, k] with c_k = max_i |W1[k, i]|; dead neurons
    (c_k < DEAD_WEIGHT) are left alone. The model's function is unchanged.

    Args:
        params: {"W1": (..., m, n), "W2": (..., n, m), "b": (..., n)}.
    """
    W1, W2 = np.asarray(params["W1"]), np.asarray(params["W2"])
    c = np.max(np.abs(W1), axis=-1)
    c = np.where(c >= DEAD_WEIGHT, c, 1.0)
    return {"W1": W1 / c[..., :, None], "W2": W2 * c[..., None, :], "b": np.asarray(params["b"])}


def neuron_weights(params) -> np.ndarray:
    """Each neuron's input weights, one row per neuron: W (relu_hidden) or normalised W1 (abs_mlp) (§7, §8).

    Args:
        params: a tied model's {"W": (..., m, n), ...} or abs_mlp's {"W1", "W2", "b"}.

    Returns:
        (..., m, n) weights w_ki.
    """
    return normalize_abs_mlp(params)["W1"] if "W1" in params else np.asarray(params["W"])


def monosemanticity(weights) -> np.ndarray:
    """Share of each neuron's squared weight held by its largest feature, max_i w_ki² / Σ_i w_ki² (§7).

    Args:
        weights: (..., m, n) neuron weights.

    Returns:
        (..., m) in [1/n, 1]; 0 for an all-zero neuron.
    """
    sq = np.asarray(weights) ** 2
    total = sq.sum(axis=-1)
    return np.where(total > 0, sq.max(axis=-1) / np.where(total > 0, total, 1), 0.0)


def classify_neurons(weights, raw_weights=None) -> np.ndarray:
    """Class of each neuron: dead, monosemantic or polysemantic (§7, §8; thresholds in the module docstring).

    Args:
        weights: (..., m, n) neuron weights (normalised or not).
        raw_weights: (..., m, n) unnormalised weights to judge deadness on (default: `weights`).

    Returns:
        (..., m) codes into NEURON_CLASSES.
    """
    raw = np.asarray(weights if raw_weights is None else raw_weights)
    dead = np.max(np.abs(raw), axis=-1) < DEAD_WEIGHT
    mono = monosemanticity(weights) >= MONOSEMANTIC_FRACTION
    return np.where(dead, DEAD, np.where(mono, MONOSEMANTIC, POLYSEMANTIC))


def neuron_order(weights, importance) -> np.ndarray:
    """Neuron order for stack plots: by the importance of each neuron's largest feature, most important first.

    Ties keep the original order; dead neurons (all-zero rows) go last.

    Args:
        weights: (..., m, n) neuron weights.
        importance: (..., n) or (n,) feature importances.

    Returns:
        (..., m) neuron indices.
    """
    weights = np.abs(np.asarray(weights))
    top = np.argmax(weights, axis=-1)
    imp = np.broadcast_to(np.asarray(importance), weights.shape[:-2] + weights.shape[-1:])
    key = np.take_along_axis(imp, top, axis=-1)
    key = np.where(weights.max(axis=-1) > 0, key, -np.inf)
    return np.argsort(-key, axis=-1, kind="stable")


def stack_plot_data(params, importance) -> dict[str, np.ndarray]:
    """Everything a §7/§8 stack plot needs, neurons already in plotting order.

    Block (k, i) spans [bottom, bottom + height) with height = w_ki: positive weights stack upwards from 0 and
    negative weights downwards, in feature order.

    Args:
        params: relu_hidden {"W", "b"} or abs_mlp {"W1", "W2", "b"} with leading grid dims.
        importance: (..., n) or (n,) feature importances.

    Returns:
        "order" (..., m) neuron indices; "weights", "height", "bottom" (..., m, n) in that order; "top_feature",
        "monosemanticity", "neuron_class" (..., m); for abs_mlp also "output_weights" (..., n, m), the
        normalised W2 with its columns in the same order.
    """
    weights = neuron_weights(params)
    raw = np.asarray(feature_matrix(params))
    order = neuron_order(weights, importance)
    pick = order[..., None]
    weights = np.take_along_axis(weights, pick, axis=-2)
    raw = np.take_along_axis(raw, pick, axis=-2)
    pos, neg = np.maximum(weights, 0), np.minimum(weights, 0)
    bottom = np.where(weights >= 0, np.cumsum(pos, axis=-1) - pos, np.cumsum(neg, axis=-1) - neg)
    out = {
        "order": order,
        "weights": weights,
        "height": weights,
        "bottom": bottom,
        "top_feature": np.argmax(np.abs(weights), axis=-1),
        "monosemanticity": monosemanticity(weights),
        "neuron_class": classify_neurons(weights, raw),
    }
    if "W1" in params:
        out["output_weights"] = np.take_along_axis(normalize_abs_mlp(params)["W2"], order[..., None, :], axis=-1)
    return out
