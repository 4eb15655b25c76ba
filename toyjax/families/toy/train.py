"""The toy models' family for the engine: one model's init, AdamW step, snapshot row and final records.

Implements the training set-up of Elhage et al., "Toy Models of Superposition" (2022) and its companion
notebook: importance-weighted squared error averaged over a fresh batch each step, AdamW (`toyjax.engine.optim`),
Xavier-normal init. A step that need not report its loss takes the gradient alone (`plain_step`), so XLA
drops the loss's own reduction over the batch; the last `TAIL_STEPS` steps and the snapshot steps take
`recorded_step`. With a finite training set (Henighan et al. 2023) the snapshot row also holds every
training point's dimensionality, and the final records its training-set records (`toyjax.families.toy.finite`).

`FAMILY` is the family as the engine takes it (`toyjax.engine.family`). This module imports jax, numpy, optax,
`toyjax.families.toy.architecture`, `toyjax.axes`, `toyjax.engine.family`, `toyjax.families.toy.finite`,
`toyjax.families.toy.metrics`, `toyjax.families.toy.models`, `toyjax.engine.optim`, `toyjax.engine.plan`,
`toyjax.engine.state`, `toyjax.families.toy.sampled` and `toyjax.families.toy.stratified`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from toyjax import axes
from toyjax.axes import Point
from toyjax.engine import optim
from toyjax.engine.family import Block, Family, Keys, draw, for_each_model
from toyjax.engine.plan import Static
from toyjax.engine.state import State, add_tail, final, records_loss, start, write_snapshot
from toyjax.families.toy import finite, models, sampled, stratified
from toyjax.families.toy.architecture import Architecture, architecture_of, array_dims
from toyjax.families.toy.metrics import feature_dimensionality, feature_norms


class Settings(NamedTuple):
    """A toy run's static settings (`Static.settings`): what its models are, and whether the loss has λ‖h‖₁."""

    model: Architecture
    activation_l1: bool  # some model's λ > 0 (§9); without it the program has no trace of the penalty


def settings(cfg) -> Settings:
    """The `Settings` of a validated toy run's config."""
    return Settings(architecture_of(cfg.model), axes.largest(cfg, "activation_l1") > 0)


def values(cfg, row: dict) -> dict[str, np.ndarray]:
    """A toy model's own per-model values: λ of the §9 penalty, only in a run that has it (an argument no program
    reads makes JAX's call of the compiled program slower: 5% on the §1 grid)."""
    if not settings(cfg).activation_l1:
        return {}
    return {"activation_l1": np.float32(row.get("activation_l1", cfg.model.activation_l1))}


def loss_fn(static: Static, params: models.Params, x: jax.Array, point: Point) -> jax.Array:
    """L = mean over the batch of Σ_i I_i (y_i − x'_i)² (+ λ‖h‖₁ when the run has the §9 penalty), for x (n, batch).

    y = x, or |x| (``target: abs``); the penalty's switch is `toyjax.families.toy.finite.sample_losses`.
    """
    return jnp.mean(finite.sample_losses(static, params, x, point))


def init_model(static: Static, point: Point, *, key: jax.Array) -> State:
    """Xavier-normal params scaled by `point.init_scale`, fresh AdamW state and empty history."""
    params = models.init(static.settings.model, static.n_features, static.n_hidden, point.init_scale, key=key)
    n = static.n_features
    row = {"loss": jnp.zeros(()), "W_norm": jnp.zeros((n,)), "dimensionality": jnp.zeros((n,))}
    if static.dataset_max is not None:
        row["data_dimensionality"] = jnp.zeros((static.dataset_max,))
    return start(static, params, optim.adamw(static, point).init(params), row)


def init(static: Static, point: Point, keys: Keys) -> State:
    """A fresh model (`init_model`), and its finite training set drawn from its data key when the run has one."""
    state = init_model(static, point, key=keys.init)
    if static.dataset_max is None:
        return state
    return state._replace(extra=finite.training_set(static, point, key=keys.data))


def _update(static: Static, state: State, point: Point, grads: models.Params) -> tuple[models.Params, optax.OptState]:
    updates, opt_state = optim.adamw(static, point).update(grads, state.opt_state, state.params)
    return optax.apply_updates(state.params, updates), opt_state


def plain_step(static: Static, state: State, point: Point, x: jax.Array, t: jax.Array) -> tuple[State, jax.Array]:
    """One AdamW step on the batch x (n, batch) that skips the loss itself (a reduction over the batch); loss 0."""
    grads = jax.grad(lambda p: loss_fn(static, p, x, point))(state.params)
    params, opt_state = _update(static, state, point, grads)
    return state._replace(params=params, opt_state=opt_state), jnp.zeros(())


def recorded_step(static: Static, state: State, point: Point, x: jax.Array, t: jax.Array) -> tuple[State, jax.Array]:
    """One AdamW step at step index t (0-based) that also returns its loss, adding it to the tail loss."""
    value, grads = jax.value_and_grad(lambda p: loss_fn(static, p, x, point))(state.params)
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
    """Final records of one model (`toyjax.engine.state.final`) with its expected loss as its eval loss: stratified
    where the data's units fire independently, else a Monte Carlo mean whose standard error is ``eval/loss_se``."""
    args = (static.settings.model, static.data, state.params, point.density, point.importance)
    extra = {} if static.dataset_max is None else {"train_set": finite.records(static, state.params,
                                                                                 state.extra, point)}
    if not static.data.independent_units:
        eval_loss, se = sampled.expected_loss(*args, samples=static.eval_samples, key=eval_key)
        return final(static, state, eval_loss, eval={"loss_se": se}, **extra)
    eval_loss = stratified.expected_loss(*args, samples=static.eval_samples, key=eval_key, units=static.eval_units)
    return final(static, state, eval_loss, **extra)


def train_step(static: Static, block: Block, data_keys: jax.Array, t: jax.Array, state: State) -> State:
    """Step t of every model in the block: the shared draws, the step, and the snapshot when one is due.

    The draw is made outside the branches, so XLA keeps it as one buffer per data key instead of fusing
    the hash into every model's batch; the history stays outside them too, so that the steps that write no
    snapshot do not copy it. The branch depends on t alone, the same for every model, so under vmap it
    stays a real branch. A run with a finite training set takes `finite_step` instead.
    """
    if static.dataset_max is not None:
        return finite_step(static, block, data_keys, t, state)
    noise = draw(static, data_keys, t)

    def branch(step):
        return lambda core: for_each_model(static, step, core, block, noise, t)

    core, loss = jax.lax.cond(records_loss(static, t), branch(recorded_step), branch(plain_step),
                              state._replace(history={}))
    history = jax.vmap(lambda h, p, v: record(static, h, p, v, t + 1))(state.history, core.params, loss)
    return core._replace(history=history)


def finite_step(static: Static, block: Block, data_keys: jax.Array, t: jax.Array, state: State) -> State:
    """Step t of every model on its own training set: the full batch, or a minibatch drawn from it."""
    if static.full_batch:
        loss, grads = finite.full_batch(static, state.params, state.extra.points, block.points)
    else:
        u = jax.vmap(lambda key: finite.minibatch_noise(static, key, t))(data_keys)
        loss, grads = jax.vmap(lambda p, s, pt, slot: finite.minibatch(static, p, s, pt, u[slot]))(
            state.params, state.extra.points, block.points, block.slot)
    core = jax.vmap(lambda s, p, v, g: descend(static, s, p, v, g, t))(state._replace(history={}),
                                                                       block.points, loss, grads)

    def write(h, p, v, train_set, point):
        return record(static, h, p, v, t + 1, (train_set, point))

    return core._replace(history=jax.vmap(write)(state.history, core.params, loss, state.extra, block.points))


FAMILY = Family("toy", init, train_step, finish_model, settings=settings, values=values, dims=array_dims)
