"""§4 uniform superposition: dimensions per feature D* against 1/(1−S), and feature-geometry graphs.

Top: D* = m/‖W‖_F² of the best seed per density against 1/(1−S) on a log axis, with every feature's
dimensionality D_i as a jittered scatter, coloured by the geometry it was classified into, and horizontal lines
at the paper's fractions 1, 3/4, 2/3, 1/2, 2/5, 3/8. Bottom: the feature graph (edge where |W_i·W_j| > 0.1) of
a few chosen densities; each connected component (tegum factor) is drawn as a ring, coloured by its polytope.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from toyjax.analysis import geometry
from toyjax.families.toy import metrics
from toyjax.plots import common

GEOMETRY_COLORS = {
    "not_learned": "0.8",
    "dedicated": "#1f77b4",
    "digon": "#d62728",
    "triangle": "#2ca02c",
    "tetrahedron": "#9467bd",
    "pentagon": "#ff7f0e",
    "square_antiprism": "#8c564b",
    "k_gon": "#e377c2",
    "unclassified": "0.45",
}
GRAPH_PANELS = 4
RING_EDGES_MAX = 12  # components larger than this are drawn as a ring without edges, which would be a solid disk

unfit = common.toy_unfit  # drawn from a toy model's weights: refused on an SAE run (`toyjax.plots.registry.FIT`)


def density_cells(cells: common.Cells):
    """(density (C,), W (C, m, n), status (C,)) of every cell, sorted by density."""
    W = common.feature_W(cells.params)
    W = W.reshape((-1,) + W.shape[-2:])
    density = np.asarray(cells.density, dtype=np.float64).reshape(-1, W.shape[-1])[:, 0]
    order = np.argsort(density)
    return density[order], W[order], np.asarray(cells.status).ravel()[order]


def draw_dstar(ax, density: np.ndarray, W: np.ndarray, label: str | None = None, scatter: bool = True,
               color: str = "k") -> None:
    """D* line against 1/density, and optionally the jittered D_i scatter coloured by geometry."""
    inv = 1 / density
    if scatter:
        rng = np.random.default_rng(0)
        D = metrics.feature_dimensionality(W)
        codes = geometry.classify_geometry(W).geometry
        jitter = np.exp(rng.uniform(-0.04, 0.04, D.shape)) * inv[:, None]
        for code, geo in enumerate(geometry.GEOMETRIES):
            mask = codes == code
            if mask.any():
                ax.scatter(jitter[mask], D[mask], s=3, alpha=0.35, color=GEOMETRY_COLORS[geo], lw=0,
                           label=f"D_i, {geo.replace('_', ' ')}")
    ax.plot(inv, metrics.dimensions_per_feature(W), "o-", color=color, ms=3.5, lw=1.6, label=label or "D* = m/‖W‖_F²")


def draw_fractions(ax) -> None:
    """The paper's fractions as dashed lines, labelled at the right edge."""
    for value, text in common.FRACTIONS:
        ax.axhline(value, color="0.5", lw=0.6, ls="--", zorder=0)
        ax.text(1.005, value, text, transform=ax.get_yaxis_transform(), fontsize=8, va="center", color="0.3")


def graph_layout(W: np.ndarray) -> dict:
    """Where the feature graph of one model draws its nodes and edges: each connected component (tegum factor)
    a ring in a grid, ordered by polytope; edges only within rings of at most RING_EDGES_MAX features.

    Returns:
        "pos" (n, 2) node positions, "learned" (n,) bool, "geometry" (n,) codes into `geometry.GEOMETRIES`,
        "edges" [(i, j, W_i·W_j)] to draw.
    """
    geo = geometry.classify_geometry(W)
    G = metrics.gram(W)
    adjacency = geometry.feature_adjacency(W)
    learned = geo.geometry != geometry.NOT_LEARNED
    comps = sorted({int(c) for c in geo.component[learned]},
                   key=lambda c: (int(geo.geometry[c]), -int(geo.size[c])))
    side = int(np.ceil(np.sqrt(max(len(comps), 1))))
    pos = np.zeros((W.shape[-1], 2))
    for k, c in enumerate(comps):
        members = np.flatnonzero((geo.component == c) & learned)
        centre = np.array([k % side, -(k // side)], dtype=float)
        angle = 2 * np.pi * np.arange(len(members)) / len(members)
        radius = 0.0 if len(members) == 1 else 0.32
        pos[members] = centre + radius * np.stack([np.cos(angle), np.sin(angle)], -1)
    small = np.isin(geo.component, [c for c in comps if geo.size[c] <= RING_EDGES_MAX])
    i, j = np.nonzero(np.triu(adjacency) & small[:, None] & small[None, :])
    return {"pos": pos, "learned": learned, "geometry": geo.geometry, "side": side,
            "edges": [(int(a), int(b), float(G[a, b])) for a, b in zip(i, j)]}


def draw_graph(ax, W: np.ndarray) -> None:
    """Feature graph of one model: components as rings in a grid, ordered by polytope, coloured by it."""
    graph = graph_layout(W)
    pos, learned = graph["pos"], graph["learned"]
    for a, b, weight in graph["edges"]:
        ax.plot(pos[[a, b], 0], pos[[a, b], 1], color="0.3", lw=0.3 + 1.2 * min(abs(weight), 1), zorder=1)
    colors = [GEOMETRY_COLORS[geometry.GEOMETRIES[c]] for c in graph["geometry"][learned]]
    ax.scatter(pos[learned, 0], pos[learned, 1], s=max(4, 200 / graph["side"]), c=colors, zorder=2, lw=0)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.margins(0.08)


def geometry_counts(W: np.ndarray) -> str:
    names = [geometry.GEOMETRIES[c] for c in geometry.classify_geometry(W).geometry]
    counts = {g: names.count(g) for g in geometry.GEOMETRIES if names.count(g)}
    return ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())


def uniform_figure(results, directory: Path, name: str = "uniform_geometry") -> list[Path]:
    """§4 uniform superposition: D* vs 1/(1−S) with D_i scatter, and feature graphs at chosen densities."""
    cells = common.best_cells(results)
    density, W, status = density_cells(cells)
    fig = plt.figure(figsize=(14, 9.5), constrained_layout=True)
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.15, 1])
    picked = chosen(density, W)
    _dstar_panel(top.subplots(), density, W, status, picked)
    _graph_panels(bottom, density, W, picked)
    common.suptitle(fig, results, f"dimensions per feature against inverse density "
                              f"({common.seeds_note(cells) or 'one model per density'})")
    return common.save(fig, directory, name)


def _dstar_panel(ax, density: np.ndarray, W: np.ndarray, status: np.ndarray, chosen: list[int]) -> None:
    """D* and every D_i against 1/(1−S); the graphs' densities in orange, densities with no trained model in red."""
    draw_dstar(ax, density, W)
    draw_fractions(ax)
    for k in chosen:
        ax.axvline(1 / density[k], color="C1", lw=0.8, alpha=0.6)
    for k in np.flatnonzero(status != common.TRAINED):
        ax.axvline(1 / density[k], color="C3", ls=":", lw=1.2,
                   label=f"{common.STATUS[status[k]]}: no trained model" if k == np.argmax(status) else None)
    ax.set_xscale("log")
    ax.set_xlabel(f"{common.INVERSE_DENSITY_LABEL}  (inverse feature density; sparser to the right)")
    ax.set_ylabel("dimensions per feature D*  /  feature dimensionality D_i")
    ax.set_ylim(-0.03, 1.12)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.04, 1.0), markerscale=3, frameon=False)


def _graph_panels(bottom, density: np.ndarray, W: np.ndarray, chosen: list[int]) -> None:
    """The feature graph of each chosen density, with one legend of the polytopes' colours."""
    graphs = bottom.subplots(1, len(chosen), squeeze=False)[0]
    for g, k in zip(graphs, chosen):
        draw_graph(g, W[k])
        g.set_title(f"1/(1−S) = {common.fmt(1 / density[k])}\n{geometry_counts(W[k])}", fontsize=7)
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=g.replace("_", " "))
               for g, c in GEOMETRY_COLORS.items() if g != "not_learned"]
    bottom.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False, fontsize=8,
                  title="feature graphs at the densities (orange) with the most features in polytopes: one ring per "
                        f"tegum factor (edge: |W_i·W_j| > 0.1; none drawn in rings over {RING_EDGES_MAX}), coloured by "
                        "classified polytope; unlearned features omitted", title_fontsize=8)


def chosen(density: np.ndarray, W: np.ndarray) -> list[int]:
    """Indices of up to GRAPH_PANELS densities with the most features in named polytopes (digons, triangles,
    pentagons, ...; dedicated dimensions do not count), sparser to the right as on the D* axis."""
    codes = geometry.classify_geometry(W).geometry
    polytope = (codes > geometry.DEDICATED) & (codes < geometry.UNCLASSIFIED)
    score = polytope.sum(axis=-1)
    ranked = np.argsort(-score, kind="stable")[:GRAPH_PANELS]
    chosen = [int(k) for k in ranked if score[k] > 0] or [int(np.argmax((codes == geometry.DEDICATED).sum(-1)))]
    return sorted(chosen, key=lambda k: -density[k])
