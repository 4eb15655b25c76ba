"""The absorption figure (``sae_absorption``): absorption and hedging of SAEs on a parent and a child feature.

Left, the absorption rate of the first parent → child pair (`toyjax.families.sae.absorption`) against the L1
coefficient, each cell's best seed (lowest eval loss, as every SAE figure) and the mean over seeds, one curve
per dictionary size of at least 2 and per run (a tied and an untied multirun job side by side,
`toyjax.plots.combined`). Right, at dictionary size 1: the cosines of the parent's latent's decoder with the
parent's and the child's directions, and the hedging (the child cosine beyond the features' own overlap), the
best seed's, against the same coefficient. The x axis is symmetric-log so that λ = 0 has a place. A run without
the ``l1_coefficient`` and ``dict_size`` axes or without a hierarchy is refused before anything is compiled
(`unfit`, in `toyjax.plots.registry.FIT`), and when the figure is drawn (`check`), with a one-line
`ConfigError`. This module imports matplotlib, numpy,
`toyjax.analysis.summary`, `toyjax.errors`, `toyjax.families.sae.figures`, `toyjax.families.sae.numbers` and
`toyjax.plots.common`.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from toyjax.analysis.summary import valid
from toyjax.errors import ConfigError
from toyjax.families.sae import numbers
from toyjax.families.sae.figures import best, title
from toyjax.plots import common

AXES = ("dict_size", "l1_coefficient")  # the axes the figure reads


NO_HIERARCHY = "needs a parent and a child feature (data.hierarchy)"


def unfit(config: dict, dims: tuple[str, ...]) -> str | None:
    """Why the figure cannot be drawn on a run: not an SAE run, no dictionary-size or L1 axis, or no hierarchy."""
    why, missing = numbers.unfit(config, dims), [a for a in AXES if a not in dims]
    if why or missing:
        return why or f"needs the grid axes {' and '.join(AXES)}; this run lacks grid.axes.{missing[0]}"
    parents = (config.get("data", {}).get("hierarchy") or {}).get("parents") or []
    return None if any(p >= 0 for p in parents) else NO_HIERARCHY


def check(results) -> None:
    """Refuse, in one line, a run the figure cannot draw: no dictionary-size or L1 axis, or no hierarchy."""
    why = unfit(results.config, tuple(results.dims))
    if why is None and (results.sae is None or "absorption" not in results.sae):
        why = NO_HIERARCHY
    if why:
        raise ConfigError(f"report.figure: sae_absorption {why}")


def cell_means(results, values: np.ndarray) -> np.ndarray:
    """Per-model `values` as the seed mean over models that trained, (dict sizes, L1 coefficients)."""
    return _by_axes(numbers.cell_dims(results), numbers.seed_mean(results, values, valid(results)))


def best_values(results) -> dict[str, np.ndarray]:
    """The best seed's (lowest eval loss) absorption, hedging and size-1 cosines per cell, (dict sizes, L1)."""
    cells, sae = best(results)
    parent, child = parent_cosines(results.config, sae, cells.params["W_dec"])
    values = {"absorption": np.asarray(sae["absorption"])[..., 0], "hedging": np.asarray(sae["hedging"])[..., 0],
              "parent": parent, "child": child}
    return {k: _by_axes(cells.dims, v) for k, v in values.items()}


def _by_axes(dims: tuple[str, ...], values: np.ndarray) -> np.ndarray:
    """Cell values (grid without seeds) with the dictionary-size axis first and the L1 axis second."""
    return np.moveaxis(np.asarray(values, np.float64), [dims.index(a) for a in AXES], [0, 1])


def parent_cosines(config: dict, sae: dict, W_dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per model, the cosines of the first parent's matched latent with the parent and with the child (0 where the
    parent has no latent); `sae` and `W_dec` with the same leading grid dimensions."""
    parents = list(config["data"]["hierarchy"]["parents"])
    child = next(c for c, p in enumerate(parents) if p >= 0)
    parent = parents[child]
    C = np.einsum("...dn,...dm->...nm", _unit(sae["features"]), _unit(W_dec))  # (..., n, M)
    latent = np.asarray(sae["matched"])[..., parent]
    pick = np.broadcast_to(np.maximum(latent, 0)[..., None, None], C.shape[:-1] + (1,))
    along = np.take_along_axis(C, pick, axis=-1)[..., 0]
    on = latent >= 0
    return np.where(on, along[..., parent], 0.0), np.where(on, along[..., child], 0.0)


def _unit(M) -> np.ndarray:
    """Columns (the second-last axis) of a stack of matrices scaled to unit norm; zero columns stay zero."""
    M = np.asarray(M, np.float64)
    norm = np.linalg.norm(M, axis=-2, keepdims=True)
    return np.where(norm > 0, M / np.where(norm > 0, norm, 1.0), 0.0)


def draw_absorption(left, right, runs: list, labels: list[str]) -> None:
    """Absorption against λ (sizes ≥ 2) on `left`, the size-1 latent's cosines and hedging on `right`: each cell's
    best seed (solid), and the absorption's mean over seeds (dotted)."""
    for k, (run, label) in enumerate(zip(runs, labels)):
        check(run)
        lam = np.ravel(run.coords["l1_coefficient"]).astype(float)
        sizes = np.ravel(run.coords["dict_size"]).astype(int)
        top, mean = best_values(run), cell_means(run, np.asarray(run.sae["absorption"])[..., 0])
        tag = f"{label}, " if label else ""
        for s in np.flatnonzero(sizes >= 2):
            left.plot(lam, top["absorption"][s], "o-", color=f"C{k}", label=f"{tag}{sizes[s]} latents, best seed")
            left.plot(lam, mean[s], ":", color=f"C{k}", label=f"{tag}{sizes[s]} latents, mean of seeds")
        for s in np.flatnonzero(sizes == 1):
            right.plot(lam, top["parent"][s], "o-", color=f"C{k}", label=f"{tag}cos(latent, parent)")
            right.plot(lam, top["child"][s], "s--", color=f"C{k}", label=f"{tag}cos(latent, child)")
            right.plot(lam, top["hedging"][s], "^:", color=f"C{k}", label=f"{tag}hedging")
    for ax in (left, right):
        ax.set_xscale("symlog", linthresh=_linthresh(runs))
        ax.set_xlabel("L1 coefficient λ")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    left.set(ylim=(-0.03, 1.03), ylabel="absorption rate (of the inputs with both on)",
             title="absorption: the parent's latent silent, another carries its direction")
    right.set(ylim=(-1.05, 1.05), ylabel="cosine (best seed)", title="one latent: hedging of the child into the parent")
    left.title.set_fontsize(9)
    right.title.set_fontsize(9)


def _linthresh(runs: list) -> float:
    """The symmetric-log scale's linear range: the smallest λ > 0 of the runs."""
    lam = np.concatenate([np.ravel(r.coords["l1_coefficient"]).astype(float) for r in runs])
    return float(lam[lam > 0].min()) if np.any(lam > 0) else 1.0


def absorption_figure(results, directory: Path, name: str = "sae_absorption") -> list[Path]:
    """The run's absorption against λ and its size-1 latent's hedging (module docstring)."""
    return runs_figure([results], [""], directory, name)


def runs_figure(runs: list, labels: list[str], directory: Path, name: str) -> list[Path]:
    """`draw_absorption` of one or several runs (a multirun's jobs) on one figure."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5), constrained_layout=True)
    draw_absorption(left, right, runs, labels)
    seeds = runs[0].grid_shape[runs[0].dims.index("seed")] if "seed" in runs[0].dims else 1
    fig.suptitle(title(runs[0], f"absorption and hedging of a parent and a child feature; best of {seeds} seeds "
                                "by eval loss"), fontsize=9)
    return common.save(fig, directory, name)
