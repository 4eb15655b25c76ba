"""The plan: a validated config turned, once, into what the engine needs, before anything is compiled.

`make_plan(cfg)` expands the grid axes (their Cartesian product, in the order given, flattened) into
per-model host arrays (`toyjax.axes.point_arrays`), and collects everything that is fixed per compiled
program into the frozen, hashable `Static`: shapes, kinds, step counts. A new grid of values therefore
reuses the compiled program; only a new `Static` compiles a new one.

A run with a finite training set (Henighan et al. 2023) also fixes its largest T, the points per pass of
a full batch and the non-zero features stored per point (`toyjax.datasets`); the stratified evaluation
may leave out the strata of most active units below ``record.eval_tail`` of probability.

This module imports numpy, `toyjax.architecture`, `toyjax.axes`, `toyjax.config`, `toyjax.data`, `toyjax.datasets` and
`toyjax.errors`; it does no JAX work.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field

import numpy as np

from toyjax import axes, data, datasets
from toyjax.architecture import Architecture, architecture_of, describes_toy
from toyjax.config import Config
from toyjax.errors import ConfigError
from toyjax.family import Family
from toyjax.sae_config import SAEStatic


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
    data: data.DataSpec = field(default_factory=data.DataSpec)
    snapshot_steps: tuple[int, ...] = ()
    eval_units: int | None = None  # strata of at most this many active units; None: every stratum
    dataset_max: int | None = None  # the largest T of a finite training set; None: a fresh batch every step
    chunk: int = 0  # points per pass of a full batch
    active: int = 0  # non-zero features stored per training point
    family: Family | None = None  # the model family the engine is handed (`toyjax.family`)
    model: Architecture | None = None  # what a toy model is (`toyjax.architecture`); None for SAE runs
    sae: SAEStatic | None = None  # an SAE run's static settings (model "sae"); None for toy models
    activation_l1: bool = False  # whether the loss has the §9 penalty λ‖h‖₁ (some model's λ > 0)
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
        return cls(**copied, family=family, data=data.spec_of(dataclasses.asdict(cfg)),
                   snapshot_steps=snapshot_steps(cfg.train.steps, cfg.record.snapshots),
                   sae=SAEStatic.of(cfg.sae) if cfg.model.kind == "sae" else None,
                   model=architecture_of(cfg.model) if describes_toy(cfg.model.kind) else None,
                   options=_frozen(cfg.model.options),
                   activation_l1=axes.largest(cfg, "activation_l1") > 0)


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
    points: dict[str, np.ndarray]  # the `Point` fields and "seed", each with the flat model axis first

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return tuple(len(self.coords[d]) for d in self.dims)

    @property
    def n_models(self) -> int:
        return len(self.points["seed"])


def make_plan(cfg: Config, family: Family, source=None) -> Plan:
    """Expand the axes of a validated config into per-model arrays (no JAX work), for models of `family`.

    An SAE run needs its `source` (`toyjax.sources.Source`): every model takes the feature directions,
    densities and importances of its source cell.
    """
    dims = tuple(cfg.grid.axes)
    values = {axis: axes.axis_values(cfg, axis) for axis in dims}
    rows = [dict(zip(dims, combo)) for combo in itertools.product(*(values[a] for a in dims))]
    points = [axes.point_arrays(cfg, row) for row in rows]
    points = {k: np.stack([p[k] for p in points]) for k in points[0]}
    if cfg.model.kind == "sae":
        points = _with_source(points, source)
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
    on = data.count_bound(units, datasets.TRUNCATION_TAIL)
    active = min(spec.n_features, max(1, on * (spec.set_size if spec.kind == "correlated" else 1)))
    chunk = cfg.train.chunk_size if cfg.train.full_batch and cfg.train.chunk_size else largest
    return {**out, "dataset_max": int(largest), "chunk": int(chunk), "active": int(active)}


def _with_source(points: dict[str, np.ndarray], source) -> dict[str, np.ndarray]:
    """An SAE grid's points with each model's source cell: its directions, learned features and data."""
    if source is None:
        raise ConfigError("sae.source: an SAE run needs its source resolved (toyjax.sources.load)")
    cells = points.pop("source_cell")
    if cells.max() >= len(source.W):
        raise ConfigError(f"sae.source_cell: the source has {len(source.W)} cells, got {int(cells.max())}")
    out = dict(points, source=source.W[cells].astype(np.float32), learned=source.learned[cells])
    if source.density is not None:  # a trained source brings its own data; synthetic truth takes the config's
        out.update(density=source.density[cells].astype(np.float32),
                   importance=source.importance[cells].astype(np.float32))
    elif source.density_scale is not None:
        out["density"] = (points["density"] * source.density_scale).astype(np.float32)
        if out["density"].max() > 1:
            raise ConfigError(f"sae.density_decay: the first feature's density would be {out['density'].max():.3g} "
                              "> 1; lower the density or the decay's spread")
    return out


def _check_set_density(spec: data.DataSpec, density: np.ndarray) -> None:
    sets = density.reshape(len(density), spec.n_units, spec.set_size)
    if np.any(sets != sets[..., :1]):
        raise ConfigError(f"data.density: {spec.kind} features need one density per set of {spec.set_size}")
