"""§3 phase diagrams three ways: the paper's closed forms, the numerical optimum, and trained models.

For a trained ``phase_n2m1`` or ``phase_n3m2`` grid, every (density, relative importance) cell gets three
phases: the argmin of the four closed forms (`toyjax.analysis.theory`), the phase of the numerical optimum
over all configurations (`toyjax.analysis.optimum`), and the phase of the best trained seed (lowest
stratified `eval_loss`). Each also gets its exact expected loss (`toyjax.analysis.exact`): the lowest
closed form, the optimum's, and the best trained seed's, so that "trained beats the closed forms" is a
comparison of exact numbers, not of noisy estimates. The maps are computed once per `Results`. This
module imports matplotlib, numpy, `toyjax.analysis` and `toyjax.plots`.
"""

from __future__ import annotations

import weakref
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from toyjax.analysis import optimum, phase, theory
from toyjax.plots import common
from toyjax.plots import phase as phase_plot
from toyjax.reproduce import figures

_MAPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
BEAT = 1e-4  # "beats": an exact expected loss lower by more than this (≈ 0.1% of the losses compared)
CLEAR = 1e-3  # the optimum beats the closed forms "clearly": by more than this


def _on_diagram(values, dims: tuple[str, ...]) -> np.ndarray:
    """A per-cell array (grid dims first, any per-model dims after) with density and extra importance first."""
    return np.moveaxis(np.asarray(values), [dims.index("density"), dims.index("extra_importance")], [0, 1])


def phase_maps(results) -> dict[str, np.ndarray]:
    """Closed-form, optimum and trained phases and exact losses of every cell (module docstring); (D, R) each."""
    if results in _MAPS:
        return _MAPS[results]
    n, m = (int(results.config["model"][k]) for k in ("n_features", "n_hidden"))
    density, ratio, trained = phase_plot.empirical_map(results)
    cells = common.best_cells(results)
    importance, W, b = (_on_diagram(a, cells.dims) for a in (cells.importance, common.feature_W(cells.params),
                                                            cells.params["b"]))
    s, r = np.meshgrid(density, ratio, indexing="ij")
    best = optimum.numerical_optimum(n, m, s.ravel(), importance.reshape(-1, n))
    closed = np.asarray(theory.candidate_losses(n, s, r))
    maps = {
        "n": np.array(n), "density": density, "ratio": ratio, "trained": trained,
        "closed": np.asarray(theory.analytic_phase(n, s, r)[0]),
        "optimum": best["phase"].reshape(s.shape),
        "loss_closed": closed.min(axis=-1),
        "loss_optimum": best["loss"].reshape(s.shape),
        "loss_trained": optimum.exact_losses(W.reshape(-1, m, n), b.reshape(-1, n), s.ravel(),
                                             importance.reshape(-1, n)).reshape(s.shape),
    }
    _MAPS[results] = maps
    return maps


def comparison(results) -> dict[str, float]:
    """Agreements between the three maps, and how often trained models and the optimum beat the closed forms."""
    maps = phase_maps(results)
    closed, trained, best = maps["closed"], maps["trained"], maps["optimum"]
    corner = (maps["density"][:, None] >= 0.6) & (maps["ratio"][None, :] > 1)
    beat = maps["loss_trained"] < maps["loss_closed"] - BEAT
    gain = maps["loss_closed"] - maps["loss_trained"]
    clear = corner & (maps["loss_optimum"] < maps["loss_closed"] - CLEAR)
    return {
        "trained_vs_closed": phase.agreement(trained, closed)["away_from_boundary"],
        "trained_vs_optimum": phase.agreement(trained, best)["away_from_boundary"],
        "optimum_vs_closed": float(np.mean(best == closed)),
        "trained_vs_optimum_all": float(np.mean(trained == best)),
        "cells": int(closed.size),
        "corner_cells": int(corner.sum()),
        "corner_trained_beat_closed": int((beat & corner).sum()),
        "corner_optimum_beat_closed": int(((maps["loss_optimum"] < maps["loss_closed"] - BEAT) & corner).sum()),
        "corner_optimum_clearly_better": int(clear.sum()),
        "corner_trained_beat_where_clear": int((beat & clear).sum()),
        "trained_beat_closed": int(beat.sum()),
        "corner_mean_gain": float(np.mean(gain[corner])) if corner.any() else 0.0,
        "trained_below_optimum": int((maps["loss_trained"] < maps["loss_optimum"] - BEAT).sum()),
    }


def _boundaries(ax, maps: dict, x: np.ndarray, y: np.ndarray) -> None:
    """The closed forms' phase boundaries, computed on a fine grid (density held at 1 above the top cell)."""
    n = int(maps["n"])
    s, r = np.geomspace(y[0], y[-1], 300), np.geomspace(x[0], x[-1], 300)
    fine = np.asarray(theory.analytic_phase(n, np.minimum(s, 1.0)[:, None], r[None, :])[0])
    ax.contour(r, s, fine, levels=np.arange(len(theory.PHASES)) + 0.5, colors="k", linewidths=0.8)


def figure(results, path: Path, title: str) -> Path:
    """Closed forms | numerical optimum | trained, one row, the closed-form boundaries drawn on each."""
    maps = phase_maps(results)
    x, y = phase_plot.cell_edges(maps["ratio"]), phase_plot.cell_edges(maps["density"])
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.6), sharex=True, sharey=True, constrained_layout=True)
    shown = set()
    for ax, key, label in zip(axes, ("closed", "optimum", "trained"),
                              ("closed forms (argmin of the paper's four)", "numerical optimum (all configurations)",
                               "trained (best seed by expected loss)")):
        ax.pcolormesh(x, y, maps[key], cmap=phase_plot._CMAP, norm=phase_plot._NORM, rasterized=True)
        _boundaries(ax, maps, x, y)
        ax.set(xscale="log", yscale="log", xlabel="relative importance of the extra feature", title=label)
        shown |= {int(c) for c in np.unique(maps[key])}
    axes[0].set_ylabel(common.DENSITY_LABEL)
    handles = [Patch(color=phase_plot.COLORS[c], label=phase_plot.LABELS[c]) for c in sorted(shown)]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 3), frameon=False, fontsize=9)
    fig.suptitle(title, fontsize=10)
    return figures.save(fig, path)


def gap_figure(results, path: Path, title: str) -> Path:
    """Lowest closed-form loss minus the best trained seed's (left) and the optimum's (right), exact losses."""
    maps = phase_maps(results)
    x, y = phase_plot.cell_edges(maps["ratio"]), phase_plot.cell_edges(maps["density"])
    gaps = [maps["loss_closed"] - maps["loss_trained"], maps["loss_closed"] - maps["loss_optimum"]]
    top = max(float(np.max(np.abs(g))) for g in gaps) or 1.0
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.4), sharex=True, sharey=True, constrained_layout=True)
    for ax, gap, label in zip(axes, gaps, ("closed forms − best trained seed", "closed forms − numerical optimum")):
        image = ax.pcolormesh(x, y, gap, cmap=common.DIVERGING, vmin=-top, vmax=top, rasterized=True)
        _boundaries(ax, maps, x, y)
        ax.set(xscale="log", yscale="log", xlabel="relative importance of the extra feature", title=label)
    axes[0].set_ylabel(common.DENSITY_LABEL)
    fig.colorbar(image, ax=list(axes), shrink=0.9).set_label("exact expected loss difference")
    fig.suptitle(title, fontsize=10)
    return figures.save(fig, path)
