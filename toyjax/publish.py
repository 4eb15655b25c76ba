"""Publishing a trained grid: its declared summaries, its files and its figure, printed and logged.

Shared by the ``toyjax`` command and ``toyjax-merge``. `check_report` validates what a run declares (its
figure and summaries exist and fit the run) before anything is compiled; `publish` computes the summary
into `Results.summary`, saves the run and renders its figure. This module imports `toyjax.analysis`,
`toyjax.plots`, `toyjax.config`, `toyjax.errors` and `toyjax.results`; never Hydra.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from toyjax import checks, plots
from toyjax.analysis.summary import SUMMARIES, summarize
from toyjax.config import Config, ReportConfig
from toyjax.errors import ConfigError
from toyjax.results import Results

log = logging.getLogger("toyjax")


def check_report(report: ReportConfig | None, cfg: Config) -> None:
    """Refuse a declared figure or summary that does not exist, or does not fit the run's model and axes.

    Raises:
        ConfigError: ``report.figure: ...`` or ``report.summaries: ...``, one line.
    """
    if report is None:
        return
    if report.figure is not None:
        checks.choice("report.figure", report.figure, tuple(plots.FIGURES))
    checks.strings("report.summaries", report.summaries, tuple(SUMMARIES))
    config, dims = dataclasses.asdict(cfg), tuple(cfg.grid.axes)
    for name in report.summaries:
        why = SUMMARIES[name].unfit(config, dims)
        if why:
            raise ConfigError(f"report.summaries: {name} {why}")


def summarize_run(results: Results) -> dict[str, Any]:
    """The run's summary (`toyjax.analysis.summarize` of its declared summaries); a failure is logged, not fatal."""
    names = results.run_info.report.summaries if results.run_info.report else []
    try:
        return summarize(results, names)
    except Exception as e:  # a broken summary must not lose the trained grid
        log.exception("summary failed")
        return {"error": f"{type(e).__name__}: {e}"}


def publish(results: Results, out_dir: Path) -> list[Path]:
    """Summarise a whole grid into `results.summary`, save it into `out_dir`, render its figure, print both."""
    results.summary = summarize_run(results)
    results.save(out_dir)
    figures = plots.render(results, out_dir)
    print(format_summary(results.summary))
    print(f"toyjax: results in {out_dir}" + "".join(f"\n  {p}" for p in figures))
    log.info("results written to %s; figures: %s", out_dir, ", ".join(p.name for p in figures) or "none")
    return figures


def format_summary(summary: dict[str, Any], prefix: str = "") -> str:
    """The summary as ``dotted.key: value`` lines, numbers to 4 significant digits."""
    lines = []
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            lines.append(format_summary(value, f"{name}."))
        else:
            lines.append(f"  {name}: {_fmt(value)}")
    return "\n".join(line for line in lines if line)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)
