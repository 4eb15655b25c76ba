"""A plain Monte Carlo estimate of a toy model's expected loss, with its standard error, for dependent units.

The stratified estimate (`toyjax.families.toy.stratified`) weighs each pattern of active units by its exact
probability, which needs units that fire independently. A hierarchy or correlated firings
(`toyjax.data.structure`) break that, so the expected loss is then the mean of the per-sample loss over
`EVAL_BUDGET` samples of the data itself (`toyjax.data.sample`), drawn from the evaluation key shared by every
model (common random numbers, as the stratified estimate and the SAE family do), in passes of at least
``record.eval_samples`` samples (and at most `PASSES` passes); its standard error is std/√N. This module
imports jax, `toyjax.data`, `toyjax.families.toy.models` and `toyjax.families.toy.stratified` (its budget).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from toyjax import data
from toyjax.families.toy import models
from toyjax.families.toy.architecture import Architecture
from toyjax.families.toy.stratified import EVAL_BUDGET

PASSES = 64  # at most; a pass holds EVAL_BUDGET / PASSES samples, or record.eval_samples if more


def expected_loss(kind: Architecture | str, spec: data.DataSpec, params: models.Params, density: jax.Array,
                  importance: jax.Array, *, samples: int, key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(mean, standard error) of Σ_i I_i (y_i − x'_i)² over at least `EVAL_BUDGET` samples, passes of `samples` or
    more."""
    samples = max(samples, EVAL_BUDGET // PASSES)
    passes = max(1, -(-EVAL_BUDGET // samples))

    def one(p):
        x = data.sample(spec, samples, density, key=jax.random.fold_in(key, p))
        loss = models.sample_loss(kind, params, x, importance)
        return jnp.sum(loss), jnp.sum(loss * loss)

    total, squares = (jnp.sum(a) for a in jax.lax.map(one, jnp.arange(passes)))
    count = passes * samples
    mean = total / count
    variance = jnp.maximum(squares / count - mean * mean, 0.0) * count / (count - 1)
    return mean, jnp.sqrt(variance / count)
