"""How a plan's models are laid out in compiled calls: blocks of a fixed size, their seed slots, and shards.

A grid runs in *blocks* of a fixed number of models per device. The block size depends only on the shapes
(n, m, batch), the kind of device (`Aim`: a CPU's cache, an accelerator's kernel launches) and its memory, never
on the grid, so every model always runs in exactly the same compiled program. With a model's keys depending only
on the base seed and its seed index, its result is therefore bit-identical whatever the grid size, the number of
blocks or the device count (XLA is only deterministic for identical programs, not across batch shapes).

A block that would not fit in the memory there is gets fewer models (`toyjax.engine.memory`). This module imports
jax, numpy, `toyjax.axes`, `toyjax.errors`, `toyjax.engine.memory`, `toyjax.engine.plan` and `toyjax.engine.train`
(for the `Block` it fills).
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass

import jax
import numpy as np

from toyjax.axes import to_point
from toyjax.engine import memory
from toyjax.engine.plan import Plan, Static
from toyjax.engine.train import Block
from toyjax.errors import ConfigError

log = logging.getLogger("toyjax")

MIN_BLOCK = 4  # models per device per call for large models, whose batched dots need a few models to be efficient


@dataclass(frozen=True)
class Aim:
    """What a block aims at on one kind of device: batch·n inputs per step, and at most `max_models` models."""

    inputs: int
    max_models: int


# A CPU block's arrays stay in a core's L2 cache (512 KiB of float32 inputs): on the 2-core CPU of
# docs/benchmarks.md, blocks that fit it ran n=5, m=2 models 1.3x faster (16 models per block rather than 256).
# Larger blocks stop paying and pad small grids more.
CPU = Aim(inputs=2**17, max_models=1024)
# An accelerator's step is a few dozen kernel launches whatever the block holds: on one H200, an intro step took
# 212 µs with one model and 228 µs with 16, and blocks of 16 to 64 models ran no faster than two CPU cores, flat
# from 256 to 65,536 models (docs/benchmarks.md, "On a GPU"). Its
# blocks hold 32 times the inputs (16 MiB of float32 per array: a step's passes stay short of the launches' time
# at the H200's bandwidth), and pad a small grid to 4,096 models at most.
ACCELERATOR = Aim(inputs=2**22, max_models=4096)

# XLA compiles a block of one model otherwise (its model axis of size 1 folded away), and its bits then differ
# from every larger block's: after 300 steps by up to 0.05 in an SAE's W_dec, 4e-3 in a finite-data W. Blocks of
# 2, 3 and the default agreed to the bit (toy, finite full batch and minibatch, every SAE kind), so no block
# runs fewer models than this unless memory holds only one.
MIN_COMPILED = 2


def block_size(static: Static, memory: int, aim: Aim, override: int | None = None) -> int:
    """Models per device in one compiled call: fixed by the shapes, the device's `memory` (bytes) and its kind.

    About `aim.inputs` inputs per step, a power of two between `MIN_BLOCK` and `aim.max_models`, and at most
    a quarter of device memory; `MIN_COMPILED` at least, ``grid.block_size`` (`override`) included.
    """
    if override is not None:
        return max(MIN_COMPILED, override)
    n, m = static.n_features, static.n_hidden
    b = static.chunk if static.full_batch else static.batch_size  # points a model reads per pass
    by_work = min(aim.max_models, max(MIN_BLOCK, 2 ** int(math.log2(max(1, aim.inputs // (b * n))))))
    n_params = 2 * n * m + n
    per_model = 4 * (8 * b * (n + m) + n_params * (8 + len(static.snapshot_steps)))
    if static.dataset_max is not None:  # the stored training set, and D_t of every point at every snapshot
        per_model += 4 * static.rows * (2 * static.active + m + 2 + len(static.snapshot_steps))
    return int(min(by_work, max(MIN_COMPILED, memory // (4 * per_model))))


def device_aim() -> Aim:
    """The block aim of this process's devices: `CPU` on CPUs, `ACCELERATOR` on GPUs and TPUs."""
    return CPU if jax.local_devices()[0].platform == "cpu" else ACCELERATOR


def device_memory() -> int:
    """Bytes of memory of one local device (host memory shared by the CPU devices)."""
    stats = jax.local_devices()[0].memory_stats() or {}
    if "bytes_limit" in stats:
        return int(stats["bytes_limit"])
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // jax.local_device_count()


@dataclass(frozen=True)
class Layout:
    """Every block of a grid, the K seed slots of each call, and the blocks this shard trains."""

    per_call: int  # models per call: the block size times the number of devices
    blocks: tuple[np.ndarray, ...]  # flat model indices of each call, the last one padded with repeats
    n_slots: int  # K, the most distinct seeds in any block of the whole grid (all shards share one program)
    mine: tuple[int, ...]  # indices into `blocks` of this shard's blocks

    def models(self, which: tuple[int, ...] | None = None) -> np.ndarray:
        """Flat grid indices of the distinct models in the blocks `which` (default: this shard's), sorted."""
        which = self.mine if which is None else which
        return np.unique(np.concatenate([self.blocks[i] for i in which])) if which else np.zeros(0, int)


def layout(plan: Plan, per_call: int, shard: int = 0, num_shards: int = 1) -> Layout:
    """Blocks of `per_call` models in seed order (so a block spans few seeds), and shard `shard`'s range.

    Raises:
        ConfigError: more shards than blocks.
    """
    order = np.argsort(plan.points["seed"], kind="stable")
    n = plan.n_models
    blocks = tuple(order[np.minimum(np.arange(i, i + per_call), n - 1)] for i in range(0, n, per_call))
    if num_shards > len(blocks):
        raise ConfigError(f"grid.num_shards: must be at most the grid's {len(blocks)} blocks of {per_call} "
                          f"models, got {num_shards}")
    seeds = plan.points["seed"]
    n_slots = max(len(np.unique(seeds[b])) for b in blocks)
    bounds = np.linspace(0, len(blocks), num_shards + 1).round().astype(int)
    return Layout(per_call, blocks, n_slots, tuple(range(bounds[shard], bounds[shard + 1])))


def plan_layout(plan: Plan, block_override: int | None, shard: int = 0, num_shards: int = 1) -> Layout:
    """The layout of `plan` on this process's local devices (a block per device per call), in the memory there is.

    Raises:
        ConfigError: more shards than blocks; a model, or the block ``grid.block_size`` asks for, that does not
            fit in memory (`toyjax.engine.memory.fit_block`).
    """
    size = memory.fit_block(plan, block_size(plan.static, device_memory(), device_aim(), block_override),
                            block_override)
    if block_override is not None and block_override < size:
        log.info("grid.block_size=%d runs as blocks of %d (the last padded): a block of one model compiles to "
                 "another program, whose bits differ", block_override, size)
    return layout(plan, size * jax.local_device_count(), shard, num_shards)


def block_arrays(plan: Plan, lay: Layout, index: int, base_seed: int, eval_seed: int) -> Block:
    """The host arrays of call `index`: its models' points and seeds, and the K distinct seeds they draw from."""
    models = lay.blocks[index]
    points = to_point({k: v[models] for k, v in plan.points.items()})
    seed = plan.points["seed"][models]
    distinct, slot = np.unique(seed, return_inverse=True)
    distinct = np.resize(distinct, lay.n_slots)  # pad with repeats: every call has K slots
    return Block(points, seed, slot.astype(np.int32), distinct.astype(np.int32), np.uint32(base_seed),
                 np.uint32(eval_seed))
