"""Presets: one YAML per experiment of Elhage et al. (2022) in ``sweeps/``, composed over the Hydra schema.

The run schema is `toyjax.config.Config`, registered in Hydra's ConfigStore as the structured config
``toyjax_schema`` (with one extra top-level node, ``sweep``, naming the preset; `to_config` ignores it).
Every ``sweeps/*.yaml`` is registered as an option of the config group ``sweep`` (package ``_global_``), so
``toyjax sweep=phase_n3m2`` on the command line and ``toyjax.compose("phase_n3m2")`` in Python read the
same files. ``conf/`` and ``sweeps/`` ship inside the wheel as ``toyjax/conf`` and ``toyjax/sweeps``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from toyjax.config import AXES, Config

SCHEMA = "toyjax_schema"
GROUP = "sweep"
_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    """``toyjax/<name>`` in an installed wheel, else ``<repo>/<name>`` in an editable checkout."""
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def config_dir() -> Path:
    """The Hydra config root (holds ``config.yaml``)."""
    return _data_dir("conf")


def sweeps_dir() -> Path:
    """The directory of preset YAML files, one per experiment."""
    return _data_dir("sweeps")


def preset_names() -> list[str]:
    """Names of every preset, sorted."""
    return sorted(p.stem for p in sweeps_dir().glob("*.yaml"))


@dataclass
class SweepInfo:
    """Which preset a run came from, and the paper figure it reproduces (not seen by the engine)."""

    name: str = "custom"
    figure: str = ""


@dataclass
class AppConfig(Config):
    """`Config` plus the ``sweep`` node that names the preset."""

    sweep: SweepInfo = field(default_factory=SweepInfo)


_registered = False


def register() -> None:
    """Store the schema and every preset in Hydra's ConfigStore (idempotent)."""
    global _registered
    if _registered:
        return
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name=SCHEMA, node=AppConfig)
    for path in sorted(sweeps_dir().glob("*.yaml")):
        cs.store(group=GROUP, name=path.stem, node=OmegaConf.load(path), package="_global_")
    _registered = True


_NEW_AXIS = re.compile(rf"^(grid\.axes\.(?:{'|'.join(AXES)}))=")


def normalize_overrides(overrides: Sequence[str]) -> list[str]:
    """Let ``grid.axes.NAME=...`` add an axis that the preset lacks: rewrite it as ``++grid.axes.NAME=...``.

    ``grid.axes`` is a dict, and Hydra would otherwise demand a ``+`` for a new key.
    """
    return [_NEW_AXIS.sub(r"++\1=", o) for o in overrides]


def compose(preset: str | None = None, overrides: Sequence[str] = ()) -> DictConfig:
    """A run config from a preset in ``sweeps/`` plus command-line style overrides.

    >>> cfg = compose("intro", ["train.steps=100"])  # doctest: +SKIP
    >>> results = toyjax.run(cfg)  # doctest: +SKIP

    Args:
        preset: a name from `preset_names()`; None keeps the default (``conf/config.yaml``).
        overrides: Hydra overrides such as ``"train.steps=100"`` or ``"grid.axes.density=log:0.01:1:8"``.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register()
    args = ([f"{GROUP}={preset}"] if preset else []) + normalize_overrides(overrides)
    if GlobalHydra.instance().is_initialized():
        return hydra_compose("config", overrides=args)
    with initialize_config_dir(str(config_dir()), version_base="1.3", job_name="toyjax"):
        return hydra_compose("config", overrides=args)
