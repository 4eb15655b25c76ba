"""How much memory one model and a block of models need, read from the programs' own shapes, and how much there is.

One model's state is measured exactly: `jax.eval_shape` of the engine's `init` on a block of one model. What a
step and the final evaluation make beside it is read from the jaxprs of the engine's `train` and `finish` on that
block (traced, never compiled): their largest array that is not of a state array's shape (the state is updated in
place), counted `WORKING_COPIES` times for the arrays alive with it (XLA's own temporaries were 1.3 to 8 times
the largest array on the presets, on a CPU). A block of C models needs C times one model's memory.

`fit_block` refuses, before anything is compiled, a model that cannot fit in the memory there is, with one line
naming the config field that sizes its largest array (`sizes`: the engine's fields, and the family's own from
`toyjax.engine.family.Family.sizes`), the estimate and the limit. A block that does not fit gets a smaller size,
or, when ``grid.block_size`` asked for it, is refused naming that field. The memory there is: a device's free
memory where XLA reports it (GPUs), else its share of the host's available RAM (``MemAvailable`` of
``/proc/meminfo``, within a cgroup's limit). This module imports jax, numpy, `toyjax.axes`, `toyjax.errors`,
`toyjax.engine.plan` and `toyjax.engine.train`.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np
from jax.extend.core import ClosedJaxpr, Jaxpr

from toyjax.axes import to_point
from toyjax.engine.plan import Plan, Static
from toyjax.engine.train import Block, make_train
from toyjax.errors import ConfigError

log = logging.getLogger("toyjax")

WORKING_COPIES = 2  # arrays as large as a step's largest one, alive at once
Array = tuple[tuple[int, ...], object]  # an array's (shape, dtype)


class Footprint(NamedTuple):
    """One model's memory in bytes: its state, its largest working array, and the largest array of all."""

    state: int
    work: int
    largest: Array

    @property
    def total(self) -> int:
        """The estimate: the state and `WORKING_COPIES` of the largest working array."""
        return self.state + WORKING_COPIES * self.work


def nbytes(array: Array) -> int:
    """Bytes of an array given as (shape, dtype)."""
    shape, dtype = array
    return math.prod(shape) * dtype.itemsize


def footprint(plan: Plan) -> Footprint:
    """One model's `Footprint` in `plan`'s programs (traced once per `Static` and shapes)."""
    return _footprint(plan.static, tuple((k, v.shape[1:], v.dtype) for k, v in plan.points.items()))


def one_model(shapes: tuple) -> Block:
    """The shapes of a block that holds one model whose per-model arrays are `shapes`: (name, shape, dtype)."""
    points = to_point({k: jax.ShapeDtypeStruct((1, *shape), dtype) for k, shape, dtype in shapes})
    index, seed = jax.ShapeDtypeStruct((1,), np.int32), jax.ShapeDtypeStruct((), np.uint32)
    return Block(points, index, index, index, seed, seed)


@functools.lru_cache(maxsize=64)
def _footprint(static: Static, shapes: tuple) -> Footprint:
    """The `Footprint` of a model of `static` whose per-model arrays are `shapes` (cached: it traces two programs)."""
    engine = make_train(static)
    block = one_model(shapes)
    state = jax.eval_shape(engine.init, block)
    bound = jax.ShapeDtypeStruct((), np.int32)
    held = [(tuple(s.shape), s.dtype) for s in jax.tree.leaves(state)]
    traced = (jax.make_jaxpr(engine.train)(state, block, bound, bound), jax.make_jaxpr(engine.finish)(state, block))
    made = [a for closed in traced for a in arrays(closed.jaxpr) if a not in held]
    work = max(made, key=nbytes, default=((0,), np.dtype(np.float32)))
    return Footprint(sum(map(nbytes, held)), nbytes(work), max([*held, work], key=nbytes))


def arrays(jaxpr: Jaxpr) -> Iterator[Array]:
    """(shape, dtype) of every array an equation of `jaxpr` makes, inside its loops, branches and calls too."""
    for eqn in jaxpr.eqns:
        yield from ((tuple(v.aval.shape), v.aval.dtype) for v in eqn.outvars if hasattr(v.aval, "shape"))
        for param in eqn.params.values():
            for sub in param if isinstance(param, tuple | list) else (param,):
                if isinstance(sub, ClosedJaxpr | Jaxpr):
                    yield from arrays(sub.jaxpr if isinstance(sub, ClosedJaxpr) else sub)


def sizes(static: Static) -> list[tuple[str, int]]:
    """The config fields that size a model's arrays, each with the size it gives (the family's own first)."""
    finite = [("data.dataset_size", n) for n in (static.rows, static.dataset_max) if static.dataset_max]
    passes = ("train.chunk_size", static.chunk) if static.full_batch else ("train.batch_size", static.batch_size)
    return [*static.family.sizes(static), *finite, passes, ("record.eval_samples", static.eval_samples),
            ("model.n_features", static.n_features), ("model.n_hidden", static.n_hidden),
            ("record.snapshots", len(static.snapshot_steps))]


def field_of(static: Static, array: Array) -> str:
    """The config field that sizes `array`: the first whose size is its largest such dimension, else (a flattened
    array) the one of the largest size that divides a dimension."""
    named = [(name, size) for name, size in sizes(static) if size > 1]
    dims = sorted(array[0], reverse=True)
    exact = [name for dim in dims for name, size in named if size == dim]
    divides = sorted(((size, -i), name) for dim in dims for i, (name, size) in enumerate(named) if dim % size == 0)
    return exact[0] if exact else divides[-1][1] if divides else "model.n_features"


def available() -> int:
    """Bytes one local device can still use: its free memory where XLA reports it, else its share of the host's."""
    devices = jax.local_devices()
    stats = devices[0].memory_stats() or {}
    if "bytes_limit" in stats:
        return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
    return host_available() // len(devices)


def host_available() -> int:
    """The host's available RAM in bytes: ``MemAvailable`` within a cgroup's limit, else the free pages."""
    try:
        meminfo = Path("/proc/meminfo").read_text()
        free = int(re.search(r"^MemAvailable:\s+(\d+) kB", meminfo, re.M).group(1)) * 1024
    except (OSError, AttributeError):
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        room = sys.maxsize if limit == "max" else int(limit) - int(Path("/sys/fs/cgroup/memory.current").read_text())
    except (OSError, ValueError):
        room = sys.maxsize
    return min(free, room)


def readable(n: float) -> str:
    """Bytes in words, to 3 significant digits: ``3.2 GB``."""
    units = ("B", "KB", "MB", "GB", "TB")
    power = 0
    while n >= 1000 and power < len(units) - 1:
        n, power = n / 1000, power + 1
    return f"{n:.3g} {units[power]}"


def fit_block(plan: Plan, size: int, override: int | None = None) -> int:
    """`size` models per device, lowered to a power of two that fits in memory when it does not.

    Raises:
        ConfigError: one model does not fit, naming the field that sizes its largest array; or the block of
            ``grid.block_size`` (`override`) does not.
    """
    one, limit = footprint(plan), available()
    where = f"available on this {jax.local_devices()[0].platform} device"
    if one.total > limit:
        field, (shape, dtype) = field_of(plan.static, one.largest), one.largest
        raise ConfigError(f"{field}: one model needs about {readable(one.total)} of memory (its state "
                          f"{readable(one.state)}; its largest array, {dtype}{[d for d in shape if d > 1]}, "
                          f"{readable(nbytes(one.largest))}), more than the {readable(limit)} {where}; lower {field}")
    fits = limit // one.total
    if size <= fits:
        return size
    need = f"a block of {size} models needs about {readable(size * one.total)} of memory"
    if override is not None:
        raise ConfigError(f"grid.block_size: {need}, more than the {readable(limit)} {where}; at most {fits} "
                          f"fit (grid.block_size={fits})")
    lowered = 1 << (fits.bit_length() - 1)
    log.info("block size %d lowered to %d: %s, more than the %s %s", size, lowered, need, readable(limit), where)
    return lowered
