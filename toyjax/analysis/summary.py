"""End-of-run numbers for a trained grid of Elhage et al. (2022) toy models, as the run declares them.

`summarize(results, names)` returns a JSON-serialisable dict (plain floats, ints, strings, lists; NaN and inf
become None) that the CLI prints and writes into results.json. Every run gets its basic numbers
(`run_summary`): grid size, how many models diverged or are missing (shards not merged), final loss,
D* = m/‖W‖_F², features per dimension, and D* per density when density is a grid axis. The rest is what
the run's YAML declares in ``report.summaries``, by name from `SUMMARIES`:

- ``phase_agreement``: §3 agreement with the analytic diagram for each seed policy;
- ``geometry``: fraction of features in each §4 geometry;
- ``neurons``: fraction of monosemantic neurons (§7, §8); ``price``: §9's hybrid margins (`toyjax.analysis.price`);
- ``adversarial``: §6 vulnerability (shared and per-input attack size) and features per dimension;
- ``dynamics``: §5 jumps between dimensionalities during training;
- ``sae``: an SAE grid's MMCS, recovery, L0, variance explained and dead latents (`toyjax.families.sae.numbers`);
- ``memorization``: the test loss against the dataset size T, its peak, and which training points and
  features form polygons (Henighan et al. 2023, `toyjax.analysis.memorization`).

A summary fits a run by what its model *is* (its `Architecture`), never by its kind's name: ``geometry``
and ``adversarial`` need a tied encoder, ``neurons`` a privileged hidden basis, ``phase_agreement`` exactly
the relu_output model. Diverged and missing models are left out of every number but their counts. This
module imports numpy, `toyjax.analysis` modules, `toyjax.families.schemas`, the SAE family's `numbers` and the
toy family's `architecture`, `metrics` and `models`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from toyjax.analysis import adversarial, dynamics, geometry, memorization, neurons, phase, price, theory
from toyjax.analysis.aggregate import by_axis, fractions, jsonable, plain, rank_correlation, ranking_loss, stats
from toyjax.families.sae import numbers as sae_numbers
from toyjax.families.schemas import DEFAULT_KIND
from toyjax.families.toy.architecture import FIELDS, RELU_OUTPUT, Architecture, architecture_of, describes_toy
from toyjax.families.toy.metrics import dimensions_per_feature, features_per_dimension
from toyjax.families.toy.models import feature_matrix


def missing(results) -> np.ndarray:
    """Models with no result at all (their shard was not merged), grid-shaped."""
    found = getattr(results, "missing", None)
    return np.zeros(results.grid_shape, bool) if found is None else np.asarray(found, bool)


def valid(results) -> np.ndarray:
    """Models that trained to the end without diverging, grid-shaped."""
    return ~np.asarray(results.diverged, bool) & ~missing(results)


def _has_density_axis(results) -> bool:
    return "density" in results.dims and np.asarray(results.coords["density"]).ndim == 1


def run_summary(results) -> dict:
    """Numbers every run gets: size, divergence, missing models, final loss, and for toy models D* and features
    per dimension (§4); an SAE run's own numbers are its ``sae`` summary, a family of one's own has none."""
    ok, absent = valid(results), missing(results)
    present = int((~absent).sum())
    out = {
        "n_models": int(ok.size),
        "n_diverged": int((np.asarray(results.diverged, bool) & ~absent).sum()),
        "n_missing": int(absent.sum()),
        "fraction_diverged": float(1 - ok.sum() / present) if present else None,
        "final_loss": stats(results.loss, ok),
    }
    if architecture(results.config) is None:
        return out
    W = np.asarray(feature_matrix(results.params))
    d_star = dimensions_per_feature(W)
    out.update(dimensions_per_feature=stats(d_star, ok), features_per_dimension=stats(features_per_dimension(W), ok))
    if _has_density_axis(results):
        out["by_density"] = {
            "density": [float(d) for d in results.coords["density"]],
            "dimensions_per_feature": by_axis(d_star, ok, results.dims, "density"),
        }
    return out


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
    loss = ranking_loss(results.eval_loss, ~valid(results))
    analytic = analytic_map(results)
    if "seed" in dims:
        analytic = np.take(analytic, 0, axis=dims.index("seed"))
    out = {"analytic_fractions": fractions(analytic, theory.PHASES)}
    extra = phase.extra_feature_phase
    for policy in phase.POLICIES:
        empirical, _ = phase.aggregate_phase(results.params["W"], loss, dims, policy)
        out[policy] = {
            **phase.agreement(empirical, analytic),
            "fraction_unclear": float(np.mean(empirical == theory.UNCLEAR)),
            "extra_feature": phase.agreement(extra(empirical), extra(analytic)),
        }
    return out


def geometry_summary(results) -> dict[str, float]:
    """Fraction of features (of valid models) in each §4 geometry."""
    codes = geometry.classify_geometry(np.asarray(results.params["W"])[valid(results)]).geometry
    return geometry.geometry_fractions(codes)


def neuron_summary(results) -> dict:
    """Fraction of live neurons that are monosemantic (a neuron coding one feature, §7, §8), overall and per
    density."""
    params = {k: np.asarray(v) for k, v in results.params.items()}
    signed = bool(results.config.get("data", {}).get("signed", False))
    classes = neurons.classify_neurons(neurons.neuron_weights(params), feature_matrix(params), signed)
    live = (classes != neurons.DEAD) & valid(results)[..., None]
    mono = (classes == neurons.MONOSEMANTIC).astype(float)
    out = {"fraction_monosemantic": plain(mono[live].mean()) if live.any() else None}
    if _has_density_axis(results):
        per_model = np.where(live.any(-1), (mono * live).sum(-1) / np.maximum(live.sum(-1), 1), np.nan)
        out["fraction_monosemantic_by_density"] = by_axis(per_model, live.any(-1), results.dims, "density")
    return out


def _vulnerability(results, size: str) -> dict:
    """One attack size's vulnerability against features per dimension: ranges, correlations, per density."""
    found = adversarial.attack_results(results, size)
    ok = valid(results) & np.isfinite(found["vulnerability"])
    vul, fpd = found["vulnerability"], found["features_per_dimension"]
    out = {"vulnerability": stats(vul, ok)}
    if ok.sum() > 2 and np.std(vul[ok]) > 0 and np.std(fpd[ok]) > 0:
        out["correlation"] = plain(np.corrcoef(vul[ok], fpd[ok])[0, 1])
        out["rank_correlation"] = rank_correlation(vul[ok], fpd[ok])
    if _has_density_axis(results):
        out["vulnerability_by_density"] = by_axis(vul, ok, results.dims, "density")
    return out


def adversarial_summary(results) -> dict:
    """§6 vulnerability against features per dimension, for the shared λ (the paper's words) and per input."""
    fpd = adversarial.attack_results(results)["features_per_dimension"]
    ok = valid(results)
    out = {**_vulnerability(results, "shared"), "features_per_dimension": stats(fpd, ok)}
    if _has_density_axis(results):
        out["features_per_dimension_by_density"] = by_axis(fpd, ok, results.dims, "density")
    out["per_input"] = _vulnerability(results, "per_input")
    return out


def dynamics_summary(results) -> dict:
    """§5 jumps: mean number per model, and the share that coincide with a falling loss."""
    traj = dynamics.trajectories(results.history)
    found = dynamics.detect_jumps(traj["step"], traj["dimensionality"], traj["loss"])
    ok = valid(results)
    jumps = found["jump"][ok]
    drops = found["jump_loss_drop"][ok][jumps]
    return {
        "jumps_per_model": float(jumps.sum() / max(ok.sum(), 1)),
        "fraction_of_jumps_with_loss_drop": plain(np.mean(drops > 0)) if drops.size else None,
    }


class Summary(NamedTuple):
    """A named summary: how to compute it, why a run's config cannot have it (None when it can), and how many
    snapshots of training it reads at least (``record.snapshots``)."""

    compute: Callable[[Any], dict]
    unfit: Callable[[dict, tuple[str, ...]], str | None]
    snapshots: int = 0


def architecture(config: dict) -> Architecture | None:
    """The toy model a run's config describes (`toyjax.families.toy.architecture.architecture_of`); None for an SAE run
    or a family of one's own (a ``model.kind`` that is an import path)."""
    model = config.get("model", {})
    return architecture_of(model) if describes_toy(model.get("kind", DEFAULT_KIND)) else None


def _phase_unfit(config: dict, dims: tuple[str, ...]) -> str | None:
    """The §3 closed forms hold for the relu_output model alone, at n=2, m=1 or n=3, m=2, with no L1 penalty."""
    model, arch, wanted = config["model"], architecture(config), RELU_OUTPUT
    needs = "the §3 analytic phase model is for relu_output with n=2, m=1 or n=3, m=2"
    if arch is None:
        return f"{needs}, got model.kind={model['kind']}"
    differ = [name for name in FIELDS if getattr(arch, name) != getattr(wanted, name)]
    if differ:
        return f"{needs}: model.{differ[0]} {getattr(wanted, differ[0])}, got {getattr(arch, differ[0])}"
    if (model["n_features"], model["n_hidden"]) not in ((2, 1), (3, 2)):
        return f"{needs}, got n={model['n_features']}, m={model['n_hidden']}"
    if "activation_l1" in dims or model.get("activation_l1"):
        return "the §3 analytic phase model has no L1 penalty: needs model.activation_l1 0 and no such axis"
    return None if {"density", "extra_importance"} <= set(dims) else "needs grid axes density and extra_importance"


def _needs(what: str, fits: Callable[[Architecture], bool], field: str, wanted: str):
    """A summary's unfit test: the run's architecture must have `what` (`field` set to `wanted`)."""
    def unfit(config: dict, dims: tuple[str, ...]) -> str | None:
        arch = architecture(config)
        got = f"model.kind={config['model']['kind']}" if arch is None else getattr(arch, field)
        return None if arch is not None and fits(arch) else f"needs {what} (model.{field}: {wanted}), got {got}"

    return unfit


_TIED = _needs("a tied encoder", lambda arch: arch.tied, "encoder", "tied")
_PRIVILEGED = _needs("a privileged hidden basis", lambda arch: arch.privileged, "hidden_activation",
                     "relu, gelu or solu")


def _memorization_unfit(config: dict, dims: tuple[str, ...]) -> str | None:
    if "dataset_size" not in dims:
        return "needs the grid axis dataset_size (a finite training set per model)"
    others = [d for d in dims if d not in ("dataset_size", "seed")]
    return f"averages over seeds only; the grid also varies {', '.join(others)}" if others else None


SUMMARIES = {
    "phase_agreement": Summary(phase_summary, _phase_unfit),
    "geometry": Summary(geometry_summary, _TIED),
    "neurons": Summary(neuron_summary, _PRIVILEGED),
    "adversarial": Summary(adversarial_summary, _TIED),
    "dynamics": Summary(dynamics_summary, lambda config, dims: None, dynamics.MIN_SNAPSHOTS),
    "memorization": Summary(memorization.summary, _memorization_unfit),
    "price": Summary(price.summary, lambda config, dims: _PRIVILEGED(config, dims) or price.unfit(config, dims)),
    sae_numbers.SUMMARY: Summary(lambda results: sae_numbers.summarize_sae(results, valid(results)), sae_numbers.unfit),
}


def summarize(results, names: list[str] | tuple[str, ...] = ()) -> dict:
    """The run's basic numbers and each summary in `names` (keys of `SUMMARIES`), JSON-serialisable.

    Args:
        results: a `toyjax.results.Results` (or anything with the same attributes).
        names: the summaries to add, usually the run's declared ``report.summaries``.
    """
    model = results.config["model"]
    out = {
        "model": model["kind"],
        "n_features": int(model["n_features"]),
        "n_hidden": int(model["n_hidden"]),
        "grid": {str(d): int(s) for d, s in zip(results.dims, results.grid_shape)},
        **run_summary(results),
    }
    for name in names:
        out[name] = SUMMARIES[name].compute(results)
    return jsonable(out)


def flat_items(summary: dict, prefix: str = "") -> list[tuple[str, Any]]:
    """The summary's leaves as (``dotted.key``, value), in order."""
    out: list[tuple[str, Any]] = []
    for key, value in summary.items():
        name = f"{prefix}{key}"
        out += flat_items(value, f"{name}.") if isinstance(value, dict) else [(name, value)]
    return out


def format_value(value: Any) -> str:
    """A summary value for people: floats to 4 significant digits, lists element by element."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


HEADLINES = {  # summary name -> (key path of its headline number, label)
    "phase_agreement": (("phase_agreement", "best", "all"), "agreement with theory"),
    "neurons": (("neurons", "fraction_monosemantic"), "monosemantic neurons"),
    "adversarial": (("adversarial", "vulnerability", "max"), "max vulnerability"),
    "dynamics": (("dynamics", "jumps_per_model"), "jumps per model"),
    "geometry": (("dimensions_per_feature", "median"), "median D*"),
    "memorization": (("memorization", "peak", "dataset_size"), "test-loss peak at T"),
    sae_numbers.SUMMARY: sae_numbers.HEADLINE,
}


def headline(summary: dict, names: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The few numbers a table of runs shows: models, final loss, fraction diverged, one per summary in `names`."""
    def get(path):
        value = summary
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    out = {"models": summary.get("n_models"), "final loss": get(("final_loss", "median")),
           "diverged": summary.get("fraction_diverged")}
    out.update({label: get(path) for name, (path, label) in HEADLINES.items() if name in names})
    return out
