"""The plan: a validated config turned, once, into what the engine needs, before anything is compiled.

`make_plan(cfg)` expands the grid axes (their Cartesian product, in the order given, flattened) into
per-model host arrays (`toyjax.axes.point_arrays`), and collects everything that is fixed per compiled
program into the frozen, hashable `Static`: shapes, kinds, step counts. A new grid of values therefore
reuses the compiled program; only a new `Static` compiles a new one.

This module imports numpy, `toyjax.axes`, `toyjax.config`, `toyjax.data` and `toyjax.errors`; it does no JAX work.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field

import numpy as np

from toyjax import axes, data
from toyjax.config import Config
from toyjax.errors import ConfigError


def _from(dotted: str):
    """A `Static` field copied from the config field `dotted`."""
    return field(metadata={"config": dotted})


@dataclass(frozen=True)
class Static:
    """Everything fixed per compiled program: shapes, step counts, kinds. Progress and logging are not here."""

    model: str = _from("model.kind")
    n_features: int = _from("model.n_features")
    n_hidden: int = _from("model.n_hidden")
    batch_size: int = _from("train.batch_size")
    steps: int = _from("train.steps")
    schedule: str = _from("train.schedule")
    warmup_steps: int = _from("train.warmup_steps")
    snapshot_params: bool = _from("record.snapshot_params")
    eval_samples: int = _from("record.eval_samples")
    data: data.DataSpec = field(default_factory=data.DataSpec)
    snapshot_steps: tuple[int, ...] = ()

    @classmethod
    def of(cls, cfg: Config) -> Static:
        """The `Static` of a validated config."""
        copied = {f.name: axes.get_field(cfg, f.metadata["config"]) for f in dataclasses.fields(cls) if f.metadata}
        return cls(**copied, data=data.spec_of(dataclasses.asdict(cfg)),
                   snapshot_steps=snapshot_steps(cfg.train.steps, cfg.record.snapshots))


def snapshot_steps(steps: int, count: int) -> tuple[int, ...]:
    """About `count` log-spaced step counts in [1, steps], always ending at `steps`."""
    if count == 0:
        return ()
    grid = np.unique(np.round(np.geomspace(1, steps, count)).astype(int))
    return tuple(int(s) for s in grid)


@dataclass(frozen=True)
class Plan:
    """A grid laid out for the engine: host-side arrays, before anything is compiled."""

    static: Static
    dims: tuple[str, ...]
    coords: dict[str, np.ndarray]
    points: dict[str, np.ndarray]  # the `Point` fields and "seed", each with the flat model axis first

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return tuple(len(self.coords[d]) for d in self.dims)

    @property
    def n_models(self) -> int:
        return len(self.points["seed"])


def make_plan(cfg: Config) -> Plan:
    """Expand the axes of a validated config into per-model arrays (no JAX work)."""
    dims = tuple(cfg.grid.axes)
    values = {axis: axes.axis_values(cfg, axis) for axis in dims}
    rows = [dict(zip(dims, combo)) for combo in itertools.product(*(values[a] for a in dims))]
    points = [axes.point_arrays(cfg, row) for row in rows]
    points = {k: np.stack([p[k] for p in points]) for k in points[0]}
    coords = {a: np.asarray(values[a], dtype=np.int64 if axes.AXES[a].integer else np.float64) for a in dims}
    static = Static.of(cfg)
    if static.data.kind != "independent":
        _check_set_density(static.data, points["density"])
    return Plan(static, dims, coords, points)


def _check_set_density(spec: data.DataSpec, density: np.ndarray) -> None:
    sets = density.reshape(len(density), spec.n_units, spec.set_size)
    if np.any(sets != sets[..., :1]):
        raise ConfigError(f"data.density: {spec.kind} features need one density per set of {spec.set_size}")
