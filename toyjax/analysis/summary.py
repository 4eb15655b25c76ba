"""End-of-run numbers for a trained grid of Elhage et al. (2022) toy models, driven by the run's config.

`summarize(results)` returns a JSON-serialisable dict (plain floats, ints, strings, lists; NaN and inf become
None) that the CLI prints and writes into results.json. What it holds depends on the run:

- always: grid size, fraction diverged, final loss range, D* = m/‖W‖_F² and features-per-dimension ranges,
  D* per density when density is a grid axis (§4's curve), learning-dynamics jump counts (§5);
- §3 phase runs (sweep "phase_n2m1"/"phase_n3m2", or relu_output n=2, m=1 / n=3, m=2 with an
  "extra_importance" axis): agreement with the analytic diagram for each seed policy;
- tied models: fraction of features in each geometry (§4);
- relu_hidden and abs_mlp: fraction of monosemantic neurons (§7, §8);
- sweep "adversarial": vulnerability and features per dimension (§6).
"""

from __future__ import annotations

import math

import jax
import numpy as np

from toyjax.analysis import adversarial, dynamics, geometry, neurons, phase, theory
from toyjax.analysis.metrics import dimensions_per_feature, features_per_dimension
from toyjax.data import DataSpec

PHASE_SWEEPS = ("phase_n2m1", "phase_n2m1_quick", "phase_n3m2")


def _plain(x) -> float | None:
    """A float for JSON, None when not finite."""
    x = float(x)
    return x if math.isfinite(x) else None


def _jsonable(obj):
    """Recursively turn NumPy scalars into Python ones and non-finite floats into None."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return _plain(obj)
    return obj


def _stats(values, valid) -> dict[str, float | None]:
    """min / median / max of `values` over `valid` finite entries."""
    v = np.asarray(values, dtype=np.float64)[np.asarray(valid) & np.isfinite(values)]
    if v.size == 0:
        return {"min": None, "median": None, "max": None}
    return {"min": _plain(v.min()), "median": _plain(np.median(v)), "max": _plain(v.max())}


def _by_axis(values, valid, dims, axis: str) -> list[float | None]:
    """Mean of grid-shaped `values` over every axis but `axis`, ignoring invalid or non-finite entries."""
    ok = np.asarray(valid) & np.isfinite(values)
    v = np.where(ok, values, 0.0)
    others = tuple(i for i, d in enumerate(dims) if d != axis)
    count = ok.sum(axis=others)
    return [_plain(s / c) if c else None for s, c in zip(v.sum(axis=others), count)]


def _feature_W(results) -> np.ndarray:
    params = results.params
    return np.asarray(params["W"] if "W" in params else params["W1"])


def _has_density_axis(results) -> bool:
    return "density" in results.dims and np.asarray(results.coords["density"]).ndim == 1


def run_summary(results) -> dict:
    """Numbers every run gets: size, divergence, final loss, D* and features per dimension (§4)."""
    valid = ~np.asarray(results.diverged)
    W = _feature_W(results)
    d_star = dimensions_per_feature(W)
    out = {
        "n_models": int(valid.size),
        "fraction_diverged": float(1 - valid.mean()),
        "final_loss": _stats(results.loss, valid),
        "dimensions_per_feature": _stats(d_star, valid),
        "features_per_dimension": _stats(features_per_dimension(W), valid),
    }
    if _has_density_axis(results):
        out["by_density"] = {
            "density": [float(d) for d in results.coords["density"]],
            "dimensions_per_feature": _by_axis(d_star, valid, results.dims, "density"),
        }
    return out


def is_phase_run(results) -> bool:
    """Whether `results` is a §3 phase-diagram run that the analytic model describes."""
    cfg = results.config
    if cfg.get("sweep_name") in PHASE_SWEEPS:
        return True
    model = cfg["model"]
    shape = (model["n_features"], model["n_hidden"])
    return model["kind"] == "relu_output" and shape in ((2, 1), (3, 2)) and "extra_importance" in results.dims


def analytic_map(results) -> np.ndarray:
    """Analytic phase (§3) of every grid point, from its own density and relative extra importance.

    Uses the extra feature's density s and r = I_extra / I_ordinary (the loss scales with importance).
    """
    n = results.config["model"]["n_features"]
    importance = np.asarray(results.importance)
    s = np.asarray(results.density)[..., -1]
    return theory.analytic_phase(n, s, importance[..., -1] / importance[..., 0])[0]


def phase_summary(results) -> dict:
    """Agreement of the empirical §3 diagram with the analytic one, for every seed policy.

    "all"/"away_from_boundary" compare full phases (for n=3 including whether the ordinary features are
    antipodal); "extra_feature" compares only the extra feature's status, the paper's colouring.
    """
    dims = tuple(results.dims)
    loss = np.where(results.diverged, np.inf, getattr(results, "eval_loss", results.loss))
    analytic = analytic_map(results)
    if "seed" in dims:
        analytic = np.take(analytic, 0, axis=dims.index("seed"))
    out = {"analytic_fractions": _code_fractions(analytic, theory.PHASES)}
    extra = phase.extra_feature_phase
    for policy in phase.POLICIES:
        empirical, _ = phase.aggregate_phase(results.params["W"], loss, dims, policy)
        out[policy] = {
            **phase.agreement(empirical, analytic),
            "fraction_unclear": float(np.mean(empirical == theory.UNCLEAR)),
            "extra_feature": phase.agreement(extra(empirical), extra(analytic)),
        }
    return out


def _code_fractions(codes, names) -> dict[str, float]:
    counts = np.bincount(np.asarray(codes).ravel(), minlength=len(names))
    return {name: float(c / max(np.size(codes), 1)) for name, c in zip(names, counts)}


def geometry_summary(results) -> dict[str, float]:
    """Fraction of features (of non-diverged models) in each §4 geometry."""
    valid = ~np.asarray(results.diverged)
    codes = geometry.classify_geometry(np.asarray(results.params["W"])[valid]).geometry
    return geometry.geometry_fractions(codes)


def neuron_summary(results) -> dict:
    """Fraction of live neurons that are monosemantic (§7, §8), overall and per density."""
    params = {k: np.asarray(v) for k, v in results.params.items()}
    weights = neurons.neuron_weights(params)
    raw = params["W1"] if "W1" in params else params["W"]
    classes = neurons.classify_neurons(weights, raw)
    live = (classes != neurons.DEAD) & ~np.asarray(results.diverged)[..., None]
    mono = (classes == neurons.MONOSEMANTIC).astype(float)
    out = {"fraction_monosemantic": _plain(mono[live].mean()) if live.any() else None}
    if _has_density_axis(results):
        per_model = np.where(live.any(-1), (mono * live).sum(-1) / np.maximum(live.sum(-1), 1), np.nan)
        out["fraction_monosemantic_by_density"] = _by_axis(per_model, live.any(-1), results.dims, "density")
    return out


def adversarial_summary(results, batch: int = 4096) -> dict:
    """§6 vulnerability against features per dimension, overall and per density."""
    cfg = results.config
    data = cfg.get("data", {})
    spec = DataSpec(data.get("kind", "independent"), cfg["model"]["n_features"], data.get("set_size", 2))
    kind = cfg["model"]["kind"]
    key = jax.random.PRNGKey(0)
    found = adversarial.attack(kind, results.params, results.density, results.importance, spec, key=key, batch=batch)
    valid = ~np.asarray(results.diverged) & np.isfinite(found["vulnerability"])
    vul, fpd = found["vulnerability"], found["features_per_dimension"]
    out = {"vulnerability": _stats(vul, valid), "features_per_dimension": _stats(fpd, valid)}
    if valid.sum() > 2 and np.std(vul[valid]) > 0 and np.std(fpd[valid]) > 0:
        out["correlation"] = _plain(np.corrcoef(vul[valid], fpd[valid])[0, 1])
    if _has_density_axis(results):
        out["vulnerability_by_density"] = _by_axis(vul, valid, results.dims, "density")
        out["features_per_dimension_by_density"] = _by_axis(fpd, valid, results.dims, "density")
    return out


def dynamics_summary(results) -> dict:
    """§5 jumps: mean number per model, and the share that coincide with a falling loss."""
    traj = dynamics.trajectories(results.history)
    found = dynamics.detect_jumps(traj["dimensionality"], traj["loss"])
    valid = ~np.asarray(results.diverged)
    jumps = found["jump"][valid]
    drops = found["jump_loss_drop"][valid][jumps]
    return {
        "jumps_per_model": float(jumps.sum() / max(valid.sum(), 1)),
        "fraction_of_jumps_with_loss_drop": _plain(np.mean(drops > 0)) if drops.size else None,
    }


def _has_trajectories(results) -> bool:
    history = getattr(results, "history", None) or {}
    has_d = "dimensionality" in history or "params" in history
    return has_d and "loss" in history and np.asarray(history.get("step", [])).size >= 2


def summarize(results) -> dict:
    """The numbers a reader wants at the end of a run, chosen from its config (see the module docstring).

    Args:
        results: a `toyjax.results.Results` (or anything with the same attributes).

    Returns:
        A JSON-serialisable dict of plain numbers, strings and lists.
    """
    cfg = results.config
    model = cfg["model"]
    sweep = cfg.get("sweep_name")
    out = {
        "sweep": sweep,
        "model": model["kind"],
        "n_features": int(model["n_features"]),
        "n_hidden": int(model["n_hidden"]),
        "grid": {str(d): int(s) for d, s in zip(results.dims, results.grid_shape)},
        **run_summary(results),
    }
    if _has_trajectories(results):
        out["dynamics"] = dynamics_summary(results)
    if is_phase_run(results):
        out["phase"] = phase_summary(results)
    if model["kind"] in adversarial.TIED_KINDS:
        out["geometry"] = geometry_summary(results)
    if model["kind"] in ("relu_hidden", "abs_mlp"):
        out["neurons"] = neuron_summary(results)
    if sweep == "adversarial" and model["kind"] in adversarial.TIED_KINDS:
        out["adversarial"] = adversarial_summary(results)
    return _jsonable(out)
