"""The engine: a block of toy models trained by three pure functions, `jit`ted as they are.

Implements the training set-up of Elhage et al., "Toy Models of Superposition" (2022) and its companion
notebook: importance-weighted squared error averaged over a fresh batch each step, AdamW (`toyjax.optim`),
batch 1024, 10,000 steps, Xavier-normal init.

`make_train(static)` returns the `Engine` of one `Static`: ``init(block)``, ``train(state, block, t0, t1)``
and ``finish(state, block)``, each vmapped over the block's models inside. `toyjax.programs` jits and
compiles exactly these functions, and `toyjax.runner` calls them; ``Engine.run(block)`` is the same run in
one call. `train` runs steps t0 .. t1 − 1 with traced bounds, so however a run is cut into segments (for
progress or checkpoints) it runs the one compiled program, and its results do not change by a bit.

A run with a finite training set (`Static.dataset_max`, Henighan et al. 2023) takes its data from the
other source of `train_step`: every model's own T points (`toyjax.finite`), held in its state; the
fresh-batch program is untouched by it.

This module imports jax, optax, `toyjax.axes`, `toyjax.data`, `toyjax.finite`, `toyjax.metrics`,
`toyjax.models`, `toyjax.optim`, `toyjax.plan` and `toyjax.stratified`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from toyjax import data, finite, models, optim, stratified
from toyjax.axes import Point
from toyjax.metrics import feature_dimensionality, feature_norms
from toyjax.plan import Static

TAIL_STEPS = 100  # the final `loss` is the mean training loss over this many last steps


class State(NamedTuple):
    """One model's training state (a block's has the model axis first); `history` has a row per snapshot."""

    params: models.Params
    opt_state: optax.OptState
    tail_loss: jax.Array  # () sum of the losses of the last TAIL_STEPS steps so far
    diverged: jax.Array  # () bool, a non-finite loss was seen
    history: dict  # "loss" (K,), "W_norm" (K, n), "dimensionality" (K, n), "params" {name: (K, ...)}
    dataset: finite.TrainingSet | tuple = ()  # a finite training set; () with a fresh batch every step


class Block(NamedTuple):
    """The inputs of one compiled call: C models, and the K seeds whose data draws they share."""

    points: Point  # leaves (C, ...)
    seed: jax.Array  # (C,) int32, each model's seed index (its init key)
    slot: jax.Array  # (C,) int32, which of the K draws each model realises its batch from
    data_seeds: jax.Array  # (K,) int32, the block's distinct seed indices, padded with repeats
    base_seed: jax.Array  # () uint32, the run's base seed
    eval_seed: jax.Array  # () uint32, the key of the final evaluation, shared by every model


class Keys(NamedTuple):
    """The keys one model uses: init, data stream."""

    init: jax.Array
    data: jax.Array


def model_keys(base_seed: jax.Array, seed_index: jax.Array) -> Keys:
    """A model's keys, from the run's base seed and the model's seed index only.

    Models with the same seed index share their init noise and data stream (common random numbers), and
    no key depends on the grid size, the blocking or the devices.
    """
    key = jax.random.fold_in(jax.random.key(base_seed), seed_index)
    return Keys(init=jax.random.fold_in(key, 0), data=jax.random.fold_in(key, 1))


# --------------------------------------------------------------------------- one model


def loss_fn(static: Static, params: models.Params, x: jax.Array, importance: jax.Array) -> jax.Array:
    """L = mean over the batch of Σ_i I_i (y_i − x'_i)², for x (n, batch); y = x, or |x| for abs_mlp."""
    return jnp.mean(models.sample_loss(static.model, params, x, importance))


def init_model(static: Static, point: Point, *, key: jax.Array) -> State:
    """Xavier-normal params scaled by `point.init_scale`, fresh AdamW state and empty history."""
    params = models.INIT[static.model](static.n_features, static.n_hidden, point.init_scale, key=key)
    k, n = len(static.snapshot_steps), static.n_features
    history = {"loss": jnp.zeros((k,)), "W_norm": jnp.zeros((k, n)), "dimensionality": jnp.zeros((k, n))}
    if static.dataset_max is not None:
        history["data_dimensionality"] = jnp.zeros((k, static.dataset_max))
    if static.snapshot_params:
        history["params"] = jax.tree.map(lambda p: jnp.zeros((k, *p.shape), p.dtype), params)
    return State(params, optim.adamw(static, point).init(params), jnp.zeros(()), jnp.zeros((), bool), history)


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
    tail = state.tail_loss + jnp.where(t >= static.steps - TAIL_STEPS, value, 0.0)
    return state._replace(params=params, opt_state=opt_state, tail_loss=tail,
                          diverged=state.diverged | ~jnp.isfinite(value))


def records_loss(static: Static, t: jax.Array) -> jax.Array:
    """Whether step t needs its loss: one of the last `TAIL_STEPS` steps, or a snapshot step."""
    return (t >= static.steps - TAIL_STEPS) | is_snapshot(static, t + 1)


def is_snapshot(static: Static, done: jax.Array) -> jax.Array:
    """Whether `done` steps completed is one of the snapshot steps."""
    return jnp.any(jnp.asarray(static.snapshot_steps or (-1,)) == done)


def record(static: Static, history: dict, params: models.Params, loss: jax.Array, done: jax.Array,
           train_set: tuple | None = None) -> dict:
    """Write loss, ‖W_i‖, D_i (and params) into row k when `done` is the k-th snapshot step.

    With a finite training set, `train_set` is (`finite.TrainingSet`, `Point`) and the row also holds every
    training point's dimensionality D_t.
    """
    if not static.snapshot_steps:
        return history
    k = jnp.searchsorted(jnp.asarray(static.snapshot_steps), done)

    def write(history):
        W = models.feature_matrix(params)
        row = {"loss": loss, "W_norm": feature_norms(W), "dimensionality": feature_dimensionality(W)}
        if train_set is not None:
            row["data_dimensionality"] = finite.dimensionalities(static, params, train_set[0].points, train_set[1])
        if static.snapshot_params:
            row["params"] = params
        return jax.tree.map(lambda h, r: h.at[k].set(r), history, row)

    # `done` is the same for every model, so under vmap this stays a real branch.
    return jax.lax.cond(is_snapshot(static, done), write, lambda h: h, history)


def finish_model(static: Static, state: State, point: Point, eval_key: jax.Array) -> dict:
    """Final records of one model: params, mean tail loss, stratified expected loss, diverged flag, history.

    A diverged model's losses are NaN, both of them: a finite eval loss of a model whose training loss
    blew up would read as a trained model.
    """
    eval_loss = stratified.expected_loss(
        static.model, static.data, state.params, point.density, point.importance,
        samples=static.eval_samples, key=eval_key, units=static.eval_units,
    )
    params_ok = jnp.all(jnp.array([jnp.all(jnp.isfinite(v)) for v in jax.tree.leaves(state.params)]))
    diverged = state.diverged | ~params_ok | ~jnp.isfinite(eval_loss)
    out = {
        "params": state.params,
        "loss": jnp.where(diverged, jnp.nan, state.tail_loss / min(TAIL_STEPS, static.steps)),
        "eval_loss": jnp.where(diverged, jnp.nan, eval_loss),
        "diverged": diverged,
        "history": state.history,
    }
    if static.dataset_max is not None:
        out["train_set"] = finite.records(static, state.params, state.dataset, point)
    return out


# --------------------------------------------------------------------------- a block of models


def init_block(static: Static, block: Block) -> State:
    """Every model's initial state, from its own seed index only."""

    def one(point, seed):
        keys = model_keys(block.base_seed, seed)
        state = init_model(static, point, key=keys.init)
        if static.dataset_max is None:
            return state
        return state._replace(dataset=finite.training_set(static, point, key=keys.data))

    return jax.vmap(one)(block.points, block.seed)


def _draw(static: Static, key: jax.Array, t: jax.Array) -> tuple[jax.Array, jax.Array]:
    return data.draw(static.data, static.batch_size, key=jax.random.fold_in(key, t))


def block_step(static: Static, step: Callable, state: State, block: Block, noise, t: jax.Array):
    """`step` (`plain_step` or `recorded_step`) for every model, each realising its batch from its slot's noise."""

    def one(state, point, slot):
        x = data.realize(static.data, jax.tree.map(lambda a: a[slot], noise), point.density)
        return step(static, state, point, x, t)

    return jax.vmap(one)(state, block.points, block.slot)


def train_step(static: Static, block: Block, data_keys: jax.Array, t: jax.Array, state: State) -> State:
    """Step t of every model in the block: the shared draws, the step, and the snapshot when one is due.

    The draw is made outside the branches, so XLA keeps it as one buffer per data key instead of fusing
    the hash into every model's batch; the history stays outside them too, so that the steps that write no
    snapshot do not copy it. The branch depends on t alone, the same for every model, so under vmap it
    stays a real branch. A run with a finite training set takes `finite_step` instead.
    """
    if static.dataset_max is not None:
        return finite_step(static, block, data_keys, t, state)
    noise = jax.vmap(_draw, in_axes=(None, 0, None))(static, data_keys, t)

    def branch(step):
        return lambda core: block_step(static, step, core, block, noise, t)

    core, loss = jax.lax.cond(records_loss(static, t), branch(recorded_step), branch(plain_step),
                              state._replace(history={}))
    history = jax.vmap(lambda h, p, v: record(static, h, p, v, t + 1))(state.history, core.params, loss)
    return core._replace(history=history)


def finite_step(static: Static, block: Block, data_keys: jax.Array, t: jax.Array, state: State) -> State:
    """Step t of every model on its own training set: the full batch, or a minibatch drawn from it."""
    if static.full_batch:
        loss, grads = finite.full_batch(static, state.params, state.dataset.points, block.points)
    else:
        u = jax.vmap(lambda key: finite.minibatch_noise(static, key, t))(data_keys)
        loss, grads = jax.vmap(lambda p, s, pt, slot: finite.minibatch(static, p, s, pt, u[slot]))(
            state.params, state.dataset.points, block.points, block.slot)
    core = jax.vmap(lambda s, p, v, g: descend(static, s, p, v, g, t))(state._replace(history={}), block.points,
                                                                       loss, grads)

    def write(h, p, v, train_set, point):
        return record(static, h, p, v, t + 1, (train_set, point))

    return core._replace(history=jax.vmap(write)(state.history, core.params, loss, state.dataset, block.points))


def train_block(static: Static, state: State, block: Block, t0: jax.Array, t1: jax.Array) -> State:
    """Steps t0 .. t1 − 1 of every model in the block (traced bounds: one program for any segment).

    Each step draws one batch of noise per data key (K,) and every model realises its own batch from the
    draw of its slot (C,), so models with the same seed share the draw (common random numbers). A model's
    batch is the same whichever block it is in: the draw depends only on its key and the step.
    """
    data_keys = jax.vmap(lambda s: model_keys(block.base_seed, s).data)(block.data_seeds)
    return jax.lax.fori_loop(t0, t1, lambda t, state: train_step(static, block, data_keys, t, state), state)


def finish_block(static: Static, state: State, block: Block) -> dict:
    """Every model's final records (`finish_model`), all evaluated on the same samples."""
    eval_key = jax.random.key(block.eval_seed)
    return jax.vmap(lambda s, p: finish_model(static, s, p, eval_key))(state, block.points)


class Engine(NamedTuple):
    """The pure block functions of one `Static`; `toyjax.programs` jits and compiles exactly these."""

    static: Static
    init: Callable[[Block], State]
    train: Callable[[State, Block, jax.Array, jax.Array], State]
    finish: Callable[[State, Block], dict]

    def run(self, block: Block) -> dict:
        """The whole run of a block in one call: init, every step, finish."""
        state = self.init(block)
        return self.finish(self.train(state, block, jnp.int32(0), jnp.int32(self.static.steps)), block)


def make_train(static: Static) -> Engine:
    """The engine of `static`: ``init(block)``, ``train(state, block, t0, t1)``, ``finish(state, block)``."""
    return Engine(
        static=static,
        init=lambda block: init_block(static, block),
        train=lambda state, block, t0, t1: train_block(static, state, block, t0, t1),
        finish=lambda state, block: finish_block(static, state, block),
    )
