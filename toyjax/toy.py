"""The toy models' family for the engine: one model's init, AdamW step, snapshot row and final records.

Implements the training set-up of Elhage et al., "Toy Models of Superposition" (2022) and its companion
notebook: importance-weighted squared error averaged over a fresh batch each step, AdamW (`toyjax.optim`),
Xavier-normal init. A step that need not report its loss takes the gradient alone (`plain_step`), so XLA
drops the loss's own reduction over the batch; the last `TAIL_STEPS` steps and the snapshot steps take
`recorded_step`. With a finite training set (Henighan et al. 2023) the snapshot row also holds every
training point's dimensionality, and the final records its training-set records (`toyjax.finite`).

This module imports jax, optax, `toyjax.axes`, `toyjax.finite`, `toyjax.metrics`, `toyjax.models`,
`toyjax.optim`, `toyjax.plan`, `toyjax.state` and `toyjax.stratified`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from toyjax import finite, models, optim, stratified
from toyjax.axes import Point
from toyjax.metrics import feature_dimensionality, feature_norms
from toyjax.plan import Static
from toyjax.state import State, add_tail, final, start, write_snapshot


def loss_fn(static: Static, params: models.Params, x: jax.Array, importance: jax.Array) -> jax.Array:
    """L = mean over the batch of Σ_i I_i (y_i − x'_i)², for x (n, batch); y = x, or |x| for abs_mlp."""
    return jnp.mean(models.sample_loss(static.model, params, x, importance))


def init_model(static: Static, point: Point, *, key: jax.Array) -> State:
    """Xavier-normal params scaled by `point.init_scale`, fresh AdamW state and empty history."""
    params = models.INIT[static.model](static.n_features, static.n_hidden, point.init_scale, key=key)
    n = static.n_features
    row = {"loss": jnp.zeros(()), "W_norm": jnp.zeros((n,)), "dimensionality": jnp.zeros((n,))}
    if static.dataset_max is not None:
        row["data_dimensionality"] = jnp.zeros((static.dataset_max,))
    return start(static, params, optim.adamw(static, point).init(params), row)


def _update(static: Static, state: State, point: Point, grads: models.Params) -> tuple[models.Params, optax.OptState]:
    updates, opt_state = optim.adamw(static, point).update(grads, state.opt_state, state.params)
    return optax.apply_updates(state.params, updates), opt_state


def plain_step(static: Static, state: State, point: Point, x: jax.Array, t: jax.Array) -> tuple[State, jax.Array]:
    """One AdamW step on the batch x (n, batch) that skips the loss itself (a reduction over the batch); loss 0."""
    grads = jax.grad(lambda p: loss_fn(static, p, x, point.importance))(state.params)
    params, opt_state = _update(static, state, point, grads)
    return state._replace(params=params, opt_state=opt_state), jnp.zeros(())


def recorded_step(static: Static, state: State, point: Point, x: jax.Array, t: jax.Array) -> tuple[State, jax.Array]:
    """One AdamW step at step index t (0-based) that also returns its loss, adding it to the tail loss."""
    value, grads = jax.value_and_grad(lambda p: loss_fn(static, p, x, point.importance))(state.params)
    return descend(static, state, point, value, grads, t), value


def descend(static: Static, state: State, point: Point, value: jax.Array, grads: models.Params, t: jax.Array
            ) -> State:
    """The AdamW update of step t from its loss and gradients: params, tail loss and the divergence flag."""
    params, opt_state = _update(static, state, point, grads)
    return add_tail(static, state._replace(params=params, opt_state=opt_state), value, t)


def record(static: Static, history: dict, params: models.Params, loss: jax.Array, done: jax.Array,
           train_set: tuple | None = None) -> dict:
    """Write loss, ‖W_i‖, D_i (and params) into row k when `done` is the k-th snapshot step.

    With a finite training set, `train_set` is (`finite.TrainingSet`, `Point`) and the row also holds every
    training point's dimensionality D_t.
    """

    def row():
        W = models.feature_matrix(params)
        values = {"loss": loss, "W_norm": feature_norms(W), "dimensionality": feature_dimensionality(W)}
        if train_set is not None:
            values["data_dimensionality"] = finite.dimensionalities(static, params, train_set[0].points,
                                                                    train_set[1])
        return values

    return write_snapshot(static, history, params, row, done)


def finish_model(static: Static, state: State, point: Point, eval_key: jax.Array) -> dict:
    """Final records of one model (`toyjax.state.final`) with the stratified expected loss as its eval loss."""
    eval_loss = stratified.expected_loss(
        static.model, static.data, state.params, point.density, point.importance,
        samples=static.eval_samples, key=eval_key, units=static.eval_units,
    )
    extra = {} if static.dataset_max is None else {"train_set": finite.records(static, state.params,
                                                                                 state.dataset, point)}
    return final(static, state, eval_loss, **extra)
