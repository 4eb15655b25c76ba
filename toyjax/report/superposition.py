"""§2 "Demonstrating Superposition" and §6 adversarial vulnerability on the report page.

§2: one bar chart of ‖W_i‖ per density (its best seed), each bar coloured by the feature's superposition
Σ_{j≠i}(Ŵ_i·W_j)² on a fixed 0..1 scale, as in the PNG; clicking a bar shows that model, whose panel holds
its WᵀW and b on the −1..1 scale. §6: every model's vulnerability to the analytic L2 attack against its
density and against features per dimension (`toyjax.analysis.adversarial`), each point a click away from
its model. This module imports numpy, `toyjax.analysis.adversarial`, `toyjax.families.toy.metrics`,
`toyjax.plots.common` and the report's `lib`, `model` and `parts`.
"""

from __future__ import annotations

import numpy as np

from toyjax.analysis import adversarial as attack
from toyjax.families.toy import metrics
from toyjax.plots import common
from toyjax.report import lib, parts
from toyjax.report.model import ModelPanel, best_flat, flat

PANELS = 8


def _norm_bars(results) -> tuple[dict, int]:
    go, make_subplots = lib.graph_objects(), lib.subplots()
    cells = common.best_cells(results)
    picked = [i for i in common.spread(cells.indices(), PANELS) if cells.note(i) is None]
    cols = min(len(picked), 4) or 1
    rows = int(np.ceil(len(picked) / cols)) or 1
    W, best = common.feature_W(cells.params), best_flat(results)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[cells.label(i) for i in picked] or None,
                        shared_yaxes=True, vertical_spacing=0.14, horizontal_spacing=0.03)
    for k, index in enumerate(picked):
        norms, sup = metrics.feature_norms(W[index]), metrics.superposition(W[index])
        fig.add_trace(go.Bar(x=list(range(norms.size)), y=norms.tolist(), customdata=parts.custom(
                          np.full(norms.size, int(best[index])), sup),
                             marker={"color": np.clip(sup, 0, 1).tolist(), "coloraxis": "coloraxis"},
                             hovertemplate="feature %{x}: ‖W_i‖ %{y:.3g}, superposition %{customdata[1]:.3g}<br>"
                             "click: show this model<extra></extra>"), row=k // cols + 1, col=k % cols + 1)
    fig.update_layout(parts.layout(showlegend=False, coloraxis={
        "cmin": 0, "cmax": 1, "colorscale": parts.sequential(common.SUPERPOSITION_CMAP),
        "colorbar": {"title": {"text": "superposition<br>(≥1 clipped)"}, "thickness": 12}}))
    fig.update_xaxes(title_text="feature i (by importance)", title_font_size=10)
    fig.update_yaxes(title_text="‖W_i‖", col=1)
    fig.update_annotations(font_size=11)
    return parts.figure_json(fig), rows


def superposition(results, panel: ModelPanel):
    figure, rows = _norm_bars(results)
    body = parts.slot("norms", 260 * rows + 60) + parts.note(
        "‖W_i‖ of each density's best seed, coloured by superposition. Click a bar to show that model's WᵀW and "
        "b below.")
    return [parts.Section("‖W_i‖ and superposition across densities", body, {"norms": figure}, ["norms"])], -1


def adversarial(results, panel: ModelPanel):
    arch = common.architecture(results)
    if arch is None or not arch.tied:  # the attack is defined through the tied WᵀW
        return [], -1
    go, make_subplots = lib.graph_objects(), lib.subplots()
    found = attack.attack_results(results)
    vul, fpd = np.ravel(found["vulnerability"]), np.ravel(found["features_per_dimension"])
    density = flat(results, results.density)[:, 0].astype(np.float64)
    ok = np.flatnonzero(np.isfinite(np.ravel(common.finite_loss(results))) & np.isfinite(vul))
    fig = make_subplots(rows=1, cols=2, subplot_titles=["vulnerability against density",
                                                        "vulnerability against features per dimension"])
    hover = ("density %{customdata[1]:.3g}: vulnerability %{customdata[2]:.3g}, features per dimension "
             "%{customdata[3]:.3g}<br>click: show this model<extra></extra>")
    custom = parts.custom(ok, density[ok], vul[ok], fpd[ok])
    fig.add_trace(go.Scatter(x=density[ok].tolist(), y=vul[ok].tolist(), mode="markers", customdata=custom,
                             marker={"color": "#c62828", "size": 7, "opacity": 0.7}, hovertemplate=hover), 1, 1)
    fig.add_trace(go.Scatter(x=fpd[ok].tolist(), y=vul[ok].tolist(), mode="markers", customdata=custom,
                             marker={"color": np.log10(density[ok]).tolist(), "colorscale": parts.sequential(),
                                     "size": 7, "colorbar": {"title": {"text": "log10 density"}, "thickness": 12}},
                             hovertemplate=hover), 1, 2)
    fig.add_hline(y=1, line={"dash": "dot", "color": "#888"})
    fig.update_xaxes(type="log", title="feature density (1−S)", col=1)
    fig.update_xaxes(title="features per dimension ‖W‖_F²/m", col=2)
    fig.update_yaxes(title="vulnerability (L′−L)/(L′₀−L₀)", col=1)
    fig.update_layout(parts.layout(showlegend=False))
    body = parts.slot("vulnerability", 400) + parts.note(
        "Vulnerability to the analytic L2 attack (λ = 0.1 × mean ‖x‖, shared by every input) relative to the "
        "no-superposition reference (1, dotted); the summary also gives λ = 0.1 × ‖x‖ per input. Click a point "
        "to show its model below.")
    section = parts.Section("adversarial vulnerability", body, {"vulnerability": parts.figure_json(fig)},
                            ["vulnerability"])
    return [section], -1
