"""Running a plan: block by block and segment by segment, with progress and checkpoint hooks, into `Results`.

Each block of the shard's `toyjax.engine.blocks.Layout` is initialised (or restored from its checkpoint), trained
segment by segment with the engine's compiled `train` (segments end at progress ticks and at checkpoint
steps; the program is the same whatever the cut), then evaluated by `finish`. The blocks' records are put
back in grid order. Timing counts only the steps this process trained, so a resumed run reports its true
speed. A run whose data's units are dependent says so in its meta (`toyjax.data.metadata`). This module imports
jax, numpy, `toyjax.data`, `toyjax.data.structure`, `toyjax.numerics`, `toyjax.engine.blocks`,
`toyjax.engine.checkpoint`, `toyjax.config`, `toyjax.engine.plan`, `toyjax.engine.programs`, `toyjax.progress`
and `toyjax.results`.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import jax
import numpy as np

from toyjax import data, numerics
from toyjax.config import Config, RunInfo
from toyjax.data import structure
from toyjax.engine import blocks, programs
from toyjax.engine.checkpoint import Checkpoint, digest
from toyjax.engine.plan import Plan
from toyjax.progress import Progress
from toyjax.results import Results, scatter

log = logging.getLogger("toyjax")

PROGRESS_TICKS = 40  # segments per block, so that progress and checkpoints come often enough


@dataclass
class Timing:
    """Seconds spent and model-steps trained by this process (a resumed run counts only its own steps)."""

    compile_s: float = 0.0
    train_s: float = 0.0
    eval_s: float = 0.0
    model_steps: int = 0
    resumed_model_steps: int = 0
    compilation_cache_hits: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "model_steps_per_s": self.model_steps / max(self.train_s, 1e-9)}


def segment_bounds(steps: int, start: int, every: int) -> list[int]:
    """Step counts at which a block's segments end: progress ticks, checkpoint steps and `steps`, after `start`."""
    tick = math.ceil(steps / PROGRESS_TICKS)
    ends = set(range(tick, steps, tick)) | set(range(every, steps, every) if every > 0 else ()) | {steps}
    return [start] + sorted(e for e in ends if e > start)


BASIC_RECORDS = ("params", "loss", "eval_loss", "diverged", "history")  # every family's; the rest are its own


class Runner:
    """Trains the shard of a `Plan` that its config names, with the engine's compiled programs."""

    def __init__(self, plan: Plan, cfg: Config):
        self.plan, self.cfg = plan, cfg
        self.devices = jax.local_devices()
        self.layout = blocks.plan_layout(plan, cfg.grid.block_size, cfg.grid.shard, cfg.grid.num_shards)
        self.programs = programs.programs_for(plan.static, len(self.devices))

    def fingerprint(self) -> dict[str, Any]:
        """What a checkpoint must match to be continued: the config, the bits of the plan's per-model values
        (those a family reads from elsewhere among them), the block size and the devices. A structure block of the
        data left out is left out of it too, so that a checkpoint written before the blocks existed still resumes."""
        cfg = asdict(self.cfg)
        cfg.pop("progress")
        cfg["data"] = {k: v for k, v in cfg["data"].items() if v is not None or k not in structure.BLOCKS}
        return {"config": cfg, "points": digest(self.plan.points), "per_call": self.layout.per_call,
                "devices": len(self.devices)}

    def block(self, index: int):
        """Call `index`'s inputs on the devices."""
        host = blocks.block_arrays(self.plan, self.layout, index, self.cfg.train.base_seed, self.cfg.record.eval_seed)
        return self.programs.put(host)

    def run(self, progress: bool = True, checkpoint: Checkpoint | None = None, run_info: RunInfo | None = None
            ) -> Results:
        """Train this shard's blocks (continuing from `checkpoint`), evaluate them, and assemble `Results`."""
        timing = Timing(compilation_cache_hits=-programs.CACHE_HITS[0])
        exe, timing.compile_s = self.programs.compiled(self.block(0))
        mine, steps = self.layout.mine, self.plan.static.steps
        first, start = checkpoint.resume_point() if checkpoint else (0, 0)
        timing.resumed_model_steps = self._real(mine[:first]) * steps + self._real(mine[first:first + 1]) * start
        bar = Progress(self._real(mine) * steps, progress, done=timing.resumed_model_steps)
        self._log_start(first, start)
        outputs = [self._block_records(k, i, exe, bar, timing, checkpoint) for k, i in enumerate(mine)]
        bar.close()
        timing.compilation_cache_hits += programs.CACHE_HITS[0]
        log.info("trained %d models x %d steps in %.1f s (%.1f s compile, %.1f s evaluation), %s model-steps/s",
                 len(self.layout.models()), steps, timing.train_s, timing.compile_s, timing.eval_s,
                 f"{timing.as_dict()['model_steps_per_s']:,.0f}")
        return self._assemble(outputs, timing.as_dict(), run_info or RunInfo())

    def _real(self, which: tuple[int, ...]) -> int:
        """How many distinct models the blocks `which` hold (padding repeats a model)."""
        return sum(len(np.unique(self.layout.blocks[i])) for i in which)

    def _log_start(self, first: int, start: int) -> None:
        lay, dev = self.layout, self.devices[0]
        log.info("devices: %d x %s (%s); %d models in %d blocks of %d (this shard: %d blocks)", len(self.devices),
                 dev.platform, dev.device_kind, self.plan.n_models, len(lay.blocks), lay.per_call, len(lay.mine))
        chunk_size = self.cfg.train.chunk_size
        if chunk_size is not None and chunk_size > self.plan.static.chunk:
            log.info("train.chunk_size %d is more than the largest training set: passes of its T=%d points",
                     chunk_size, self.plan.static.chunk)
        if first or start:
            message = f"resumed from block {first + 1}/{len(lay.mine)}, step {start}"
            log.info(message)
            print(f"toyjax: {message}", flush=True)

    def _block_records(self, k: int, index: int, exe, bar: Progress, timing: Timing, checkpoint) -> Any:
        """The final records of the shard's `k`-th block (grid block `index`): from the checkpoint or trained."""
        label = f"block {k + 1}/{len(self.layout.mine)}"
        if checkpoint is not None and k < checkpoint.blocks_done:
            return checkpoint.finished_block(k, exe.records)
        block = self.block(index)
        state, start = self._initial_state(k, exe, block, checkpoint)
        bar.set_phase(f"{label}: training")
        began = time.perf_counter()
        state = self._train(k, exe, block, state, start, bar, timing, checkpoint)
        timing.train_s += time.perf_counter() - began
        bar.set_phase(f"{label}: evaluating")
        began = time.perf_counter()
        records = jax.device_get(exe.finish(state, block))
        timing.eval_s += time.perf_counter() - began
        log.info("%s: %d models trained from step %d and evaluated", label, self._real((index,)), start)
        if checkpoint is not None:
            checkpoint.save_block(k, records)
        return records

    def _initial_state(self, k: int, exe, block, checkpoint) -> tuple[Any, int]:
        saved = checkpoint.saved_state(k, exe.state) if checkpoint is not None else None
        if saved is None:
            return exe.init(block), 0
        return jax.device_put(saved[0], self.programs.sharding), saved[1]

    def _train(self, k: int, exe, block, state, start: int, bar: Progress, timing: Timing, checkpoint) -> Any:
        """Steps `start` .. `steps` of one block, segment by segment, saving the state when a checkpoint is due."""
        steps, real = self.plan.static.steps, self._real((self.layout.mine[k],))
        every = checkpoint.every if checkpoint is not None else 0
        bounds = segment_bounds(steps, start, every)
        for t0, t1 in zip(bounds, bounds[1:]):
            state = jax.block_until_ready(exe.train(state, block, np.int32(t0), np.int32(t1)))
            bar.advance(real * (t1 - t0))
            timing.model_steps += real * (t1 - t0)
            if checkpoint is not None and checkpoint.due(t1, steps):
                checkpoint.save_state(k, t1, state)
                log.info("checkpoint: block %d/%d at step %d", k + 1, len(self.layout.mine), t1)
        return state

    def _assemble(self, outputs: list, timing: dict, run_info: RunInfo) -> Results:
        """The blocks' records in grid order: the whole grid, or a shard's models on a flat ``model`` axis."""
        plan, lay = self.plan, self.layout
        models = lay.models()
        sharded = self.cfg.grid.num_shards > 1
        shape = (len(models),) if sharded else plan.grid_shape
        index = np.searchsorted(models, np.concatenate([lay.blocks[i] for i in lay.mine]))
        out = scatter(jax.tree.map(lambda *leaves: np.concatenate(leaves), *outputs), index, len(models), shape)
        pick = {k: plan.points[k][models].reshape(shape + (-1,)) for k in ("density", "importance")}
        return Results(
            dims=("model",) if sharded else plan.dims,
            coords={"model": models} if sharded else plan.coords,
            params=out["params"], loss=out["loss"], eval_loss=out["eval_loss"], diverged=out["diverged"],
            history=dict(out["history"], step=np.asarray(plan.static.snapshot_steps, np.int64)),
            **pick, timing=timing, config=asdict(self.cfg), run_info=run_info,
            meta={**run_meta(self.devices, plan.static.matmul_precision), **data.metadata(plan.static.data)},
            records={k: v for k, v in out.items() if k not in BASIC_RECORDS},
            array_dims=plan.static.family.dims(asdict(self.cfg)),
        )


def run_meta(devices, precision: str) -> dict[str, Any]:
    """Package versions, the devices a run used, and its numerics (`toyjax.numerics.numerics`)."""
    versions = {}
    for pkg in ("toyjax", "jax", "jaxlib", "optax", "numpy"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    return {"versions": versions, "platform": devices[0].platform, "device_kind": devices[0].device_kind,
            "device_count": len(devices), **numerics.numerics(devices, precision)}
