"""§7 privileged basis and §8 computation in superposition on the report page: neuron stack plots.

One stack plot per density (its best seed; `toyjax.analysis.neurons.stack_plot_data`): a column per neuron,
one block per feature of height w_ki (positive above the axis, negative below), colour = feature; hovering a
block names its feature and weight. An untied model's (abs_mlp's) neurons are normalised (largest |W1| weight
1), and all sorted, as in the PNG. Each neuron is marked M (monosemantic), P (polysemantic) or · (dead), and
each plot is titled with the model's configuration ("3 monosemantic + 3 features in 2 neurons"). Clicking a
block shows that density's model, whose panel here holds its own stack plot. This module imports numpy,
`toyjax.analysis.neurons`, `toyjax.plots.common`, `toyjax.plots.neurons` and the report's `lib`, `model` and
`parts`.
"""

from __future__ import annotations

import numpy as np

from toyjax.analysis import neurons
from toyjax.plots import common
from toyjax.plots.neurons import MARKS
from toyjax.report import lib, parts
from toyjax.report.model import ModelPanel, best_flat, flat

PANELS = 12


def _add_stack(fig, go, weights: np.ndarray, classes, flat_index: int, where: dict, legend: bool) -> None:
    """One model's stack plot: a bar trace per feature (stacked by sign), then the neurons' marks."""
    m, n = weights.shape
    colors = parts.feature_colors(n)
    for i in range(n):
        fig.add_trace(go.Bar(x=list(range(m)), y=weights[:, i].tolist(), name=f"feature {i}", legendgroup=str(i),
                             marker={"color": colors[i], "line": {"width": 0.3, "color": "white"}},
                             showlegend=legend and n <= 10, customdata=parts.custom(np.full(m, flat_index)),
                             hovertemplate=f"neuron %{{x}}<br>feature {i}: weight %{{y:.3g}}<extra></extra>"),
                      **where)
    marks = [MARKS[int(c)][0] for c in classes]
    fig.add_trace(go.Scatter(x=list(range(m)), y=[1.08 * float(_top(weights))] * m, mode="text", text=marks,
                             showlegend=False, hoverinfo="skip", textfont={"size": 11}), **where)


def _top(weights: np.ndarray) -> np.ndarray:
    """The height of the tallest positive stack of each model, at least 0.5: where the marks go; (...)."""
    return np.maximum(np.nan_to_num(np.maximum(weights, 0).sum(-1)).max(-1), 0.5)


def _stacks(results, cells, data) -> tuple[dict, int]:
    """The stack plots of up to PANELS cells (best seeds), in a grid of subplots."""
    go, make_subplots = lib.graph_objects(), lib.subplots()
    picked = [i for i in common.spread(cells.indices(), PANELS) if cells.note(i) is None]
    cols = min(len(picked), 4) or 1
    rows = int(np.ceil(len(picked) / cols)) or 1
    best = best_flat(results)
    config = neurons.configuration(data["weights"], common.signed_inputs(results))
    titles = [f"{cells.label(index)}: {neurons.describe_configuration(config, index)}" for index in picked]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles or None, vertical_spacing=0.12 / rows + 0.05,
                        horizontal_spacing=0.05)
    for k, index in enumerate(picked):
        where = {"row": k // cols + 1, "col": k % cols + 1}
        _add_stack(fig, go, np.asarray(data["weights"][index]), data["neuron_class"][index], int(best[index]), where,
                   legend=k == 0)
    fig.update_layout(parts.layout(barmode="relative", legend={"font": {"size": 10}}))
    fig.update_annotations(font_size=11)
    fig.update_xaxes(title_text="neuron", title_font_size=10)
    return parts.figure_json(fig), rows


def stack_panel(results, panel: ModelPanel) -> None:
    """The selected model's own stack plot, added to the model panel."""
    go = lib.graph_objects()
    params = {k: flat(results, v) for k, v in results.params.items()}
    data = neurons.stack_plot_data(params, flat(results, results.importance), common.signed_inputs(results))
    weights = np.asarray(data["weights"])
    panel.fields["stack"] = np.swapaxes(weights, -1, -2)
    panel.fields["marks"] = [[MARKS[int(c)][0] for c in row] for row in np.asarray(data["neuron_class"])]
    panel.fields["mark_y"] = np.repeat(_top(weights)[:, None] * 1.08, weights.shape[1], axis=1)
    fig = go.Figure()
    _add_stack(fig, go, np.zeros(weights.shape[1:]), np.zeros(weights.shape[1]), 0, {}, legend=True)
    n = weights.shape[-1]
    for i in range(n):
        panel.bind("m-stack", i, "y", "stack", (i,))
    panel.bind("m-stack", n, "text", "marks")
    panel.bind("m-stack", n, "y", "mark_y")
    fig.update_layout(parts.layout(barmode="relative", title={"text": "this model's stack plot (neurons sorted by "
                                   "their largest feature's importance; M mono-, P polysemantic, · dead)"},
                                   xaxis={"title": "neuron"}, yaxis={"title": "weight into neuron"}))
    panel.figures = {"m-stack": parts.figure_json(fig), **panel.figures}


def sections(results, panel: ModelPanel) -> tuple[list[parts.Section], int]:
    cells = common.best_cells(results)
    if not ({"W1", "W"} & set(cells.params)):
        return [], -1
    stack_panel(results, panel)
    data = neurons.stack_plot_data(cells.params, cells.importance, common.signed_inputs(results))
    figure, rows = _stacks(results, cells, data)
    kind = "normalised W1 (largest weight of each neuron 1)" if "W1" in cells.params else "W (row k: neuron k)"
    body = parts.slot("stacks", 270 * rows + 60) + parts.note(
        f"Stack plots of {kind}, {common.seeds_note(cells) or 'one model per density'}. Hover a block for its "
        "feature and weight; click it to show that model below.")
    return [parts.Section("neuron stack plots", body, {"stacks": figure}, ["stacks"])], -1
