"""An SAE run's ``preset:NAME`` source, trained in the same job as its SAEs, before them.

``sae.source: preset:NAME`` names a toy preset; composed with ``sae.source_overrides`` (`source_job`), it is
validated with the SAE run from its plan alone (`check_source`; its cells and shapes come from
`toyjax.families.sae.sources.from_plan`), then trained and published into ``<run_dir>/source/``
(`train_source`), and the SAEs train on that directory (`with_trained_source`). A run already saved in a
directory is reused when it is the same run (`saved_run`: the same config, `fingerprint`, by the same package
versions on the same kind of device): a resumed job's source, and a finished job of a resumed multirun. SAEs
checkpointed on a source of another config are refused before it is retrained over
(`check_source_of_checkpoint`). This module imports jax, OmegaConf, `toyjax.presets`, `toyjax.grid`,
`toyjax.numerics`, `toyjax.publish`, `toyjax.config`, `toyjax.engine`, `toyjax.errors`, `toyjax.families` and
`toyjax.results`; never Hydra itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import sys
from pathlib import Path

import jax
from omegaconf import DictConfig, OmegaConf, open_dict

from toyjax import grid, numerics, presets, publish
from toyjax.config import run_info, to_config
from toyjax.engine import blocks, checkpoint
from toyjax.engine.runner import run_meta
from toyjax.errors import CheckpointError, ConfigError, ResultsError
from toyjax.families import plan_of
from toyjax.families.sae import sources
from toyjax.families.sae.config import PRESET
from toyjax.results import Results, load

SOURCE_DIR = "source"  # where a preset:NAME source of an SAE run is trained, inside the run's directory
SAME_RUN = ("versions", "platform", "device_kind")  # `run_meta` keys a saved run must share to be reused

log = logging.getLogger("toyjax")


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


def train_source(source: DictConfig, directory: Path) -> list[str]:
    """Train and publish an SAE run's preset source into `directory`, or reuse the same run there (`saved_run`);
    returns the publishing steps that failed."""
    if saved_run(directory, to_config(source)) is not None:
        print(f"toyjax: source {source.sweep.name}: reusing {directory}")
        return []
    log.info("training the source %s into %s", source.sweep.name, directory)
    results = grid.run(source, checkpoint_dir=directory, command=["toyjax", *sys.argv[1:]])
    print(f"toyjax: source {source.sweep.name}: {results.loss.size} models in {results.timing['train_s']:.1f} s")
    return [f"source {line}" for line in publish.publish(results, directory).failed]


def saved_fingerprint(directory: Path) -> str | None:
    """The config fingerprint of the run saved in `directory`, or None where none is."""
    found = _saved(directory)
    return None if found is None else found[1]


def saved_run(directory: Path, conf) -> Results | None:
    """The run saved in `directory` if training `conf` here would give it again, else None: the same config,
    trained by the same package versions on the same kind of device (another version, or a GPU against a CPU,
    may give other bits)."""
    found = _saved(directory)
    if found is None or found[1] != fingerprint(conf):
        return None
    numerics.use_deterministic_ops()  # before this process's backend starts, as `toyjax.grid.run` does
    here = run_meta(jax.local_devices(), conf.train.matmul_precision)
    return found[0] if all(found[0].meta.get(k) == here[k] for k in SAME_RUN) else None


def _saved(directory: Path) -> tuple[Results, str] | None:
    """The run saved in `directory` and its config fingerprint, or None where there is no readable run."""
    try:
        saved = load(directory)
        return saved, fingerprint(to_config(saved.config))
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


def with_trained_source(cfg: DictConfig, out_dir: Path) -> tuple[DictConfig, list[str]]:
    """`cfg` with its preset:NAME source trained into ``<out_dir>/source`` and named by that directory, and the
    source's publishing steps that failed."""
    source = source_job(cfg)
    if source is None:
        return cfg, []
    check_source_of_checkpoint(source, out_dir)
    failed = train_source(source, out_dir / SOURCE_DIR)
    cfg = cfg.copy()
    with open_dict(cfg):
        cfg.sae.source, cfg.sae.source_overrides = str(out_dir / SOURCE_DIR), []
    return cfg, failed


def fingerprint(conf) -> str:
    """A short hash of the resolved engine config but its progress bar (the same config always gives the same
    results)."""
    fields = {k: v for k, v in dataclasses.asdict(conf).items() if k != "progress"}
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
