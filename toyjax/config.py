"""Run configuration: typed schemas, grid axes and validation.

A run is described by one `Config`: the shapes and step counts that are fixed per run (`model`, `data`
kinds, `train.steps`, ...) and the per-model values that a grid may vary (`density`, `lr`, `seed`, ...).
The schemas double as Hydra structured configs (see `toyjax.cli`); the engine only ever sees the plain
dataclasses returned by `to_config`, which checks every field before anything is compiled.

Vocabulary follows Elhage et al., "Toy Models of Superposition" (2022): density = 1 - S is the probability
that a feature is non-zero; it is never called "sparsity".
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

MODEL_KINDS = ("linear", "relu_output", "relu_hidden", "abs_mlp")
DATA_KINDS = ("independent", "correlated", "anticorrelated")
SCHEDULES = ("constant", "linear", "cosine", "warmup_cosine")

# Per-model values a grid may vary, and the config field that holds each one's default.
AXES = {
    "density": "data.density",
    "extra_density": "data.extra_density",
    "importance_decay": "data.importance_decay",
    "extra_importance": "data.extra_importance",
    "lr": "train.lr",
    "weight_decay": "train.weight_decay",
    "init_scale": "model.init_scale",
    "seed": "train.seed_index",
}


class ConfigError(ValueError):
    """A bad configuration value; the message names the field and what is allowed."""


@dataclass
class ModelConfig:
    """Architecture (static per run) and the init scale (per model)."""

    kind: str = "relu_output"
    n_features: int = 5
    n_hidden: int = 2
    init_scale: float = 1.0


@dataclass
class DataConfig:
    """Synthetic feature distribution and importance (paper §2)."""

    kind: str = "independent"
    set_size: int = 2
    signed: bool = False
    density: Any = 1.0
    extra_density: Any = None
    importance: Any = None
    importance_decay: float = 1.0
    extra_importance: Any = None


@dataclass
class TrainConfig:
    """Optimiser and loop settings; defaults are the companion notebook's."""

    steps: int = 10_000
    batch_size: int = 1024
    lr: float = 1e-3
    weight_decay: float = 0.01
    schedule: str = "constant"
    warmup_steps: int = 0
    seed: int = 0
    seed_index: int = 0


@dataclass
class GridConfig:
    """Grid axes (axis name -> values, in order) and how the flat grid is executed."""

    axes: dict[str, Any] = field(default_factory=dict)
    block_size: int | None = None
    shard: int = 0
    num_shards: int = 1
    compilation_cache: str | None = "~/.cache/toyjax/xla"


@dataclass
class RecordConfig:
    """What is recorded during and after training."""

    snapshots: int = 16
    snapshot_params: bool = True
    eval_samples: int = 256  # per stratum of the expected loss; more where there are few strata
    eval_seed: int = 1
    checkpoint_every: int = 2000


@dataclass
class Config:
    """A whole run: one compiled grid of toy models."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    grid: GridConfig = field(default_factory=GridConfig)
    record: RecordConfig = field(default_factory=RecordConfig)
    progress: bool = True


def to_config(raw: Any) -> Config:
    """Convert a `Config`, dict or OmegaConf node into a validated `Config`.

    Raises:
        ConfigError: naming the first bad field.
    """
    if isinstance(raw, Config):
        raw = dataclasses.asdict(raw)
    if not isinstance(raw, dict):
        from omegaconf import OmegaConf

        raw = OmegaConf.to_container(raw, resolve=True)
    raw = {k: v for k, v in raw.items() if k not in ("hydra", "sweep")}
    cfg = _build(Config, raw, "")
    validate(cfg)
    return cfg


def _build(cls: type, raw: dict, prefix: str) -> Any:
    """Build dataclass `cls` from a dict, rejecting unknown keys."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in raw.items():
        if key not in fields:
            raise ConfigError(f"{prefix}{key}: unknown key; allowed: {', '.join(fields)}")
        sub = _SECTIONS.get(key) if cls is Config else None
        kwargs[key] = _build(sub, value, f"{key}.") if sub else value
    return cls(**kwargs)


_SECTIONS = {
    "model": ModelConfig,
    "data": DataConfig,
    "train": TrainConfig,
    "grid": GridConfig,
    "record": RecordConfig,
}


def get_field(cfg: Config, dotted: str) -> Any:
    """Read a dotted field such as ``"data.density"``."""
    section, name = dotted.split(".")
    return getattr(getattr(cfg, section), name)


# --------------------------------------------------------------------------- validation


def validate(cfg: Config) -> None:
    """Check every field of `cfg`; raise `ConfigError` naming the first bad one."""
    m, d, t, r = cfg.model, cfg.data, cfg.train, cfg.record
    _choice("model.kind", m.kind, MODEL_KINDS)
    _choice("data.kind", d.kind, DATA_KINDS)
    _choice("train.schedule", t.schedule, SCHEDULES)
    for name, value in [
        ("model.n_features", m.n_features),
        ("model.n_hidden", m.n_hidden),
        ("train.steps", t.steps),
        ("train.batch_size", t.batch_size),
        ("data.set_size", d.set_size),
        ("record.eval_samples", r.eval_samples),
    ]:
        _int(name, value, low=1)
    _int("train.warmup_steps", t.warmup_steps, low=0, high=t.steps)
    _int("train.seed", t.seed, low=0)
    _int("record.snapshots", r.snapshots, low=0, high=t.steps)
    _int("record.eval_seed", r.eval_seed, low=0)
    _int("record.checkpoint_every", r.checkpoint_every, low=0)
    _bool("data.signed", d.signed)
    _bool("record.snapshot_params", r.snapshot_params)
    _bool("progress", cfg.progress)
    n = m.n_features
    if d.kind != "independent" and n % d.set_size:
        raise ConfigError(f"data.set_size: must divide model.n_features={n}, got {d.set_size}")
    if d.importance is not None:
        _vector("data.importance", d.importance, n, low=0.0)
    if (d.extra_density is not None or d.extra_importance is not None) and n < 2:
        raise ConfigError("model.n_features: an extra feature needs n_features >= 2")
    _int("grid.num_shards", cfg.grid.num_shards, low=1)
    _int("grid.shard", cfg.grid.shard, low=0, high=cfg.grid.num_shards - 1)
    if cfg.grid.block_size is not None:
        _int("grid.block_size", cfg.grid.block_size, low=1)
    unknown = [a for a in cfg.grid.axes if a not in AXES]
    if unknown:
        raise ConfigError(f"grid.axes.{unknown[0]}: unknown axis; allowed: {', '.join(AXES)}")
    for axis, dotted in AXES.items():
        check_axis_value(axis, get_field(cfg, dotted), n, dotted)
        if axis in cfg.grid.axes:
            for value in axis_values(cfg, axis):
                check_axis_value(axis, value, n, f"grid.axes.{axis}")


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name}: unknown value {value!r}; allowed: {', '.join(allowed)}")


def _int(name: str, value: Any, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}: expected an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ConfigError(f"{name}: must be {bound}, got {value}")


def _bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{name}: expected true or false, got {value!r}")


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{name}: expected a finite number, got {value!r}")
    return float(value)


def _vector(name: str, value: Any, n: int, low: float) -> None:
    if not isinstance(value, list | tuple) or len(value) != n:
        raise ConfigError(f"{name}: expected a list of model.n_features={n} numbers, got {value!r}")
    for v in value:
        if _number(name, v) < low:
            raise ConfigError(f"{name}: values must be >= {low}, got {v}")


def check_axis_value(axis: str, value: Any, n: int, where: str) -> None:
    """Check one value of a per-model setting; `where` names the field in errors."""
    if value is None and axis in ("extra_density", "extra_importance"):
        return
    if axis == "seed":
        _int(where, value, low=0)
        return
    if axis == "density" and isinstance(value, list | tuple):
        if len(value) != n:
            raise ConfigError(f"{where}: per-feature density needs model.n_features={n} values, got {len(value)}")
        for v in value:
            check_axis_value(axis, v, n, where)
        return
    x = _number(where, value)
    if axis in ("density", "extra_density") and not 0.0 < x <= 1.0:
        raise ConfigError(f"{where}: density must be in (0, 1], got {value}")
    if axis in ("lr", "init_scale", "importance_decay") and x <= 0.0:
        raise ConfigError(f"{where}: must be > 0, got {value}")
    if axis in ("weight_decay", "extra_importance") and x < 0.0:
        raise ConfigError(f"{where}: must be >= 0, got {value}")


# --------------------------------------------------------------------------- axis specs


def axis_values(cfg: Config, axis: str) -> list:
    """The list of values of grid axis `axis`, with range specs expanded.

    A spec is a list of values, a single value, an integer count for ``seed`` (``seed: 4`` means
    seeds 0..3), or a range string ``"log:START:STOP:NUM"`` / ``"lin:START:STOP:NUM"`` (endpoints
    included), e.g. ``density: "log:0.01:1:40"``.
    """
    spec = cfg.grid.axes[axis]
    where = f"grid.axes.{axis}"
    if axis == "seed" and isinstance(spec, int) and not isinstance(spec, bool):
        _int(where, spec, low=1)
        return list(range(spec))
    if isinstance(spec, str):
        return _parse_range(where, spec)
    if isinstance(spec, list | tuple):
        if not spec:
            raise ConfigError(f"{where}: needs at least one value")
        if axis == "density" and all(isinstance(v, list | tuple) for v in spec):
            return [list(v) for v in spec]
        return list(spec)
    return [spec]


def _parse_range(where: str, spec: str) -> list[float]:
    import numpy as np

    parts = spec.split(":")
    if len(parts) != 4 or parts[0] not in ("log", "lin"):
        raise ConfigError(f"{where}: range must look like 'log:START:STOP:NUM' or 'lin:START:STOP:NUM', got {spec!r}")
    try:
        start, stop, num = float(parts[1]), float(parts[2]), int(parts[3])
    except ValueError:
        raise ConfigError(f"{where}: range must look like 'log:START:STOP:NUM', got {spec!r}") from None
    if num < 1:
        raise ConfigError(f"{where}: NUM must be >= 1, got {num}")
    if parts[0] == "log":
        if start <= 0 or stop <= 0:
            raise ConfigError(f"{where}: log range endpoints must be > 0, got {spec!r}")
        return [float(v) for v in np.geomspace(start, stop, num)]
    return [float(v) for v in np.linspace(start, stop, num)]
