"""Publishing a trained grid: its declared summaries, its files and its figure, printed and logged.

Shared by the ``toyjax`` command and ``toyjax-merge``. `check_report` validates what a run declares (its
figure and summaries exist and fit the run, and it records the snapshots they are drawn from) before anything
is compiled; `publish` computes the summary into `Results.summary`, saves the run, renders its figure and
writes its interactive page ``report.html``
(`toyjax.report`; off with ``report.html=false``, skipped with one line when plotly is not installed).
This module imports `toyjax.analysis`, `toyjax.plots`, `toyjax.report`, `toyjax.config`, `toyjax.errors`
and `toyjax.results`; never Hydra.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from toyjax import checks, plots, report
from toyjax.analysis.summary import SUMMARIES, flat_items, format_value, summarize
from toyjax.config import Config, ReportConfig
from toyjax.errors import ConfigError
from toyjax.results import Results

log = logging.getLogger("toyjax")


def check_report(declared: ReportConfig | None, cfg: Config) -> None:
    """Refuse a declared figure or summary that does not exist, or does not fit the run's model and axes.

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


def summarize_run(results: Results) -> dict[str, Any]:
    """The run's summary (`toyjax.analysis.summarize` of its declared summaries); a failure is logged, not fatal."""
    names = results.run_info.report.summaries if results.run_info.report else []
    try:
        return summarize(results, names)
    except Exception as e:  # a broken summary must not lose the trained grid
        log.exception("summary failed")
        return {"error": f"{type(e).__name__}: {e}"}


def publish(results: Results, out_dir: Path) -> list[Path]:
    """Summarise a whole grid into `results.summary`, save it into `out_dir`, render its figure and its page,
    print them; returns the figure files."""
    results.summary = summarize_run(results)
    results.save(out_dir)
    figures = plots.render(results, out_dir)
    page = write_page(results, out_dir)
    print(format_summary(results.summary))
    print(f"toyjax: results in {out_dir}" + "".join(f"\n  {p}" for p in [*figures, *([page] if page else [])]))
    log.info("results written to %s; figures: %s", out_dir, ", ".join(p.name for p in figures) or "none")
    return figures


def write_page(results: Results, out_dir: Path) -> Path | None:
    """The run's ``report.html``, unless its report says ``html: false``; a missing plotly or a failing page
    costs one printed line, never the run."""
    declared = results.run_info.report
    if declared is not None and not declared.html:
        return None
    if not report.available():
        print(f"toyjax: report.html skipped: plotly is not installed ({report.INSTALL_HINT})")
        log.info("report.html skipped: plotly is not installed")
        return None
    try:
        return report.write_report(results, out_dir)
    except Exception as e:  # the grid is saved already; the page must not lose it
        log.exception("report.html failed")
        print(f"toyjax: report.html failed: {type(e).__name__}: {e}")
        return None


def format_summary(summary: dict[str, Any], prefix: str = "") -> str:
    """The summary as ``dotted.key: value`` lines, numbers to 4 significant digits."""
    return "\n".join(f"  {key}: {format_value(value)}" for key, value in flat_items(summary, prefix))
