"""What a clicked SAE recovered, on the report page's model panel: each true feature beside its matched latent.

Every SAE page adds two figures to the model panel (`add`), filled per model like the rest of the panel:

- ``m-pairs``: in a 2-D or 3-D activation space (up to `ARROWS_MAX` features), each true feature F_i (the
  source's column, coloured) beside its matched latent's unit decoder direction (dashed, the same colour), the
  unmatched latents as grey spokes and the dead ones dotted; in a larger space a heatmap of the cosines of the
  first `HEAT_MAX` true features (rows) with their matched latents (columns, in the features' order, so that
  the diagonal holds the matched pairs), the cosines written in the cells;
- ``m-match``: the cosine of every matched pair (a feature with no latent has no bar; a matched latent that is
  dead says so), then each unmatched latent's and each dead latent's best |cos| with any known feature.

The pairs are `Results.sae["matched"]` (`toyjax.families.sae.matching`, −1 for none), the features
`Results.sae["features"]`, the dead latents `Results.sae["dead"]`; only a model's own ``dict_size`` latents
count. A run saved before the matching existed gets neither figure. Heatmap cosines are kept to 2 decimals
and at most `SPARE_MAX` unmatched and dead latents are listed, so that a page stays small. This module imports
numpy and the report's `lib`, `model` and `parts`.
"""

from __future__ import annotations

import numpy as np

from toyjax.report import lib, parts
from toyjax.report.model import ARROWS_MAX, ModelPanel, flat

HEAT_MAX = 24  # true features in the heatmap of a larger activation space
SPARE_MAX = 64  # unmatched (and dead) latents listed per model, the closest to a feature first
DEAD, SPARE = "#bbbbbb", "#7f7f7f"


def unit(M: np.ndarray) -> np.ndarray:
    """The columns of M (..., d, n) scaled to unit length (zero columns stay zero, a diverged one NaN)."""
    norm = np.linalg.norm(M, axis=-2, keepdims=True)
    return M / np.where(norm > 0, norm, 1)


def own_latents(results, width: int) -> np.ndarray:
    """(N_models, width) bool: each model's own latents, its first ``dict_size`` (every latent without the axis)."""
    own = np.ones((int(np.prod(results.grid_shape)), width), bool)
    if "dict_size" not in results.dims:
        return own
    sizes = np.asarray(results.coords["dict_size"])[np.indices(results.grid_shape)[results.dims.index("dict_size")]]
    return np.arange(width) < np.ravel(sizes)[:, None]


def pair_arrays(results) -> dict[str, np.ndarray]:
    """Per flat model: the true features F (d, N), unit decoder directions D (d, M), matched (N,), the cosines
    C = F̂ᵀD̂ (N, M), which latents are dead, and which are unmatched: alive ("spare") or dead ("dead_spare")."""
    sae = results.sae
    F, D = flat(results, sae["features"]).astype(np.float64), unit(flat(results, results.params["W_dec"]))
    matched = flat(results, sae["matched"]).astype(np.int64)
    own = own_latents(results, D.shape[-1])
    dead = flat(results, sae["dead"]).astype(bool) & own if "dead" in sae else np.zeros_like(own)
    taken = np.zeros_like(own)
    rows = np.nonzero(matched >= 0)
    taken[rows[0], matched[rows]] = True
    C = np.einsum("kdn,kdm->knm", unit(F), D)
    return {"F": F, "D": D, "matched": matched, "C": C, "dead": dead, "spare": own & ~taken & ~dead,
            "dead_spare": dead & ~taken}


def pair_fields(a: dict[str, np.ndarray]) -> dict[str, list]:
    """Per model: each feature's matched cosine and its latent ("L12", "L12 dead", "" for none), and the unmatched
    and dead latents' labels and best |cos| with any feature, closest first, `SPARE_MAX` at most."""
    matched, C, dead = a["matched"], a["C"], a["dead"]
    pick = np.take_along_axis(C, np.maximum(matched, 0)[:, :, None], axis=2)[..., 0]
    out = {"pair_cos": np.where(matched >= 0, pick, np.nan),
           "pair_latent": [[_latent(j, d) for j in row] for row, d in zip(matched, dead)]}
    best = np.max(np.abs(C), axis=1, initial=0)  # (N_models, M); NaN for a diverged model
    for name, which in (("spare", a["spare"]), ("dead", a["dead_spare"])):
        order = [np.flatnonzero(w)[np.argsort(-b[w], kind="stable")][:SPARE_MAX] for w, b in zip(which, best)]
        out[f"{name}_label"] = [[f"L{j}" for j in o] for o in order]
        out[f"{name}_cos"] = [b[o] for o, b in zip(order, best)]
    return out


def _latent(j: int, dead: np.ndarray) -> str:
    """A matched latent's label: "L12", "L12 dead", or "" for none."""
    return "" if j < 0 else f"L{j} dead" if dead[j] else f"L{j}"


def arrow_fields(a: dict[str, np.ndarray]) -> dict[str, np.ndarray | list]:
    """Per model, for arrows: the features (d, N), their matched latents' unit directions (d, N; NaN for none),
    and the unmatched and dead latents as spokes from the origin, one list per dimension [0, x, None, ...]."""
    D, matched = a["D"], a["matched"]
    mine = np.take_along_axis(D, np.maximum(matched, 0)[:, None, :], axis=2)
    out = {"truth": a["F"], "mine": np.where((matched >= 0)[:, None, :], mine, np.nan)}
    for name in ("spare", "dead"):
        out[f"{name}_dirs"] = [[_spokes(d[dim, w]) for dim in range(D.shape[1])] for d, w in zip(D, a[name])]
    return out


def _spokes(ends: np.ndarray) -> list:
    """Segments from the origin to each of `ends`, as one trace's coordinates: [0, e0, None, 0, e1, None, ...]."""
    return [v for e in ends.tolist() for v in (0.0, e, None)]


def heat_fields(a: dict[str, np.ndarray]) -> dict[str, np.ndarray | list]:
    """Per model: the cosines of the first `HEAT_MAX` features with their matched latents (K, K; 2 decimals; NaN
    where a feature has none) and each column's label, the latent ("L12") or the feature that has none."""
    K = min(a["matched"].shape[-1], HEAT_MAX)
    matched = a["matched"][:, :K]
    cols = np.take_along_axis(a["C"][:, :K], np.maximum(matched, 0)[:, None, :], axis=2)
    return {"pair_heat": np.round(np.where((matched >= 0)[:, None, :], cols, np.nan), 2),
            "heat_x": [[f"L{j}" if j >= 0 else f"f{i}: none" for i, j in enumerate(row)] for row in matched]}


def add(results, panel: ModelPanel) -> None:
    """The matched pairs' figures and fields, first in the model panel (module docstring); none for a run saved
    before the matching."""
    sae = results.sae or {}
    if "matched" not in sae or "features" not in sae or "W_dec" not in results.params:
        return
    a = pair_arrays(results)
    d, n = a["F"].shape[-2:]
    panel.fields.update(pair_fields(a))
    small = d <= 3 and n <= ARROWS_MAX
    panel.fields.update(arrow_fields(a) if small else heat_fields(a))
    figures = {"m-pairs": _arrows(panel, d, n) if small else _heatmap(panel, min(n, HEAT_MAX), n),
               "m-match": _bars(panel, n)}
    panel.figures = {**figures, **panel.figures}


def _arrows(panel: ModelPanel, d: int, n: int) -> dict:
    """Each feature's arrow and its matched latent's dashed unit direction, the other latents as grey spokes."""
    go, colors, reach = lib.graph_objects(), parts.feature_colors(n), _reach(panel.fields["truth"])
    fig, axes = go.Figure(), "xyz"[:d]
    for key, dash, label in (("truth", "solid", "feature {i}"), ("mine", "dash", "matched latent of feature {i}")):
        for i in range(n):
            fig.add_trace(_line(go, d, label.format(i=i), colors[i], dash, arrow=key == "truth"))
            for dim, prop in enumerate(axes):
                panel.bind("m-pairs", len(fig.data) - 1, prop, key, (dim, i), arrow=True)
    for key, color, dash, label in (("spare_dirs", SPARE, "solid", "unmatched latents"),
                                    ("dead_dirs", DEAD, "dot", "dead latents")):
        fig.add_trace(_line(go, d, label, color, dash, arrow=False))
        for dim, prop in enumerate(axes):
            panel.bind("m-pairs", len(fig.data) - 1, prop, key, (dim,))
    title = {"text": f"true features (arrows) and their matched latents' unit directions (dashed) in {d}-D"}
    box = {"range": [-reach, reach]}
    if d == 3:
        fig.update_layout(parts.layout(title=title, scene={"xaxis": box, "yaxis": box, "zaxis": box,
                                                            "aspectmode": "cube"}, margin={"l": 0, "r": 0, "t": 40,
                                                                                             "b": 0}))
    else:
        fig.add_shape(type="circle", x0=-1, y0=-1, x1=1, y1=1, line={"dash": "dash", "color": "#999", "width": 1})
        fig.update_layout(parts.layout(title=title, xaxis={**box, "title": "activation dimension 0"},
                                       yaxis={**box, "scaleanchor": "x", "title": "activation dimension 1"},
                                       showlegend=n <= 8, legend={"font": {"size": 9}}))
    return parts.figure_json(fig)


def _line(go, d: int, name: str, color: str, dash: str, arrow: bool):
    """An empty line trace from the origin (an arrow head at its end when `arrow`), in 2-D or 3-D."""
    line = {"color": color, "width": 3 if arrow else 2, "dash": dash}
    hover = f"{name}<br>(%{{x:.3g}}, %{{y:.3g}}" + (", %{z:.3g})" if d == 3 else ")") + "<extra></extra>"
    if d == 3:
        return go.Scatter3d(x=[0, 0], y=[0, 0], z=[0, 0], mode="lines", name=name, line=line, hovertemplate=hover)
    marker = {"symbol": "arrow", "angleref": "previous", "size": [0, 12], "color": color}
    return go.Scatter(x=[0, 0], y=[0, 0], mode="lines+markers" if arrow else "lines", name=name, line=line,
                      hovertemplate=hover, **({"marker": marker} if arrow else {}))


def _reach(truth: np.ndarray) -> float:
    return float(max(1.2, 1.1 * np.nanmax(np.abs(truth), initial=0)))


def _heatmap(panel: ModelPanel, K: int, n: int) -> dict:
    """The cosines of the first K features (rows) with their matched latents (columns), the pairs on the diagonal."""
    go = lib.graph_objects()
    labels = [f"f{i}" for i in range(K)]
    fig = go.Figure(go.Heatmap(z=np.zeros((K, K)).tolist(), x=labels, y=labels, zmin=-1, zmax=1,
                               colorscale=parts.diverging(), colorbar={"thickness": 12},
                               texttemplate="%{z:.2f}" if K <= 16 else None,
                               hovertemplate="%{y}, %{x}: cos %{z:.2f}<extra></extra>"))
    first = f" (the first {K} of {n} features)" if n > K else ""
    fig.update_layout(parts.layout(title={"text": f"cos of each true feature with the matched latents{first}"},
                                   xaxis={"title": "latent matched to feature j", "type": "category"},
                                   yaxis={"title": "true feature i", "autorange": "reversed", "type": "category"}))
    panel.bind("m-pairs", 0, "z", "pair_heat")
    panel.bind("m-pairs", 0, "x", "heat_x")
    return parts.figure_json(fig)


def _bars(panel: ModelPanel, n: int) -> dict:
    """The matched pairs' cosines, then the unmatched and the dead latents' best |cos| with any feature."""
    go = lib.graph_objects()
    fig = go.Figure([
        go.Bar(x=[f"f{i}" for i in range(n)], y=[None] * n, name="feature i and its matched latent: cos",
               marker={"color": parts.feature_colors(n)}, textposition="outside", textangle=-90 if n > 12 else 0,
               textfont={"size": 9}, hovertemplate="feature %{x}, latent %{text}: cos %{y:.4f}<extra></extra>"),
        go.Bar(x=[], y=[], name="unmatched latent: best |cos|", marker={"color": SPARE},
               hovertemplate="%{x}, unmatched: best |cos| with a feature %{y:.4f}<extra></extra>"),
        go.Bar(x=[], y=[], name="dead latent: best |cos|", marker={"color": DEAD},
               hovertemplate="%{x}, dead: best |cos| with a feature %{y:.4f}<extra></extra>")])
    for trace, key in enumerate(("pair", "spare", "dead")):
        if trace:
            panel.bind("m-match", trace, "x", f"{key}_label")
        panel.bind("m-match", trace, "y", f"{key}_cos")
    panel.bind("m-match", 0, "text", "pair_latent")
    title = "each feature's cos with its matched latent, then the unmatched latents"
    fig.update_layout(parts.layout(title={"text": title},
                                   xaxis={"type": "category", "tickangle": -60, "tickfont": {"size": 9}},
                                   yaxis={"range": [-1.1, 1.1], "title": "cosine"},
                                   legend={"orientation": "h", "y": -0.22, "x": 0, "font": {"size": 10}}))
    return parts.figure_json(fig)
