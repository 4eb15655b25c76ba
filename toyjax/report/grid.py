"""The parts of the report page every run gets: what was run, its summary, loss over the grid, untrained models.

- `grid_data`: the grid as the page's glue reads it (axes, their values and labels, the loss, expected loss
  and status of every flat model);
- `run_section`: the run's title, config, command, timing and summary numbers;
- `loss_section`: loss and expected loss against one grid axis, a selector for every other axis, each point
  a click away from its model;
- `untrained_section`: the diverged and missing models, listed.

This module imports numpy, `toyjax.analysis.summary`, `toyjax.plots.common` and the report's `lib` and `parts`.
"""

from __future__ import annotations

import html
import json
import shlex

import numpy as np

from toyjax.analysis.summary import flat_items, format_value, missing
from toyjax.plots import common
from toyjax.report import lib, parts

LISTED_MAX = 200  # untrained models listed one by one; the rest are counted


def _axis(values: np.ndarray) -> dict:
    """How the loss chart's x axis shows one grid axis: log for positive values over a wide range."""
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.number):
        return {"type": "category"}
    positive = values.size > 2 and bool(np.all(values > 0))
    return parts.log_axis(values) if positive and values.max() / values.min() > 20 else {"type": "linear"}


def grid_data(results) -> dict:
    """Axes, labels and per-model loss, expected loss and status (0 trained, 1 diverged, 2 missing), flat."""
    coords = {d: np.asarray(results.coords[d]) for d in results.dims}
    status = np.where(missing(results), common.MISSING,
                      np.where(np.asarray(results.diverged, bool), common.DIVERGED, common.TRAINED))
    return {
        "dims": list(results.dims),
        "shape": list(results.grid_shape),
        "names": {d: common.AXIS_NAMES.get(d, d) for d in results.dims},
        "labels": {d: [common.fmt(v) for v in coords[d]] for d in results.dims},
        "coords": {d: coords[d].astype(np.float64) if coords[d].ndim == 1 else None for d in results.dims},
        "axis": {d: _axis(coords[d]) for d in results.dims},
        "loss": np.ravel(results.loss),
        "eval_loss": np.ravel(results.eval_loss),
        "status": np.ravel(status).astype(int),
    }


def title(results) -> str:
    return results.run_info.title or results.run_info.preset or "toyjax run"


def subtitle(results) -> str:
    model, train = results.config.get("model", {}), results.config.get("train", {})
    axes = " × ".join(f"{common.AXIS_NAMES.get(d, d)} {s}" for d, s in zip(results.dims, results.grid_shape))
    return (f"{results.run_info.preset or 'custom'} · {model.get('kind')}, n={model.get('n_features')} features, "
            f"m={model.get('n_hidden')} hidden dimensions · {int(train.get('steps', 0)):,} steps · "
            f"{int(np.prod(results.grid_shape)):,} models ({axes or 'one model'})")


def run_section(results) -> parts.Section:
    """Config, command, timing and every summary number."""
    command = shlex.join(results.run_info.command) if results.run_info.command else "(not recorded)"
    rows = "".join(f'<div class="kv"><span>{html.escape(k)}</span> <b>{html.escape(format_value(v))}</b></div>'
                   for k, v in flat_items(results.summary or {}))
    timing = ", ".join(f"{k} {format_value(v)}" for k, v in (results.timing or {}).items())
    body = (f'<p>command: <code id="command">{html.escape(command)}</code></p>'
            f'<p class="note">timing: {html.escape(timing or "not recorded")}</p>'
            f'<p class="note" id="numerics">numerics: {html.escape(numerics_line(results.meta or {}))}</p>'
            f'<h3>summary</h3><div class="summary" id="summary">{rows or "no summary"}</div>'
            '<details><summary>config (the engine\'s, resolved)</summary>'
            f'<pre id="config">{html.escape(json.dumps(results.config, indent=1))}</pre></details>'
            '<details><summary>versions and devices</summary>'
            f'<pre>{html.escape(json.dumps(results.meta, indent=1, default=str))}</pre></details>')
    return parts.Section("run", body)


def numerics_line(meta: dict) -> str:
    """What the run's numbers rest on: the matrix products' precision and, on GPUs, deterministic ops."""
    precision = meta.get("matmul_precision", "not recorded (an older run: the backend's default)")
    ops = meta.get("deterministic_ops", "not recorded")
    ops = {True: "on", False: "OFF (results may differ by a bit from run to run)"}.get(ops, ops)
    return f"matrix products at {precision} precision on {meta.get('platform', '?')}; deterministic GPU ops: {ops}"


def loss_section(results) -> parts.Section:
    """Loss and expected loss against a chosen axis; the glue fills it from `grid_data`."""
    go = lib.graph_objects()
    fig = go.Figure([go.Scatter(x=[], y=[], mode="lines+markers", name=name,
                                hovertemplate=f"%{{x}}: {name} %{{y:.4g}}<br>click: show this model<extra></extra>")
                     for name in ("training loss (last steps)", "expected loss (stratified)")])
    both = np.concatenate([np.ravel(results.loss), np.ravel(results.eval_loss)])
    fig.update_layout(parts.layout(yaxis=parts.log_axis(both, title="loss"), legend={"orientation": "h", "y": 1.1}))
    body = ('<div class="controls" id="grid-controls"></div>' + parts.slot("grid-loss", 340) +
            parts.note("Each point is one model; pick the axis to plot against and the value of every other "
                       "axis. Click a point to show its model below."))
    return parts.Section("loss over the grid", body, {"grid-loss": parts.figure_json(fig)}, ["grid-loss"])


def untrained_section(results) -> parts.Section:
    """The diverged and missing models, one row each (click: show it)."""
    data = grid_data(results)
    bad = np.flatnonzero(data["status"] != common.TRAINED)
    head = "".join(f"<th>{html.escape(data['names'][d])}</th>" for d in results.dims)
    lines = []
    for k in bad[:LISTED_MAX]:
        index = np.unravel_index(k, results.grid_shape)
        cells = "".join(f"<td>{data['labels'][d][i]}</td>" for d, i in zip(results.dims, index))
        lines.append(f'<tr data-model="{k}"><td>{parts.STATUS[data["status"][k]]}</td>{cells}</tr>')
    more = f"<p>and {bad.size - LISTED_MAX} more</p>" if bad.size > LISTED_MAX else ""
    counts = {s: int(np.sum(data["status"] == code)) for code, s in enumerate(parts.STATUS) if code}
    text = ", ".join(f"{v} {k}" for k, v in counts.items())
    table = f'<table class="list" id="untrained"><tr><th>status</th>{head}</tr>{"".join(lines)}</table>'
    total = int(data["status"].size)
    return parts.Section("diverged and missing models",
                         f"<p>{text} (of {total} models).</p>{table if lines else ''}{more}")
