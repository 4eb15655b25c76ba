"""The grid: from a config to a whole grid of trained toy models, in compiled blocks.

The grid is the Cartesian product of the config's axes (``grid.axes``, in order), flattened. It runs in
*blocks* of a fixed number of models per device: the block size depends only on the shapes (n, m,
batch) and the device's memory, never on the grid, so every model always runs in exactly the same
compiled program. With a model's keys depending only on the base seed and its seed index, its result is
therefore bit-identical whatever the grid size, the number of blocks or the device count (XLA is only
deterministic for identical programs, not across batch shapes). The model axis of each call is sharded
over all local devices with `jax.sharding`.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from toyjax import config as config_lib
from toyjax import data
from toyjax.config import AXES, Config, ConfigError
from toyjax.results import Results

log = logging.getLogger(__name__)

PROGRESS_TICKS = 40  # segments per run, so progress and checkpoints come often enough
BLOCK_INPUTS = 2**17  # batch·n inputs per block (512 KiB of float32): a block's arrays stay in a core's L2 cache
MIN_BLOCK = 4  # models per device per call for large models, whose batched dots need a few models to be efficient
MAX_BLOCK = 1024  # models per device per call; larger blocks stop paying and pad small grids more
# LLVM keeps to 256-bit vectors by default even where the CPU has 512-bit ones; allowing them measured
# 4-13% more model-steps/s on every benchmark workload. Other CPUs and other backends ignore it.
CPU_COMPILER_OPTIONS = {"xla_cpu_prefer_vector_width": 512}


@dataclass(frozen=True)
class Plan:
    """A grid laid out for the engine: host-side arrays, before anything is compiled."""

    static: Any  # toyjax.train.Static
    dims: tuple[str, ...]
    coords: dict[str, np.ndarray]
    points: dict[str, np.ndarray]  # Point fields and "seed", each with leading flat model axis

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return tuple(len(self.coords[d]) for d in self.dims)

    @property
    def n_models(self) -> int:
        return len(self.points["seed"])


def make_plan(cfg: Config) -> Plan:
    """Expand the axes of a validated config into per-model arrays (no JAX work)."""
    from toyjax.train import Static

    dims = tuple(cfg.grid.axes)
    values = {axis: config_lib.axis_values(cfg, axis) for axis in dims}
    rows = [dict(zip(dims, combo)) for combo in itertools.product(*(values[a] for a in dims))]
    points = _stack([_point(cfg, row) for row in rows])
    coords = {axis: np.asarray(values[axis], dtype=np.int64 if axis == "seed" else np.float64) for axis in dims}
    spec = data.DataSpec(cfg.data.kind, cfg.model.n_features, cfg.data.set_size, cfg.data.signed)
    if spec.kind != "independent":
        _check_set_density(spec, points["density"])
    static = Static(
        model=cfg.model.kind,
        n_features=cfg.model.n_features,
        n_hidden=cfg.model.n_hidden,
        data=spec,
        batch_size=cfg.train.batch_size,
        steps=cfg.train.steps,
        schedule=cfg.train.schedule,
        warmup_steps=cfg.train.warmup_steps,
        segment_steps=math.ceil(cfg.train.steps / PROGRESS_TICKS),
        snapshot_steps=snapshot_steps(cfg.train.steps, cfg.record.snapshots),
        snapshot_params=cfg.record.snapshot_params,
        eval_samples=cfg.record.eval_samples,
    )
    return Plan(static, dims, coords, points)


def snapshot_steps(steps: int, count: int) -> tuple[int, ...]:
    """About `count` log-spaced step counts in [1, steps], always ending at `steps`."""
    if count == 0:
        return ()
    grid = np.unique(np.round(np.geomspace(1, steps, count)).astype(int))
    return tuple(int(s) for s in grid)


def _point(cfg: Config, row: dict[str, Any]) -> dict[str, np.ndarray]:
    """Per-model arrays for one grid point; axes in `row` override the config's defaults."""
    get = {axis: row.get(axis, config_lib.get_field(cfg, dotted)) for axis, dotted in AXES.items()}
    n = cfg.model.n_features
    return {
        "density": data.density_vector(n, get["density"], get["extra_density"]),
        "importance": data.importance_vector(n, get["importance_decay"], cfg.data.importance, get["extra_importance"]),
        "lr": np.float32(get["lr"]),
        "weight_decay": np.float32(get["weight_decay"]),
        "init_scale": np.float32(get["init_scale"]),
        "seed": np.int32(get["seed"]),
    }


def _stack(rows: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


def _check_set_density(spec: data.DataSpec, density: np.ndarray) -> None:
    sets = density.reshape(len(density), spec.n_units, spec.set_size)
    if np.any(sets != sets[..., :1]):
        raise ConfigError(f"data.density: {spec.kind} features need one density per set of {spec.set_size}")


# --------------------------------------------------------------------------- execution


def block_size(static, n_devices: int = 1, override: int | None = None) -> int:
    """Models per device in one compiled call: fixed by the shapes and device memory, never by the grid.

    About `BLOCK_INPUTS` inputs per step, a power of two between `MIN_BLOCK` and `MAX_BLOCK`, and at most
    a quarter of device memory. On the 2-core CPU of docs/benchmarks.md, blocks that fit the cache ran
    n=5, m=2 models 1.3x faster (16 models per block rather than 256).
    """
    if override is not None:
        return override
    n, m, b = static.n_features, static.n_hidden, static.batch_size
    by_work = min(MAX_BLOCK, max(MIN_BLOCK, 2 ** int(math.log2(max(1, BLOCK_INPUTS // (b * n))))))
    n_params = 2 * n * m + n
    per_model = 4 * (8 * b * (n + m) + n_params * (8 + len(static.snapshot_steps)))
    by_memory = max(1, _device_memory() // (4 * per_model))
    return int(min(by_work, by_memory))


def _device_memory() -> int:
    """Bytes of memory of one local device (host memory for the CPU)."""
    import jax

    stats = jax.local_devices()[0].memory_stats() or {}
    if "bytes_limit" in stats:
        return int(stats["bytes_limit"])
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // jax.local_device_count()


def run(cfg: Any, *, progress: bool | None = None, checkpoint_dir: str | os.PathLike | None = None) -> Results:
    """Train the whole grid described by `cfg` (a `Config`, dict or OmegaConf node); returns `Results`.

    With `checkpoint_dir`, the training state is saved there every ``record.checkpoint_every`` steps and
    after every block, and a run of the same config in the same directory continues where the last one
    stopped, with bit-identical results. The checkpoint is removed once the grid is trained.

    Raises:
        ConfigError: a bad config value (before anything is compiled), or a checkpoint of another run.
    """
    cfg = config_lib.to_config(cfg)
    plan = make_plan(cfg)
    _enable_compilation_cache(cfg.grid.compilation_cache)
    runner = Runner(plan, cfg)
    ckpt = None
    if checkpoint_dir is not None and cfg.record.checkpoint_every > 0:
        from toyjax.checkpoint import Checkpoint

        ckpt = Checkpoint(checkpoint_dir, runner.fingerprint())
    results = runner.run(progress=cfg.progress if progress is None else progress, checkpoint=ckpt)
    if ckpt is not None:
        ckpt.clear()
    return results


def _enable_compilation_cache(directory: str | None) -> None:
    """Use JAX's persistent compilation cache, so later runs and shards of the same shapes skip compiling."""
    if not directory:
        return
    import jax

    jax.config.update("jax_compilation_cache_dir", os.path.expanduser(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


class Runner:
    """Runs a `Plan` block by block and segment by segment with the engine's compiled programs."""

    def __init__(self, plan: Plan, cfg: Config):
        import jax

        self.plan, self.cfg = plan, cfg
        self.devices = jax.local_devices()
        self.per_call = block_size(plan.static, len(self.devices), cfg.grid.block_size) * len(self.devices)
        self.programs = _programs(plan.static, len(self.devices))

    def blocks(self) -> list[np.ndarray]:
        """Model indices of each call, in seed order so a block spans few seeds; the last block padded."""
        order = np.argsort(self.plan.points["seed"], kind="stable")
        n, size = self.plan.n_models, self.per_call
        return [order[np.minimum(np.arange(i, i + size), n - 1)] for i in range(0, n, size)]

    def seed_slots(self, blocks: list[np.ndarray]) -> int:
        """K, the most distinct seeds in any block: each block draws K batches of noise per step."""
        seeds = self.plan.points["seed"]
        return max(len(np.unique(seeds[b])) for b in blocks)

    def shard_blocks(self) -> list[np.ndarray]:
        """The blocks of shard ``grid.shard`` of ``grid.num_shards``: a contiguous, balanced range."""
        blocks, k, n = self.blocks(), self.cfg.grid.shard, self.cfg.grid.num_shards
        bounds = np.linspace(0, len(blocks), n + 1).round().astype(int)
        return blocks[bounds[k] : bounds[k + 1]]

    def fingerprint(self) -> dict[str, Any]:
        """What a checkpoint must match to be continued: the config, the block size and the devices."""
        cfg = asdict(self.cfg)
        cfg.pop("progress")
        return {"config": cfg, "per_call": self.per_call, "devices": len(self.devices)}

    def run(self, progress: bool = True, checkpoint=None) -> Results:
        import jax

        hits_before = CACHE_HITS[0]
        static, every_block = self.plan.static, self.blocks()
        self.n_slots = self.seed_slots(every_block)  # from the whole grid, so all shards share one program
        blocks = self.shard_blocks()
        if self.cfg.grid.num_shards > len(every_block):
            raise ConfigError(f"grid.num_shards: must be at most the grid's {len(every_block)} blocks of "
                              f"{self.per_call} models, got {self.cfg.grid.num_shards}")
        args = self._args(every_block[0])
        exe, compile_s = self.programs.compiled(args)
        state_shape, out_shape = self.programs.shapes(args)
        bar = _progress_bar(self._models(blocks).size * static.steps, progress)
        outputs, train_s, eval_s = [], 0.0, 0.0
        done = checkpoint.blocks_done if checkpoint else 0
        for i, block in enumerate(blocks):
            bar.set_description(f"block {i + 1}/{len(blocks)}")
            if i < done:
                outputs.append(checkpoint.finished_block(i, out_shape))
                bar.update(len(np.unique(block)) * static.steps)
                continue
            start = time.perf_counter()
            state, args = self._train_block(exe, i, block, bar, checkpoint, state_shape)
            train_s += time.perf_counter() - start
            start = time.perf_counter()
            outputs.append(jax.device_get(exe["finish"](state, args[0], args[4])))
            eval_s += time.perf_counter() - start
            if checkpoint:
                checkpoint.save_block(i, outputs[-1])
        bar.close()
        model_steps = self._models(blocks).size * static.steps
        timing = {
            "compile_s": compile_s,
            "train_s": train_s,
            "eval_s": eval_s,
            "model_steps_per_s": model_steps / max(train_s, 1e-9),
            "compilation_cache_hits": CACHE_HITS[0] - hits_before,
        }
        log.info("trained %d models x %d steps in %.1f s (+%.1f s compile, %.1f s evaluation)",
                 self.plan.n_models, static.steps, train_s, compile_s, eval_s)
        return self._assemble(blocks, outputs, timing)

    def _train_block(self, exe, index: int, block: np.ndarray, bar, checkpoint, state_shape):
        """Train block `index` from init, or from its checkpointed state; returns its state and call args.

        With a `checkpoint`, the state is saved whenever ``record.checkpoint_every`` steps have passed.
        """
        import jax

        static = self.plan.static
        args = points, slots, seeds, base, _ = self._args(block)
        real = len(np.unique(block))
        saved = checkpoint.saved_state(index, state_shape) if checkpoint else None
        if saved is None:
            state, k0 = exe["init"](points, base), 0
        else:
            state, k0 = jax.device_put(saved[0], self.programs.sharding), saved[1]
            bar.update(real * min(k0 * static.segment_steps, static.steps))
        for k in range(k0, static.n_segments):
            t0 = k * static.segment_steps
            state = jax.block_until_ready(exe["segment"](state, points, slots, seeds, base, np.int32(t0)))
            bar.update(real * (min(t0 + static.segment_steps, static.steps) - t0))
            if checkpoint and self._checkpoint_due(k) and k + 1 < static.n_segments:
                checkpoint.save_state(index, k + 1, state)
        return state, args

    def _checkpoint_due(self, segment: int) -> bool:
        """Whether segment `segment` crosses a multiple of ``record.checkpoint_every`` steps."""
        every, seg = self.cfg.record.checkpoint_every, self.plan.static.segment_steps
        return (segment + 1) * seg // every > segment * seg // every

    def _args(self, block: np.ndarray):
        """Device arrays of one call: points (sharded), seed slots, the K distinct seeds, base and eval seeds."""
        import jax
        import jax.numpy as jnp

        points = {k: v[block] for k, v in self.plan.points.items()}
        seeds, slots = np.unique(points["seed"], return_inverse=True)
        seeds = np.resize(seeds, self.n_slots) if len(seeds) < self.n_slots else seeds  # pad with repeats
        return (
            jax.device_put(points, self.programs.sharding),
            jax.device_put(slots.astype(np.int32), self.programs.sharding),
            jnp.asarray(seeds, dtype=jnp.int32),
            jnp.asarray(self.cfg.train.seed, dtype=jnp.uint32),
            jnp.asarray(self.cfg.record.eval_seed, dtype=jnp.uint32),
        )

    @staticmethod
    def _models(blocks: list[np.ndarray]) -> np.ndarray:
        """Flat grid indices of the distinct models in `blocks`, sorted."""
        return np.unique(np.concatenate(blocks)) if blocks else np.zeros(0, int)

    def _assemble(self, blocks: list[np.ndarray], outputs: list, timing: dict) -> Results:
        """Put the blocks' outputs back in grid order: the whole grid, or a shard's models on a flat axis."""
        import jax

        plan = self.plan
        models = self._models(blocks)
        where = np.searchsorted(models, np.concatenate(blocks))
        sharded = self.cfg.grid.num_shards > 1
        shape = (len(models),) if sharded else plan.grid_shape

        def grid(*leaves):
            flat = np.empty((len(models), *leaves[0].shape[1:]), leaves[0].dtype)
            flat[where] = np.concatenate(leaves)  # padding repeats a model, so it writes the same value
            return flat.reshape(shape + flat.shape[1:])

        out = jax.tree.map(grid, *outputs)
        history = dict(out["history"], step=np.asarray(plan.static.snapshot_steps, np.int64))
        return Results(
            dims=("model",) if sharded else plan.dims,
            coords={"model": models} if sharded else plan.coords,
            params=out["params"],
            loss=out["loss"],
            eval_loss=out["eval_loss"],
            history=history,
            diverged=out["diverged"],
            density=plan.points["density"][models].reshape(shape + (-1,)),
            importance=plan.points["importance"][models].reshape(shape + (-1,)),
            timing=timing,
            config=asdict(self.cfg),
            meta=_meta(self.devices),
        )


def _progress_bar(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="model-step", unit_scale=True, disable=not enabled, dynamic_ncols=True)


def _meta(devices) -> dict[str, Any]:
    """Package versions and the devices the run used."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for pkg in ("toyjax", "jax", "jaxlib", "optax", "numpy"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    return {
        "versions": versions,
        "platform": devices[0].platform,
        "device_kind": devices[0].device_kind,
        "device_count": len(devices),
    }


# --------------------------------------------------------------------------- compiled programs


class _Programs:
    """The three programs of one `Static` and device count (`init`, `segment`, `finish`), vmapped over models."""

    def __init__(self, static, n_devices: int):
        import jax
        from jax.sharding import Mesh, NamedSharding, PartitionSpec

        from toyjax import train

        mesh = Mesh(np.array(jax.local_devices()[:n_devices]), ("models",))
        self.sharding = NamedSharding(mesh, PartitionSpec("models"))

        def split(points):
            point = train.Point(**{k: v for k, v in points.items() if k != "seed"})
            return point, points["seed"]

        def init(points, base):
            def one(point, seed):
                return train.init_model(static, point, key=train.model_keys(base, seed).init)

            return jax.vmap(one)(*split(points))

        def segment(state, points, slots, seeds, base, t0):
            data_keys = jax.vmap(lambda s: train.model_keys(base, s).data)(seeds)
            return train.train_segment(static, state, split(points)[0], slots, data_keys, t0)

        def finish(state, points, eval_seed):
            def one(state, point):
                return train.finish(static, state, point, jax.random.key(eval_seed))

            return jax.vmap(one)(state, split(points)[0])

        self._jit = {
            "init": jax.jit(init, out_shardings=self.sharding),
            "segment": jax.jit(segment, out_shardings=self.sharding, donate_argnums=0),
            "finish": jax.jit(finish, out_shardings=self.sharding),
        }
        self._compiled: dict[str, dict[str, Any]] = {}

    def compiled(self, args) -> tuple[dict[str, Any], float]:
        """The programs compiled for these argument shapes (once per shape), and the seconds it took."""
        import jax

        key = str(jax.tree.map(lambda a: (a.shape, a.dtype), args))
        if key in self._compiled:
            return self._compiled[key], 0.0
        _count_cache_hits()
        start = time.perf_counter()
        points, slots, seeds, base, eval_seed = args
        options = CPU_COMPILER_OPTIONS if self.sharding.mesh.devices.flat[0].platform == "cpu" else {}
        init = self._jit["init"].lower(points, base).compile(options)
        state = jax.tree.map(
            lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=self.sharding), self.shapes(args)[0]
        )
        t0 = jax.ShapeDtypeStruct((), np.int32)
        segment = self._jit["segment"].lower(state, points, slots, seeds, base, t0).compile(options)
        finish = self._jit["finish"].lower(state, points, eval_seed).compile(options)
        self._compiled[key] = {"init": init, "segment": segment, "finish": finish}
        return self._compiled[key], time.perf_counter() - start

    def shapes(self, args) -> tuple[Any, Any]:
        """Shapes of a block's training state and of its final records, as pytrees of ShapeDtypeStruct."""
        import jax

        points, _, _, base, eval_seed = args
        state = jax.eval_shape(self._jit["init"], points, base)
        return state, jax.eval_shape(self._jit["finish"], state, points, eval_seed)


_PROGRAM_CACHE: dict[tuple, _Programs] = {}
CACHE_HITS = [0]  # programs loaded from the persistent compilation cache in this process


def _count_cache_hits() -> None:
    """Count persistent-cache hits (JAX reports them as monitoring events) into `CACHE_HITS`, once."""
    import jax

    if getattr(_count_cache_hits, "registered", False):
        return

    def listen(event: str, **_) -> None:
        if event == "/jax/compilation_cache/cache_hits":
            CACHE_HITS[0] += 1

    jax.monitoring.register_event_listener(listen)
    _count_cache_hits.registered = True


def clear_cache() -> None:
    """Forget every compiled program (frees their device memory once JAX's own caches are cleared)."""
    _PROGRAM_CACHE.clear()


def _programs(static, n_devices: int) -> _Programs:
    """Programs for `static`, reused by every run in this process."""
    key = (static, n_devices)
    if key not in _PROGRAM_CACHE:
        _PROGRAM_CACHE[key] = _Programs(static, n_devices)
    return _PROGRAM_CACHE[key]
