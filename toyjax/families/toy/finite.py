"""The engine's finite-data source: each model trains on its own T points (Henighan et al. 2023).

"Superposition, Memorization, and Double Descent" (Anthropic, 2023) trains the ReLU-output toy model on a
fixed training set X (n, T) with L = (1/T) Σ_t Σ_i I_i (x_ti − x'_ti)², full batch. Its setting, as its
§"Experiment Setup" states it (transformer-circuits.pub/2023/toy-double-descent): n = 10,000 features,
S = 0.999 (density 0.001), values Uniform[0, 1], every x rescaled to ‖x‖ = 1, I_i = 1, Xavier init, m = 2
for the figures, 50,000 full-batch AdamW updates, a 2,500-step linear warm-up to lr 1e-3 then cosine
decay to 0, weight decay 1e-2, 4 dataset seeds per T (test losses averaged), and in some experiments the
lowest-training-loss initialisation kept. It does not say how its test loss is estimated nor which T it
spans (sweeps/double_descent.yaml says what toyjax chose). Here every model of a block holds its
training set (`toyjax.data.datasets`) in its state, padded to the grid's largest T with points that weigh 0,
so that one compiled program trains every T.

- **Full batch** (`full_batch`): the loss is a sum over passes of `chunk` points, each point weighted
  1/T and the padding 0. The number of passes is that of the block's largest T, so a block of small
  sets skips the passes that hold only padding; a pass that holds only a model's padding adds exactly
  zero to its loss and gradients, so its bits do not depend on the block it is in.
- **Minibatches**: each step draws `batch_size` of a model's T points uniformly, with replacement, from
  one uniform per point shared by the models of a seed (index ⌊u·T⌋).

`records` gives what a finite-data model ends with: the training loss on its T points, and per point the
hidden vector h_t = W x_t, its loss, the loss of a zero output, and its dimensionality
D_t = ‖h_t‖⁴ / Σ_s (h_t·h_s)² over the training points (the follow-up's data-point dimensionality; m/T
for a T-gon in m = 2).

This module imports jax, `toyjax.axes`, `toyjax.data`, `toyjax.data.datasets`, `toyjax.families.toy.metrics`,
`toyjax.families.toy.models`, `toyjax.engine.plan` and `toyjax.sums`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from toyjax import data
from toyjax.axes import Point
from toyjax.data import datasets
from toyjax.data.datasets import Dataset
from toyjax.engine.plan import Static
from toyjax.families.toy import models
from toyjax.families.toy.metrics import data_dimensionality
from toyjax.sums import pairwise_sum


class TrainingSet(NamedTuple):
    """A model's training set in its state: the stored points, and how many of them lost features."""

    points: Dataset  # leaves (rows, K)
    truncated: jax.Array  # () int32


def training_set(static: Static, point: Point, *, key: jax.Array) -> TrainingSet:
    """The model's `static.rows` points, drawn once from its data key (`fold_in(key, 0)`) and its densities."""
    stored, truncated = datasets.draw(static.data, point.density, static.rows, static.active,
                                      key=jax.random.fold_in(key, 0))
    return TrainingSet(stored, truncated)


def sample_losses(static: Static, params: models.Params, x: jax.Array, point: Point) -> jax.Array:
    """Each sample's loss (batch,) of x (n, batch): the weighted error, plus λ‖h‖₁ when the run has the §9
    penalty (`toyjax.families.toy.train.Settings.activation_l1`; without it the program has no trace of the penalty)."""
    if static.settings.activation_l1:
        return models.penalized_loss(static.settings.model, params, x, point.importance, point.own["activation_l1"])
    return models.sample_loss(static.settings.model, params, x, point.importance)


def weighted_loss(static: Static, params: models.Params, points: Dataset, weight: jax.Array, point: Point
                  ) -> jax.Array:
    """Σ_p w_p L_p over stored points (P, K) with weights (P,) (`sample_losses`)."""
    x = datasets.densify(static.n_features, points)
    return jnp.sum(weight * sample_losses(static, params, x, point))


def pass_loss(static: Static, params: models.Params, stored: Dataset, point: Point, c: jax.Array) -> jax.Array:
    """Pass c of a full batch: its `chunk` points weighted 1/T each, those at or beyond T weighted 0."""
    start = c * static.chunk
    t = start + jnp.arange(static.chunk)
    weight = jnp.where(t < point.dataset_size, 1.0 / point.dataset_size, 0.0)
    return weighted_loss(static, params, datasets.rows(stored, start, static.chunk), weight, point)


def full_batch(static: Static, params: models.Params, stored: Dataset, points: Point
               ) -> tuple[jax.Array, models.Params]:
    """Loss (C,) and gradients of every model of a block on its whole training set, pass by pass.

    The passes run to the block's largest T (a traced bound, one program for every block); each adds its
    loss and gradients in the same order for every model.
    """
    passes = jnp.ceil(jnp.max(points.dataset_size) / static.chunk).astype(jnp.int32)
    grad = jax.vmap(jax.value_and_grad(lambda p, s, pt, c: pass_loss(static, p, s, pt, c)), in_axes=(0, 0, 0, None))

    def one_pass(c, total):
        return jax.tree.map(jnp.add, total, grad(params, stored, points, c))

    zero = (jnp.zeros(points.dataset_size.shape), jax.tree.map(jnp.zeros_like, params))
    return jax.lax.fori_loop(0, passes, one_pass, zero)


def minibatch_noise(static: Static, key: jax.Array, t: jax.Array) -> jax.Array:
    """The uniforms (batch,) that choose step t's minibatch, from a seed's data key (`fold_in(key, 1)`)."""
    return data.uniform(jax.random.fold_in(jax.random.fold_in(key, 1), t), (static.batch_size,))


def minibatch(static: Static, params: models.Params, stored: Dataset, point: Point, u: jax.Array
              ) -> tuple[jax.Array, models.Params]:
    """Loss and gradients of one model on the minibatch of points ⌊u·T⌋ of its training set, u (batch,)."""
    which = jnp.minimum(jnp.floor(u * point.dataset_size), point.dataset_size - 1).astype(jnp.int32)
    weight = jnp.full(u.shape, 1.0 / u.shape[0])

    def loss(p):
        return weighted_loss(static, p, datasets.take(stored, which), weight, point)

    return jax.value_and_grad(loss)(params)


def per_point(static: Static, params: models.Params, stored: Dataset, importance: jax.Array
              ) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Hidden vectors h_t (rows, m), losses (rows,) and the losses of a zero output (rows,) of every point."""

    def one_pass(c):
        points = datasets.rows(stored, c * static.chunk, static.chunk)
        x = datasets.densify(static.n_features, points)
        model = static.settings.model
        y = models.target(model, x)
        return (models.hidden(model, params, x).T, models.sample_loss(model, params, x, importance),
                pairwise_sum(importance[:, None] * y * y, axis=0))

    hidden, loss, zero = jax.lax.map(one_pass, jnp.arange(static.rows // static.chunk))
    return hidden.reshape(static.rows, -1), loss.reshape(static.rows), zero.reshape(static.rows)


def dimensionalities(static: Static, params: models.Params, stored: Dataset, point: Point) -> jax.Array:
    """D_t of every training point (T_max,), over the model's T points (0 beyond T)."""
    hidden, _, _ = per_point(static, params, stored, point.importance)
    real = (jnp.arange(static.rows) < point.dataset_size)[:, None]
    return data_dimensionality(jnp.where(real, hidden, 0.0).T)[: static.dataset_max]


def records(static: Static, params: models.Params, train_set: TrainingSet, point: Point) -> dict:
    """A finite-data model's final records: training loss, and per point h_t, its loss, the loss of a zero
    output Σ_i I_i y_i² and D_t (NaN beyond T)."""
    hidden, loss, zero = per_point(static, params, train_set.points, point.importance)
    real = jnp.arange(static.rows) < point.dataset_size
    hidden = jnp.where(real[:, None], hidden, 0.0)
    keep = static.dataset_max
    return {
        "loss": pairwise_sum(jnp.where(real, loss, 0.0)) / point.dataset_size,
        "hidden": jnp.where(real[:, None], hidden, jnp.nan)[:keep],
        "point_loss": jnp.where(real, loss, jnp.nan)[:keep],
        "zero_loss": jnp.where(real, zero, jnp.nan)[:keep],
        "dimensionality": jnp.where(real, data_dimensionality(hidden.T), jnp.nan)[:keep],
        "size": point.dataset_size,
        "truncated": train_set.truncated,
    }
