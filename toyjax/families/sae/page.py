"""SAE runs on the report page: their headline plots, every point a click away from its model.

The model panel (`toyjax.report.model`) shows a clicked SAE's decoder directions W_dec (as arrows in a
2-D or 3-D activation space, else a heatmap), W_decᵀW_dec and b_enc, each latent's decoder norm and its
loss curve; every SAE page puts first in it what the SAE recovered (`toyjax.families.sae.pairs`): each true
feature beside its matched latent, the pairs' cosines, the unmatched and dead latents. Above it, by the
figure the run declares:

- ``sae_directions``: the source's true feature arrows, and MMCS against the first grid axis, one point
  per model (every seed);
- ``sae_mmcs``: MMCS and dead latents over the grid's two axes (mean over seeds; a click opens the best seed);
- ``sae_superposition``: the learned features recovered against the source's features per dimension;
- ``sae_frontier``: unexplained variance against L0, every model, coloured by MMCS;
- ``sae_absorption``: the absorption rate and the hedging of the first parent → child pair against λ, every model.
- ``sae_hierarchy``: absorption against MCC, every model, coloured by MMCS;
- ``sae_l0``: MCC and the matched latents' precision and recall against L0, every model.

A point's hover gives its SAE's numbers (`toyjax.families.sae.numbers`): MMCS over the latents that fire,
recovery, L0, FVE, dead latents, MCC and the matched latents' precision, recall and F1.

This module imports numpy, `toyjax.families.sae.numbers`, `toyjax.families.sae.pairs`, `toyjax.analysis.summary`,
`toyjax.plots.common`, `toyjax.families.sae.figures` and the report's `lib`, `model` and `parts`.
"""

from __future__ import annotations

import numpy as np

from toyjax.analysis.summary import valid
from toyjax.families.sae import numbers, pairs
from toyjax.families.sae.figures import best
from toyjax.plots import common
from toyjax.report import lib, parts
from toyjax.report.model import ModelPanel, best_flat

HOVER = ("%{text}<br>MMCS %{customdata[1]:.4f} (latents → features %{customdata[2]:.4f})<br>recovered at "
         "cos ≥ 0.99: %{customdata[3]:.3g} · L0 %{customdata[4]:.3g} · FVE %{customdata[5]:.4f}<br>"
         "dead latents %{customdata[6]:.3g}<br>MCC %{customdata[7]:.4f} · matched latents: precision "
         "%{customdata[8]:.3g}, recall %{customdata[9]:.3g}, F1 %{customdata[10]:.3g}<br>"
         "click: show this model<extra></extra>")


def _models(results) -> dict:
    """Per flat model: its label, hover numbers and whether it trained."""
    keys = ("mmcs", "mmcs_latents", "recovered_0.99", "l0", "fraction_variance_explained", "fraction_dead", "mcc",
            "precision", "recall", "f1")
    values = {k: np.ravel(numbers.number(results, k)) for k in keys}
    labels = []
    for index in np.ndindex(*results.grid_shape):
        labels.append(", ".join(f"{common.AXIS_NAMES.get(d, d)} {common.fmt(results.coords[d][i])}"
                                for d, i in zip(results.dims, index)))
    return {"values": values, "labels": labels, "ok": np.flatnonzero(np.ravel(valid(results)))}


def _scatter(results, x: np.ndarray, y: np.ndarray, color=None, **extra):
    """A scatter of the trained models at (x, y), hover numbers and flat indices in its customdata."""
    go, found = lib.graph_objects(), _models(results)
    ok, v = found["ok"], found["values"]
    marker = {"size": 8, "opacity": 0.85, "color": "#1f77b4"}
    if color is not None:
        marker.update(color=np.asarray(color)[ok].tolist(), colorscale=parts.sequential(), cmin=0, cmax=1,
                      colorbar={"title": {"text": "MMCS"}, "thickness": 12})
    return go.Scatter(x=np.asarray(x)[ok].tolist(), y=np.asarray(y)[ok].tolist(), mode="markers", marker=marker,
                      text=[found["labels"][k] for k in ok], hovertemplate=HOVER, **extra,
                      customdata=parts.custom(ok, *(v[k][ok] for k in v)))


def _section(title: str, fig_id: str, fig, note: str, height: int = 420) -> parts.Section:
    return parts.Section(title, parts.slot(fig_id, height) + parts.note(note), {fig_id: parts.figure_json(fig)},
                         [fig_id])


def _first_axis(results) -> tuple[str, np.ndarray]:
    dims = numbers.cell_dims(results) or results.dims
    return dims[0], _per_model(results, dims[0])


def _per_model(results, axis: str) -> np.ndarray:
    """Every model's value of grid axis `axis`, flat."""
    index = np.indices(results.grid_shape)[results.dims.index(axis)]
    return np.ravel(np.asarray(results.coords[axis], np.float64)[index])


def directions(results, panel: ModelPanel):
    go = lib.graph_objects()
    pairs.add(results, panel)
    axis, x = _first_axis(results)
    fig = go.Figure(_scatter(results, x, np.ravel(numbers.number(results, "mmcs")), name="MMCS"))
    name = common.AXIS_NAMES.get(axis, axis)
    fig.update_layout(parts.layout(title={"text": f"MMCS against {name}, every model"}, showlegend=False,
                                   xaxis=parts.log_axis(x, title=name), yaxis={"title": "MMCS, features → latents"}))
    sections = [_section("SAEs: MMCS of every model", "sae-mmcs", fig,
                         "Each point is one SAE (every seed). Click one to show its decoder directions below.")]
    cells, sae = best(results)
    if np.asarray(sae["features"]).shape[-2] == 2:
        sections.insert(0, _truth_section(sae["features"][cells.indices()[0]]))
    return sections, int(np.ravel(best_flat(results))[_best_cell(results)])


def _best_cell(results) -> int:
    """The position, among the cells, of the cell whose best seed has the highest MMCS."""
    cells, sae = best(results)
    mmcs = np.where(cells.status == common.TRAINED, sae["features_to_latents_learned"], -np.inf)
    return int(np.argmax(np.ravel(mmcs)))


def _truth_section(features: np.ndarray) -> parts.Section:
    """The source's true feature arrows in its 2-D activation space."""
    go, colors = lib.graph_objects(), parts.feature_colors(features.shape[-1])
    fig = go.Figure([go.Scatter(x=[0, float(features[0, i])], y=[0, float(features[1, i])], mode="lines+markers",
                                name=f"feature {i}", line={"color": colors[i], "width": 3},
                                marker={"symbol": "arrow", "angleref": "previous", "size": [0, 13]})
                     for i in range(features.shape[-1])])
    reach = float(max(1.2, 1.1 * np.abs(features).max()))
    fig.update_layout(parts.layout(title={"text": "the source's feature directions W_i"},
                                   xaxis={"range": [-reach, reach], "constrain": "domain"},
                                   yaxis={"range": [-reach, reach], "scaleanchor": "x", "constrain": "domain"}))
    return _section("the true features", "sae-truth", fig, "The features the SAE should recover, the columns of "
                    "the source toy model's W (its best seed). Compare the decoder directions below.", 380)


def heatmaps(results, panel: ModelPanel):
    dims = numbers.cell_dims(results)
    if len(dims) != 2:
        return frontier(results, panel)
    pairs.add(results, panel)
    go, make_subplots = lib.graph_objects(), lib.subplots()
    ok, flat_best = valid(results), best_flat(results)
    fig = make_subplots(rows=1, cols=2, subplot_titles=["MMCS, features → latents (mean over seeds)",
                                                        "fraction of dead latents (mean over seeds)"])
    labels = {d: [common.fmt(v) for v in np.ravel(results.coords[d])] for d in dims}
    for col, (key, scale) in enumerate((("mmcs", "viridis"), ("fraction_dead", "magma_r")), start=1):
        z = numbers.seed_mean(results, numbers.number(results, key), ok).T
        fig.add_trace(go.Heatmap(z=np.where(np.isfinite(z), z, None).tolist(), x=labels[dims[0]], y=labels[dims[1]],
                                 zmin=0, zmax=1, colorscale=parts.sequential(scale), showscale=col == 1,
                                 customdata=parts.custom(flat_best.T, z), hovertemplate=f"{dims[0]} %{{x}}, "
                                 f"{dims[1]} %{{y}}: %{{z:.3f}}<br>click: show the best seed<extra></extra>"),
                      1, col)
    fig.update_xaxes(title=dims[0], type="category")
    fig.update_yaxes(title=dims[1], type="category")
    fig.update_layout(parts.layout())
    section = _section("MMCS and dead latents over the grid", "sae-heat", fig, "Each cell is the mean over its "
                       "seeds; a click shows the cell's best seed (lowest loss) below.")
    return [section], int(np.ravel(flat_best)[_best_cell(results)])


def recovery(results, panel: ModelPanel):
    go = lib.graph_objects()
    pairs.add(results, panel)
    fpd = np.ravel(results.sae["source_features_per_dimension"])
    fig = go.Figure([_scatter(results, fpd, np.ravel(numbers.number(results, key)), name=label,
                              marker_symbol=symbol) for key, label, symbol in (
        ("recovered_0.9", "recovered at cos ≥ 0.9", "circle"), ("recovered_0.99", "recovered at cos ≥ 0.99",
                                                                 "diamond"), ("mmcs", "MMCS", "x"))])
    for trace, color in zip(fig.data, ("#1f77b4", "#d62728", "#222222")):
        trace.marker.color = color
    fig.update_layout(parts.layout(title={"text": "the source's learned features an SAE recovers"},
                                   xaxis={"title": "source's features per dimension ‖W‖_F²/m"},
                                   yaxis={"title": "fraction / cosine", "range": [0, 1.05]}))
    return [_section("recovery against superposition", "sae-recovery", fig, "One point per SAE and number; a "
                     "click shows the SAE below.")], int(np.ravel(best_flat(results))[_best_cell(results)])


def frontier(results, panel: ModelPanel):
    go = lib.graph_objects()
    pairs.add(results, panel)
    l0 = np.ravel(numbers.number(results, "l0"))
    fvu = np.maximum(1 - np.ravel(numbers.number(results, "fraction_variance_explained")), 1e-6)
    fig = go.Figure(_scatter(results, l0, fvu, color=np.ravel(numbers.number(results, "mmcs"))))
    fig.update_layout(parts.layout(title={"text": "unexplained variance against L0, every model"},
                                   xaxis={"type": "log", "title": "L0 (active latents per input)"},
                                   yaxis={"type": "log", "title": "unexplained variance 1 − FVE"}))
    return [_section("L0 against reconstruction", "sae-frontier", fig, "Each point is one SAE, coloured by "
                     "MMCS; a click shows it below.")], int(np.ravel(best_flat(results))[_best_cell(results)])


def absorption(results, panel: ModelPanel):
    go = lib.graph_objects()
    pairs.add(results, panel)
    lam = [common.fmt(v) for v in _per_model(results, "l1_coefficient")]  # categories: λ = 0 has a place
    fig = go.Figure([_scatter(results, lam, np.ravel(np.asarray(results.sae[key])[..., 0]), name=label,
                              marker_symbol=symbol) for key, label, symbol in (
        ("absorption", "absorption rate (the first pair)", "circle"), ("hedging", "hedging", "diamond"))])
    fig.update_layout(parts.layout(title={"text": "absorption and hedging against λ, every model"},
                                   xaxis={"title": "L1 coefficient λ", "type": "category"},
                                   yaxis={"title": "rate / cosine"}))
    return [_section("absorption and hedging", "sae-absorption", fig, "One point per SAE and number (the label "
                     "gives its dictionary size): absorption needs two latents, hedging shows in one. A click "
                     "shows the SAE below.")], int(np.ravel(best_flat(results))[_best_cell(results)])


def hierarchy(results, panel: ModelPanel):
    pairs.add(results, panel)
    go = lib.graph_objects()
    absorbed = np.ravel(numbers.number(results, "absorption"))
    fig = go.Figure(_scatter(results, absorbed, np.ravel(numbers.number(results, "mcc")),
                             color=np.ravel(numbers.number(results, "mmcs"))))
    fig.update_layout(parts.layout(title={"text": "absorption against MCC, every model"},
                                   xaxis={"title": "absorption rate (mean over parent → child pairs)",
                                          "range": [-0.02, 1.02]},
                                   yaxis={"title": "MCC (matched latents)", "range": [0, 1.05]}))
    return [_section("absorption on hierarchical features", "sae-hierarchy", fig, "Each point is one SAE (every "
                     "seed), coloured by MMCS; a click shows it below.")], \
        int(np.ravel(best_flat(results))[_best_cell(results)])


def l0_curves(results, panel: ModelPanel):
    pairs.add(results, panel)
    go = lib.graph_objects()
    l0 = np.ravel(numbers.number(results, "l0"))
    fig = go.Figure([_scatter(results, l0, np.ravel(numbers.number(results, key)), name=label, marker_symbol=symbol)
                     for key, label, symbol in (("mcc", "MCC", "circle"), ("precision", "precision", "square"),
                                                ("recall", "recall", "triangle-up"))])
    for trace, color in zip(fig.data, ("#1f77b4", "#ff7f0e", "#2ca02c")):
        trace.marker.color = color
    fig.update_layout(parts.layout(title={"text": "MCC, precision and recall against L0, every model"},
                                   xaxis={"type": "log", "title": "L0 (active latents per input)"},
                                   yaxis={"title": "mean over matched latents", "range": [0, 1.05]}))
    return [_section("the matched latents against L0", "sae-l0", fig, "One point per SAE and number; a click "
                     "shows the SAE below.")], int(np.ravel(best_flat(results))[_best_cell(results)])
