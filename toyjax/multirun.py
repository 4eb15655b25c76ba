"""Multiruns: one compiled grid per Hydra job, each job's status on disk, and the sweep's summary table.

Each job writes ``job.json`` into its own run directory (jobs may run in other processes or on other nodes,
under submitit): its overrides, status (ok; failed, with the one line that says why, also when only a step after
training failed; interrupted, with the command that resumes it), result path, wall time, whether it reused the
run already saved there (a resumed multirun trains only the jobs that had not finished:
`toyjax.preset_source.saved_run`) and headline numbers. When the multirun ends, the sweep directory's
``summary.json`` and ``summary.md`` collect them, ``index.html`` links every job's ``report.html`` beside the
same table (`toyjax.report.write_index`, when the jobs wrote pages), and the combined figure is drawn
(`toyjax.plots.render_multirun`); each of these steps that fails is one line, and fails the command. Device
memory is freed between jobs. This module imports Hydra (its callback API and sweeper), jax,
`toyjax.engine.programs`, `toyjax.errors`, `toyjax.fileio`, `toyjax.plots`, `toyjax.publish` and
`toyjax.report`.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from toyjax import numerics
from toyjax.engine import programs
from toyjax.errors import first_line
from toyjax.fileio import atomic_write, describe, os_error
from toyjax.plots import render_multirun
from toyjax.publish import attempt
from toyjax.report import REPORT, write_index
from toyjax.report.index import summary_table

log = logging.getLogger("toyjax")
JOB = "job.json"
FAILED_JOBS: list[str] = []  # jobs that failed (their number), for the command's exit status
FAILED_STEPS: list[str] = []  # steps of the sweep itself that failed (its summary, index, combined figure)


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


def job_failed(out_dir: Path, exc: BaseException) -> dict[str, Any]:
    """Record a failed job (its traceback in error.txt, one line on stderr); the other jobs go on."""
    text = "".join(traceback.format_exception(exc))
    log.info("job failed:\n%s", text)  # into toyjax.log; the console gets one line
    error = error_line(exc, out_dir)
    attempt("error.txt", lambda: write_text(out_dir / "error.txt", text))  # a directory that cannot take it
    print(f"toyjax: error: job in {out_dir} failed: {error}", file=sys.stderr)
    return {"status": "failed", "result": str(out_dir), "error": error}


def error_line(exc: BaseException, where: Path) -> str:
    """What went wrong, in one line: an I/O failure's path (else `where`) and cause, else the error's first line."""
    io = os_error(exc)
    return describe(io, where) if io is not None else first_line(str(exc)) or type(exc).__name__


def write_text(path: Path, text: str) -> Path:
    """Write `text` into `path` atomically, its directory made first; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(text.encode()))
    return path


def job_status(value: Any) -> dict[str, Any]:
    """The status fields of a job.json from what the job returned (a dict, or the exception it raised)."""
    if not isinstance(value, dict):
        return {"status": "failed", "wall_s": None, "headline": {}, "error": first_line(str(value))}
    status = {"status": value.get("status", "failed"), "wall_s": value.get("wall_s"),
              "reused": bool(value.get("reused")), "headline": value.get("headline", {})}
    return status if status["status"] == "ok" else {**status, "error": first_line(str(value.get("error")))}


def job_fields(hc: DictConfig) -> dict[str, Any]:
    """What a job.json says of the job itself, from its Hydra config (``hydra``): number, overrides, directory."""
    return {"num": int(hc.job.get("num", 0) or 0), "result": str(hc.runtime.output_dir),
            "overrides": OmegaConf.to_container(hc.overrides.task, resolve=False)}  # as typed: ${...} kept


def job_interrupted(hc: DictConfig, command: str) -> None:
    """Write the job.json of a job stopped by Ctrl-C: status "interrupted" and the command that resumes it."""
    write_job(Path(hc.runtime.output_dir), {**job_fields(hc), "status": "interrupted", "wall_s": None,
                                            "headline": {}, "resume": command})


def write_job(output_dir: Path, job: dict[str, Any]) -> None:
    """Write a job's ``job.json``; one that cannot be written fails the job with one line (if it had not failed)."""
    _, failed = attempt(JOB, lambda: write_text(output_dir / JOB, json.dumps(job, indent=2)))
    if failed and job["status"] == "ok":
        print(f"toyjax: error: {failed}", file=sys.stderr)
        FAILED_JOBS.append(str(job["num"]))


def free_device_memory() -> None:
    """Drop compiled programs and device buffers between jobs (`jax.clear_caches` + `gc.collect`)."""
    programs.clear_cache()
    jax.clear_caches()
    gc.collect()


class MultirunSummary(Callback):
    """Hydra callback: after each job write its ``job.json``; after the multirun, the sweep's summary. A job that
    failed, or failed one of its steps, fails the command (exit status 1), in a single run too."""

    def on_job_end(self, config: DictConfig, job_return, **kwargs: Any) -> None:
        from hydra.core.utils import JobStatus

        free_device_memory()
        completed = job_return.status == JobStatus.COMPLETED
        hc = job_return.hydra_cfg.hydra
        write_job(Path(hc.runtime.output_dir),
                  {**job_fields(hc), **job_status(job_return.return_value if completed else job_return._return_value)})

    def on_run_end(self, config: DictConfig, job_return=None, **kwargs: Any) -> None:
        value = getattr(job_return, "_return_value", None)
        if not (isinstance(value, dict) and value.get("status") == "ok"):
            FAILED_JOBS.append("0")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        jobs = sorted((json.loads(p.read_text()) for p in sweep_dir.glob(f"*/{JOB}")), key=lambda j: j["num"])
        FAILED_JOBS.extend(str(j["num"]) for j in jobs if j["status"] != "ok")
        summary = {"sweep_dir": str(sweep_dir), "n_jobs": len(jobs),
                   "n_failed": sum(j["status"] != "ok" for j in jobs), "jobs": jobs}
        print(f"toyjax: {len(jobs)} jobs, {summary['n_failed']} failed; summary in {sweep_dir / 'summary.md'}")
        for step, make in sweep_steps(sweep_dir, summary):
            written, failed = attempt(step, make)
            for path in written or []:
                print(f"  {path}")
            if failed:
                print(f"toyjax: error: {failed}", file=sys.stderr)
                FAILED_STEPS.append(failed)


def sweep_steps(sweep_dir: Path, summary: dict[str, Any]) -> list[tuple[str, Callable[[], list[Path]]]]:
    """What a multirun writes once its jobs are done, step by step: its summary, the index of the jobs' pages
    (when they wrote any) and the combined figure of the jobs that succeeded."""
    jobs = summary["jobs"]
    steps = [("summary.json", lambda: [write_text(sweep_dir / "summary.json", json.dumps(summary, indent=2))]),
             ("summary.md", lambda: [write_text(sweep_dir / "summary.md", summary_markdown(summary))])]
    if any((Path(j["result"]) / REPORT).is_file() for j in jobs):
        steps.append(("index.html", lambda: [write_index(sweep_dir, summary)]))
    ok = [Path(j["result"]) for j in jobs if j["status"] == "ok"]
    return [*steps, ("combined figure", lambda: render_multirun(sweep_dir, ok, strict=True))]


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
