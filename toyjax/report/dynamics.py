"""§5 learning dynamics on the report page: each model's D_i and loss over training, with its detected jumps.

The section lists every model by its expected loss (lowest first; click one); the model panel gains the
selected model's D_i of every feature against the step (log axis, the paper's fractions dashed) above its
loss at the same snapshots, each detected jump (`toyjax.analysis.dynamics.jump_events`: |ΔD_i| > 0.1 within
a doubling of the step count) marked on both. This module imports numpy, `toyjax.analysis.dynamics`,
`toyjax.plots.common` and the report's `lib`, `model`, `parts` and `uniform`.
"""

from __future__ import annotations

import numpy as np

from toyjax.analysis import dynamics
from toyjax.plots import common
from toyjax.report import lib, parts
from toyjax.report.model import ModelPanel, flat
from toyjax.report.uniform import fractions

LISTED_MAX = 400  # models in the section's chart


def _jump_fields(steps, D, loss) -> dict[str, list]:
    """Per model: the jumps' steps, the D_i they reach, the loss there, and a hover text each."""
    out = {"jx": [], "jy": [], "jl": [], "jt": []}
    for d, curve in zip(D, loss):
        events = dynamics.jump_events(steps, np.nan_to_num(d), np.nan_to_num(curve))
        at = {int(s): float(v) for s, v in zip(steps, curve)}
        out["jx"].append([max(e["step"], 1) for e in events])
        out["jy"].append([e["to"] for e in events])
        out["jl"].append([at[e["step"]] for e in events])
        out["jt"].append([f"feature {e['feature']}: D_i {e['from']:.3g} → {e['to']:.3g}, loss drop "
                          f"{e['relative_loss_drop']:.0%}" for e in events])
    return out


def trajectory_panel(results, panel: ModelPanel) -> None:
    """The selected model's D_i (top) and loss (bottom) over training, jumps marked, added to the panel."""
    go, make_subplots = lib.graph_objects(), lib.subplots()
    traj = dynamics.trajectories(results.history)
    steps = np.asarray(traj["step"])
    D, loss = flat(results, traj["dimensionality"]), flat(results, traj["loss"])
    n = D.shape[-1]
    panel.fields.update({"traj": np.swapaxes(D, -1, -2), "curve": loss, **_jump_fields(steps, D, loss)})
    x = np.maximum(steps, 1).tolist()
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.05)
    for i, color in enumerate(parts.feature_colors(n)):
        fig.add_trace(go.Scatter(x=x, y=[0] * len(x), mode="lines", name=f"feature {i}", line={"color": color},
                                 hovertemplate=f"feature {i}, step %{{x}}: D_i %{{y:.3g}}<extra></extra>"), 1, 1)
        panel.bind("m-traj", i, "y", "traj", (i,))
    fig.add_trace(go.Scatter(x=x, y=[1] * len(x), mode="lines", name="loss", line={"color": "black"},
                             hovertemplate="step %{x}: loss %{y:.4g}<extra></extra>"), 2, 1)
    panel.bind("m-traj", n, "y", "curve")
    jump = {"mode": "markers", "marker": {"symbol": "triangle-down", "color": "#c62828", "size": 9},
            "hovertemplate": "jump at step %{x}<br>%{text}<extra></extra>"}
    fig.add_trace(go.Scatter(x=[], y=[], name="detected jump", **jump), 1, 1)
    fig.add_trace(go.Scatter(x=[], y=[], name="jump (loss)", showlegend=False, **jump), 2, 1)
    for trace, y in ((n + 1, "jy"), (n + 2, "jl")):
        panel.bind("m-traj", trace, "x", "jx")
        panel.bind("m-traj", trace, "y", y)
        panel.bind("m-traj", trace, "text", "jt")
    fractions(fig, row=1, col=1)
    fig.update_xaxes(**parts.log_axis(x))
    fig.update_xaxes(title="training step", row=2)
    fig.update_yaxes(title="D_i", range=[-0.03, 1.08], row=1)
    fig.update_yaxes(title="training loss", type="log", row=2)
    fig.update_layout(parts.layout(title={"text": "D_i of every feature over training, above the loss; ▼ detected "
                                          "jumps (|ΔD_i| > 0.1 within ×2 steps)"}))
    panel.figures = {"m-traj": parts.figure_json(fig), **{k: v for k, v in panel.figures.items() if k != "m-curve"}}
    panel.bindings = [b for b in panel.bindings if b["f"] != "m-curve"]  # the loss is drawn here


def sections(results, panel: ModelPanel) -> tuple[list[parts.Section], int]:
    """Every model by expected loss (click: its trajectories), and the lowest-loss model first."""
    go = lib.graph_objects()
    if len(np.asarray(results.history.get("step", []))) < 2:
        return [], -1
    trajectory_panel(results, panel)
    loss = np.ravel(common.finite_loss(results))
    order = np.argsort(loss, kind="stable")[:LISTED_MAX]
    labels = [", ".join(f"{common.AXIS_NAMES.get(d, d)} {common.fmt(results.coords[d][i])}"
                        for d, i in zip(results.dims, np.unravel_index(k, results.grid_shape))) for k in order]
    fig = go.Figure(go.Scatter(x=labels, y=np.where(np.isfinite(loss[order]), loss[order], np.nan), mode="markers",
                               customdata=parts.custom(order), marker={"size": 9},
                           hovertemplate="%{x}: expected loss %{y:.4g}<br>click: its trajectories<extra></extra>"))
    fig.update_layout(parts.layout(yaxis=parts.log_axis(loss[order], title="expected loss"),
                                   title={"text": "every model, lowest expected loss first"}))
    body = parts.slot("models", 300) + parts.note("Click a model to show its D_i and loss over training below.")
    return [parts.Section("learning dynamics", body, {"models": parts.figure_json(fig)}, ["models"])], int(order[0])
