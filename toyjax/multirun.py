"""Multiruns: one compiled grid per Hydra job, each job's status on disk, and the sweep's summary table.

Each job writes ``job.json`` into its own run directory (jobs may run in other processes or on other
nodes, under submitit): its overrides, status, result path, wall time and headline numbers. When the
multirun ends, the sweep directory's ``summary.json`` and ``summary.md`` collect them, ``index.html`` links
every job's ``report.html`` beside the same table (`toyjax.report.write_index`, when the jobs wrote pages),
and the combined figure is drawn (`toyjax.plots.render_multirun`). Device memory is freed between jobs.
This module imports Hydra (its callback API and sweeper), jax, `toyjax.plots`, `toyjax.engine.programs` and
`toyjax.report`.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import jax
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from toyjax import numerics
from toyjax.engine import programs
from toyjax.plots import render_multirun
from toyjax.report import REPORT, write_index
from toyjax.report.index import summary_table

log = logging.getLogger("toyjax")
FAILED_JOBS: list[str] = []


def prepare_environment(multirun: bool) -> None:
    """Deterministic GPU ops for every run; jobs that share a GPU must not each preallocate most of its memory."""
    numerics.use_deterministic_ops()
    if multirun:
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")


def job_overrides(overrides: list[str], multirun: bool) -> list[list[str]]:
    """The override list of every job a command line launches (one job unless `multirun`)."""
    if not multirun:
        return [list(overrides)]
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def job_failed(out_dir: Path, exc: BaseException) -> dict[str, Any]:
    """Record a failed job (its traceback in error.txt, one line on stderr); the other jobs go on."""
    text = "".join(traceback.format_exception(exc))
    log.error("job failed:\n%s", text)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "error.txt").write_text(text)
    error = first_line(str(exc)) or type(exc).__name__
    print(f"toyjax: error: job in {out_dir} failed: {error}", file=sys.stderr)
    return {"status": "failed", "result": str(out_dir), "error": error}


def free_device_memory() -> None:
    """Drop compiled programs and device buffers between jobs (`jax.clear_caches` + `gc.collect`)."""
    programs.clear_cache()
    jax.clear_caches()
    gc.collect()


class MultirunSummary(Callback):
    """Hydra callback: after each job write its ``job.json``; after the multirun, the sweep's summary."""

    def on_job_end(self, config: DictConfig, job_return, **kwargs: Any) -> None:
        from hydra.core.utils import JobStatus

        free_device_memory()
        value = job_return.return_value if job_return.status == JobStatus.COMPLETED else None
        ok = isinstance(value, dict) and value.get("status") == "ok"
        output_dir = Path(job_return.hydra_cfg.hydra.runtime.output_dir)
        job = {
            "num": int(job_return.hydra_cfg.hydra.job.get("num", 0) or 0),
            "overrides": list(job_return.overrides or []),
            "status": "ok" if ok else "failed",
            "result": str(output_dir),
            "wall_s": value.get("wall_s") if ok else None,
            "headline": value.get("headline", {}) if ok else {},
        }
        if not ok:
            err = value.get("error") if isinstance(value, dict) else job_return._return_value
            job["error"] = first_line(str(err))
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / "job.json").write_text(json.dumps(job, indent=2))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        jobs = sorted((json.loads(p.read_text()) for p in sweep_dir.glob("*/job.json")), key=lambda j: j["num"])
        FAILED_JOBS.extend(str(j["num"]) for j in jobs if j["status"] != "ok")
        summary = {"sweep_dir": str(sweep_dir), "n_jobs": len(jobs),
                   "n_failed": sum(j["status"] != "ok" for j in jobs), "jobs": jobs}
        (sweep_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        (sweep_dir / "summary.md").write_text(summary_markdown(summary))
        print(f"toyjax: {len(jobs)} jobs, {summary['n_failed']} failed; summary in {sweep_dir / 'summary.md'}")
        if any((Path(j["result"]) / REPORT).is_file() for j in jobs):
            print(f"  {write_index(sweep_dir, summary)}")
        for path in render_multirun(sweep_dir, [Path(j["result"]) for j in jobs if j["status"] == "ok"]):
            print(f"  {path}")


def summary_markdown(summary: dict[str, Any]) -> str:
    """The sweep's table: one row per job with its overrides, status, headline numbers and wall time."""
    columns, rows = summary_table(summary)
    lines = [
        f"# toyjax multirun: {summary['sweep_dir']}",
        "",
        f"{summary['n_jobs']} jobs, {summary['n_failed']} failed.",
        "",
        "| " + " | ".join(columns) + " |",
        "|---" * len(columns) + "|",
    ]
    for row in rows:
        row[1] = f"`{row[1]}`"
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
