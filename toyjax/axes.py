"""The per-model schema: every value a grid may vary, its default, its check, and the `Point` the engine reads.

A grid axis is a name in `AXES`. Each entry says which config field holds the value when the grid does not
vary it, and how one value is checked. `point_arrays` turns one grid point's values into the per-model
arrays of `Point` (density and importance become per-feature vectors; ``dataset_size``, the T of a finite
training set, is there only when the run has one). Adding a grid axis is one edit here:
an `AXES` entry and, if every family reads it as it is, a `Point` field of the same name (a family's own axis
reaches its models through its `values` hook, in `Point.own`).

Vocabulary of Elhage et al., "Toy Models of Superposition" (2022): density = 1 − S is the probability that a
feature is non-zero, never "sparsity". This module imports numpy, `toyjax.checks` and `toyjax.errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from toyjax import checks
from toyjax.errors import ConfigError


class Point(NamedTuple):
    """Per-model values the engine reads; in a block every leaf has the model axis first.

    The fields are what every family shares; `own` holds the family's own per-model arrays, keyed by the names
    its `values` and `points` hooks give them (`toyjax.engine.family.Family`), and only those the run uses.
    """

    density: Any  # (n,) probability that each feature is non-zero
    importance: Any  # (n,) weight of each feature in the loss
    lr: Any  # () peak learning rate
    weight_decay: Any  # () AdamW weight decay, on W and b
    init_scale: Any  # () multiplies the Xavier-normal std
    dataset_size: Any = None  # () T, the number of training points (float32); None: a fresh batch every step
    own: dict = {}  # the family's own per-model values: a toy model's "activation_l1", an SAE's "k", ...


def _density(value: Any, where: str, n: int) -> None:
    if isinstance(value, list | tuple):
        if len(value) != n:
            raise ConfigError(f"{where}: per-feature density needs model.n_features={n} values, got {len(value)}")
        for v in value:
            _density(v, where, n)
        return
    if not 0.0 < checks.number(where, value) <= 1.0:
        raise ConfigError(f"{where}: density must be in (0, 1], got {value}")


def _positive(value: Any, where: str, n: int) -> None:
    if checks.number(where, value) <= 0.0:
        raise ConfigError(f"{where}: must be > 0, got {value}")


def _non_negative(value: Any, where: str, n: int) -> None:
    if checks.number(where, value) < 0.0:
        raise ConfigError(f"{where}: must be >= 0, got {value}")


def _seed_index(value: Any, where: str, n: int) -> None:
    checks.integer(where, value, low=0)


def _dataset_size(value: Any, where: str, n: int) -> None:
    """T >= 1 points; None (no finite training set, T = ∞) only as the config's default."""
    if value is None and where == AXES["dataset_size"].default:
        return
    checks.integer(where, value, low=1, high=MAX_DATASET_SIZE)


def _count(value: Any, where: str, n: int) -> None:
    checks.integer(where, value, low=1)


def _cell(value: Any, where: str, n: int) -> None:
    """A source cell's index; "all" (every cell) is resolved with the source, before the grid is planned."""
    if value != "all":
        checks.integer(where, value, low=0)


def _optional(check: Callable) -> Callable:
    """`check`, or nothing for None (the extra feature is then an ordinary one)."""
    return lambda value, where, n: None if value is None else check(value, where, n)


class Axis(NamedTuple):
    """One per-model value: the config field that holds its default, and the check of one value.

    An `integer` axis has integer values (a range spec is rounded to integers); a `count` axis also reads a
    single integer as a count (``seed: 4`` means seeds 0..3).
    """

    default: str
    check: Callable[[Any, str, int], None]
    integer: bool = False
    count: bool = False
    words: tuple[str, ...] = ()  # literal values that stand for several (resolved before planning)


MAX_DATASET_SIZE = 2**24  # T is carried as float32, exact up to 2**24


AXES = {
    "density": Axis("data.density", _density),
    "extra_density": Axis("data.extra_density", _optional(_density)),
    "importance_decay": Axis("data.importance_decay", _positive),
    "extra_importance": Axis("data.extra_importance", _optional(_non_negative)),
    "lr": Axis("train.lr", _positive),
    "weight_decay": Axis("train.weight_decay", _non_negative),
    "init_scale": Axis("model.init_scale", _positive),
    "activation_l1": Axis("model.activation_l1", _non_negative),
    "dataset_size": Axis("data.dataset_size", _dataset_size, integer=True),
    "seed": Axis("train.seed_index", _seed_index, integer=True, count=True),
    "l1_coefficient": Axis("sae.l1_coefficient", _non_negative),
    "k": Axis("sae.k", _count, integer=True),
    "dict_size": Axis("sae.dict_size", _optional(_count), integer=True),
    "source_cell": Axis("sae.source_cell", _cell, integer=True, words=("all",)),
}
VECTORS = ("density", "importance")  # Point fields built per feature from several axes (`point_arrays`)
OPTIONAL = ("dataset_size",)  # Point fields only some runs have
SCALARS = tuple(name for name in Point._fields if name not in VECTORS + OPTIONAL + ("own",))  # axis values as is


def get_field(cfg: Any, dotted: str) -> Any:
    """Read a dotted field such as ``"data.density"`` from a config object."""
    section, name = dotted.split(".")
    return getattr(getattr(cfg, section), name)


def density_vector(n: int, density: Any, extra: Any = None) -> np.ndarray:
    """Per-feature density (n,) from a scalar or a list; `extra` replaces the last feature's."""
    d = np.broadcast_to(np.asarray(density, np.float32), (n,)).copy()
    if extra is not None:
        d[-1] = extra
    return d


def importance_vector(n: int, decay: float, explicit: Any = None, extra: Any = None) -> np.ndarray:
    """Per-feature importance I (n,): explicit values, else decay**i; `extra` replaces the last one."""
    imp = np.asarray(explicit, np.float32) if explicit is not None else decay ** np.arange(n, dtype=np.float32)
    imp = imp.astype(np.float32).copy()
    if extra is not None:
        imp[-1] = extra
    return imp


def point_arrays(cfg: Any, row: dict[str, Any]) -> dict[str, np.ndarray]:
    """The `Point` fields and the seed index of one grid point; axes in `row` override the config's defaults.

    ``dataset_size`` is there only for a run with a finite training set (`largest` is not None).
    """
    get = {axis: row.get(axis, get_field(cfg, spec.default)) for axis, spec in AXES.items()}
    n = cfg.model.n_features
    finite = {} if get["dataset_size"] is None else {"dataset_size": np.float32(get["dataset_size"])}
    return {
        "density": density_vector(n, get["density"], get["extra_density"]),
        "importance": importance_vector(n, get["importance_decay"], cfg.data.importance, get["extra_importance"]),
        **{name: np.float32(get[name]) for name in SCALARS},
        **finite,
        "seed": np.int32(get["seed"]),
    }


def to_point(arrays: dict[str, Any]) -> Point:
    """The `Point` of a plan's per-model arrays: the shared fields as they are, every other one but the seed in
    `own`."""
    shared = {k: v for k, v in arrays.items() if k in Point._fields}
    return Point(**shared, own={k: v for k, v in arrays.items() if k not in Point._fields and k != "seed"})


def largest(cfg: Any, axis: str) -> Any:
    """The largest value of `axis` in the grid, or its config default when the grid does not vary it."""
    if axis in cfg.grid.axes:
        return max(axis_values(cfg, axis))
    return get_field(cfg, AXES[axis].default)


def check_reads(cfg: Any, read: tuple[str, ...], family_reads: tuple[str, ...], why: Callable[[str], str]) -> None:
    """Refuse every axis the run does not read: on its grid if its model kind does not read it (not in `read`),
    and its default field set away from the default if no kind of its family does (not in `family_reads`);
    `why(axis)` says why. Raises `ConfigError`."""
    for axis, spec in AXES.items():
        if axis not in read and axis in cfg.grid.axes:
            raise ConfigError(f"grid.axes.{axis}: {why(axis)}")
        if axis in family_reads:
            continue
        value, default = get_field(cfg, spec.default), field_default(cfg, spec.default)
        if value != default:
            raise ConfigError(f"{spec.default}: {why(axis)}; got {value!r}")


def field_default(cfg: Any, dotted: str) -> Any:
    """The default of a dotted field such as ``"data.density"``: its section's, as the section's class gives it."""
    section, name = dotted.split(".")
    return getattr(type(getattr(cfg, section))(), name)


def check_axes(cfg: Any) -> None:
    """Check every axis's default and, for the grid's axes, every listed value; raise `ConfigError`."""
    n = cfg.model.n_features
    unknown = [a for a in cfg.grid.axes if a not in AXES]
    if unknown:
        raise ConfigError(f"grid.axes.{unknown[0]}: unknown axis; allowed: {', '.join(AXES)}")
    for axis, spec in AXES.items():
        spec.check(get_field(cfg, spec.default), spec.default, n)
        if axis in cfg.grid.axes:
            for value in axis_values(cfg, axis):
                spec.check(value, f"grid.axes.{axis}", n)


def grid_axes(dims, coords: dict) -> dict[str, list]:
    """A trained or planned grid's axes and their values as plain lists, by name in the grid's order."""
    return {d: np.ravel(coords[d]).tolist() for d in dims}


def axis_values(cfg: Any, axis: str) -> list:
    """The values of grid axis `axis`, with range specs expanded; repeated values are refused.

    A spec is a list of values, a single value, an integer count for ``seed`` (``seed: 4`` means seeds
    0..3), or a range string ``"log:START:STOP:NUM"`` / ``"lin:START:STOP:NUM"`` (endpoints included),
    e.g. ``density: "log:0.01:1:40"``.
    """
    values = _expand(axis, cfg.grid.axes[axis], f"grid.axes.{axis}")
    seen = [tuple(v) if isinstance(v, list) else v for v in values]
    repeated = next((v for i, v in enumerate(seen) if v in seen[:i]), None)
    if repeated is not None:
        raise ConfigError(f"grid.axes.{axis}: values must not repeat, got {values[seen.index(repeated)]!r} twice")
    return values


def _expand(axis: str, spec: Any, where: str) -> list:
    if isinstance(spec, str) and spec in AXES[axis].words:
        return [spec]
    if AXES[axis].count and isinstance(spec, int) and not isinstance(spec, bool):
        checks.integer(where, spec, low=1)
        return list(range(spec))
    if isinstance(spec, str):
        values = parse_range(where, spec)
        return [int(round(v)) for v in values] if AXES[axis].integer else values
    if isinstance(spec, list | tuple):
        if not spec:
            raise ConfigError(f"{where}: needs at least one value")
        return [list(v) if isinstance(v, list | tuple) else v for v in spec]
    return [spec]


def parse_range(where: str, spec: str) -> list[float]:
    """``"log:START:STOP:NUM"`` or ``"lin:START:STOP:NUM"`` as NUM values, both endpoints included."""
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
