"""A test of a missing solution: retrain a model from a start that has it, and compare expected losses.

When trained models never show a configuration the paper describes, two explanations compete: gradient
descent never reaches it, or it is not better. Retraining from a start that already has it (here: every
feature represented at norm 1) separates them: if training leaves it and ends no lower than the trained
models, it is not a better solution for this loss. The loop is the companion notebook's (AdamW, lr 1e-3,
weight decay 0.01, batch 1024, a fresh batch every step) on the engine's own loss and data, outside the
engine because it starts from given params. This module imports jax, numpy, optax and `toyjax` (data,
models, stratified, metrics).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from toyjax import data
from toyjax.families.toy import metrics, models, stratified

EVAL_SAMPLES = 2**14


def retrain(kind: str, params: dict, density, importance, spec: data.DataSpec, *, steps: int, key) -> dict:
    """`params` after `steps` of the notebook's AdamW on `kind`'s loss at `density` (n,), `importance` (n,)."""
    opt = optax.adamw(1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.01)
    density, importance = jnp.asarray(density, jnp.float32), jnp.asarray(importance, jnp.float32)

    def step(carry, k):
        p, state = carry
        x = data.sample(spec, 1024, density, key=k)
        grad = jax.grad(lambda p: jnp.mean(models.sample_loss(kind, p, x, importance)))(p)
        updates, state = opt.update(grad, state, p)
        return (optax.apply_updates(p, updates), state), None

    start = {k: jnp.asarray(v, jnp.float32) for k, v in params.items()}
    (final, _), _ = jax.jit(lambda p: jax.lax.scan(step, (p, opt.init(p)), jax.random.split(key, steps)))(start)
    return {k: np.asarray(v) for k, v in final.items()}


def every_feature_start(W: np.ndarray, b: np.ndarray, *, learned: float, seed: int) -> dict:
    """A trained (m, n) W with every feature of norm < `learned` replaced by a random unit direction, its
    bias set to −0.3 (a superposed feature's usual negative bias)."""
    rng = np.random.default_rng(seed)
    W, b = np.array(W, np.float32), np.array(b, np.float32)
    missing = metrics.feature_norms(W) < learned
    fresh = rng.normal(size=(W.shape[0], int(missing.sum())))
    W[:, missing] = fresh / np.linalg.norm(fresh, axis=0)
    b[missing] = -0.3
    return {"W": W, "b": b}


def expected(kind: str, params: dict, density, importance, spec: data.DataSpec) -> float:
    """The stratified expected loss of one model, with the engine's estimator and a fixed key."""
    p = {k: jnp.asarray(v, jnp.float32) for k, v in params.items()}
    return float(stratified.expected_loss(kind, spec, p, jnp.asarray(density, jnp.float32),
                                          jnp.asarray(importance, jnp.float32), samples=EVAL_SAMPLES,
                                          key=jax.random.PRNGKey(0)))
