"""The numbers of a trained SAE grid: how well each dictionary recovers its source's features, and at what L0.

An SAE run's `Results.sae` holds per-model arrays (`toyjax.families.sae.train.records`); `NUMBERS` names the ones a
summary reports. MMCS is the mean max cosine similarity of Sharkey, Braun and Millidge (2022), features →
latents (how much of the truth the dictionary holds), over the latents that fire on the evaluation batch
(`toyjax.families.sae.metrics.mmcs_firing`; 0 for a dictionary that does not fire), taken against the
features the source model learned (‖W_i‖ ≥ 0.3; every feature of synthetic ground truth); ``mmcs_all``
takes every source feature, ``mmcs_latents`` goes latents → features (how much of the dictionary is true),
and ``mmcs_all_latents`` takes every latent of the dictionary, firing or not. ``mcc`` is SAELens's mean
correlation coefficient after a one-to-one matching of latents to the learned features, and ``precision``,
``recall`` and ``f1`` the matched latents' means as detectors of their features
(`toyjax.families.sae.matching`); ``shrinkage`` is the mean ‖x̂‖/‖x‖ (`toyjax.families.sae.metrics.shrinkage`);
``absorption`` and ``hedging`` their means over the parent → child pairs of a hierarchy in the data
(`toyjax.families.sae.absorption`; NaN for data without one).
A run saved before a number existed gives NaN for it. `seed_mean` and `seed_best`
reduce a grid over its seed axis for the figures; `unfit` says which runs the ``sae`` summary fits, which
`toyjax.analysis.summary` registers under the name `SUMMARY`, with its `HEADLINE`. Inputs are NumPy arrays with
the grid dimensions first; this module imports numpy, `toyjax.analysis.aggregate`, `toyjax.families.sae.config`
and `toyjax.families.schemas`.
"""

from __future__ import annotations

import numpy as np

from toyjax.analysis.aggregate import by_axis, plain, stats
from toyjax.families.sae.config import NAME
from toyjax.families.schemas import KINDS

SUMMARY = NAME  # the name of the SAE summary (`toyjax.analysis.summary.SUMMARIES`), and its key in a run's summary
HEADLINE = ((SUMMARY, "mmcs", "max"), "best MMCS")  # its number in a table of runs: key path and label

NUMBERS = {  # summary name -> key of Results.sae
    "mmcs": "features_to_latents_learned",
    "mmcs_all": "features_to_latents_all",
    "mmcs_latents": "latents_to_features_learned",
    "mmcs_all_latents": "features_to_all_latents_learned",
    "mcc": "mcc",
    "precision": "precision",
    "recall": "recall",
    "f1": "f1",
    "shrinkage": "shrinkage",
    "recovered_0.9": "recovered_0.9_learned",
    "recovered_0.99": "recovered_0.99_learned",
    "l0": "l0",
    "fraction_variance_explained": "fraction_variance_explained",
    "fraction_dead": "fraction_dead",
    "mse": "mse",
    "absorption": "absorption",
    "hedging": "hedging",
}
LABELS = {
    "mmcs": "MMCS (features → firing latents)",
    "mmcs_latents": "MMCS (firing latents → features)",
    "mmcs_all_latents": "MMCS (features → every latent, firing or not)",
    "mcc": "MCC (matched latents, mean |cos|)",
    "precision": "precision of the matched latents",
    "recall": "recall of the matched latents",
    "f1": "F1 of the matched latents",
    "shrinkage": "shrinkage ‖x̂‖/‖x‖",
    "recovered_0.9": "features recovered at cos ≥ 0.9",
    "recovered_0.99": "features recovered at cos ≥ 0.99",
    "l0": "L0 (active latents per input)",
    "fraction_variance_explained": "fraction of variance explained",
    "fraction_dead": "fraction of dead latents",
    "absorption": "absorption rate (mean over parent → child pairs)",
    "hedging": "hedging (mean over parent → child pairs)",
}
BY_AXIS = ("mmcs", "mcc", "f1", "recovered_0.99", "l0", "fraction_variance_explained")  # numbers given per axis


def number(results, name: str) -> np.ndarray:
    """A summary number of every model (grid-shaped, float64; NaN where the run was saved before it existed)."""
    values = results.sae.get(NUMBERS[name])
    if values is None:
        return np.full(results.grid_shape, np.nan)
    # a number recorded per parent → child pair (absorption, hedging) is its mean over the pairs
    return np.asarray(values, np.float64).reshape(*results.grid_shape, -1).mean(axis=-1)


def summarize_sae(results, ok: np.ndarray) -> dict:
    """Min / median / max of every number over the `ok` models, per-axis means, and the best model by MMCS."""
    out = {name: stats(number(results, name), ok) for name in NUMBERS}
    out["learned_features"] = stats(np.sum(results.sae["learned"], axis=-1), ok)
    out["source_features_per_dimension"] = stats(results.sae["source_features_per_dimension"], ok)
    for axis in (d for d in results.dims if d != "seed"):
        out[f"by_{axis}"] = {"values": [plain(v) for v in np.ravel(results.coords[axis])],
                             **{name: by_axis(number(results, name), ok, results.dims, axis) for name in BY_AXIS}}
    mmcs = np.where(ok, number(results, "mmcs"), -np.inf)
    if np.isfinite(mmcs).any():
        best = np.unravel_index(int(np.argmax(mmcs)), mmcs.shape)
        out["best"] = {**{d: plain(np.ravel(results.coords[d])[i]) for d, i in zip(results.dims, best)},
                       **{name: plain(number(results, name)[best]) for name in NUMBERS}}
    return out


def seed_mean(results, values: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """`values` averaged over the seed axis, over `ok` models only (NaN where none is); others unchanged."""
    values = np.where(ok, np.asarray(values, np.float64), np.nan)
    if "seed" not in results.dims:
        return values
    axis = results.dims.index("seed")
    count = np.sum(~np.isnan(values), axis=axis)
    return np.where(count > 0, np.nansum(values, axis=axis) / np.maximum(count, 1), np.nan)


def cell_dims(results) -> tuple[str, ...]:
    """The grid's axes without the seed axis."""
    return tuple(d for d in results.dims if d != "seed")


def unfit(config: dict, dims: tuple[str, ...]) -> str | None:
    """Why the ``sae`` summary does not fit a run (not an SAE run), or None."""
    kind = config["model"]["kind"]
    return None if KINDS.get(kind) == NAME else f"needs model.kind in {NAME}, got {kind}"
