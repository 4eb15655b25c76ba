"""2-D solutions drawn as arrows: §1 intro polygons, §4 non-uniform superposition and §4 correlated features.

Each panel shows the columns W_i of one model's W (m=2) as arrows from the origin, with the polygon through
the learned features' tips (in angular order) shaded, and the unit circle dashed. Models with m ≠ 2 are drawn
as their WᵀW on a −1..1 diverging scale instead.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Normalize

from toyjax.analysis import geometry
from toyjax.families.toy import metrics
from toyjax.plots import common

LEARNED = geometry.NOT_LEARNED_NORM

unfit = common.toy_unfit  # drawn from a toy model's weights: refused on an SAE run (`toyjax.plots.registry.FIT`)


def draw_arrows(ax, W: np.ndarray, colors, labels=None, polygon: bool = True) -> None:
    """Arrows for the columns of one (2, n) W, tip polygon shaded, unit circle dashed."""
    W = np.asarray(W, dtype=np.float64)
    norms = metrics.feature_norms(W)
    ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, ls="--", lw=0.6, color="0.6"))
    on = norms >= LEARNED
    if polygon and on.sum() >= 3:
        tips = W[:, on]
        order = np.argsort(np.arctan2(tips[1], tips[0]))
        ax.fill(tips[0, order], tips[1, order], color="0.85", zorder=0)
        ax.plot(np.append(tips[0, order], tips[0, order[0]]), np.append(tips[1, order], tips[1, order[0]]),
                color="0.55", lw=0.8, zorder=1)
    for i in np.argsort(norms):
        ax.annotate("", xy=(W[0, i], W[1, i]), xytext=(0, 0), zorder=3,
                    arrowprops={"arrowstyle": "-|>", "color": colors[i], "lw": 2.0, "shrinkA": 0, "shrinkB": 0})
        if labels is not None and norms[i] >= LEARNED:
            ax.text(1.17 * W[0, i], 1.17 * W[1, i], labels[i], ha="center", va="center", fontsize=7)
    ax.plot([0], [0], "k.", ms=3)
    lim = max(1.3, 1.25 * float(norms.max(initial=0)))
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_gram(ax, W: np.ndarray, set_size: int | None = None):
    """WᵀW of one model on the −1..1 diverging scale, with lines between feature sets; returns the image."""
    G = metrics.gram(np.asarray(W))
    image = ax.imshow(G, cmap=common.DIVERGING, vmin=-1, vmax=1)
    n = G.shape[-1]
    if set_size:
        for k in range(set_size, n, set_size):
            ax.axhline(k - 0.5, color="k", lw=0.6)
            ax.axvline(k - 0.5, color="k", lw=0.6)
    ax.set_xticks([])
    ax.set_yticks([])
    return image


def _panel_grid(count: int, size: float = 2.4, extra_height: float = 1.2):
    cols = min(count, 4) if count > 4 else count
    rows = int(np.ceil(count / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols + 1.2, size * rows + extra_height),
                             squeeze=False, constrained_layout=True)
    for ax in axes.ravel()[count:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def _geometry_note(W: np.ndarray) -> str:
    names = [geometry.GEOMETRIES[c] for c in geometry.classify_geometry(W).geometry]
    counts = {name: names.count(name) for name in dict.fromkeys(names) if name != "not_learned"}
    learned = sum(counts.values())
    return f"{learned} learned" + ("" if not counts else ": " + ", ".join(f"{v} {k}" for k, v in counts.items()))


def intro_figure(results, directory: Path, name: str = "intro") -> list[Path]:
    """§1: each cell's best 2-D solution as arrows coloured by importance, the feature polygon shaded."""
    cells = common.best_cells(results)
    picked = common.spread(cells.indices())
    W = common.feature_W(cells.params)
    if W.shape[-2] != 2:
        return gram_figure(results, directory, name, colour_note="")
    fig, axes = _panel_grid(len(picked))
    importance = np.asarray(cells.importance)
    norm = Normalize(vmin=float(importance.min()), vmax=float(importance.max()) + 1e-9)
    cmap = plt.get_cmap("viridis")
    for ax, index in zip(axes, picked):
        if common.skip_panel(ax, cells, index):
            continue
        colors = [cmap(norm(v)) for v in importance[index]]
        draw_arrows(ax, W[index], colors, labels=[str(i) for i in range(W.shape[-1])])
        ax.set_title(f"{cells.label(index)}\n{_geometry_note(W[index])}", fontsize=9)
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=list(axes[: len(picked)]), shrink=0.8)
    bar.set_label("feature importance I_i")
    common.suptitle(fig, results, "feature directions W_i in the 2-D hidden space "
                              f"({common.seeds_note(cells) or 'one model'}; grey: polygon through learned tips)")
    return common.save(fig, directory, name)


def _set_ids(results, n: int) -> np.ndarray:
    size = int(results.config.get("data", {}).get("set_size", 2) or 2)
    return np.arange(n) // size


def correlated_figure(results, directory: Path, name: str = "correlated") -> list[Path]:
    """§4 correlated / anticorrelated features: each cell's best 2-D solution, arrows coloured by feature set."""
    cells = common.best_cells(results)
    W = common.feature_W(cells.params)
    data_kind = results.config.get("data", {}).get("kind", "independent")
    if W.shape[-2] != 2:
        return gram_figure(results, directory, name, colour_note=f"{data_kind} sets outlined")
    picked = common.spread(cells.indices())
    sets = _set_ids(results, W.shape[-1])
    palette = plt.get_cmap("tab10")
    fig, axes = _panel_grid(len(picked))
    for ax, index in zip(axes, picked):
        if common.skip_panel(ax, cells, index):
            continue
        draw_arrows(ax, W[index], [palette(s) for s in sets], labels=[str(i) for i in range(W.shape[-1])],
                    polygon=False)
        ax.set_title(cells.label(index), fontsize=9)
    handles = [plt.Line2D([], [], color=palette(s), lw=3, label=f"{data_kind} set {s}") for s in np.unique(sets)]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False)
    common.suptitle(fig, results, f"2-D solutions coloured by {data_kind} feature set "
                              f"({common.seeds_note(cells) or 'one model'})")
    return common.save(fig, directory, name)


def gram_figure(results, directory: Path, name: str, colour_note: str = "") -> list[Path]:
    """WᵀW of each cell's best model on a −1..1 scale (for hidden spaces that are not 2-D)."""
    cells = common.best_cells(results)
    W = common.feature_W(cells.params)
    data = results.config.get("data", {})
    set_size = int(data.get("set_size", 0) or 0) if data.get("kind", "independent") != "independent" else None
    picked = common.spread(cells.indices())
    fig, axes = _panel_grid(len(picked), size=2.8)
    image = None
    for ax, index in zip(axes, picked):
        if common.skip_panel(ax, cells, index):
            continue
        image = draw_gram(ax, W[index], set_size)
        ax.set_title(cells.label(index), fontsize=9)
    fig.colorbar(image, ax=list(axes[: len(picked)]), shrink=0.8).set_label("WᵀW entry W_i·W_j (−1..1)")
    note = f"; {colour_note}" if colour_note else ""
    common.suptitle(fig, results, f"WᵀW ({common.seeds_note(cells) or 'one model'}{note})")
    return common.save(fig, directory, name)


# --------------------------------------------------------------------------- §4 collapse


COLLAPSE_COS = 0.9  # a correlated set has collapsed when every pair of its members has cos ≥ 0.9
PAPER_REGIMES = ((0.0, 0.05, 0), (0.05, 0.15, 1), (0.15, 0.2, 2), (0.25, 0.5, 3))  # density range, sets collapsed


def collapsed_sets(W: np.ndarray, set_size: int) -> np.ndarray:
    """Number of correlated sets whose learned members all point the same way (cos ≥ COLLAPSE_COS), (...)."""
    W = np.asarray(W)
    cos = metrics.cosines(W)
    n = W.shape[-1]
    total = np.zeros(W.shape[:-2], int)
    for start in range(0, n, set_size):
        members = np.arange(start, min(start + set_size, n))
        block = cos[..., members[:, None], members[None, :]]
        total = total + np.all(block >= COLLAPSE_COS, axis=(-2, -1))
    return total


def collapse_figure(results, directory: Path, name: str = "collapse") -> list[Path]:
    """§4 collapse of correlated sets to their principal component: solutions across density, then the count."""
    cells = common.best_cells(results)
    W = common.feature_W(cells.params)
    if "density" not in cells.dims or W.shape[-2] != 2 or len(cells.dims) != 1:
        return correlated_figure(results, directory, name)
    set_size = int(results.config.get("data", {}).get("set_size", 2) or 2)
    sets = _set_ids(results, W.shape[-1])
    picked = common.spread(cells.indices(), 6)
    palette = plt.get_cmap("tab10")
    fig = plt.figure(figsize=(2.3 * len(picked) + 0.5, 6.6), constrained_layout=True)
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.15])
    for ax, index in zip(top.subplots(1, len(picked), squeeze=False)[0], picked):
        if common.skip_panel(ax, cells, index, fontsize=8):
            continue
        draw_arrows(ax, W[index], [palette(s) for s in sets], polygon=False)
        ax.set_title(f"{cells.label(index)}\n{int(collapsed_sets(W[index], set_size))} set(s) collapsed", fontsize=8)
    handles = [plt.Line2D([], [], color=palette(s), lw=3, label=f"correlated set {s}") for s in np.unique(sets)]
    top.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False, fontsize=8)
    _collapse_counts(bottom.subplots(), results, cells, set_size, int(sets.max()) + 1)
    common.suptitle(fig, results, "correlated sets collapse to their principal component as density rises "
                              f"({common.seeds_note(cells) or 'one model'})")
    return common.save(fig, directory, name)


def _collapse_counts(ax, results, cells: common.Cells, set_size: int, n_sets: int) -> None:
    """Collapsed sets against density: every seed (jittered), the best seed, and the paper's regimes."""
    density = np.asarray(cells.coords["density"], dtype=np.float64)
    counts = collapsed_sets(common.feature_W(results.params), set_size)
    dens = np.asarray(results.density, dtype=np.float64)[..., 0]
    ok = np.isfinite(common.finite_loss(results))
    jitter = np.random.default_rng(0).uniform(-0.12, 0.12, counts.shape)
    ax.scatter(dens[ok], counts[ok] + jitter[ok], s=10, color="0.6", label="every seed (jittered)")
    best = np.where(cells.status == common.TRAINED, collapsed_sets(common.feature_W(cells.params), set_size), np.nan)
    ax.plot(density, best, "o-", color="C3", label="best seed")
    for lo, hi, k in PAPER_REGIMES:
        ax.plot([max(lo, density.min()), hi], [k, k], color="C0", lw=6, alpha=0.3, solid_capstyle="butt")
    ax.plot([], [], color="C0", lw=6, alpha=0.3, label="paper's regimes (Elhage et al. §4)")
    ax.set_xscale("log")
    ax.set_xlabel(common.DENSITY_LABEL)
    ax.set_ylabel("correlated sets collapsed\n(members share one direction)")
    ax.set_yticks(range(n_sets + 1))
    ax.legend(fontsize=8, loc="upper left")


# --------------------------------------------------------------------------- §4 non-uniform superposition

GEOMETRY_CLASSES = ("pentagon", "two digons, varied feature dropped", "other")
GEOMETRY_COLORS = ("C0", "C3", "0.6")


def nonuniform_class(W: np.ndarray) -> np.ndarray:
    """0 pentagon, 1 two digons with the last (varied) feature dropped, 2 other; shape (...)."""
    codes = geometry.classify_geometry(np.asarray(W)).geometry
    pentagon = np.all(codes == geometry.PENTAGON, axis=-1)
    digons = np.all(codes[..., :-1] == geometry.DIGON, axis=-1) & (codes[..., -1] == geometry.NOT_LEARNED)
    return np.where(pentagon, 0, np.where(digons, 1, 2))


def nonuniform_figure(results, directory: Path, name: str = "nonuniform") -> list[Path]:
    """§4 non-uniform: canonical 2-D solutions across the varied feature's relative density, and the losses."""
    cells = common.best_cells(results)
    W = common.feature_W(cells.params)
    if W.shape[-2] != 2 or len(cells.dims) != 1:
        return intro_figure(results, directory, name)
    density = np.asarray(cells.density, dtype=np.float64)
    fig = plt.figure(figsize=(15, 7.2), constrained_layout=True)
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.3])
    _nonuniform_solutions(top, cells, W, density[..., -1] / density[..., 0])
    _nonuniform_losses(*bottom.subplots(1, 2), results)
    base = common.fmt(density[0, 0])
    common.suptitle(fig, results, f"non-uniform superposition: other features' density {base}; "
                              f"solutions canonically rotated ({common.seeds_note(cells) or 'one model'})")
    return common.save(fig, directory, name)


def _nonuniform_solutions(top, cells: common.Cells, W: np.ndarray, relative: np.ndarray) -> None:
    """The best seed's canonical solution at up to 7 relative densities, the varied feature in red."""
    picked = common.spread(cells.indices(), 7)
    axes = top.subplots(1, len(picked), squeeze=False)[0]
    canonical = geometry.canonical_orientation(W)
    colors = ["0.35"] * (W.shape[-1] - 1) + ["C3"]
    for ax, index in zip(axes, picked):
        if common.skip_panel(ax, cells, index, fontsize=8):
            continue
        draw_arrows(ax, canonical[index], colors)
        kind = GEOMETRY_CLASSES[int(nonuniform_class(W[index]))]
        ax.set_title(f"relative density {common.fmt(relative[index])}\n{kind}", fontsize=8)
    top.legend(handles=[plt.Line2D([], [], color="C3", lw=3, label="varied feature"),
                        plt.Line2D([], [], color="0.35", lw=3, label="other features")],
               loc="outside lower center", ncol=2, frameon=False, fontsize=8)


def _nonuniform_losses(loss_ax, rel_ax, results) -> None:
    """Every seed's expected loss, and its ratio to the best seed's, coloured by the geometry it found."""
    all_rel = np.asarray(results.density)[..., -1] / np.asarray(results.density)[..., 0]
    loss = common.finite_loss(results)
    classes = nonuniform_class(common.feature_W(results.params))
    best = np.min(loss, axis=tuple(range(1, loss.ndim)), keepdims=True) if loss.ndim > 1 else loss
    best_here = np.where(np.isfinite(loss), loss / np.where(np.isfinite(best), best, 1.0), np.nan)
    for code, (label, color) in enumerate(zip(GEOMETRY_CLASSES, GEOMETRY_COLORS)):
        mask = (classes == code) & np.isfinite(loss)
        loss_ax.scatter(all_rel[mask], loss[mask], s=12, color=color, label=label, alpha=0.8)
        rel_ax.scatter(all_rel[mask], best_here[mask], s=12, color=color, label=label, alpha=0.8)
    for ax in (loss_ax, rel_ax):
        ax.set_xscale("log")
        ax.set_xlabel("varied feature's relative density (its density ÷ the others' density)")
        ax.axvline(1 / 2.5, color="k", ls=":", lw=0.8)
        ax.text(1 / 2.5, 1.0, " paper: 2.5× sparser", transform=ax.get_xaxis_transform(), fontsize=7, va="top")
    loss_ax.set_yscale("log")
    loss_ax.set_ylabel("expected loss (each seed)")
    rel_ax.set_ylabel("expected loss ÷ best seed's at this density")
    rel_ax.set_yscale("log")
    loss_ax.legend(fontsize=8)
