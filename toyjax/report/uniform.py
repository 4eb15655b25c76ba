"""§4 uniform superposition on the report page: D* against 1/(1−S), every D_i hoverable, feature graphs.

The D* = m/‖W‖_F² curve of each density's best seed, with every feature's D_i as a point coloured by the
geometry it was classified into (hover: the feature, D_i, ‖W_i‖), and the paper's fractions as dashed
lines. Clicking a density's point shows its model, whose panel here holds its feature graph (the PNG's
layout, `toyjax.plots.uniform.graph_layout`: one ring per tegum factor, coloured by polytope). This module
imports numpy, `toyjax.analysis.geometry`, `toyjax.families.toy.metrics`, `toyjax.plots` modules and the report's `lib`,
`model` and `parts`.
"""

from __future__ import annotations

import numpy as np

from toyjax.analysis import geometry
from toyjax.families.toy import metrics
from toyjax.plots import common
from toyjax.plots.uniform import GEOMETRY_COLORS, chosen, graph_layout
from toyjax.report import lib, parts
from toyjax.report.model import ModelPanel, best_flat, flat

COLORS = {geo: parts.hex_color(c) for geo, c in GEOMETRY_COLORS.items()}


def fractions(fig, **where) -> None:
    """The paper's dimensionalities (1, 3/4, 2/3, 1/2, 2/5, 3/8) as dashed lines, labelled on the right
    (`where`: the subplot's row and col)."""
    for value, text in common.FRACTIONS:
        fig.add_hline(y=value, line={"dash": "dash", "color": "#999", "width": 0.8}, annotation_text=text,
                      annotation_position="right", annotation_font_size=9, **where)


def dstar_figure(results) -> dict:
    go = lib.graph_objects()
    cells = common.best_cells(results)
    W = common.feature_W(cells.params)
    W = W.reshape((-1,) + W.shape[-2:])
    density = np.asarray(cells.density, dtype=np.float64).reshape(-1, W.shape[-1])[:, 0]
    index = np.ravel(best_flat(results))
    order = np.argsort(density)
    density, W, index = density[order], W[order], index[order]
    D, norms = metrics.feature_dimensionality(W), metrics.feature_norms(W)
    codes = geometry.classify_geometry(W).geometry
    jitter = np.exp(np.random.default_rng(0).uniform(-0.04, 0.04, D.shape)) / density[:, None]
    features = np.broadcast_to(np.arange(D.shape[-1]), D.shape)
    fig = go.Figure()
    for code, geo in enumerate(geometry.GEOMETRIES):
        mask = codes == code
        if mask.any():
            custom = parts.custom(np.broadcast_to(index[:, None], D.shape)[mask], features[mask], norms[mask],
                                  1 / np.broadcast_to(density[:, None], D.shape)[mask])
            fig.add_trace(go.Scattergl(x=jitter[mask].tolist(), y=D[mask].tolist(), mode="markers",
                                       name=f"D_i, {geo.replace('_', ' ')}", customdata=custom,
                                       marker={"size": 4, "opacity": 0.5, "color": COLORS[geo]},
                                       hovertemplate="1/(1−S) %{customdata[3]:.3g}, feature %{customdata[1]}<br>"
                                       f"{geo.replace('_', ' ')}: D_i %{{y:.3g}}, ‖W_i‖ %{{customdata[2]:.3g}}"
                                       "<extra></extra>"))
    dstar = metrics.dimensions_per_feature(W)
    fig.add_trace(go.Scatter(x=(1 / density).tolist(), y=dstar, mode="lines+markers", name="D* = m/‖W‖_F²",
                             customdata=parts.custom(index), line={"color": "black"},
                             hovertemplate="1/(1−S) %{x:.3g}: D* %{y:.4g}<br>click: this density's model"
                             "<extra></extra>"))
    fractions(fig)
    fig.update_layout(parts.layout(xaxis=parts.log_axis(1 / density, title="1/(1−S)  (inverse feature density; "
                                                        "sparser to the right)"),
                                   yaxis={"title": "D*  /  D_i", "range": [-0.03, 1.12]},
                                   legend={"font": {"size": 10}}))
    return parts.figure_json(fig)


def _graph_fields(results) -> dict[str, list]:
    """Per flat model: its feature graph's node positions, colours and labels, and edge polylines."""
    W = flat(results, common.feature_W(results.params)).astype(np.float64)
    out = {"gx": [], "gy": [], "gc": [], "gt": [], "ex": [], "ey": []}
    for one in W:
        g = graph_layout(np.nan_to_num(one))
        pos, on = np.round(g["pos"], 3), g["learned"]
        out["gx"].append(np.where(on, pos[:, 0], np.nan))
        out["gy"].append(np.where(on, pos[:, 1], np.nan))
        out["gc"].append(np.asarray(g["geometry"], int))
        out["gt"].append([geometry.GEOMETRIES[c].replace("_", " ") if learned else "" for c, learned in
                          zip(g["geometry"], on)])
        ends = [(pos[a], pos[b]) for a, b, _ in g["edges"]]
        out["ex"].append([v for p, q in ends for v in (p[0], q[0], None)])
        out["ey"].append([v for p, q in ends for v in (p[1], q[1], None)])
    return out


def _geometry_scale() -> list:
    """A discrete colour scale over the geometry codes, in the colours of the PNG's feature graphs."""
    k = len(geometry.GEOMETRIES)
    return [[(code + edge) / k, COLORS[geo]] for code, geo in enumerate(geometry.GEOMETRIES) for edge in (0, 1)]


def graph_panel(results, panel: ModelPanel) -> None:
    """The selected model's feature graph, added to the model panel."""
    go = lib.graph_objects()
    panel.fields.update(_graph_fields(results))
    fig = go.Figure([go.Scatter(x=[], y=[], mode="lines", line={"color": "#555", "width": 0.8}, hoverinfo="skip"),
                     go.Scatter(x=[], y=[], mode="markers",
                                hovertemplate="feature %{pointNumber}: %{text}<extra></extra>",
                                marker={"size": 7, "colorscale": _geometry_scale(), "cmin": -0.5,
                                        "cmax": len(geometry.GEOMETRIES) - 0.5})])
    fig.update_layout(parts.layout(title={"text": "feature graph: one ring per tegum factor (edges |W_i·W_j| > 0.1), "
                                          "unlearned features left out"}, showlegend=False,
                                   xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"}))
    for key, trace, prop in (("ex", 0, "x"), ("ey", 0, "y"), ("gx", 1, "x"), ("gy", 1, "y"), ("gc", 1, "marker.color"),
                             ("gt", 1, "text")):
        panel.bind("m-graph", trace, prop, key)
    panel.figures = {"m-graph": parts.figure_json(fig), **panel.figures}


def sections(results, panel: ModelPanel) -> tuple[list[parts.Section], int]:
    graph_panel(results, panel)
    body = parts.slot("dstar", 460) + parts.note(
        "Hover a point for its feature; click a density's point to show its model and feature graph below.")
    cells = common.best_cells(results)
    W = common.feature_W(cells.params)
    W = W.reshape((-1,) + W.shape[-2:])
    density = np.asarray(cells.density, dtype=np.float64).reshape(W.shape[0], -1)[:, 0]
    order = np.argsort(density)
    first = int(np.ravel(best_flat(results))[order][chosen(density[order], W[order])[0]])
    return [parts.Section("dimensions per feature", body, {"dstar": dstar_figure(results)}, ["dstar"])], first
