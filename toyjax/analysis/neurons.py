"""Per-neuron analysis of privileged-basis models, Elhage et al. (2022) §7 (relu_hidden) and §8 (abs_mlp).

A model's hidden units are neurons when a hidden activation acts on each of them (`Architecture.privileged`).
Neuron k's input weights are row k of W (a tied model such as relu_hidden, so its output weights are the
same) or of W1 (an untied one such as abs_mlp). The paper's stack plots draw one column per neuron and one
block per feature of height |w_ki| (negative weights below the axis), colour = feature. An untied model's
neurons are first normalised so that each one's largest |W1| weight is 1, with its W2 column (and hidden
bias) scaled inversely: ReLU is positively homogeneous, so the function is unchanged.

The paper colours a neuron "monosemantic or polysemantic depending on whether [it stores] more than one
feature" (§7). A neuron stores (codes) feature i when the feature drives it with a sizeable share of its
largest drive, and not noise. With signed inputs (abs_mlp, §8) a weight of either sign drives the neuron;
with non-negative inputs (§7) a negative weight only ever silences it, so only positive weights count:

    drive a_ki = |w_ki| (signed inputs) or max(w_ki, 0) (non-negative inputs)
    CODE_FRACTION = 0.25   a_ki > 0.25 × max_j a_kj
    CODE_WEIGHT = 0.1      a_ki > 0.1 (the §7 weights of coded features are ≈ 0.5–1.2)
    DEAD_WEIGHT = 1e-2     a neuron with max_i |w_ki| < 0.01 (before normalisation) is dead

A neuron coding one feature is monosemantic, two or more polysemantic, none dead. `configuration` counts
a model's monosemantic neurons and the features its polysemantic neurons share (the paper's "three
features in two neurons"). `monosemanticity`, the share of the squared weight held by the largest one, is
a continuous companion.

Inputs may be NumPy or JAX arrays with any leading grid dimensions; outputs are NumPy.
"""

from __future__ import annotations

import numpy as np

from toyjax.families.toy.models import feature_matrix

CODE_FRACTION = 0.25
CODE_WEIGHT = 0.1
DEAD_WEIGHT = 1e-2

NEURON_CLASSES = ("dead", "monosemantic", "polysemantic")
DEAD, MONOSEMANTIC, POLYSEMANTIC = range(len(NEURON_CLASSES))


def normalize_abs_mlp(params) -> dict[str, np.ndarray]:
    """Untied params (abs_mlp's) with each neuron's largest |W1| weight scaled to 1 and W2 scaled inversely (§8).

    W1'[k, :] = W1[k, :] / c_k, b_hidden'[k] = b_hidden[k] / c_k and W2'[:, k] = c_k W2[:, k] with
    c_k = max_i |W1[k, i]|; dead neurons (c_k < DEAD_WEIGHT) are left alone. With a ReLU hidden activation
    the model's function is unchanged.

    Args:
        params: {"W1": (..., m, n), "W2": (..., n, m), "b": (..., n)}, and "b_hidden" (..., m) if any.
    """
    W1, W2 = np.asarray(params["W1"]), np.asarray(params["W2"])
    c = np.max(np.abs(W1), axis=-1)
    c = np.where(c >= DEAD_WEIGHT, c, 1.0)
    out = {"W1": W1 / c[..., :, None], "W2": W2 * c[..., None, :], "b": np.asarray(params["b"])}
    if "b_hidden" in params:
        out["b_hidden"] = np.asarray(params["b_hidden"]) / c
    return out


def neuron_weights(params) -> np.ndarray:
    """Each neuron's input weights, one row per neuron: W (tied, relu_hidden) or normalised W1 (untied, abs_mlp).

    Args:
        params: a tied model's {"W": (..., m, n), ...} or an untied one's {"W1", "W2", "b", ...}.

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


def coded_features(weights, signed: bool = True) -> np.ndarray:
    """Which features each neuron codes: drive > CODE_FRACTION × the neuron's largest and > CODE_WEIGHT (§7).

    Args:
        weights: (..., m, n) neuron weights.
        signed: whether inputs take both signs (drive |w|) or are non-negative (drive max(w, 0)).

    Returns:
        (..., m, n) booleans.
    """
    w = np.asarray(weights)
    a = np.abs(w) if signed else np.maximum(w, 0.0)
    return (a > CODE_FRACTION * a.max(axis=-1, keepdims=True)) & (a > CODE_WEIGHT)


def classify_neurons(weights, raw_weights=None, signed: bool = True) -> np.ndarray:
    """Class of each neuron: dead, monosemantic (codes one feature) or polysemantic (two or more) (§7, §8).

    Args:
        weights: (..., m, n) neuron weights (normalised or not).
        raw_weights: (..., m, n) unnormalised weights to judge deadness on (default: `weights`).
        signed: whether inputs take both signs (`coded_features`).

    Returns:
        (..., m) codes into NEURON_CLASSES.
    """
    raw = np.asarray(weights if raw_weights is None else raw_weights)
    count = coded_features(weights, signed).sum(axis=-1)
    dead = (np.max(np.abs(raw), axis=-1) < DEAD_WEIGHT) | (count == 0)
    return np.where(dead, DEAD, np.where(count == 1, MONOSEMANTIC, POLYSEMANTIC))


def configuration(weights, signed: bool = True) -> dict[str, np.ndarray]:
    """How a model's neurons share its features (§7): counts per model, every field (...).

    "monosemantic" and "polysemantic" count neurons; "shared" counts the features coded by polysemantic
    neurons only (the paper's "three features in two neurons" is monosemantic 3, shared 3, polysemantic 2);
    "coded" counts the features any neuron codes; "max_neurons_per_feature" is the most neurons any
    feature is coded by (2 in the paper's "each feature a pair of neurons").

    Args:
        weights: (..., m, n) neuron weights.
        signed: whether inputs take both signs (`coded_features`).
    """
    codes = coded_features(weights, signed)
    count = codes.sum(axis=-1)
    mono, poly = count == 1, count >= 2
    on_mono = np.any(codes & mono[..., :, None], axis=-2)
    on_poly = np.any(codes & poly[..., :, None], axis=-2)
    return {
        "monosemantic": mono.sum(axis=-1),
        "polysemantic": poly.sum(axis=-1),
        "shared": (on_poly & ~on_mono).sum(axis=-1),
        "coded": np.any(codes, axis=-2).sum(axis=-1),
        "max_neurons_per_feature": codes.sum(axis=-2).max(axis=-1),
    }


def describe_configuration(config: dict, index=()) -> str:
    """'3 monosemantic + 3 features in 2 neurons' for one model of a `configuration` result."""
    mono, poly, shared = (int(np.asarray(config[k])[index]) for k in ("monosemantic", "polysemantic", "shared"))
    if not poly:
        return f"{mono} monosemantic"
    words = f"{shared} feature{'s' * (shared != 1)} in {poly} neuron{'s' * (poly != 1)}"
    return f"{mono} monosemantic + {words}" if mono else words


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


def stack_plot_data(params, importance, signed: bool = True) -> dict[str, np.ndarray]:
    """Everything a §7/§8 stack plot needs, neurons already in plotting order.

    Block (k, i) spans [bottom, bottom + height) with height = w_ki: positive weights stack upwards from 0 and
    negative weights downwards, in feature order.

    Args:
        params: a tied model's {"W", "b", ...} (relu_hidden) or an untied one's {"W1", "W2", "b", ...} (abs_mlp),
            with leading grid dims.
        importance: (..., n) or (n,) feature importances.
        signed: whether inputs take both signs (`coded_features`; False for relu_hidden on non-negative data).

    Returns:
        "order" (..., m) neuron indices; "weights", "height", "bottom" (..., m, n) in that order; "top_feature",
        "monosemanticity", "neuron_class", "features_coded" (..., m); untied, also "output_weights" (..., n, m), the
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
        "neuron_class": classify_neurons(weights, raw, signed),
        "features_coded": coded_features(weights, signed).sum(axis=-1),
    }
    if "W1" in params:
        out["output_weights"] = np.take_along_axis(normalize_abs_mlp(params)["W2"], order[..., None, :], axis=-1)
    return out
