"""Publishing a trained grid: its declared summaries, its files and its figure, printed and logged.

Shared by the ``toyjax`` command and ``toyjax-merge``. `check_report` validates what a run declares (its figure
and summaries exist and fit the run, and it records the snapshots they are drawn from) before anything is
compiled; `publish` computes the summary into `Results.summary`, saves the run, renders its figure and writes its
interactive page ``report.html`` (`toyjax.report`; off with ``report.html=false``, skipped with one line when
plotly is not installed; the figures and page of earlier results are removed either way). A step that fails after
the grid is saved does not stop the others: it is one line in `Published.failed`, and the caller fails the job on
it. This module imports `toyjax.analysis`, `toyjax.plots`, `toyjax.report`, `toyjax.config`, `toyjax.errors`,
`toyjax.fileio` and `toyjax.results`; never Hydra.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from toyjax import checks, plots, report
from toyjax.analysis.summary import SUMMARIES, flat_items, format_value, summarize
from toyjax.config import Config, ReportConfig
from toyjax.errors import ConfigError, first_line
from toyjax.fileio import describe, os_error
from toyjax.report import REPORT
from toyjax.results import Results

log = logging.getLogger("toyjax")
T = TypeVar("T")


def check_report(declared: ReportConfig | None, cfg: Config, source_axes: dict | None = None) -> None:
    """Refuse a declared figure or summary that does not exist, or does not fit the run's model and axes
    (`toyjax.plots.FIT`, `toyjax.analysis.SUMMARIES`), or, given the axes of the grid an SAE run reads
    (`source_axes`, values by name), a figure that cannot be drawn from that grid (`toyjax.plots.SOURCE_FIT`).

    Raises:
        ConfigError: ``report.figure: ...`` or ``report.summaries: ...``, one line.
    """
    if declared is None:
        return
    if declared.figure is not None:
        checks.choice("report.figure", declared.figure, tuple(plots.FIGURES))
    checks.strings("report.summaries", declared.summaries, tuple(SUMMARIES))
    checks.boolean("report.html", declared.html)
    config, dims = dataclasses.asdict(cfg), tuple(cfg.grid.axes)
    for name in declared.summaries:
        why = SUMMARIES[name].unfit(config, dims)
        if why:
            raise ConfigError(f"report.summaries: {name} {why}")
    fit, source_fit = plots.FIT.get(declared.figure), plots.SOURCE_FIT.get(declared.figure)
    why = fit(config, dims) if fit else None
    why = why or (source_fit(source_axes, config, dims) if source_fit and source_axes is not None else None)
    if why:
        raise ConfigError(f"report.figure: {declared.figure} {why}")
    check_snapshots(declared, cfg.record.snapshots)


def check_snapshots(declared: ReportConfig, snapshots: int) -> None:
    """Refuse a declared figure or summary drawn from more snapshots of training than the run records.

    Raises:
        ConfigError: ``record.snapshots: ...``, one line.
    """
    readers = [(f"the {declared.figure} figure", plots.SNAPSHOTS_NEEDED.get(declared.figure, 0))]
    readers += [(f"the {name} summary", SUMMARIES[name].snapshots) for name in declared.summaries]
    for what, least in readers:
        if snapshots < least:
            raise ConfigError(f"record.snapshots: {what} is drawn from the snapshots of training and needs at least "
                              f"{least}, got {snapshots}")


class Published(NamedTuple):
    """What `publish` wrote, and one line per step that failed (the grid is saved whatever fails after it)."""

    figures: list[Path]
    page: Path | None
    failed: list[str]


def attempt(step: str, make: Callable[[], T]) -> tuple[T | None, str | None]:
    """``(make(), None)``, or ``(None, "<step> failed: <why>")`` with the traceback in the log file: a step that
    fails must fail the job, never lose the steps after it."""
    try:
        return make(), None
    except Exception as e:
        log.info("%s failed", step, exc_info=True)  # into toyjax.log; the console gets the one line
        io = os_error(e)
        why = describe(io) if io is not None else f"{type(e).__name__}: {e}"
        return None, f"{step} failed: {first_line(why)}"


def summarize_run(results: Results) -> tuple[dict[str, Any], str | None]:
    """The run's summary (`toyjax.analysis.summarize` of its declared summaries), and why it failed if it did
    (the summary is then ``{"error": ...}``, so that the trained grid is still saved)."""
    names = results.run_info.report.summaries if results.run_info.report else []
    summary, failed = attempt("summary", lambda: summarize(results, names))
    return (summary, None) if failed is None else ({"error": failed}, failed)


def publish(results: Results, out_dir: Path) -> Published:
    """Summarise a whole grid into `results.summary`, save it into `out_dir`, render its figure and its page,
    print them; returns what was written and the steps that failed (the saving itself raises)."""
    results.summary, summary_failed = summarize_run(results)
    results.save(out_dir)
    remove_figures(out_dir)
    name = results.run_info.report.figure if results.run_info.report else None
    figures, figure_failed = attempt(f"figure {name}", lambda: plots.render(results, out_dir, strict=True))
    page, page_failed = attempt(REPORT, lambda: write_page(results, out_dir))
    print(format_summary(results.summary))
    written = [*(figures or []), *([page] if page else [])]
    print(f"toyjax: results in {out_dir}" + "".join(f"\n  {p}" for p in written))
    log.info("results written to %s; figures: %s", out_dir, ", ".join(p.name for p in figures or []) or "none")
    failed = [line for line in (summary_failed, figure_failed, page_failed) if line]
    return Published(figures or [], page, failed)


def remove_figures(out_dir: Path) -> None:
    """Remove the figures an earlier run drew in `out_dir` (``<name>.png``, ``.svg`` of any figure in
    `plots.FIGURES`): beside these results they would describe other ones, or another figure than declared."""
    for name in plots.FIGURES:
        for ext in plots.FORMATS:
            (Path(out_dir) / f"{name}.{ext}").unlink(missing_ok=True)


def write_page(results: Results, out_dir: Path) -> Path | None:
    """The run's ``report.html``, unless its report says ``html: false`` or plotly is missing (one printed
    line). A page of an earlier run in `out_dir` is removed first: it would describe other results."""
    (Path(out_dir) / REPORT).unlink(missing_ok=True)
    declared = results.run_info.report
    if declared is not None and not declared.html:
        return None
    if not report.available():
        print(f"toyjax: report.html skipped: plotly is not installed ({report.INSTALL_HINT})")
        log.info("report.html skipped: plotly is not installed")
        return None
    return report.write_report(results, out_dir)


def format_summary(summary: dict[str, Any], prefix: str = "") -> str:
    """The summary as ``dotted.key: value`` lines, numbers to 4 significant digits."""
    return "\n".join(f"  {key}: {format_value(value)}" for key, value in flat_items(summary, prefix))
