"""The engine's functions jitted, sharded over the local devices, compiled ahead of time, and cached.

For one `Static` and device count, `Programs` jits `init`, `train` and `finish` of `toyjax.engine.train.make_train`
exactly as they are, with the model axis of a block sharded over every local device (`jax.sharding`), and
compiles them once per block shape. Programs are kept for the whole process (`programs_for`), and JAX's
persistent compilation cache (`enable_compilation_cache`) lets later runs and shards skip compiling.

This module imports jax, numpy, `toyjax.engine.plan` and `toyjax.engine.train`.
"""

from __future__ import annotations

import os
import time
from typing import Any, NamedTuple

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from toyjax.engine.plan import Static
from toyjax.engine.train import Block, make_train

# LLVM keeps to 256-bit vectors by default even where the CPU has 512-bit ones; allowing them measured
# 4-13% more model-steps/s on every benchmark workload. Other CPUs and other backends ignore it.
CPU_COMPILER_OPTIONS = {"xla_cpu_prefer_vector_width": 512}


class Compiled(NamedTuple):
    """The three executables of one block shape, and the shapes of a block's state and final records."""

    init: Any
    train: Any
    finish: Any
    state: Any  # pytree of ShapeDtypeStruct
    records: Any  # pytree of ShapeDtypeStruct


class Programs:
    """The jitted engine of one `Static` on `n_devices` devices, compiled once per block shape."""

    def __init__(self, static: Static, n_devices: int):
        mesh = Mesh(np.array(jax.local_devices()[:n_devices]), ("models",))
        self.sharding = NamedSharding(mesh, PartitionSpec("models"))
        self.replicated = NamedSharding(mesh, PartitionSpec())
        self.engine = make_train(static)
        self._jit = {
            "init": jax.jit(self.engine.init, out_shardings=self.sharding),
            "train": jax.jit(self.engine.train, out_shardings=self.sharding, donate_argnums=0),
            "finish": jax.jit(self.engine.finish, out_shardings=self.sharding),
        }
        self._compiled: dict[str, Compiled] = {}
        self.options = CPU_COMPILER_OPTIONS if mesh.devices.flat[0].platform == "cpu" else {}

    def put(self, block: Block) -> Block:
        """A host block on the devices: per-model arrays sharded over them, the rest replicated."""
        shard = jax.device_put((block.points, block.seed, block.slot), self.sharding)
        rest = jax.device_put((block.data_seeds, block.base_seed, block.eval_seed), self.replicated)
        return Block(*shard, *rest)

    def compiled(self, block: Block) -> tuple[Compiled, float]:
        """The programs compiled for this block's shapes (once per shape), and the seconds it took."""
        key = str(jax.tree.map(lambda a: (a.shape, a.dtype), block))
        if key in self._compiled:
            return self._compiled[key], 0.0
        count_cache_hits()
        start = time.perf_counter()
        state = jax.eval_shape(self._jit["init"], block)
        state_spec = jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=self.sharding), state)
        bound = jax.ShapeDtypeStruct((), np.int32)
        self._compiled[key] = Compiled(
            init=self._jit["init"].lower(block).compile(self.options),
            train=self._jit["train"].lower(state_spec, block, bound, bound).compile(self.options),
            finish=self._jit["finish"].lower(state_spec, block).compile(self.options),
            state=state,
            records=jax.eval_shape(self._jit["finish"], state, block),
        )
        return self._compiled[key], time.perf_counter() - start


_PROGRAM_CACHE: dict[tuple, Programs] = {}
CACHE_HITS = [0]  # programs loaded from the persistent compilation cache in this process


def programs_for(static: Static, n_devices: int) -> Programs:
    """Programs for `static`, reused by every run in this process."""
    key = (static, n_devices)
    if key not in _PROGRAM_CACHE:
        _PROGRAM_CACHE[key] = Programs(static, n_devices)
    return _PROGRAM_CACHE[key]


def clear_cache() -> None:
    """Forget every compiled program (frees their device memory once JAX's own caches are cleared)."""
    _PROGRAM_CACHE.clear()


def count_cache_hits() -> None:
    """Count persistent-cache hits (JAX reports them as monitoring events) into `CACHE_HITS`, once."""
    if getattr(count_cache_hits, "registered", False):
        return

    def listen(event: str, **_) -> None:
        if event == "/jax/compilation_cache/cache_hits":
            CACHE_HITS[0] += 1

    jax.monitoring.register_event_listener(listen)
    count_cache_hits.registered = True


def enable_compilation_cache(directory: str | None) -> None:
    """Use JAX's persistent compilation cache, so later runs and shards of the same shapes skip compiling."""
    if not directory:
        return
    jax.config.update("jax_compilation_cache_dir", os.path.expanduser(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
