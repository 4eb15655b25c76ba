"""The ``toyjax`` command: Hydra app that trains one preset's grid per run (Elhage et al., 2022 toy models).

``toyjax [sweep=PRESET] [KEY=VALUE ...]`` composes ``conf/config.yaml`` (the structured schema plus a preset
from ``sweeps/``), validates it, trains the whole grid as one compiled program (`toyjax.grid.run`), and
writes results.npz, results.json (with the end-of-run summary) and figures into Hydra's run directory.
``toyjax -m ...`` runs one such grid per job and writes summary.json / summary.md into the sweep directory.

Every job's config is composed and validated *before* Hydra starts, so a bad key, type or value ends with
one line ``toyjax: error: <dotted.key>: <what is allowed>``, exit status 2, and nothing written.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import os
import shutil
import sys
import traceback
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from toyjax import presets
from toyjax.config import ConfigError

log = logging.getLogger(__name__)

EXIT_USAGE = 2
_INFO_FLAGS = ("help", "hydra_help", "version", "cfg", "info", "shell_completion", "experimental_rerun")
_failed_jobs: list[str] = []


class UsageError(Exception):
    """A bad command line or config; the message is one line starting with the dotted key."""


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """Console script ``toyjax``: validate every job's config, then hand over to Hydra."""
    argv = list(sys.argv[1:] if argv is None else argv)
    presets.register()
    argv = presets.normalize_overrides(argv)
    args = _parse_args(argv)
    if args.multirun:  # jobs that share a GPU must not each preallocate most of its memory
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if not any(getattr(args, flag, None) for flag in _INFO_FLAGS):
        try:
            prevalidate(args.overrides, multirun=args.multirun, config_name=args.config_name or "config")
        except UsageError as e:
            print(f"toyjax: error: {e}", file=sys.stderr)
            sys.exit(EXIT_USAGE)
    sys.argv = [sys.argv[0], *argv]
    _hydra_app()
    if _failed_jobs:
        print(f"toyjax: error: {len(_failed_jobs)} job(s) failed: {', '.join(_failed_jobs)}", file=sys.stderr)
        sys.exit(1)


def _parse_args(argv: list[str]):
    from hydra._internal.utils import get_args_parser

    return get_args_parser().parse_args(argv)


def _hydra_app() -> None:
    import hydra

    hydra.main(version_base="1.3", config_path=str(presets.config_dir()), config_name="config")(task)()


# --------------------------------------------------------------------------- validation


def job_overrides(overrides: list[str], multirun: bool) -> list[list[str]]:
    """The override list of every job a command line launches (one job unless `multirun`)."""
    if not multirun:
        return [list(overrides)]
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def prevalidate(overrides: list[str], multirun: bool = False, config_name: str = "config") -> None:
    """Compose and validate each job's config (no JAX compile, nothing written).

    Raises:
        UsageError: one line naming the bad key.
    """
    from hydra import compose, initialize_config_dir

    from toyjax import config as config_lib
    from toyjax import grid

    try:
        jobs = job_overrides(overrides, multirun)
        with initialize_config_dir(str(presets.config_dir()), version_base="1.3", job_name="toyjax"):
            for job in jobs:
                cfg = compose(config_name, overrides=job)
                grid.make_plan(config_lib.to_config(cfg))
    except ConfigError as e:
        raise UsageError(str(e)) from None
    except Exception as e:  # Hydra / OmegaConf composition errors
        raise UsageError(describe_error(e)) from None


def describe_error(exc: BaseException) -> str:
    """One line for a Hydra or OmegaConf error, starting with the dotted key it concerns."""
    from hydra.errors import MissingConfigException
    from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

    chain, e = [], exc
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    for e in chain:
        if isinstance(e, MissingConfigException) and f"{presets.GROUP}/" in str(e):
            name = str(e).split(f"'{presets.GROUP}/", 1)[-1].split("'", 1)[0]
            return f"{presets.GROUP}: unknown preset {name!r}; allowed: {', '.join(presets.preset_names())}"
    for e in chain:
        key = getattr(e, "full_key", None)
        if isinstance(e, OmegaConfBaseException) and key:
            if isinstance(e, ConfigKeyError | AttributeError) and "not in" in str(e):
                return f"{key}: unknown key; allowed: {', '.join(allowed_keys(key))}"
            return f"{key}: {_first_line(getattr(e, 'msg', None) or str(e))}"
    return _first_line(str(exc)) or type(exc).__name__


def allowed_keys(dotted: str) -> list[str]:
    """Field names of the schema section that holds `dotted` (e.g. ``model.foo`` -> ModelConfig's)."""
    cls: Any = presets.AppConfig
    for part in dotted.split(".")[:-1]:
        fields = {f.name: f for f in dataclasses.fields(cls)}
        sub = fields[part].default_factory if part in fields else None
        if not (callable(sub) and dataclasses.is_dataclass(sub)):
            return []
        cls = sub
    return [f.name for f in dataclasses.fields(cls)]


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


# --------------------------------------------------------------------------- the task


def task(cfg: DictConfig) -> dict[str, Any]:
    """One Hydra job: validate, train the grid, save results, summary and figures into the run directory."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    multirun = hc.mode == RunMode.MULTIRUN
    try:
        return run_job(cfg, out_dir)
    except ConfigError as e:  # normally caught by `prevalidate` before Hydra starts
        if multirun:
            return _job_failed(out_dir, e)
        print(f"toyjax: error: {e}", file=sys.stderr)
        remove_run_dir(out_dir)
        sys.exit(EXIT_USAGE)
    except Exception as e:
        if not multirun:
            raise
        return _job_failed(out_dir, e)
    finally:
        free_device_memory()


def run_job(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Train, summarise, save and plot one run; returns {"status", "result", "summary"}."""
    from toyjax import grid
    from toyjax.config import to_config

    conf = to_config(cfg)
    results = grid.run(conf, checkpoint_dir=out_dir)
    results.config["sweep_name"] = OmegaConf.select(cfg, "sweep.name")
    results.config["sweep_figure"] = OmegaConf.select(cfg, "sweep.figure")
    print(f"toyjax: {results.config['sweep_name']}: {results.loss.size} models x {conf.train.steps} steps "
          f"in {results.timing['train_s']:.1f} s ({results.timing['model_steps_per_s']:,.0f} model-steps/s)")
    if conf.grid.num_shards > 1:
        results.save(out_dir)
        print(f"toyjax: shard {conf.grid.shard} of {conf.grid.num_shards} in {out_dir}; "
              "merge the shards with `toyjax-merge SWEEP_DIR`")
        return {"status": "ok", "result": str(out_dir), "figures": []}
    figures = publish(results, out_dir)
    log.info("results written to %s", out_dir)
    return {"status": "ok", "result": str(out_dir), "figures": [str(p) for p in figures]}


def publish(results, out_dir: Path) -> list[Path]:
    """Summarise a whole grid into its config, save it into `out_dir`, render its figures and print both."""
    from toyjax import plots

    summary = _summarize(results)
    results.config["summary"] = summary
    results.save(out_dir)
    figures = plots.render(results, out_dir, summary=summary)
    print(format_summary(summary))
    print(f"toyjax: results in {out_dir}" + "".join(f"\n  {p}" for p in figures))
    return figures


def _summarize(results) -> dict[str, Any]:
    from toyjax.analysis.summary import summarize

    try:
        return summarize(results)
    except Exception as e:  # a broken summary must not lose the trained grid
        log.exception("summary failed")
        return {"error": f"{type(e).__name__}: {e}"}


def _job_failed(out_dir: Path, exc: BaseException) -> dict[str, Any]:
    log.error("job failed:\n%s", "".join(traceback.format_exception(exc)))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "error.txt").write_text("".join(traceback.format_exception(exc)))
    print(f"toyjax: error: job in {out_dir} failed: {_first_line(str(exc)) or type(exc).__name__}", file=sys.stderr)
    return {"status": "failed", "result": str(out_dir), "error": _first_line(str(exc)) or type(exc).__name__}


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


def free_device_memory() -> None:
    """Drop compiled programs and device buffers between jobs (`jax.clear_caches` + `gc.collect`)."""
    if "jax" not in sys.modules:
        return
    import jax

    from toyjax import grid

    grid.clear_cache()
    jax.clear_caches()
    gc.collect()


def remove_run_dir(out_dir: Path) -> None:
    """Remove what Hydra wrote for a run that failed validation, and the directory if then empty."""
    shutil.rmtree(out_dir / ".hydra", ignore_errors=True)
    for handler in logging.getLogger().handlers[:]:
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename).parent == out_dir:
            handler.close()
            logging.getLogger().removeHandler(handler)
    for log_file in out_dir.glob("*.log"):
        log_file.unlink(missing_ok=True)
    directory = out_dir
    while directory != Path.cwd() and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


# --------------------------------------------------------------------------- multirun summary


class MultirunSummary(Callback):
    """Hydra callback: after a multirun, list every job (overrides, status, result path) in the sweep dir.

    Each job writes its status into ``job.json`` in its own run directory (jobs may run in other processes
    or on other nodes, under submitit); at the end the sweep's ``summary.json`` and ``summary.md`` collect
    them. Also frees device memory after each job.
    """

    def on_job_end(self, config: DictConfig, job_return, **kwargs: Any) -> None:
        from hydra.core.utils import JobStatus

        free_device_memory()
        value = job_return.return_value if job_return.status == JobStatus.COMPLETED else None
        ok = isinstance(value, dict) and value.get("status") == "ok"
        output_dir = job_return.hydra_cfg.hydra.runtime.output_dir
        job = {
            "num": int(job_return.hydra_cfg.hydra.job.get("num", 0) or 0),
            "overrides": list(job_return.overrides or []),
            "status": "ok" if ok else "failed",
            "result": str(output_dir),
        }
        if not ok:
            err = value.get("error") if isinstance(value, dict) else job_return._return_value
            job["error"] = _first_line(str(err))
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        (Path(output_dir) / "job.json").write_text(json.dumps(job, indent=2))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        jobs = sorted((json.loads(p.read_text()) for p in sweep_dir.glob("*/job.json")), key=lambda j: j["num"])
        _failed_jobs.extend(str(j["num"]) for j in jobs if j["status"] != "ok")
        summary = {"sweep_dir": str(sweep_dir), "n_jobs": len(jobs),
                   "n_failed": sum(j["status"] != "ok" for j in jobs), "jobs": jobs}
        (sweep_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        (sweep_dir / "summary.md").write_text(_summary_markdown(summary))
        print(f"toyjax: {len(jobs)} jobs, {summary['n_failed']} failed; summary in {sweep_dir / 'summary.md'}")
        from toyjax.plots import render_multirun  # one figure across the jobs (logs and skips on failure)

        for path in render_multirun(sweep_dir, [Path(j["result"]) for j in jobs if j["status"] == "ok"]):
            print(f"  {path}")


def _summary_markdown(summary: dict[str, Any]) -> str:
    lines = [
        f"# toyjax multirun: {summary['sweep_dir']}",
        "",
        f"{summary['n_jobs']} jobs, {summary['n_failed']} failed.",
        "",
        "| job | overrides | status | result |",
        "|---|---|---|---|",
    ]
    for j in summary["jobs"]:
        status = j["status"] if j["status"] == "ok" else f"failed: {j.get('error', '')}"
        lines.append(f"| {j['num']} | `{' '.join(j['overrides']) or '(none)'}` | {status} | {j['result']} |")
    return "\n".join(lines) + "\n"
