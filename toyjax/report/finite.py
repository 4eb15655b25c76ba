"""Double descent over the dataset size T (Henighan et al. 2023) on the report page.

The section draws every model's test loss (the stratified expected loss on fresh samples) against T, both
axes logarithmic, with the mean over seeds as a line and the peak marked, and the training loss under it;
clicking a point shows that model. In m = 2 the model panel gains the selected model's training points
h_t = W x_t (red) and its features W_i (blue) in the hidden space, as the PNG's geometry rows. This module
imports numpy, `toyjax.analysis.memorization`, `toyjax.plots.common` and the report's `lib`, `model` and
`parts`.
"""

from __future__ import annotations

import numpy as np

from toyjax.analysis import memorization
from toyjax.plots import common
from toyjax.report import lib, parts
from toyjax.report.model import ModelPanel, best_flat, flat

POINT, FEATURE = "#d62728", "#1f77b4"


def _curve_figure(results) -> dict:
    """Test loss (top) and training loss (bottom) of every model against T, click: that model."""
    go, make_subplots = lib.graph_objects(), lib.subplots()
    c, p = memorization.curve(results), memorization.peak(results)
    size = flat(results, results.train_set["size"]).astype(np.float64)
    test, train = np.ravel(common.finite_loss(results)), flat(results, results.train_set["loss"])
    ok = np.flatnonzero(np.isfinite(test))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.64, 0.36], vertical_spacing=0.06)
    hover = "T = %{x}: test loss %{customdata[1]:.4g}, training loss %{customdata[2]:.4g}<br>click: show this model"
    custom = parts.custom(ok, test[ok], train[ok])
    for row, values in ((1, test), (2, train)):
        fig.add_trace(go.Scatter(x=size[ok].tolist(), y=values[ok].tolist(), mode="markers", customdata=custom,
                                 marker={"color": "#555", "size": 7, "opacity": 0.6},
                                 hovertemplate=hover + "<extra></extra>"), row, 1)
    for row, mean in ((1, c["test_mean"]), (2, c["train_mean"])):
        fig.add_trace(go.Scatter(x=c["dataset_size"].tolist(), y=mean.tolist(), mode="lines",
                                 line={"color": "black"}, hoverinfo="skip"), row, 1)
    fig.add_vline(x=p["dataset_size"], line={"dash": "dash", "color": "#c62828"})
    fig.update_xaxes(type="log")
    fig.update_xaxes(title="dataset size T (training points)", row=2)
    fig.update_yaxes(type="log", title="test loss", row=1)
    fig.update_yaxes(title="training loss", row=2)
    fig.update_layout(parts.layout(showlegend=False, title={"text": (
        f"test-loss peak at T = {p['dataset_size']:.0f} = {p['T_over_n']:.2g} n = "
        f"{p['T_times_density']:.2g} / density (mean over seeds; dashed)")}))
    return parts.figure_json(fig)


def geometry_panel(results, panel: ModelPanel) -> None:
    """The selected model's h_t and W_i in the 2-D hidden space, added to the model panel."""
    go = lib.graph_objects()
    hidden = flat(results, results.train_set["hidden"])
    W = flat(results, common.feature_W(results.params)).astype(np.float64)
    panel.fields.update({"hx": hidden[..., 0], "hy": hidden[..., 1], "wx": W[:, 0], "wy": W[:, 1]})
    fig = go.Figure()
    for key, name, color in (("h", "training points h_t = W x_t", POINT), ("w", "features W_i", FEATURE)):
        fig.add_trace(go.Scatter(x=[], y=[], mode="markers", name=name, marker={"color": color, "size": 5},
                                 hovertemplate=f"{name}: (%{{x:.3g}}, %{{y:.3g}})<extra></extra>"))
        trace = len(fig.data) - 1
        panel.bind("m-points", trace, "x", f"{key}x")
        panel.bind("m-points", trace, "y", f"{key}y")
    fig.update_yaxes(scaleanchor="x")
    fig.update_layout(parts.layout(title={"text": "the training points and the features in the hidden space"}))
    panel.figures["m-points"] = parts.figure_json(fig)


def sections(results, panel: ModelPanel) -> tuple[list[parts.Section], int]:
    """The double-descent curve (click: a model), and the best seed of the peak's T first (an embedded one)."""
    if not getattr(results, "train_set", None):
        return [], -1
    if int(results.config["model"]["n_hidden"]) == 2:
        geometry_panel(results, panel)
    body = parts.slot("curve", 520) + parts.note(
        "Every model's test loss (the expected loss on fresh samples) and training loss against the number of "
        "training points T; the line is the mean over seeds. Click a point to show that model below.")
    section = parts.Section("double descent over the dataset size", body, {"curve": _curve_figure(results)},
                            ["curve"])
    peak = list(results.coords["dataset_size"]).index(int(memorization.peak(results)["dataset_size"]))
    cells = common.best_cells(results)  # the cells are the dataset sizes (and any other axis but seed)
    at = tuple(peak if d == "dataset_size" else 0 for d in cells.dims)
    return [section], int(np.ravel(best_flat(results))[np.ravel_multi_index(at, cells.shape)])
