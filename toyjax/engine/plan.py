"""The plan: a validated config turned, once, into what the engine needs, before anything is compiled.

`make_plan(cfg)` expands the grid axes (their Cartesian product, in the order given, flattened) into
per-model host arrays (`toyjax.axes.point_arrays`), and collects everything that is fixed per compiled
program into the frozen, hashable `Static`: shapes, kinds, step counts. A new grid of values therefore
reuses the compiled program; only a new `Static` compiles a new one.

A run with a finite training set (Henighan et al. 2023) also fixes its largest T, the points per pass of
a full batch (``train.chunk_size``, at most the largest T: a longer pass would only add padding) and the
non-zero features stored per point (`toyjax.data.datasets`); the stratified evaluation
may leave out the strata of most active units below ``record.eval_tail`` of probability.

The run's firing profile (``data.firing``, `toyjax.data.structure`) shapes every model's densities here, so
that each model's `Point.density` is its features' firing probabilities.

This module imports numpy, `toyjax.axes`, `toyjax.config`, `toyjax.data`, `toyjax.data.datasets`,
`toyjax.data.structure` and `toyjax.errors`; it does no JAX work.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from toyjax import axes, data
from toyjax.config import Config
from toyjax.data import datasets, structure
from toyjax.engine.family import Family
from toyjax.errors import ConfigError


def _from(dotted: str):
    """A `Static` field copied from the config field `dotted`."""
    return field(metadata={"config": dotted})


@dataclass(frozen=True)
class Static:
    """Everything fixed per compiled program: shapes, step counts, kinds. Progress and logging are not here."""

    n_features: int = _from("model.n_features")
    n_hidden: int = _from("model.n_hidden")
    batch_size: int = _from("train.batch_size")
    steps: int = _from("train.steps")
    schedule: str = _from("train.schedule")
    warmup_steps: int = _from("train.warmup_steps")
    snapshot_params: bool = _from("record.snapshot_params")
    eval_samples: int = _from("record.eval_samples")
    full_batch: bool = _from("train.full_batch")
    matmul_precision: str = _from("train.matmul_precision")
    data: data.DataSpec = field(default_factory=data.DataSpec)
    snapshot_steps: tuple[int, ...] = ()
    eval_units: int | None = None  # strata of at most this many active units; None: every stratum
    dataset_max: int | None = None  # the largest T of a finite training set; None: a fresh batch every step
    chunk: int = 0  # points per pass of a full batch
    active: int = 0  # non-zero features stored per training point
    family: Family | None = None  # the model family the engine is handed (`toyjax.engine.family`)
    settings: Any = None  # the family's own static settings (`Family.settings`), hashable
    options: tuple = ()  # a family of one's own's ``model.options``, as sorted (name, value) pairs

    def option(self, name: str, default=None):
        """One of ``model.options`` (lists come back as tuples), or `default`."""
        return dict(self.options).get(name, default)

    @property
    def rows(self) -> int:
        """Points stored per model: the largest T rounded up to whole passes."""
        return -(-self.dataset_max // self.chunk) * self.chunk if self.dataset_max else 0

    @classmethod
    def of(cls, cfg: Config, family: Family) -> Static:
        """The `Static` of a validated config, trained by `family`."""
        copied = {f.name: axes.get_field(cfg, f.metadata["config"]) for f in dataclasses.fields(cls) if f.metadata}
        return cls(**copied, family=family, settings=family.settings(cfg),
                   data=data.spec_of(dataclasses.asdict(cfg)), options=_frozen(cfg.model.options),
                   snapshot_steps=snapshot_steps(cfg.train.steps, cfg.record.snapshots))


def _frozen(value):
    """A hashable copy of plain config values: dicts as sorted pairs, lists as tuples."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return tuple(_frozen(v) for v in value) if isinstance(value, list | tuple) else value


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
    points: dict[str, np.ndarray]  # the `Point` fields, the family's own and "seed", each with the model axis first

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return tuple(len(self.coords[d]) for d in self.dims)

    @property
    def n_models(self) -> int:
        return len(self.points["seed"])


def make_plan(cfg: Config, family: Family, source=None) -> Plan:
    """Expand the axes of a validated config into per-model arrays (no JAX work), for models of `family`.

    The family adds its own per-model values (`Family.values`) and completes the arrays (`Family.points`:
    an SAE run's models take the directions, densities and importances of their `source`'s cells).
    """
    dims = tuple(cfg.grid.axes)
    values = {axis: axes.axis_values(cfg, axis) for axis in dims}
    rows = [dict(zip(dims, combo)) for combo in itertools.product(*(values[a] for a in dims))]
    points = [{**axes.point_arrays(cfg, row), **family.values(cfg, row)} for row in rows]
    points = {k: np.stack([p[k] for p in points]) for k in points[0]}
    points = family.points(cfg, dict(points, density=structure.shaped(cfg.data.firing, points["density"])), source)
    coords = {a: np.asarray(values[a], dtype=np.int64 if axes.AXES[a].integer else np.float64) for a in dims}
    static = Static.of(cfg, family)
    if static.data.kind != "independent":
        _check_set_density(static.data, points["density"])
    return Plan(dataclasses.replace(static, **sizes(cfg, static.data, points["density"])), dims, coords, points)


def sizes(cfg: Config, spec: data.DataSpec, density: np.ndarray) -> dict:
    """The `Static` fields fixed by the whole grid: strata of the evaluation, and the training set's sizes."""
    units = density if spec.kind == "independent" else density[:, :: spec.set_size]
    bound = data.count_bound(units, cfg.record.eval_tail)
    out = {"eval_units": bound if bound < spec.n_units else None}
    largest = axes.largest(cfg, "dataset_size")
    if largest is None:
        return out
    on = data.count_bound(units, datasets.TRUNCATION_TAIL) if spec.correlation is None else spec.n_units
    active = min(spec.n_features, max(1, on * (spec.set_size if spec.kind == "correlated" else 1)))
    chunk = min(cfg.train.chunk_size, largest) if cfg.train.full_batch and cfg.train.chunk_size else largest
    return {**out, "dataset_max": int(largest), "chunk": int(chunk), "active": int(active)}


def _check_set_density(spec: data.DataSpec, density: np.ndarray) -> None:
    sets = density.reshape(len(density), spec.n_units, spec.set_size)
    if np.any(sets != sets[..., :1]):
        raise ConfigError(f"data.density: {spec.kind} features need one density per set of {spec.set_size}")
