"""The ``toyjax`` command: Hydra app that trains one preset's grid per run (Elhage et al., 2022 toy models).

``toyjax [sweep=PRESET|sweep=FILE.yaml] [KEY=VALUE ...]`` composes ``conf/config.yaml`` (the structured
schema plus a preset from ``sweeps/``), validates it, trains the whole grid as one compiled program
(`toyjax.grid.run`), and publishes results.npz, results.json (with the run's summary) and its declared
figure into Hydra's run directory. ``toyjax -m ...`` runs one such grid per job (`toyjax.multirun`).

Every job's config is composed and validated *before* Hydra starts (keys, values, the block layout and
shards, the declared report), so a bad key, type or value ends with one line
``toyjax: error: <dotted.key>: <what is allowed>``, exit status 2, and nothing written. Hydra's record of the
run (``.hydra/``) is written only once the run is accepted (its checkpoint matches), so a refused rerun leaves
the directory as it was. A file that cannot be written (the run directory, its log, its results) is one line
naming the path and the cause, and a job whose summary, figure or page fails is a failed job: exit status 1.
Ctrl-C is one line saying where the checkpoint is and the command that resumes, and exit status 130.

An SAE run whose ``sae.source`` is ``preset:NAME`` trains that toy grid first, in the same job
(`toyjax.preset_source`). This module is the Hydra edge: it imports Hydra, `toyjax.presets` and everything
below.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shlex
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from omegaconf import DictConfig, OmegaConf

from toyjax import grid, multirun, presets, publish
from toyjax.analysis.summary import headline
from toyjax.config import run_info, to_config
from toyjax.engine import blocks, checkpoint
from toyjax.errors import CheckpointError, ConfigError, ToyjaxDeprecationWarning
from toyjax.families.sae import sources
from toyjax.families.sae.sources import plan_run
from toyjax.fileio import describe, os_error
from toyjax.preset_source import SOURCE_DIR, check_source, fingerprint, saved_run, source_job, with_trained_source
from toyjax.results import Results

log = logging.getLogger("toyjax")

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130  # a job or a step failed; bad input; Ctrl-C (128 + SIGINT)
TYPED: list[str] = []  # the arguments as the user typed them, for the command that resumes an interrupted run
HYDRA_RECORD = ".hydra"  # Hydra's record of a run's config, written once the run is accepted (`record_config`)
_INFO_FLAGS = ("help", "hydra_help", "version", "cfg", "info", "shell_completion", "experimental_rerun")


def main(argv: list[str] | None = None) -> None:
    """Console script ``toyjax``: validate every job's config, then hand over to Hydra."""
    argv = list(sys.argv[1:] if argv is None else argv)
    TYPED[:] = argv
    _show_deprecations()
    presets.register()
    argv = presets.normalize_overrides(argv)
    args = _parse_args(argv)
    presets.register_config_dir(args.config_dir)
    multirun.prepare_environment(args.multirun)
    if not any(getattr(args, flag, None) for flag in _INFO_FLAGS):
        try:
            prevalidate(args.overrides, is_multirun=args.multirun, config_name=args.config_name or "config")
        except ConfigError as e:
            print(f"toyjax: error: {e}", file=sys.stderr)
            sys.exit(EXIT_USAGE)
        except KeyboardInterrupt:
            print("toyjax: interrupted before anything was written", file=sys.stderr)
            sys.exit(EXIT_INTERRUPTED)
    sys.argv = [sys.argv[0], *argv]
    run_hydra()
    if args.multirun and multirun.FAILED_JOBS:
        print(f"toyjax: error: {len(multirun.FAILED_JOBS)} job(s) failed: {', '.join(multirun.FAILED_JOBS)}",
              file=sys.stderr)
    if multirun.FAILED_JOBS or multirun.FAILED_STEPS:
        sys.exit(EXIT_FAILED)


def run_hydra() -> None:
    """Hand over to Hydra; what fails outside a job (its directory, its log file) ends with one line: an I/O
    failure names the path and the cause (exit status 1), Ctrl-C says so (130)."""
    logging.raiseExceptions = False  # a log file on a full disk must not print a traceback per line
    previous = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises instead of printing a traceback
    try:
        _hydra_app()
    except KeyboardInterrupt:
        print("toyjax: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as e:
        if os_error(e) is None:
            raise
        print(f"toyjax: error: {describe(os_error(e))}", file=sys.stderr)
        sys.exit(EXIT_FAILED)
    finally:
        os.environ.pop("HYDRA_FULL_ERROR")
        if previous is not None:
            os.environ["HYDRA_FULL_ERROR"] = previous


def _show_deprecations() -> None:
    """Print toyjax's own deprecation warnings as one ``toyjax: warning:`` line each."""
    warnings.simplefilter("default", ToyjaxDeprecationWarning)
    shown = warnings.showwarning

    def show(message, category, *args, **kwargs):
        if issubclass(category, ToyjaxDeprecationWarning):
            print(f"toyjax: warning: {message}", file=sys.stderr)
        else:
            shown(message, category, *args, **kwargs)

    warnings.showwarning = show


def _parse_args(argv: list[str]):
    from hydra._internal.utils import get_args_parser

    return get_args_parser().parse_args(argv)


def _hydra_app() -> None:
    import hydra

    hydra.main(version_base="1.3", config_path=str(presets.config_dir()), config_name="config")(task)()


def prevalidate(overrides: list[str], is_multirun: bool = False, config_name: str = "config") -> None:
    """Compose and validate each job's config, its block layout and its declared report (nothing compiled).

    Raises:
        ConfigError: one line naming the bad key.
    """
    from hydra import compose, initialize_config_dir

    try:
        jobs = multirun.job_overrides(overrides, is_multirun)
        with initialize_config_dir(str(presets.config_dir()), version_base="1.3", job_name="toyjax"):
            for job in jobs:
                composed = compose(config_name, overrides=job)
                check_job(composed)
                presets.check_axis_overrides(composed, job)
    except ConfigError:
        raise
    except Exception as e:  # Hydra / OmegaConf composition errors
        raise ConfigError(presets.describe_error(e)) from None


def check_job(composed: DictConfig) -> None:
    """Everything that can be wrong with one composed job (and its source, a preset:NAME or a saved run), short of
    training it."""
    source, config = source_job(composed), to_config(composed)
    resolved = sources.load(config) if sources.reads_a_source(config.model.kind) and source is None else None
    if source is not None:
        source_cfg, source_plan = check_source(source)
        resolved = sources.from_plan(source_cfg, source_plan)
    cfg, plan = plan_run(config, resolved)
    blocks.plan_layout(plan, cfg.grid.block_size, cfg.grid.shard, cfg.grid.num_shards)
    publish.check_report(run_info(composed).report, cfg, resolved.axes if resolved is not None else None)


def task(cfg: DictConfig) -> dict[str, Any]:
    """One Hydra job: train the grid, then publish it into the run directory (or save a shard).

    Bad input and a refused checkpoint end a single run with one line and exit status 2; an I/O failure with one
    line naming the path, and a failed job; Ctrl-C with one line saying how to resume, and exit status 130.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hc = HydraConfig.get()
    out_dir, is_multirun = Path(hc.runtime.output_dir), hc.mode == RunMode.MULTIRUN
    try:
        return run_job(cfg, out_dir, list(hc.overrides.task), lambda: record_config(cfg, out_dir))
    except (ConfigError, CheckpointError) as e:  # bad input is normally caught by `prevalidate`
        if is_multirun:
            return multirun.job_failed(out_dir, e)
        print(f"toyjax: error: {e}", file=sys.stderr)
        if isinstance(e, ConfigError):
            remove_run_dir(out_dir)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        interrupted(hc)
    except Exception as e:
        if is_multirun:
            return multirun.job_failed(out_dir, e)
        if os_error(e) is None:
            raise
        return io_failed(out_dir, e)
    finally:
        multirun.free_device_memory()


def io_failed(out_dir: Path, e: Exception) -> dict[str, Any]:
    """A single run that could not write a file: one line naming it and the cause, and a failed job (exit 1)."""
    log.info("job failed", exc_info=True)
    error = multirun.error_line(e, out_dir)
    print(f"toyjax: error: {error}", file=sys.stderr)
    return {"status": "failed", "result": str(out_dir), "error": error}


def run_job(cfg: DictConfig, out_dir: Path, overrides: list[str], accepted: Callable[[], None]) -> dict[str, Any]:
    """Train, summarise, save and plot one run; returns the job's status for the multirun summary. `accepted` is
    called once the run is accepted (its checkpoint matches), before its own grid trains (an SAE run's preset
    source, trained first, is part of the run only once the SAEs are accepted on it)."""
    began = time.perf_counter()
    cfg, failed = with_trained_source(cfg, out_dir)
    conf = to_config(cfg)
    log.info("command: toyjax %s", " ".join(sys.argv[1:]))
    log.info("overrides: %s; config fingerprint %s", " ".join(overrides) or "(none)", fingerprint(conf))
    results, reused = train_or_reuse(cfg, conf, out_dir, accepted)
    if conf.grid.num_shards > 1:
        results.save(out_dir)
        print(f"toyjax: shard {conf.grid.shard} of {conf.grid.num_shards} in {out_dir}; "
              "merge the shards with `toyjax-merge SWEEP_DIR`")
        figures = []
    else:
        published = publish.publish(results, out_dir)
        figures, failed = published.figures, [*failed, *published.failed]
    wall = time.perf_counter() - began
    log.info("done in %.1f s wall", wall)
    for line in failed:
        print(f"toyjax: error: {line}", file=sys.stderr)
    names = results.run_info.report.summaries if results.run_info.report else []
    status = {"status": "failed", "error": "; ".join(failed)} if failed else {"status": "ok"}
    return {**status, "result": str(out_dir), "figures": [str(p) for p in figures], "wall_s": wall, "reused": reused,
            "headline": headline(results.summary, names) if results.summary else {}}


def train_or_reuse(cfg: DictConfig, conf, out_dir: Path, accepted: Callable[[], None]) -> tuple[Results, bool]:
    """The job's grid, and whether it was reused: the run saved in `out_dir` when it is this run (`saved_run`: a
    finished job of a resumed multirun, or the same command again), else trained (continuing its checkpoint)."""
    saved = saved_run(out_dir, conf)
    if saved is not None:  # this run's report and title (not engine config), the command that trained it
        saved = dataclasses.replace(saved, run_info=dataclasses.replace(run_info(cfg),
                                                                        command=saved.run_info.command))
        accepted()
        print(f"toyjax: {saved.run_info.preset}: already trained in {out_dir} (the same config, package versions "
              "and kind of device): published again, not retrained")
        return saved, True
    results = grid.run(cfg, checkpoint_dir=out_dir, command=["toyjax", *sys.argv[1:]], accepted=accepted)
    t = results.timing
    print(f"toyjax: {results.run_info.preset}: {results.loss.size} models x {conf.train.steps} steps in "
          f"{t['train_s']:.1f} s ({t['model_steps_per_s']:,.0f} model-steps/s)")
    return results, False


def record_config(cfg: DictConfig, out_dir: Path) -> None:
    """Write Hydra's record of the run, ``.hydra/`` (config.yaml, hydra.yaml, overrides.yaml), as Hydra would,
    once the run is accepted: a refused rerun leaves the directory's record of its own config as it was."""
    from hydra.core.hydra_config import HydraConfig

    hydra_cfg = OmegaConf.create(OmegaConf.to_container(HydraConfig.instance().cfg))
    hydra_cfg.hydra.output_subdir = HYDRA_RECORD
    files = {"config.yaml": cfg, "hydra.yaml": hydra_cfg, "overrides.yaml": hydra_cfg.hydra.overrides.task}
    for name, node in files.items():
        multirun.write_text(out_dir / HYDRA_RECORD / name, OmegaConf.to_yaml(node))


def resume_command(hc) -> str:
    """The command that continues this run (or multirun) where it stopped: the same arguments, its directory."""
    from hydra.types import RunMode

    key = "hydra.sweep.dir" if hc.mode == RunMode.MULTIRUN else "hydra.run.dir"
    directory = os.path.abspath(hc.sweep.dir if hc.mode == RunMode.MULTIRUN else hc.runtime.output_dir)
    args = [a for a in TYPED if a.split("=", 1)[0].lstrip("+") != key]
    return shlex.join(["toyjax", *args, f"{key}={directory}"])


def interrupted(hc) -> NoReturn:
    """Ctrl-C: one line saying where the checkpoint is and the command that resumes, ``job.json`` "interrupted",
    exit status 130."""
    out_dir, command = Path(hc.runtime.output_dir), resume_command(hc)
    saved = [d for d in (out_dir / checkpoint.DIRNAME, out_dir / SOURCE_DIR / checkpoint.DIRNAME) if d.is_dir()]
    where = f"the checkpoint is in {saved[0]}" if saved else "no checkpoint was saved yet"
    print(f"toyjax: interrupted; {where}; resume with: {command}", file=sys.stderr)
    multirun.job_interrupted(hc, command)
    sys.exit(EXIT_INTERRUPTED)


def remove_run_dir(out_dir: Path) -> None:
    """Remove what Hydra wrote for a run that failed validation (its log), and the directory if then empty."""
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
