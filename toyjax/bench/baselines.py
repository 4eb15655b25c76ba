"""Baseline (a): the same models trained one grid point at a time by a jitted per-model loop.

``jit(make_train(static).run)`` (a whole run, on a block of one model) is compiled once and called for each
model in turn, each call blocking until done: what a user gets by looping over grid points in Python around
the engine's own training. Each call also ends with the model's final evaluation, which the engine's
training time excludes; with ``record.eval_samples`` = 16 it is a small part of a run.
"""

from __future__ import annotations

from toyjax.bench.timing import repeat
from toyjax.bench.workloads import Workload


def per_model_loop(workload: Workload, n_models: int, steps: int, repeats: int, sample: int) -> dict:
    """Model-steps/s of a jitted one-model run called sequentially for `min(n_models, sample)` models.

    Sequential calls make the throughput independent of the grid size, so it is measured on a sample.
    """
    import jax
    import numpy as np

    from toyjax import config as config_lib
    from toyjax.engine import blocks
    from toyjax.engine.train import make_train
    from toyjax.families.sae.sources import plan_run

    k = min(n_models, sample)
    cfg, plan = plan_run(config_lib.to_config(workload.config(n_models, steps)))
    lay = blocks.layout(plan, per_call=1)
    idx = np.linspace(0, n_models - 1, k).round().astype(int)
    order = {int(b[0]): i for i, b in enumerate(lay.blocks)}
    calls = [blocks.block_arrays(plan, lay, order[i], cfg.train.base_seed, cfg.record.eval_seed) for i in idx]
    fn = jax.jit(make_train(plan.static).run)

    def all_models():
        for block in calls:
            jax.block_until_ready(fn(block))

    stats = repeat(all_models, repeats, warmup=1)
    model_steps = k * steps
    return {
        "models_timed": k,
        "time_s": stats.to_dict(),
        "model_steps_per_s": stats.rate(model_steps),
        "note": "throughput of sequential calls does not depend on the grid size" if k < n_models else "",
    }
