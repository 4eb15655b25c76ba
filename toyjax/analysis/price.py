"""The price of monosemanticity, Elhage et al. (2022) §9 ("The Strategic Picture"): what λ‖h‖₁ costs and removes.

The paper: it is "actually quite easy to get rid of superposition in the toy models … albeit at the cost of a
higher loss. Simply apply an L1 regularization term to the hidden layer activations", which kills "features
below a certain importance threshold"; "a superposition model with n neurons likely has the same performance as
a significantly larger monosemantic model with kn neurons"; and L1 should "reduce superposition at least a
little bit with essentially no effect on performance". This module measures each, on the best seed of every
(λ, density) cell (lowest stratified expected loss `eval_loss`, which is the reconstruction loss alone: the
penalty is in training only, `toyjax.families.toy.stratified`).

Per neuron k its drive a_ki (`toyjax.analysis.neurons`: max(w, 0) on non-negative inputs, |w| on signed ones,
abs_mlp's W1 normalised) gives, with the §7 classifier's dead neurons counted as 0:

    effective features  e_k = Σ_i a_ki² / max_i a_ki²      (1: one feature; 2: two equal ones)
    features per dimension   Σ_k e_k / m                    (the paper's ‖W‖_F²/m, each neuron's drive scaled to 1)
    superposition            Σ_k (e_k − 1) / m              (0 exactly when every live neuron holds one feature)
    superposition removed    1 − S(λ) / S(0)                (per density; NaN where S(0) = 0)

Raw ‖W‖_F²/m does not serve here: under the penalty relu_hidden silences features with large negative weights,
which add to ‖W‖ but represent nothing. A feature is represented when some neuron codes it (§7 classifier);
the kill threshold of a cell is the largest importance of a feature it does not represent, and its features
form an importance prefix when every represented feature is more important than every other.

Arrays of a grid's cells are (n_l1, n_density) with λ ascending and λ = 0 first. This module imports numpy,
`toyjax.analysis.aggregate`, `toyjax.analysis.neurons`, `toyjax.axes` and `toyjax.families.toy.models`.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from toyjax.analysis import neurons
from toyjax.analysis.aggregate import best_seed, plain, ranking_loss, take_seed
from toyjax.axes import axis_values
from toyjax.families.toy.models import feature_matrix

MARGINS = (0.01, 0.001)  # the hybrid margins: loss increases within 1% and within 0.1% of λ = 0's
MATCH = 0.01  # a monosemantic width matches the superposition model when its loss is within 1% of it


def drive(weights, signed: bool) -> np.ndarray:
    """How much each feature drives each neuron: |w| (signed inputs) or max(w, 0) (non-negative); (..., m, n)."""
    w = np.asarray(weights, np.float64)
    return np.abs(w) if signed else np.maximum(w, 0.0)


def effective_features(weights, signed: bool, raw_weights=None) -> np.ndarray:
    """Each neuron's effective number of features Σ_i a_ki² / max_i a_ki², 0 for a dead neuron; (..., m).

    Args:
        weights: (..., m, n) neuron weights (`toyjax.analysis.neurons.neuron_weights`).
        signed: whether inputs take both signs.
        raw_weights: (..., m, n) unnormalised weights to judge deadness on (default: `weights`).
    """
    a = drive(weights, signed)
    top = a.max(axis=-1)
    live = neurons.classify_neurons(weights, raw_weights, signed) != neurons.DEAD
    return np.where(live, (a**2).sum(axis=-1) / np.where(top > 0, top, 1.0) ** 2, 0.0)


def features_per_dimension(weights, signed: bool, raw_weights=None) -> np.ndarray:
    """Σ_k e_k / m, the effective features per neuron over all m neurons (module docstring); (...)."""
    e = effective_features(weights, signed, raw_weights)
    return e.sum(axis=-1) / e.shape[-1]


def superposition(weights, signed: bool, raw_weights=None) -> np.ndarray:
    """Σ_k (e_k − 1) / m over live neurons: 0 exactly when no neuron holds a second feature; (...)."""
    e = effective_features(weights, signed, raw_weights)
    return np.where(e > 0, e - 1.0, 0.0).sum(axis=-1) / e.shape[-1]


def represented(weights, signed: bool) -> np.ndarray:
    """Which features some neuron codes (the §7 classifier's `coded_features`); (..., n) booleans."""
    return np.any(neurons.coded_features(weights, signed), axis=-2)


def kill_threshold(shown, importance) -> np.ndarray:
    """The largest importance of a feature not represented, NaN where every feature is; (...).

    Args:
        shown: (..., n) booleans, `represented`.
        importance: (..., n) or (n,) importances.
    """
    imp = np.broadcast_to(np.asarray(importance, np.float64), np.shape(shown))
    dropped = np.where(shown, -np.inf, imp).max(axis=-1)
    return np.where(np.isfinite(dropped), dropped, np.nan)


def importance_prefix(shown, importance) -> np.ndarray:
    """Whether every represented feature is more important than every feature not represented; (...)."""
    imp = np.broadcast_to(np.asarray(importance, np.float64), np.shape(shown))
    lowest_kept = np.where(shown, imp, np.inf).min(axis=-1)
    return lowest_kept > np.where(shown, -np.inf, imp).max(axis=-1)


def _zero_row(l1) -> int:
    """Index of λ = 0 among the ascending λ values `l1` (n_l1,); ValueError without one."""
    l1 = np.asarray(l1, np.float64)
    if l1.size == 0 or l1[0] != 0 or np.any(np.diff(l1) <= 0):
        raise ValueError(f"activation_l1: needs ascending values starting at 0, got {l1.tolist()}")
    return 0


def loss_cost(loss, l1) -> np.ndarray:
    """Relative loss increase L(λ) / L(0) − 1 of each cell; loss (n_l1, n_density), l1 (n_l1,) from 0 up."""
    loss = np.asarray(loss, np.float64)
    return loss / loss[_zero_row(l1)] - 1.0


def superposition_removed(amount, l1) -> np.ndarray:
    """1 − S(λ) / S(0) per cell, NaN where S(0) = 0; amount (n_l1, n_density) of `superposition`."""
    amount = np.asarray(amount, np.float64)
    base = amount[_zero_row(l1)]
    return np.where(base > 0, 1.0 - amount / np.where(base > 0, base, 1.0), np.nan)


def margin(l1, cost, tolerance: float) -> np.ndarray:
    """Per density, the largest λ up to which every λ's loss increase is ≤ `tolerance`; (n_density,).

    λ = 0 always qualifies, so the margin is 0 where the first λ > 0 already costs more.
    """
    l1 = np.asarray(l1, np.float64)
    _zero_row(l1)
    within = np.cumprod(np.asarray(cost) <= tolerance, axis=0).astype(bool)
    last = within.sum(axis=0) - 1
    return l1[np.maximum(last, 0)]


def at_margin(l1, cost, values, tolerance: float) -> np.ndarray:
    """`values` (n_l1, n_density) at each density's `margin`; (n_density,)."""
    l1 = np.asarray(l1, np.float64)
    rows = np.searchsorted(l1, margin(l1, cost, tolerance))
    return np.take_along_axis(np.asarray(values), rows[None, :], axis=0)[0]


def best_monosemantic(loss, polysemantic) -> np.ndarray:
    """Per density, the lowest loss of a model with no polysemantic neuron, over every λ and seed; inf if none.

    Args:
        loss: (n_l1, n_density, n_seed) expected losses (`by_model`: diverged ones inf).
        polysemantic: (n_l1, n_density, n_seed) each model's count of polysemantic neurons.

    Returns:
        (n_density,) losses.
    """
    loss = np.where(np.asarray(polysemantic) == 0, np.asarray(loss, np.float64), np.inf)
    return loss.min(axis=(0, 2))


def width_factor(widths, mono_loss, reference, m: int, tolerance: float = MATCH) -> np.ndarray:
    """k = m′/m with m′ the smallest width whose monosemantic loss is within `tolerance` of `reference`.

    Args:
        widths: (n_widths,) ascending m′.
        mono_loss: (n_widths, n_density) `best_monosemantic` of each width.
        reference: (n_density,) the superposition model's loss (width m, λ = 0).
        m: the superposition model's width.

    Returns:
        (n_density,) k, NaN where no width matches.
    """
    widths = np.asarray(widths, np.float64)
    ok = np.asarray(mono_loss, np.float64) <= np.asarray(reference, np.float64)[None, :] * (1 + tolerance)
    first = np.argmax(ok, axis=0)
    return np.where(ok.any(axis=0), widths[first] / m, np.nan)


def _cell_order(results) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Axis order (λ, density, seed) of a grid, its λ and its densities; ValueError if it lacks one."""
    dims = tuple(results.dims)
    wanted = ("activation_l1", "density", "seed")
    if sorted(dims) != sorted(wanted):
        raise ValueError(f"grid axes: needs exactly {', '.join(wanted)}, got {', '.join(dims)}")
    order = [dims.index(d) for d in wanted]
    return order, np.asarray(results.coords["activation_l1"], np.float64), np.asarray(results.coords["density"])


def by_model(results) -> dict[str, np.ndarray]:
    """Every model of a (λ, density, seed) grid, λ ascending: loss (inf if diverged), weights, importance, classes.

    Returns:
        "l1" (n_l1,), "density" (n_density,), "loss" (n_l1, n_density, n_seed), "weights" (..., m, n) (neuron
        weights), "raw" (..., m, n) (W or W1), "importance" (..., n), "polysemantic" (...), "signed" (a bool).
    """
    order, l1, density = _cell_order(results)
    rank = np.argsort(l1, kind="stable")
    params = {k: np.asarray(v) for k, v in results.params.items()}

    def move(a):
        return np.take(np.moveaxis(np.asarray(a), order, [0, 1, 2]), rank, axis=0)

    weights, raw = move(neurons.neuron_weights(params)), move(feature_matrix(params))
    signed = bool(results.config.get("data", {}).get("signed", False))
    return {"l1": l1[rank], "density": density, "loss": move(ranking_loss(results.eval_loss, results.diverged)),
            "weights": weights, "raw": raw, "importance": move(results.importance), "signed": signed,
            "polysemantic": neurons.configuration(weights, signed)["polysemantic"]}


def cells(results) -> dict[str, np.ndarray]:
    """Each (λ, density) cell's best seed, measured (module docstring); every array (n_l1, n_density).

    Returns "l1" and "density" (their axes), "loss", "cost", "features_per_dimension", "superposition",
    "removed", "polysemantic", "represented" (a count), "kill_threshold", "prefix" and "seed" (the best one).
    """
    grid = by_model(results)
    best = best_seed(grid["loss"], 2)
    w, raw = take_seed(grid["weights"], best, 2), take_seed(grid["raw"], best, 2)
    shown = represented(w, grid["signed"])
    imp = take_seed(grid["importance"], best, 2)
    amount = superposition(w, grid["signed"], raw)
    loss = take_seed(grid["loss"], best, 2)
    return {"l1": grid["l1"], "density": grid["density"], "loss": loss, "cost": loss_cost(loss, grid["l1"]),
            "features_per_dimension": features_per_dimension(w, grid["signed"], raw), "superposition": amount,
            "removed": superposition_removed(amount, grid["l1"]),
            "polysemantic": take_seed(grid["polysemantic"], best, 2), "represented": shown.sum(axis=-1),
            "kill_threshold": kill_threshold(shown, imp), "prefix": importance_prefix(shown, imp), "seed": best}


def width_table(runs) -> dict[str, np.ndarray]:
    """k from runs of one grid at widths m′ (one run each; the narrowest is the superposition model).

    Returns:
        "widths" (n_widths,) ascending, "mono" (n_widths, n_density) each width's `best_monosemantic` loss, and per
        density (n_density,) "density", "reference" (the narrowest run's loss at λ = 0), "polysemantic" (its
        polysemantic neurons) and "k" (`width_factor`).
    """
    runs = sorted(runs, key=lambda r: int(r.config["model"]["n_hidden"]))
    widths = [int(r.config["model"]["n_hidden"]) for r in runs]
    grids = [by_model(r) for r in runs]
    ref = cells(runs[0])
    mono = np.stack([best_monosemantic(g["loss"], g["polysemantic"]) for g in grids])
    return {"widths": np.asarray(widths), "density": ref["density"], "reference": ref["loss"][0],
            "polysemantic": ref["polysemantic"][0], "mono": mono,
            "k": width_factor(widths, mono, ref["loss"][0], widths[0])}


def margins(table: dict) -> dict[str, np.ndarray]:
    """Per density and margin of `MARGINS`: the λ, its loss cost and the superposition it removes.

    Args:
        table: `cells`' result.

    Returns:
        "l1_1%", "cost_1%", "removed_1%", "polysemantic_1%" (and the same for 0.1%), each (n_density,).
    """
    out = {}
    for tol in MARGINS:
        name = f"{tol:.1%}".replace(".0%", "%")
        out[f"l1_{name}"] = margin(table["l1"], table["cost"], tol)
        for key in ("cost", "removed", "polysemantic"):
            out[f"{key}_{name}"] = at_margin(table["l1"], table["cost"], table[key], tol)
    return out


def summary(results) -> dict:
    """The ``price`` summary: per density, the hybrid margins (λ within 1% and 0.1% of λ = 0's loss), the
    superposition they remove, and the loss cost and superposition removed at the largest λ."""
    table = cells(results)
    out = {"density": [float(d) for d in table["density"]], "l1": [float(v) for v in table["l1"]],
           "cost_largest_l1": [plain(c) for c in table["cost"][-1]],
           "removed_largest_l1": [plain(r) for r in table["removed"][-1]]}
    out.update({k: [plain(x) for x in v] for k, v in margins(table).items()})
    return out


def unfit(config: dict, dims: tuple[str, ...]) -> str | None:
    """Why a run cannot have the ``price`` summary: it needs a (λ, density, seed) grid whose λ axis rises from 0."""
    if sorted(dims) != ["activation_l1", "density", "seed"]:
        return f"needs exactly the grid axes activation_l1, density and seed, got {', '.join(dims)}"
    values = axis_values(SimpleNamespace(grid=SimpleNamespace(axes=config["grid"]["axes"])), "activation_l1")
    if 0 not in values:
        return f"needs λ = 0 on grid.axes.activation_l1 (the reference), got {values}"
    rising = values[0] == 0 and all(b > a for a, b in zip(values, values[1:]))
    return None if rising else f"needs grid.axes.activation_l1 ascending from λ = 0 (the reference first), got {values}"
