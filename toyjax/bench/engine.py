"""Measurements of the engine itself: compile time, steady-state training time, FLOPs, memory.

The engine is driven through its public pieces (`toyjax.families.sae.sources.plan_run`, `toyjax.engine.runner.Runner`,
`toyjax.engine.blocks.block_size`, `toyjax.engine.programs.clear_cache`) so that the numbers are those a user gets from
`toyjax.run`. Compilation is measured on a
warm-up run of one block with fresh caches; the timed repeats then reuse the same compiled programs.
"""

from __future__ import annotations

import math
import resource
from typing import Any

from toyjax.bench.timing import Stats
from toyjax.bench.workloads import Workload


def block_for(workload: Workload, n_models: int, steps: int) -> tuple[int, Any]:
    """Models per device per call: the engine's own block size, shrunk to the grid when it is smaller.

    Presets whose grid is smaller than a block set ``grid.block_size`` to the grid (no padding); the
    benchmark does the same. Returns the block size and the run's `Static`.
    """
    import jax

    from toyjax import config as config_lib
    from toyjax.engine import blocks
    from toyjax.families.sae.sources import plan_run

    _, plan = plan_run(config_lib.to_config(workload.config(1, steps)))
    own = blocks.block_size(plan.static, blocks.device_memory(), blocks.device_aim())
    return min(math.ceil(n_models / jax.local_device_count()), own), plan.static


def measure(workload: Workload, n_models: int, steps: int, repeats: int) -> dict:
    """Compile and train `n_models` models of `workload` for `steps` steps; time `repeats` full runs."""
    import jax

    from toyjax import config as config_lib
    from toyjax.engine import programs
    block, static = block_for(workload, n_models, steps)
    per_call = block * jax.local_device_count()
    programs.clear_cache()
    jax.clear_caches()
    warm_cfg = config_lib.to_config(workload.config(min(n_models, per_call), steps, block_size=block))
    warm = runner_of(warm_cfg).run(progress=False)

    cfg = config_lib.to_config(workload.config(n_models, steps, block_size=block))
    runner = runner_of(cfg)
    timings = [runner.run(progress=False).timing for _ in range(repeats)]
    recompiled = sum(t["compile_s"] for t in timings)
    train = Stats.of([t["train_s"] for t in timings])
    model_steps = n_models * steps
    return {
        "block_size": block,
        "n_blocks": len(runner.layout.blocks),
        "compile_s": warm.timing["compile_s"],
        "recompile_s": recompiled,  # 0 when the timed runs reused the warm-up's programs
        "train_s": train.to_dict(),
        "eval_s": float(sum(t["eval_s"] for t in timings) / len(timings)),
        "model_steps": model_steps,
        "model_steps_per_s": train.rate(model_steps),
        "samples_per_s": train.rate(model_steps * static.batch_size),
        "engine_model_steps_per_s": [t["model_steps_per_s"] for t in timings],
        **peak_memory(),
    }


def runner_of(cfg):
    """The runner of a validated config, its plan made as `toyjax.run` makes it (an SAE's source resolved)."""
    from toyjax.engine.runner import Runner
    from toyjax.families.sae.sources import plan_run

    cfg, plan = plan_run(cfg)
    return Runner(plan, cfg)


def step_cost(workload: Workload, steps: int, block: int) -> dict:
    """XLA's cost analysis of one training step per model, from the engine's own `train` program.

    Compiles the engine's programs for one block and reads the `train` executable's ``cost_analysis()``:
    its loop over steps has traced bounds, so XLA counts the loop body, one step of a block of `block`
    models, once.
    XLA counts the integer operations of the random-number hash as "flops" too; they are measured on
    the draw alone, reported as ``draw_ops_per_model_step`` and left out of ``flops_per_model_step``,
    so that the FLOP rate compared with the matmul roofline is the training's floating-point work.
    """
    import jax

    from toyjax import config as config_lib
    cfg = config_lib.to_config(workload.config(block * jax.local_device_count(), steps, block_size=block))
    runner = runner_of(cfg)
    try:
        cost = runner.programs.compiled(runner.block(0))[0].train.cost_analysis()
    except (AttributeError, KeyError, TypeError) as err:
        return {"flops_per_model_step": None, "bytes_per_model_step": None, "cost_source": f"unavailable: {err!r}"}
    cost = _cost(cost)
    flops, moved = cost.get("flops"), cost.get("bytes accessed")
    draw_ops = draw_cost(runner.plan.static, runner.layout.n_slots)
    return {
        "flops_per_model_step": (float(flops) - draw_ops) / block if flops is not None else None,
        "draw_ops_per_model_step": draw_ops / block,
        "bytes_per_model_step": float(moved) / block if moved is not None else None,
        "cost_source": "XLA cost_analysis of the engine's train executable (its loop body: one step, per device), "
                       "less that of the step's random draw",
    }


def draw_cost(static, n_slots: int) -> float:
    """XLA's operation count of one step's random draw: `n_slots` batches of noise, one per data key."""
    import jax

    from toyjax import data

    def draw(seeds):
        keys = jax.vmap(jax.random.key)(seeds)
        return jax.vmap(lambda key: data.draw(static.data, static.batch_size, key=key))(keys)

    exe = jax.jit(draw).lower(jax.numpy.zeros(n_slots, jax.numpy.uint32)).compile()
    return float(_cost(exe.cost_analysis()).get("flops", 0.0))


def _cost(cost) -> dict:
    """One executable's cost dict, whichever form the backend returns it in."""
    return (cost[0] if isinstance(cost, list | tuple) else cost) or {}


def peak_memory() -> dict:
    """Peak device memory where the backend reports it; else the process's max RSS, labelled as such."""
    import jax

    stats = jax.local_devices()[0].memory_stats() or {}
    if "peak_bytes_in_use" in stats:
        return {"peak_memory_bytes": int(stats["peak_bytes_in_use"]),
                "peak_memory_source": "device peak_bytes_in_use (device 0, since process start)"}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {"peak_memory_bytes": int(rss),
            "peak_memory_source": "host process max RSS (backend reports no device memory; cumulative)"}
