"""The ``toyjax`` command: Hydra app that trains one preset's grid per run (Elhage et al., 2022 toy models).

``toyjax [sweep=PRESET|sweep=FILE.yaml] [KEY=VALUE ...]`` composes ``conf/config.yaml`` (the structured
schema plus a preset from ``sweeps/``), validates it, trains the whole grid as one compiled program
(`toyjax.grid.run`), and publishes results.npz, results.json (with the run's summary) and its declared
figure into Hydra's run directory. ``toyjax -m ...`` runs one such grid per job (`toyjax.multirun`).

Every job's config is composed and validated *before* Hydra starts (keys, values, the block layout and
shards, the declared report), so a bad key, type or value ends with one line
``toyjax: error: <dotted.key>: <what is allowed>``, exit status 2, and nothing written.

An SAE run whose ``sae.source`` is ``preset:NAME`` trains that toy grid first, in the same job: the preset
composed with ``sae.source_overrides`` is validated with the SAE run (its cells and shapes come from its
plan, `toyjax.families.sae.sources.from_plan`), then trained and published into ``<run_dir>/source/``, and the SAEs
train on that directory. A source already there with the same config is reused (a resumed job); SAEs
checkpointed on a source of another config are refused before it is retrained over. This module is the
Hydra edge: it imports Hydra, `toyjax.presets` and everything below.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from toyjax import grid, multirun, presets, publish
from toyjax.analysis.summary import headline
from toyjax.config import run_info, to_config
from toyjax.engine import blocks, checkpoint
from toyjax.errors import CheckpointError, ConfigError, ResultsError, ToyjaxDeprecationWarning
from toyjax.families import plan_of
from toyjax.families.sae import sources
from toyjax.families.sae.config import PRESET
from toyjax.families.sae.sources import plan_run
from toyjax.results import load

SOURCE_DIR = "source"  # where a preset:NAME source of an SAE run is trained, inside the run's directory

log = logging.getLogger("toyjax")

EXIT_USAGE = 2
_INFO_FLAGS = ("help", "hydra_help", "version", "cfg", "info", "shell_completion", "experimental_rerun")


def main(argv: list[str] | None = None) -> None:
    """Console script ``toyjax``: validate every job's config, then hand over to Hydra."""
    argv = list(sys.argv[1:] if argv is None else argv)
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
    sys.argv = [sys.argv[0], *argv]
    _hydra_app()
    if multirun.FAILED_JOBS:
        print(f"toyjax: error: {len(multirun.FAILED_JOBS)} job(s) failed: {', '.join(multirun.FAILED_JOBS)}",
              file=sys.stderr)
        sys.exit(1)


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
                check_job(compose(config_name, overrides=job))
    except ConfigError:
        raise
    except Exception as e:  # Hydra / OmegaConf composition errors
        raise ConfigError(presets.describe_error(e)) from None


def check_job(composed: DictConfig) -> None:
    """Everything that can be wrong with one composed job (and its preset:NAME source), short of training it."""
    source = source_job(composed)
    resolved = None
    if source is not None:
        source_cfg, source_plan = check_source(source)
        resolved = sources.from_plan(source_cfg, source_plan)
    cfg, plan = plan_run(to_config(composed), resolved)
    blocks.plan_layout(plan, cfg.grid.block_size, cfg.grid.shard, cfg.grid.num_shards)
    publish.check_report(run_info(composed).report, cfg)


def source_job(composed: DictConfig) -> DictConfig | None:
    """The composed toy preset of an SAE run's ``sae.source: preset:NAME`` (with its overrides), else None."""
    source = str(OmegaConf.select(composed, "sae.source", default="") or "")
    if not sources.reads_a_source(OmegaConf.select(composed, "model.kind")) or not source.startswith(PRESET):
        return None
    overrides = [str(o) for o in OmegaConf.select(composed, "sae.source_overrides", default=[]) or []]
    try:
        return presets.compose(source[len(PRESET):], [*overrides, f"progress={composed.progress}"])
    except ConfigError as e:
        raise ConfigError(f"sae.source: {source}: {e}") from None


def check_source(source: DictConfig):
    """The source's validated config and plan (a toy grid, its layout and report fit), nothing trained."""
    try:
        cfg = to_config(source)
        if sources.reads_a_source(cfg.model.kind):
            raise ConfigError(sources.NOT_TOY)
        plan = plan_of(cfg)
        blocks.plan_layout(plan, cfg.grid.block_size, cfg.grid.shard, cfg.grid.num_shards)
        publish.check_report(run_info(source).report, cfg)
    except ConfigError as e:
        raise ConfigError(f"sae.source: {source.sweep.name}: {e}") from None
    return cfg, plan


def train_source(source: DictConfig, directory: Path) -> Path:
    """Train and publish an SAE run's preset source into `directory`, or reuse the one there of the same config."""
    if saved_fingerprint(directory) == fingerprint(to_config(source)):
        print(f"toyjax: source {source.sweep.name}: reusing {directory}")
        return directory
    log.info("training the source %s into %s", source.sweep.name, directory)
    results = grid.run(source, checkpoint_dir=directory, command=["toyjax", *sys.argv[1:]])
    print(f"toyjax: source {source.sweep.name}: {results.loss.size} models in {results.timing['train_s']:.1f} s")
    publish.publish(results, directory)
    return directory


def saved_fingerprint(directory: Path) -> str | None:
    """The config fingerprint of the run saved in `directory`, or None where none is."""
    try:
        return fingerprint(to_config(load(directory).config))
    except (ResultsError, ConfigError):
        return None


def check_source_of_checkpoint(source: DictConfig, out_dir: Path) -> None:
    """Refuse, before the source is retrained over it, to continue SAEs checkpointed on another source.

    Raises:
        CheckpointError: ``<out_dir>/checkpoint`` holds SAEs trained on the source in ``<out_dir>/source``,
            and that source's config is not this run's.
    """
    saved = saved_fingerprint(out_dir / SOURCE_DIR)
    if (out_dir / checkpoint.DIRNAME).is_dir() and saved not in (None, fingerprint(to_config(source))):
        raise CheckpointError(
            f"{out_dir / checkpoint.DIRNAME}: checkpoint of SAEs on another source (the {source.sweep.name} "
            f"grid in {out_dir / SOURCE_DIR} has another config); remove it to start over or choose another run "
            "directory")


def with_trained_source(cfg: DictConfig, out_dir: Path) -> DictConfig:
    """`cfg` with its preset:NAME source trained into ``<out_dir>/source`` and named by that directory."""
    source = source_job(cfg)
    if source is None:
        return cfg
    check_source_of_checkpoint(source, out_dir)
    directory = train_source(source, out_dir / SOURCE_DIR)
    cfg = cfg.copy()
    with open_dict(cfg):
        cfg.sae.source, cfg.sae.source_overrides = str(directory), []
    return cfg


def task(cfg: DictConfig) -> dict[str, Any]:
    """One Hydra job: train the grid, then publish it into the run directory (or save a shard)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hc = HydraConfig.get()
    out_dir, is_multirun = Path(hc.runtime.output_dir), hc.mode == RunMode.MULTIRUN
    try:
        return run_job(cfg, out_dir, list(hc.overrides.task))
    except (ConfigError, CheckpointError) as e:  # bad input is normally caught by `prevalidate`
        if is_multirun:
            return multirun.job_failed(out_dir, e)
        print(f"toyjax: error: {e}", file=sys.stderr)
        if isinstance(e, ConfigError):
            remove_run_dir(out_dir)
        sys.exit(EXIT_USAGE)
    except Exception as e:
        if not is_multirun:
            raise
        return multirun.job_failed(out_dir, e)
    finally:
        multirun.free_device_memory()


def run_job(cfg: DictConfig, out_dir: Path, overrides: list[str]) -> dict[str, Any]:
    """Train, summarise, save and plot one run; returns the job's status for the multirun summary."""
    began = time.perf_counter()
    cfg = with_trained_source(cfg, out_dir)
    conf = to_config(cfg)
    log.info("command: toyjax %s", " ".join(sys.argv[1:]))
    log.info("overrides: %s; config fingerprint %s", " ".join(overrides) or "(none)", fingerprint(conf))
    results = grid.run(cfg, checkpoint_dir=out_dir, command=["toyjax", *sys.argv[1:]])
    name, t = results.run_info.preset, results.timing
    print(f"toyjax: {name}: {results.loss.size} models x {conf.train.steps} steps in {t['train_s']:.1f} s "
          f"({t['model_steps_per_s']:,.0f} model-steps/s)")
    if conf.grid.num_shards > 1:
        results.save(out_dir)
        print(f"toyjax: shard {conf.grid.shard} of {conf.grid.num_shards} in {out_dir}; "
              "merge the shards with `toyjax-merge SWEEP_DIR`")
        figures = []
    else:
        figures = publish.publish(results, out_dir)
    wall = time.perf_counter() - began
    log.info("done in %.1f s wall", wall)
    names = results.run_info.report.summaries if results.run_info.report else []
    return {"status": "ok", "result": str(out_dir), "figures": [str(p) for p in figures], "wall_s": wall,
            "headline": headline(results.summary, names) if results.summary else {}}


def fingerprint(conf) -> str:
    """A short hash of the resolved engine config but its progress bar (the same config always gives the same
    results)."""
    fields = {k: v for k, v in dataclasses.asdict(conf).items() if k != "progress"}
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


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
