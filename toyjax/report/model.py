"""The model panel of the report page: one trained model's W geometry, WᵀW, b, ‖W_i‖, D_i and loss curve.

Clicking a cell, point or bar anywhere on the page shows its model here, and a seed selector shows the
cell's other seeds. The panel's figures are built once in Python (`ModelPanel.figures`); each model is
one *row* of plain numbers (`ModelPanel.fields`, arrays over the grid's flat models), and *bindings* say
which row field fills which trace property, so the page's glue only swaps arrays (``Plotly.react``).

Thinning, so that a page stays small: every model's row is embedded while all rows hold at most
`ROW_BYTES` of text; past that only the best seed of each cell (lowest expected loss), and past that
again an even spread of those cells. W is embedded when m·n ≤ `W_MAX`, WᵀW and b when n ≤ `GRAM_MAX`.
What was left out is said on the page. This module imports numpy, `toyjax.families.toy.metrics`,
`toyjax.analysis.summary`, `toyjax.plots.common` and the report's `lib` and `parts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from toyjax.analysis.summary import missing
from toyjax.families.toy import metrics
from toyjax.plots import common
from toyjax.report import lib, parts

ROW_BYTES = 1_500_000  # all embedded rows together, as JSON text
W_MAX = 4000
GRAM_MAX = 100
ARROWS_MAX = 40  # features drawn as arrows (one trace each); W is a heatmap past that


@dataclass
class ModelPanel:
    """What the page needs to show any embedded model: figures, per-model fields and their bindings."""

    fields: dict[str, np.ndarray]  # name -> (N, ...) over the grid's flat models
    figures: dict[str, dict] = field(default_factory=dict)
    bindings: list[dict] = field(default_factory=list)
    matrix: str = "W"  # the name of the feature matrix: W, W1 of an untied model, or an SAE's decoder W_dec

    @property
    def unit(self) -> str:
        """What the matrix's columns are: features of a toy model, an SAE's latents."""
        return "latent" if self.matrix == "W_dec" else "feature"

    @property
    def space(self) -> str:
        return "activation space" if self.matrix == "W_dec" else "hidden space"

    def bind(self, fig: str, trace: int, prop: str, key: str, path=(), arrow=False, column=False) -> None:
        """Fill property `prop` of trace `trace` of figure `fig` with row field `key` (indexed by `path`)."""
        b = {"f": fig, "t": trace, "p": prop, "k": key, "i": list(path)}
        b.update({"a": 1} if arrow else {}, **({"c": 1} if column else {}))
        self.bindings.append(b)


def flat(results, array) -> np.ndarray:
    """A grid-shaped array with one flat model axis first: (N, ...)."""
    a = np.asarray(array)
    return a.reshape((int(np.prod(results.grid_shape)),) + a.shape[len(results.grid_shape):])


def best_flat(results) -> np.ndarray:
    """Flat index of the best seed of every cell (the grid without its seed axis), `best_cells`' choice."""
    cells = common.best_cells(results)
    index = list(np.indices(cells.shape))
    if "seed" in results.dims:
        index.insert(results.dims.index("seed"), cells.seed)
    return np.ravel_multi_index(tuple(index), results.grid_shape) if index else np.zeros((), int)


def model_fields(results) -> tuple[dict[str, np.ndarray], str]:
    """Per-model arrays of the panel, and the feature matrix's name; large ones left out (module docstring).

    An SAE's matrix is its decoder W_dec, its columns the latents' directions, and its bias b_enc. A family of
    one's own whose params hold none of W, W1, W_dec gets its loss curve alone."""
    matrix = "W_dec" if "W_dec" in results.params else "W1" if "W1" in results.params else "W"
    fields = _matrix_fields(results, matrix) if matrix in results.params else {}
    if len(np.asarray((results.history or {}).get("step", []))):
        fields["curve"] = flat(results, results.history["loss"])
    return fields, matrix


def _matrix_fields(results, matrix: str) -> dict[str, np.ndarray]:
    """‖W_i‖ and D_i of the feature matrix's columns, and W, WᵀW and b where they are small enough."""
    W = flat(results, results.params[matrix]).astype(np.float64)
    n, m = W.shape[-1], W.shape[-2]
    fields = {"norm": metrics.feature_norms(W), "D": metrics.feature_dimensionality(W)}
    if m * n <= W_MAX:
        fields["W"] = W
    if n <= GRAM_MAX:
        fields["G"] = metrics.gram(W)
        fields["b"] = flat(results, results.params["b_enc" if matrix == "W_dec" else "b"])
    return fields


def chosen_models(results, row_bytes: float) -> tuple[np.ndarray, str]:
    """The flat models whose rows (of about `row_bytes` each) are embedded, and a sentence saying how."""
    every = np.flatnonzero(~flat(results, missing(results)))
    if every.size * row_bytes <= ROW_BYTES:
        return every, "every model's details are embedded"
    best = np.unique(np.ravel(best_flat(results)))
    if best.size * row_bytes <= ROW_BYTES:
        return best, (f"details embedded for the best seed of each cell only ({best.size} of {every.size} "
                      f"models), to keep the page small")
    keep = best[np.unique(np.linspace(0, best.size - 1, max(int(ROW_BYTES // row_bytes), 1)).astype(int))]
    return keep, (f"details embedded for {keep.size} of {best.size} cells (an even spread, best seed each) "
                  f"of {every.size} models, to keep the page small")


def model_panel(results) -> ModelPanel:
    """The generic panel: feature directions, WᵀW and b, ‖W_i‖ and D_i, the loss curve."""
    fields, matrix = model_fields(results)
    panel = ModelPanel(fields=fields, matrix=matrix)
    if "W" in fields:
        _directions(panel, fields["W"])
    if "G" in fields:
        _gram(panel, fields["G"].shape[-1])
    if "norm" in fields:
        _bars(panel, fields["norm"].shape[-1])
    if "curve" in fields:
        _curve(panel, np.asarray(results.history["step"]))
    return panel


def _directions(panel: ModelPanel, W: np.ndarray) -> None:
    """W_i as arrows in the hidden space (m = 1, 2, 3), else W as a heatmap."""
    go = lib.graph_objects()
    m, n = W.shape[-2:]
    reach = float(max(1.2, 1.1 * np.nanmax(np.abs(W), initial=0)))
    name = panel.matrix
    if m > 3 or n > ARROWS_MAX:
        fig = go.Figure(go.Heatmap(z=np.zeros((m, n)).tolist(), zmid=0, zmin=-reach, zmax=reach,
                                   colorscale=parts.diverging(), hovertemplate=f"{name}[%{{y}}, %{{x}}] = "
                                   "%{z:.4g}<extra></extra>"))
        fig.update_layout(parts.layout(title={"text": f"{name}: hidden dimension × feature"},
                                       yaxis={"autorange": "reversed", "title": "hidden dimension"},
                                       xaxis={"title": panel.unit}))
        panel.bind("m-dirs", 0, "z", "W")
    elif m == 3:
        fig = _arrows_3d(panel, go, n, reach)
    else:
        fig = _arrows_2d(panel, go, m, n, reach)
    panel.figures["m-dirs"] = parts.figure_json(fig)


def _arrows_2d(panel: ModelPanel, go, m: int, n: int, reach: float):
    colors = parts.feature_colors(n)
    fig = go.Figure()
    for i in range(n):
        y = [i, i] if m == 1 else [0, 0]
        fig.add_trace(go.Scatter(x=[0, 0], y=y, mode="lines+markers", name=f"{panel.unit} {i}",
                                 line={"color": colors[i], "width": 3},
                                 marker={"symbol": "arrow", "angleref": "previous", "size": [0, 13]},
                                 hovertemplate=f"{panel.unit} {i}<br>{panel.matrix}_{i} = (%{{x:.4g}}" +
                                 (")" if m == 1 else ", %{y:.4g})") + "<extra></extra>"))
        panel.bind("m-dirs", i, "x", "W", (0, i), arrow=True)
        if m == 2:
            panel.bind("m-dirs", i, "y", "W", (1, i), arrow=True)
    axis = {"range": [-reach, reach], "zeroline": True}
    if m == 2:
        fig.add_shape(type="circle", x0=-1, y0=-1, x1=1, y1=1, line={"dash": "dash", "color": "#999", "width": 1})
        yaxis = {**axis, "scaleanchor": "x", "title": "hidden dimension 1"}
    else:
        yaxis = {"title": panel.unit, "tickvals": list(range(n)), "range": [-0.6, n - 0.4]}
    title = f"{panel.unit} directions {panel.matrix}_i in the {m}-D {panel.space}"
    fig.update_layout(parts.layout(title={"text": title},
                                   xaxis={**axis, "title": "hidden dimension 0"}, yaxis=yaxis, showlegend=n <= 12,
                                   legend={"font": {"size": 9}}))
    return fig


def _arrows_3d(panel: ModelPanel, go, n: int, reach: float):
    colors = parts.feature_colors(n)
    fig = go.Figure()
    for i in range(n):
        fig.add_trace(go.Scatter3d(x=[0, 0], y=[0, 0], z=[0, 0], mode="lines+markers", name=f"{panel.unit} {i}",
                                   line={"color": colors[i], "width": 6}, marker={"size": [0, 4], "color": colors[i]},
                                   hovertemplate=f"{panel.unit} {i}<br>(%{{x:.3g}}, %{{y:.3g}}, %{{z:.3g}})"
                                   "<extra></extra>"))
        for d, prop in enumerate("xyz"):
            panel.bind("m-dirs", i, prop, "W", (d, i), arrow=True)
    box = {"range": [-reach, reach]}
    fig.update_layout(parts.layout(title={"text": f"{panel.unit} directions {panel.matrix}_i in the 3-D {panel.space}"},
                                   scene={"xaxis": box, "yaxis": box, "zaxis": box, "aspectmode": "cube"},
                                   margin={"l": 0, "r": 0, "t": 40, "b": 0}))
    return fig


def _gram(panel: ModelPanel, n: int) -> None:
    """WᵀW and b side by side on one −1..1 scale."""
    go, make_subplots = lib.graph_objects(), lib.subplots()
    fig = make_subplots(rows=1, cols=2, column_widths=[0.86, 0.14], horizontal_spacing=0.06,
                        subplot_titles=[f"{panel.matrix}ᵀ{panel.matrix}", "b"])
    zeros = np.zeros((n, n)).tolist()
    fig.add_trace(go.Heatmap(z=zeros, coloraxis="coloraxis",
                             hovertemplate="W_%{y}·W_%{x} = %{z:.4g}<extra></extra>"), 1, 1)
    fig.add_trace(go.Heatmap(z=[[0.0]] * n, coloraxis="coloraxis", hovertemplate="b_%{y} = %{z:.4g}<extra></extra>"),
                  1, 2)
    fig.update_layout(parts.layout(coloraxis={"cmin": -1, "cmax": 1, "colorscale": parts.diverging(),
                                              "colorbar": {"thickness": 12}}))
    ticks = {"dtick": 1} if n <= 20 else {}
    fig.update_yaxes(autorange="reversed", **ticks)
    fig.update_xaxes(title=f"{panel.unit} j", col=1, **ticks)
    fig.update_yaxes(title=f"{panel.unit} i", col=1)
    fig.update_xaxes(showticklabels=False, col=2)
    panel.bind("m-gram", 0, "z", "G")
    panel.bind("m-gram", 1, "z", "b", column=True)
    panel.figures["m-gram"] = parts.figure_json(fig)


def _bars(panel: ModelPanel, n: int) -> None:
    go = lib.graph_objects()
    fig = go.Figure([go.Bar(x=list(range(n)), y=[0] * n, name="‖W_i‖",
                            hovertemplate=panel.unit + " %{x}: ‖W_i‖ = %{y:.4g}<extra></extra>"),
                     go.Bar(x=list(range(n)), y=[0] * n, name="D_i",
                            hovertemplate=panel.unit + " %{x}: D_i = %{y:.4g}<extra></extra>")])
    fig.update_layout(parts.layout(title={"text": f"{panel.unit} norms ‖W_i‖ and dimensionalities D_i"},
                                   barmode="group", xaxis={"title": f"{panel.unit} i"},
                                   legend={"orientation": "h", "y": 1.12, "x": 0.6}))
    panel.bind("m-bars", 0, "y", "norm")
    panel.bind("m-bars", 1, "y", "D")
    panel.figures["m-bars"] = parts.figure_json(fig)


def _curve(panel: ModelPanel, steps: np.ndarray) -> None:
    go = lib.graph_objects()
    x = np.maximum(steps, 1).tolist()
    fig = go.Figure(go.Scatter(x=x, y=[1] * len(x), mode="lines+markers", name="training loss",
                               hovertemplate="step %{x}: loss %{y:.4g}<extra></extra>"))
    fig.update_layout(parts.layout(title={"text": "training loss at the recorded snapshots"},
                                   xaxis=parts.log_axis(x, title="step"), yaxis={"type": "log",
                                                                                "title": "loss"}))
    panel.bind("m-curve", 0, "y", "curve")
    panel.figures["m-curve"] = parts.figure_json(fig)
