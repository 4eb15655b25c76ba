"""The pieces a report page is assembled from: sections, figure slots, colours and shared layout.

A `Section` is one titled block of the page: its HTML (which holds a ``<div class="fig" id=...>`` slot for
each of its figures), the plotly figures by slot id (plain JSON, built with plotly's Python API), and the
ids of the figures whose points carry a model's flat index as their first ``customdata`` entry, so that a
click opens that model. Colours are those of the PNG figures (`toyjax.plots.common`). This module imports
matplotlib's colour helpers and `toyjax.plots.common`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_hex

from toyjax.plots import common

STATUS = common.STATUS


@dataclass
class Section:
    """One block of the page: a title, its HTML, its figures (slot id -> plotly JSON) and clickable ids."""

    title: str
    html: str
    figures: dict[str, dict] = field(default_factory=dict)
    clicks: list[str] = field(default_factory=list)
    id: str = ""  # the section element's id (default s-<position>)


def asset(name: str) -> str:
    """A file of ``toyjax/report/assets`` (the page's CSS and glue)."""
    return resources.files("toyjax.report").joinpath("assets", name).read_text()


def slot(fig_id: str, height: int = 360, width: str = "") -> str:
    """The ``<div>`` a figure is drawn into."""
    style = f"height:{height}px" + (f";flex:0 0 {width}" if width else "")
    return f'<div class="fig" id="{fig_id}" style="{style}"></div>'


def row(*items: str) -> str:
    """Items side by side (they wrap on narrow screens)."""
    return '<div class="row">' + "".join(items) + "</div>"


def note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def figure_json(fig) -> dict:
    """A plotly figure as {"data", "layout"}, without its template (the page applies one to every figure)."""
    out = fig.to_plotly_json()
    layout = dict(out.get("layout", {}))
    layout.pop("template", None)
    return {"data": list(out.get("data", [])), "layout": layout}


def layout(**overrides: Any) -> dict:
    """Compact margins and small fonts shared by every figure; `overrides` on top."""
    base = {"margin": {"l": 55, "r": 20, "t": 40, "b": 45}, "font": {"size": 11}, "hovermode": "closest",
            "title": {"font": {"size": 13}, "x": 0.02}}
    base.update(overrides)
    return base


def diverging(steps: int = 11) -> list:
    """The −1..1 colour scale of the PNG heatmaps (matplotlib's RdBu_r) as a plotly colour scale."""
    cmap = colormaps[common.DIVERGING]
    return [[float(x), to_hex(cmap(float(x)))] for x in np.linspace(0, 1, steps)]


def feature_colors(n: int) -> list[str]:
    """One hex colour per feature, as the PNG figures colour them."""
    return [to_hex(c) for c in common.feature_colors(n)]


def log_axis(values, **extra) -> dict:
    """An axis for positive `values`: log, labelled at each decade, when they span 1.5 decades or more; linear
    otherwise (plotly labels a narrow log axis with bare digits)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    wide = v.size and v.max() / v.min() >= 30
    return {"type": "log", "dtick": 1, **extra} if wide else {"type": "linear", **extra}


def hex_color(color) -> str:
    """Any matplotlib colour ('0.8', 'C3', '#1f77b4') as hex, which plotly reads."""
    return to_hex(color)


def sequential(name: str = "viridis", steps: int = 9) -> list:
    cmap = colormaps[name]
    return [[float(x), to_hex(cmap(float(x)))] for x in np.linspace(0, 1, steps)]


def custom(flat, *values) -> list:
    """Plotly ``customdata``: per point the model's flat index (an exact int, never rounded), then `values`.

    Arrays broadcast; the result has their shape with one list per point."""
    arrays = np.broadcast_arrays(np.asarray(flat), *(np.asarray(v, dtype=np.float64) for v in values))
    index, rest = arrays[0].astype(np.int64), arrays[1:]
    out = np.empty(index.shape, dtype=object)
    for pos in np.ndindex(*index.shape):
        out[pos] = [int(index[pos]), *(float(a[pos]) for a in rest)]
    return out.tolist()
