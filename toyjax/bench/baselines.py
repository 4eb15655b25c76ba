"""Baseline (a): the same models trained one grid point at a time by a jitted per-model loop.

``jit(train.make_train(static))`` (one model's whole run) is compiled once and called for each model in
turn, each call blocking until done: what a user gets by looping over grid points in Python around the
engine's own one-model training. Each call also ends with the model's final evaluation, which the engine's
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
    from toyjax import grid, train

    k = min(n_models, sample)
    plan = grid.make_plan(config_lib.to_config(workload.config(n_models, steps)))
    idx = np.linspace(0, n_models - 1, k).round().astype(int)
    points = [train.Point(**{f: jax.numpy.asarray(plan.points[f][i]) for f in train.Point._fields}) for i in idx]
    seeds = [jax.numpy.int32(plan.points["seed"][i]) for i in idx]
    base = jax.numpy.uint32(0)
    fn = jax.jit(train.make_train(plan.static))
    eval_key = jax.random.key(1)

    def all_models():
        for p, s in zip(points, seeds):
            jax.block_until_ready(fn(p, s, base, eval_key))

    stats = repeat(all_models, repeats, warmup=1)
    model_steps = k * steps
    return {
        "models_timed": k,
        "time_s": stats.to_dict(),
        "model_steps_per_s": stats.rate(model_steps),
        "note": "throughput of sequential calls does not depend on the grid size" if k < n_models else "",
    }
