"""A multirun's ``index.html``: the sweep's summary table, each job linked to its own ``report.html``.

`summary_table` turns the sweep's summary (``summary.json``, see `toyjax.multirun`) into rows of text,
one per job with its overrides, status, headline numbers and wall time; the Markdown summary and this
page show the same rows. The index is plain HTML (no plotly needed) and links each report by a path
relative to the sweep directory, so the folder can be moved or mailed whole. This module imports the
standard library, `toyjax.fileio` and the report's `parts`.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from toyjax.fileio import atomic_write
from toyjax.report import parts

INDEX = "index.html"
REPORT = "report.html"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def summary_table(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """(column names, one row of cell texts per job) of a multirun's summary."""
    columns = list(dict.fromkeys(k for j in summary["jobs"] for k in j.get("headline", {})))
    rows = []
    for j in summary["jobs"]:
        status = j["status"] if j["status"] == "ok" else f"failed: {j.get('error', '')}"
        status += " (reused: trained before)" if j.get("reused") else ""
        cells = [_cell(j.get("headline", {}).get(c)) for c in columns]
        wall = f"{j['wall_s']:.1f} s" if j.get("wall_s") is not None else ""
        rows.append([str(j["num"]), " ".join(j["overrides"]) or "(none)", status, *cells, wall, j["result"]])
    return ["job", "overrides", "status", *columns, "wall", "result"], rows


def _link(sweep_dir: Path, result: str) -> str:
    page = Path(result) / REPORT
    if not page.is_file():
        return "—"
    href = Path(os.path.relpath(page, sweep_dir)).as_posix()
    return f'<a href="{html.escape(href)}">report</a>'


def index_page(sweep_dir: Path, summary: dict[str, Any]) -> str:
    """The index page's HTML."""
    columns, rows = summary_table(summary)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["report", *columns])
    body = "".join("<tr><td>" + _link(sweep_dir, job["result"]) + "</td>" +
                   "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
                   for job, cells in zip(summary["jobs"], rows))
    css = parts.asset("style.css")
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>toyjax multirun</title>'
            f"<style>{css}</style></head><body><header><h1>toyjax multirun</h1>"
            f"<p>{html.escape(str(summary['sweep_dir']))}: {summary['n_jobs']} jobs, {summary['n_failed']} failed</p>"
            f'</header><main><section><table class="jobs" id="jobs"><tr>{head}</tr>{body}</table></section>'
            "</main></body></html>\n")


def write_index(sweep_dir: str | Path, summary: dict[str, Any]) -> Path:
    """Write ``sweep_dir/index.html`` from the sweep's summary; returns its path."""
    sweep_dir = Path(sweep_dir)
    path = sweep_dir / INDEX
    text = index_page(sweep_dir, summary)
    atomic_write(path, lambda f: f.write(text.encode()))
    return path
