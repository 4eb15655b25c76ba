"""Training one toy model, as pure functions to be `vmap`ped over a grid and `jit`ted.

Implements the training set-up of Elhage et al., "Toy Models of Superposition" (2022) and its companion
notebook: importance-weighted squared error averaged over a fresh batch each step, AdamW (lr 1e-3,
betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on W and b), batch 1024, 10,000 steps.

Shapes and step counts live in the frozen, hashable `Static`; everything a grid may vary lives in the
`Point` pytree, so a new grid of values reuses the compiled program. `make_train(static)` returns a
model's whole run as one pure function to `vmap` and `jit`; the grid driver (`toyjax.grid`) calls the
same `init_model` / `train_segment` / `finish` pieces segment by segment, to show progress and write
checkpoints.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from toyjax import data, expected_loss, models
from toyjax.analysis.metrics import feature_dimensionality, feature_norms

TAIL_STEPS = 100  # the final `loss` is the mean training loss over this many last steps


@dataclass(frozen=True)
class Static:
    """Everything fixed per compiled program: shapes, step counts, kinds."""

    model: str
    n_features: int
    n_hidden: int
    data: data.DataSpec
    batch_size: int = 1024
    steps: int = 10_000
    schedule: str = "constant"
    warmup_steps: int = 0
    segment_steps: int = 500
    snapshot_steps: tuple[int, ...] = ()
    snapshot_params: bool = True
    eval_samples: int = 256

    @property
    def n_segments(self) -> int:
        """How many `train_segment` calls cover `steps` (the last one may be partial)."""
        return math.ceil(self.steps / self.segment_steps)


class Point(NamedTuple):
    """Per-model values: density (n,), importance (n,), and scalars lr, weight_decay, init_scale."""

    density: jax.Array
    importance: jax.Array
    lr: jax.Array
    weight_decay: jax.Array
    init_scale: jax.Array


class State(NamedTuple):
    """One model's training state; `history` holds one row per snapshot step."""

    params: models.Params
    opt_state: optax.OptState
    tail_loss: jax.Array
    diverged: jax.Array
    history: dict


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


def unit_schedule(static: Static) -> optax.Schedule:
    """The learning-rate schedule at peak 1; each model scales it by its own lr."""
    if static.schedule == "constant":
        return optax.constant_schedule(1.0)
    if static.schedule == "linear":
        return optax.linear_schedule(1.0, 0.0, static.steps)
    if static.schedule == "cosine":
        return optax.cosine_decay_schedule(1.0, static.steps)
    return optax.warmup_cosine_decay_schedule(0.0, 1.0, static.warmup_steps, static.steps)


def optimizer(static: Static, point: Point) -> optax.GradientTransformation:
    """AdamW with the notebook's betas and eps, this model's lr and weight decay (on W and b)."""
    unit = unit_schedule(static)
    return optax.adamw(
        lambda count: point.lr * unit(count), b1=0.9, b2=0.999, eps=1e-8, weight_decay=point.weight_decay
    )


def loss_fn(static: Static, params: models.Params, x: jax.Array, importance: jax.Array) -> jax.Array:
    """L = mean over the batch of Σ_i I_i (y_i − x'_i)², for x (n, batch); y = x, or |x| for abs_mlp."""
    return jnp.mean(models.sample_loss(static.model, params, x, importance))


def init_model(static: Static, point: Point, *, key: jax.Array) -> State:
    """Xavier-normal params scaled by `point.init_scale`, fresh AdamW state and empty history."""
    params = models.INIT[static.model](static.n_features, static.n_hidden, point.init_scale, key=key)
    k, n = len(static.snapshot_steps), static.n_features
    history = {"loss": jnp.zeros((k,)), "W_norm": jnp.zeros((k, n)), "dimensionality": jnp.zeros((k, n))}
    if static.snapshot_params:
        history["params"] = jax.tree.map(lambda p: jnp.zeros((k, *p.shape), p.dtype), params)
    return State(params, optimizer(static, point).init(params), jnp.zeros(()), jnp.zeros((), bool), history)


def model_step(
    static: Static, state: State, point: Point, x: jax.Array, t: jax.Array, *, record: bool
) -> tuple[State, jax.Array]:
    """One AdamW step on the batch x (n, batch) at step index t (0-based); returns the state and loss.

    With `record`, the step also computes its loss and adds it to the tail loss; without, it skips the
    loss itself (a reduction over the whole batch) and returns 0. Snapshots are written by the caller.
    """

    def loss(params):
        return loss_fn(static, params, x, point.importance)

    if record:
        value, grads = jax.value_and_grad(loss)(state.params)
    else:
        value, grads = jnp.zeros(()), jax.grad(loss)(state.params)
    updates, opt_state = optimizer(static, point).update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    if not record:
        return state._replace(params=params, opt_state=opt_state), value
    tail = state.tail_loss + jnp.where(t >= static.steps - TAIL_STEPS, value, 0.0)
    return State(params, opt_state, tail, state.diverged | ~jnp.isfinite(value), state.history), value


def _records_at(static: Static, t: jax.Array) -> jax.Array:
    """Whether step t needs its loss: one of the last `TAIL_STEPS` steps, or a snapshot step."""
    return (t >= static.steps - TAIL_STEPS) | _is_snapshot(static, t + 1)


def _is_snapshot(static: Static, done: jax.Array) -> jax.Array:
    """Whether `done` steps completed is one of the snapshot steps."""
    return jnp.any(jnp.asarray(static.snapshot_steps or (-1,)) == done)


def _record(static: Static, history: dict, params: models.Params, loss: jax.Array, done: jax.Array) -> dict:
    """Write loss, ‖W_i‖, D_i (and params) into row k when `done` is the k-th snapshot step."""
    if not static.snapshot_steps:
        return history
    k = jnp.searchsorted(jnp.asarray(static.snapshot_steps), done)

    def write(history):
        W = models.feature_matrix(params)
        row = {"loss": loss, "W_norm": feature_norms(W), "dimensionality": feature_dimensionality(W)}
        if static.snapshot_params:
            row["params"] = params
        return jax.tree.map(lambda h, r: h.at[k].set(r), history, row)

    # `done` is the same for every model, so under vmap this stays a real branch.
    return jax.lax.cond(_is_snapshot(static, done), write, lambda h: h, history)


# --------------------------------------------------------------------------- the whole run


def train_segment(
    static: Static, state: State, points: Point, slots: jax.Array, data_keys: jax.Array, t0: jax.Array
) -> State:
    """Steps t0 .. t0 + segment_steps − 1 (those below `steps`) for a block of C models, as one `lax.scan`.

    Each step draws one batch of noise per data key (K,) and every model realises its own batch from
    the draw of its slot (C,), so models with the same seed share the draw (common random numbers).
    A model's batch is the same whichever block it is in: the draw depends only on its key and the step.
    `state` and `points` have leading axis C.
    """

    def draw(key, t):
        return data.draw(static.data, static.batch_size, key=jax.random.fold_in(key, t))

    def step(state, noise, t, *, record):
        def one(state, point, slot):
            x = data.realize(static.data, jax.tree.map(lambda a: a[slot], noise), point.density)
            return model_step(static, state, point, x, t, record=record)

        return jax.vmap(one)(state, points, slots)

    branches = (
        lambda state, noise, t: (state, jnp.zeros(slots.shape)),  # past `steps`, in the last segment
        functools.partial(step, record=False),
        functools.partial(step, record=True),
    )

    def body(state, t):
        # The draw is made outside the branches, so XLA keeps it as one buffer per data key instead of
        # fusing the hash into every model's batch. The history stays outside them too, so that the
        # steps that write no snapshot do not copy it. The branch depends on t alone, the same for
        # every model, so under vmap it stays a real branch.
        noise = jax.vmap(draw, in_axes=(0, None))(data_keys, t)
        branch = jnp.where(t < static.steps, jnp.where(_records_at(static, t), 2, 1), 0)
        core, loss = jax.lax.switch(branch, branches, state._replace(history={}), noise, t)
        history = jax.vmap(lambda h, p, v: _record(static, h, p, v, t + 1))(state.history, core.params, loss)
        return core._replace(history=history), None

    return jax.lax.scan(body, state, t0 + jnp.arange(static.segment_steps))[0]


def finish(static: Static, state: State, point: Point, eval_key: jax.Array) -> dict:
    """Final records of one model: params, mean tail loss, stratified expected loss, diverged flag."""
    eval_loss = expected_loss.expected_loss(
        static.model, static.data, state.params, point.density, point.importance,
        samples=static.eval_samples, key=eval_key,
    )
    finite = jnp.all(jnp.array([jnp.all(jnp.isfinite(v)) for v in jax.tree.leaves(state.params)]))
    return {
        "params": state.params,
        "loss": state.tail_loss / min(TAIL_STEPS, static.steps),
        "eval_loss": eval_loss,
        "diverged": state.diverged | ~finite | ~jnp.isfinite(eval_loss),
        "history": state.history,
    }


def make_train(static: Static):
    """The whole run of one model as a pure function ``train(point, seed, base_seed, eval_key) -> records``.

    `vmap` it over a grid of points and `jit` it; `toyjax.grid` runs the same pieces block by block and
    segment by segment, so that it can show progress and write checkpoints.
    """

    def train(point: Point, seed: jax.Array, base_seed: jax.Array, eval_key: jax.Array) -> dict:
        keys = model_keys(base_seed, seed)
        state = init_model(static, point, key=keys.init)
        block = jax.tree.map(lambda a: a[None], (state, point))  # a block of one model

        def segment(i, state):
            return train_segment(static, state, block[1], jnp.zeros(1, int), keys.data[None], i * static.segment_steps)

        state = jax.tree.map(lambda a: a[0], jax.lax.fori_loop(0, static.n_segments, segment, block[0]))
        return finish(static, state, point, eval_key)

    return train
