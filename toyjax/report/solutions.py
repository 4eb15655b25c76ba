"""2-D solutions on the report page: §1 intro, §4 non-uniform superposition, correlated features and collapse.

Each cell's best model drawn as arrows W_i in the hidden space (m = 2; WᵀW for other m), coloured as in the
PNG (by importance, by feature set, or the varied feature in red), every arrow a click away from its model.
Below, every seed's expected loss against the cell axis, coloured by what the family counts: learned
features (intro), the non-uniform geometry (pentagon or two digons), the collapsed correlated sets. This
module imports numpy, `toyjax.analysis.geometry`, `toyjax.families.toy.metrics`, `toyjax.plots` modules and the
report's `lib`, `model` and `parts`.
"""

from __future__ import annotations

import numpy as np

from toyjax.analysis import geometry
from toyjax.families.toy import metrics
from toyjax.plots import common
from toyjax.plots.solutions import GEOMETRY_CLASSES, LEARNED, collapsed_sets, nonuniform_class
from toyjax.report import lib, parts
from toyjax.report.model import ModelPanel, best_flat

PANELS = 8
PALETTE = parts.feature_colors(10)


def _panel_traces(fig, go, W: np.ndarray, colors: list[str], flat_index: int, where: dict) -> None:
    """One model's arrows (m = 2) or WᵀW (other m) into one subplot; every trace carries the model's index."""
    if W.shape[0] != 2:
        fig.add_trace(go.Heatmap(z=metrics.gram(W).tolist(), coloraxis="coloraxis",
                                 customdata=parts.custom(np.full((W.shape[1],) * 2, flat_index)),
                                 hovertemplate="W_%{y}·W_%{x} = %{z:.3g}<extra></extra>"), **where)
        return
    for i in range(W.shape[1]):
        fig.add_trace(go.Scatter(x=[0, float(W[0, i])], y=[0, float(W[1, i])], mode="lines+markers",
                                 line={"color": colors[i], "width": 2.5}, showlegend=False,
                                 marker={"symbol": "arrow", "angleref": "previous", "size": [0, 10]},
                                 customdata=parts.custom([flat_index, flat_index]),
                                 hovertemplate=f"feature {i}: ‖W_i‖ {np.linalg.norm(W[:, i]):.3g}<br>"
                                 "click: show this model<extra></extra>"), **where)


def cells_figure(results, color_of, canonical: bool = False) -> tuple[dict, int]:
    """Small multiples of the best model of up to PANELS cells; `color_of(cells, index)` colours the features."""
    go, make_subplots = lib.graph_objects(), lib.subplots()
    cells = common.best_cells(results)
    W = common.feature_W(cells.params).astype(np.float64)
    if canonical and W.shape[-2] == 2:
        W = geometry.canonical_orientation(np.nan_to_num(W))
    picked = [i for i in common.spread(cells.indices(), PANELS) if cells.note(i) is None]
    cols = min(len(picked), 4) or 1
    rows = int(np.ceil(len(picked) / cols)) or 1
    best = best_flat(results)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[cells.label(i) for i in picked] or None,
                        horizontal_spacing=0.03, vertical_spacing=0.08)
    for k, index in enumerate(picked):
        _panel_traces(fig, go, W[index], color_of(cells, index), int(best[index]), {"row": k // cols + 1,
                                                                                   "col": k % cols + 1})
    if W.shape[-2] == 2:
        reach = float(max(1.3, 1.15 * np.nanmax(metrics.feature_norms(W), initial=0)))
        fig.update_xaxes(range=[-reach, reach], showticklabels=False, zeroline=False)
        fig.update_yaxes(range=[-reach, reach], showticklabels=False, zeroline=False)
        for k in range(len(picked)):
            axis = "" if k == 0 else str(k + 1)
            fig.add_shape(type="circle", x0=-1, y0=-1, x1=1, y1=1, xref=f"x{axis}", yref=f"y{axis}",
                          line={"dash": "dot", "color": "#aaa", "width": 1})
            fig.update_yaxes(scaleanchor=f"x{axis}", row=k // cols + 1, col=k % cols + 1)
    else:
        fig.update_yaxes(autorange="reversed")
    fig.update_layout(parts.layout(coloraxis={"cmin": -1, "cmax": 1, "colorscale": parts.diverging()},
                                   margin={"l": 20, "r": 20, "t": 40, "b": 20}))
    fig.update_annotations(font_size=11)
    return parts.figure_json(fig), rows


def seeds_figure(results, classes: np.ndarray, names: tuple[str, ...], what: str) -> dict:
    """Every model's expected loss against the first cell axis, coloured by its class (`names[classes]`)."""
    go = lib.graph_objects()
    axis = next((d for d in results.dims if d != "seed"), results.dims[0])
    values = np.asarray(results.coords[axis])
    x = np.take(values if values.ndim == 1 else np.arange(len(values)),
                np.indices(results.grid_shape)[results.dims.index(axis)])
    loss = common.finite_loss(results)
    fig = go.Figure()
    for code, name in enumerate(names):
        mask = (np.asarray(classes) == code) & np.isfinite(loss)
        if mask.any():
            fig.add_trace(go.Scatter(x=x[mask].tolist(), y=loss[mask].tolist(), mode="markers", name=name,
                                     customdata=parts.custom(np.flatnonzero(mask.ravel())), marker={"size": 7},
                                     hovertemplate=f"{name}<br>%{{x:.3g}}: expected loss %{{y:.4g}}<br>"
                                     "click: show this model<extra></extra>"))
    scale = "log" if values.ndim == 1 and np.all(values > 0) and values.max() / values.min() > 20 else "linear"
    fig.update_layout(parts.layout(xaxis={"type": scale, "title": common.AXIS_NAMES.get(axis, axis)},
                                   yaxis={"type": "log", "title": "expected loss"},
                                   title={"text": f"every model's expected loss, coloured by {what}"}))
    return parts.figure_json(fig)


def _section(title: str, results, color_of, classes, names, what, canonical=False) -> list[parts.Section]:
    arrows, rows = cells_figure(results, color_of, canonical)
    body = parts.slot("cells", 250 * rows + 50) + parts.slot("seeds", 320) + parts.note(
        f"The best seed of each cell ({common.seeds_note(common.best_cells(results)) or 'one model per cell'}); "
        "the dotted circle is ‖W_i‖ = 1. Click an arrow or a point to show its model below.")
    return [parts.Section(title, body, {"cells": arrows, "seeds": seeds_figure(results, classes, names, what)},
                          ["cells", "seeds"])]


def _by_importance(cells, index) -> list[str]:
    importance = np.asarray(cells.importance)[index]
    scale = parts.sequential()
    span = float(np.ptp(np.asarray(cells.importance))) or 1.0
    low = float(np.min(cells.importance))
    return [scale[int(round((v - low) / span * (len(scale) - 1)))][1] for v in importance]


def _sets(results):
    size = int(results.config.get("data", {}).get("set_size", 2) or 2)
    return lambda cells, index: [PALETTE[(i // size) % 10] for i in range(np.asarray(cells.importance).shape[-1])]


def intro(results, panel: ModelPanel):
    learned = (metrics.feature_norms(common.feature_W(results.params)) >= LEARNED).sum(-1)
    n = int(results.config["model"]["n_features"])
    names = tuple(f"{k} features learned" for k in range(n + 1))
    return _section("solutions: feature directions of each cell", results, _by_importance, learned, names,
                    "how many features are learned (‖W_i‖ ≥ 0.3); arrows coloured by importance (yellow: most)"), -1


def nonuniform(results, panel: ModelPanel):
    def varied(cells, index):
        return ["#595959"] * (np.asarray(cells.importance).shape[-1] - 1) + ["#c62828"]

    classes = nonuniform_class(common.feature_W(results.params))
    return _section("non-uniform superposition: canonical solutions (varied feature in red)", results, varied,
                    classes, GEOMETRY_CLASSES, "the geometry found", canonical=True), -1


def correlated(results, panel: ModelPanel):
    kind = results.config.get("data", {}).get("kind", "independent")
    codes = geometry.classify_geometry(common.feature_W(results.params)).geometry
    dedicated = (codes == geometry.DEDICATED).sum(-1)
    n = int(results.config["model"]["n_features"])
    names = tuple(f"{k} dedicated features" for k in range(n + 1))
    return _section(f"{kind} feature sets: solutions coloured by set", results, _sets(results), dedicated, names,
                    "how many features have a dedicated direction"), -1


def collapse(results, panel: ModelPanel):
    size = int(results.config.get("data", {}).get("set_size", 2) or 2)
    n = int(results.config["model"]["n_features"])
    counts = collapsed_sets(common.feature_W(results.params), size)
    names = tuple(f"{k} set(s) collapsed" for k in range(n // size + 1))
    return _section("collapse of correlated sets to their principal component", results, _sets(results), counts,
                    names, "how many correlated sets collapsed (members share one direction)"), -1
