"""The §3 phase diagram on the report page: the trained map beside the analytic one, every cell clickable.

Left, each (density, relative extra importance) cell in the phase of its best seed (lowest expected loss),
the analytic boundaries drawn over it in black, cells with no trained seed marked ×; hovering shows the
cell's numbers (best seed, its expected loss, the extra feature's ‖W‖ and superposition, diverged seeds),
clicking opens its model. Right, the analytic phase (`toyjax.analysis.theory.analytic_phase`) on a finer
grid. Phase colours and names are those of the PNG figure (`toyjax.plots.phase`). This module imports
numpy, `toyjax.analysis.theory`, `toyjax.families.toy.metrics`, `toyjax.plots.common`, `toyjax.plots.phase` and the
report's `lib`, `model` and `parts`.
"""

from __future__ import annotations

import numpy as np

from toyjax.analysis import theory
from toyjax.families.toy import metrics
from toyjax.plots import common
from toyjax.plots.phase import COLORS, LABELS, cell_edges, empirical_map, on_diagram
from toyjax.report import lib, parts
from toyjax.report.model import ModelPanel, best_flat

FINE = 48  # analytic map resolution per axis
HOVER = ("density %{customdata[1]:.3g}, relative importance %{customdata[2]:.3g}<br>%{text}<br>"
         "best seed %{customdata[3]}: expected loss %{customdata[4]:.4g}<br>extra feature: ‖W‖ %{customdata[5]:.3g}, "
         "superposition %{customdata[6]:.3g}<br>diverged seeds %{customdata[7]}<br>click: show this model"
         "<extra></extra>")


def _colorscale(shown: list[int]) -> dict:
    """A discrete colour scale over the positions of the `shown` phase codes (so the bar lists only those)."""
    k = len(shown)
    scale = []
    for pos, code in enumerate(shown):
        scale += [[pos / k, COLORS[code]], [(pos + 1) / k, COLORS[code]]]
    return {"colorscale": scale, "zmin": -0.5, "zmax": k - 0.5}


def _positions(codes: np.ndarray, shown: list[int]) -> list:
    """Phase codes as positions in `shown`, the heatmaps' z."""
    lookup = np.zeros(len(theory.PHASES), int)
    lookup[shown] = np.arange(len(shown))
    return lookup[np.asarray(codes, int)].tolist()


def _cells(results) -> dict[str, np.ndarray]:
    """Per diagram cell (D, R): the best seed's flat index and hover numbers, and the cell's status."""
    cells = common.best_cells(results)
    W = common.feature_W(cells.params)
    diverged = np.asarray(results.diverged, bool)
    if "seed" in results.dims:
        diverged = diverged.sum(axis=results.dims.index("seed"))
    return {k: on_diagram(np.asarray(v), cells.dims) for k, v in {
        "flat": best_flat(results), "seed": cells.seed, "eval": cells.eval_loss, "status": cells.status,
        "norm": metrics.feature_norms(W)[..., -1], "sup": metrics.superposition(W)[..., -1],
        "diverged": diverged.astype(int), "missing": cells.n_missing}.items()}


def phase_figure(results) -> dict:
    go, make_subplots = lib.graph_objects(), lib.subplots()
    n = int(results.config["model"]["n_features"])
    density, ratio, codes = empirical_map(results)
    c = _cells(results)
    s_fine = np.geomspace(*cell_edges(density)[[0, -1]], FINE)
    r_fine = np.geomspace(*cell_edges(ratio)[[0, -1]], FINE)
    # The top cell's edge lies above density 1, where no model exists: the analytic map holds density 1 there.
    analytic = np.asarray(theory.analytic_phase(n, np.minimum(s_fine, 1.0)[:, None], r_fine[None, :])[0])
    seeds = len(results.coords["seed"]) if "seed" in results.dims else 1
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[f"trained: best of {seeds} seed(s); black lines: analytic boundaries",
                                        "analytic: argmin of the expected loss"])
    custom = parts.custom(c["flat"], *np.meshgrid(density, ratio, indexing="ij"), c["seed"], c["eval"], c["norm"],
                          c["sup"], c["diverged"])
    shown = sorted(set(theory.CANDIDATES[n]) | {int(v) for v in np.unique(codes)})
    scale = _colorscale(shown)
    fig.add_trace(go.Heatmap(x=cell_edges(ratio).tolist(), y=cell_edges(density).tolist(), z=_positions(codes, shown),
                             customdata=custom, text=[[LABELS[int(v)] for v in r] for r in codes],
                             hovertemplate=HOVER, showscale=False, **scale), 1, 1)
    for code in theory.CANDIDATES[n]:  # one outline per analytic phase: each boundary drawn once per side
        fig.add_trace(go.Contour(x=r_fine.tolist(), y=s_fine.tolist(), z=(analytic == code).astype(int).tolist(),
                                 showscale=False, contours={"coloring": "none", "start": 0.5, "end": 0.5, "size": 1},
                                 line={"color": "black", "width": 1.5}, hoverinfo="skip"), 1, 1)
    _marks(fig, go, c, density, ratio)
    fig.add_trace(go.Heatmap(x=r_fine.tolist(), y=s_fine.tolist(), z=_positions(analytic, shown),
                             text=[[LABELS[int(v)] for v in r] for r in analytic],
                             hovertemplate="density %{y:.3g}, relative importance %{x:.3g}<br>%{text}<extra></extra>",
                             colorbar={"tickvals": list(range(len(shown))), "ticktext": [LABELS[v] for v in shown],
                                       "thickness": 14, "len": 0.9}, **scale), 1, 2)
    fig.update_xaxes(type="log", dtick=1, title="relative importance of the extra feature")
    fig.update_yaxes(type="log", dtick=1)
    fig.update_yaxes(title="feature density (1−S)", col=1)
    fig.update_layout(parts.layout(showlegend=False, margin={"l": 60, "r": 10, "t": 40, "b": 45}))
    return parts.figure_json(fig)


def _marks(fig, go, c: dict, density: np.ndarray, ratio: np.ndarray) -> None:
    """× on cells whose every seed diverged or is missing, + on cells with some seeds missing."""
    i, j = np.nonzero((c["status"] != common.TRAINED) | (c["missing"] > 0))
    if not i.size:
        return
    words = ["some seeds missing (shards not merged)", "every seed diverged", "every seed missing"]
    what = [words[int(c["status"][a, b])] for a, b in zip(i, j)]
    fig.add_trace(go.Scatter(x=ratio[j].tolist(), y=density[i].tolist(), mode="markers", text=what,
                             customdata=c["flat"][i, j].tolist(),
                             marker={"symbol": "x", "size": 9, "color": "#c62828"},
                             hovertemplate="%{text}<extra></extra>"), 1, 1)


def sections(results, panel: ModelPanel) -> tuple[list[parts.Section], int]:
    """The phase diagram section, and the model shown first (the best seed of the middle cell)."""
    if not {"density", "extra_importance"} <= set(results.dims):
        return [], -1
    flat = _cells(results)["flat"]
    body = parts.slot("phase", 460) + parts.note(
        "Hover a cell for its numbers; click it to show its best seed below, where the seed selector shows "
        "the cell's other seeds. × marks cells with no trained seed.")
    section = parts.Section(f"phase diagram — {_score(results)}", body, {"phase": phase_figure(results)}, ["phase"])
    return [section], int(flat[flat.shape[0] // 2, flat.shape[1] // 2])


def _score(results) -> str:
    found = (results.summary.get("phase_agreement") or {}).get("best") or {}
    return f"agreement with theory {found['all']:.0%}" if found.get("all") is not None else "agreement not computed"
