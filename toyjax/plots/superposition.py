"""§2 "Demonstrating Superposition": ‖W_i‖ bars coloured by superposition beside WᵀW and b heatmaps.

One column per density (best seed): on top WᵀW and the bias b on a fixed −1..1 diverging scale, below the
bar chart of every feature's ‖W_i‖, coloured by its superposition Σ_{j≠i}(Ŵ_i·W_j)² on a fixed 0..1 scale
(values above 1 get the top colour). Features are in importance order (feature 0 the most important).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Normalize

from toyjax.families.toy import metrics
from toyjax.plots import common

SUPERPOSITION_NORM = Normalize(0.0, 1.0)

unfit = common.toy_unfit  # drawn from a toy model's weights: refused on an SAE run (`toyjax.plots.registry.FIT`)


def draw_columns(fig_or_subfig, cells: common.Cells, row_label: str = ""):
    """One column per cell: WᵀW + b heatmaps over a ‖W_i‖ bar chart; returns (heatmap image, bar mappable)."""
    picked = common.spread(cells.indices(), 7)
    grid = fig_or_subfig.add_gridspec(2, 2 * len(picked), height_ratios=[1, 0.7],
                                      width_ratios=[1, 0.09] * len(picked), wspace=0.08)
    cmap = plt.get_cmap(common.SUPERPOSITION_CMAP)
    image = plt.cm.ScalarMappable(norm=Normalize(-1, 1), cmap=common.DIVERGING)
    for k, index in enumerate(picked):
        heat = fig_or_subfig.add_subplot(grid[0, 2 * k])
        bias = fig_or_subfig.add_subplot(grid[0, 2 * k + 1])
        bars = fig_or_subfig.add_subplot(grid[1, 2 * k : 2 * k + 2])
        if common.skip_panel(heat, cells, index):
            bias.set_visible(False)
            bars.set_visible(False)
            continue
        _draw_column(heat, bias, bars, cells, index, cmap)
        if k == 0:
            heat.set_ylabel(f"{row_label}\nWᵀW (feature i, j)" if row_label else "WᵀW (feature i, j)", fontsize=8)
            bars.set_ylabel("‖W_i‖", fontsize=8)
        else:
            heat.set_yticks([])
            bars.set_yticklabels([])
    return image, plt.cm.ScalarMappable(norm=SUPERPOSITION_NORM, cmap=cmap)


def _draw_column(heat, bias, bars, cells: common.Cells, index: tuple[int, ...], cmap) -> None:
    """One cell's WᵀW and b on the −1..1 scale, and its ‖W_i‖ bars coloured by superposition."""
    W = common.feature_W(cells.params)[index]
    n = W.shape[-1]
    heat.imshow(metrics.gram(W), cmap=common.DIVERGING, vmin=-1, vmax=1)
    heat.set_title(cells.label(index), fontsize=9)
    heat.set_xticks([])
    heat.set_yticks([0, n - 1])
    bias.imshow(np.asarray(cells.params["b"])[index][:, None], cmap=common.DIVERGING, vmin=-1, vmax=1,
                aspect="auto")
    bias.set_xticks([0], ["b"], fontsize=7)
    bias.set_yticks([])
    norms = metrics.feature_norms(W)
    bars.bar(np.arange(n), norms, width=0.85, color=cmap(SUPERPOSITION_NORM(np.clip(metrics.superposition(W), 0, 1))))
    bars.set_ylim(0, max(1.2, float(norms.max(initial=0)) * 1.05))
    bars.set_xlim(-0.6, n - 0.4)
    bars.set_xlabel("feature i (by importance)", fontsize=7)
    bars.tick_params(labelsize=7)


def add_colorbars(fig, image, mappable) -> None:
    """The two fixed scales, to the right of every axes of `fig` (a figure or subfigure)."""
    axes = list(fig.axes)
    fig.colorbar(image, ax=axes, shrink=0.8, location="right", pad=0.01).set_label(
        "WᵀW entry and bias b (−1..1)", fontsize=8)
    fig.colorbar(mappable, ax=axes, shrink=0.8, location="right", pad=0.01).set_label(
        "bar colour: superposition\n" r"$\sum_{j\neq i}(\hat{W}_i\cdot W_j)^2$ (0..1, ≥1 clipped)", fontsize=8)


def demo_figure(results, directory: Path, name: str = "superposition") -> list[Path]:
    """§2: per density, WᵀW and b heatmaps above a ‖W_i‖ bar chart coloured by superposition."""
    cells = common.best_cells(results)
    count = len(common.spread(cells.indices(), 7))
    fig = plt.figure(figsize=(2.3 * count + 2.5, 5.6), constrained_layout=True)
    image, mappable = draw_columns(fig, cells, row_label=common.model_kind(results))
    add_colorbars(fig, image, mappable)
    common.suptitle(fig, results, f"‖W_i‖, superposition, WᵀW and b across densities "
                              f"({common.seeds_note(cells) or 'one model per density'})")
    return common.save(fig, directory, name)


def demo_rows_figure(runs: list, directory: Path, name: str = "combined") -> list[Path]:
    """Several §2 runs (e.g. linear and relu_output) as rows of one figure, sharing the colour scales."""
    count = max(len(common.spread(common.best_cells(r).indices(), 7)) for r in runs)
    fig = plt.figure(figsize=(2.3 * count + 2.5, 5.0 * len(runs)), constrained_layout=True)
    subfigs = np.atleast_1d(fig.subfigures(len(runs), 1))
    for sub, r in zip(subfigs, runs):
        image, mappable = draw_columns(sub, common.best_cells(r), row_label=common.model_kind(r))
        add_colorbars(sub, image, mappable)
        model = r.config["model"]
        sub.suptitle(f"{model['kind']} (n={model['n_features']}, m={model['n_hidden']})", fontsize=10,
                     fontweight="bold")
    fig.suptitle(common.title(runs[0], "linear vs ReLU output models across densities").split("\n")[0], fontsize=11)
    return common.save(fig, directory, name)
