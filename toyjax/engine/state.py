"""What one model carries through training, and the bookkeeping every family of models shares.

`State` is one model's params, optimiser state, the sum of its last losses, its divergence flag, its
snapshot history, and what its family adds (`extra`: a finite training set; an SAE's latent counters). Snapshots
are written by `write_snapshot` only on the snapshot steps (a real branch: the step is the same for
every model of a block), and `final` turns a trained state into the records every model returns. This
module imports jax, optax and `toyjax.engine.plan`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from toyjax.engine.plan import Static

TAIL_STEPS = 100  # the final `loss` is the mean training loss over this many last steps


class State(NamedTuple):
    """One model's training state (a block's has the model axis first); `history` has a row per snapshot."""

    params: dict
    opt_state: optax.OptState
    tail_loss: jax.Array  # () sum of the losses of the last TAIL_STEPS steps so far
    diverged: jax.Array  # () bool, a non-finite loss was seen
    history: dict  # one array per recorded quantity, its first axis the snapshots; "params" {name: (K, ...)}
    extra: Any = ()  # what the family adds: a toy model's finite training set, an SAE's latent counters; or ()


def start(static: Static, params: dict, opt_state: optax.OptState, row: dict, extra: Any = ()) -> State:
    """A fresh state whose history has room for `row` (name -> one snapshot's array) at every snapshot."""
    k = len(static.snapshot_steps)
    history = jax.tree.map(lambda r: jnp.zeros((k, *jnp.shape(r)), jnp.result_type(r)), row)
    if static.snapshot_params:
        history["params"] = jax.tree.map(lambda p: jnp.zeros((k, *p.shape), p.dtype), params)
    return State(params, opt_state, jnp.zeros(()), jnp.zeros((), bool), history, extra)


def add_tail(static: Static, state: State, value: jax.Array, t: jax.Array) -> State:
    """`state` with step t's loss added to the tail loss (the last TAIL_STEPS steps) and checked for divergence."""
    tail = state.tail_loss + jnp.where(t >= static.steps - TAIL_STEPS, value, 0.0)
    return state._replace(tail_loss=tail, diverged=state.diverged | ~jnp.isfinite(value))


def records_loss(static: Static, t: jax.Array) -> jax.Array:
    """Whether step t needs its loss: one of the last `TAIL_STEPS` steps, or a snapshot step."""
    return (t >= static.steps - TAIL_STEPS) | is_snapshot(static, t + 1)


def is_snapshot(static: Static, done: jax.Array) -> jax.Array:
    """Whether `done` steps completed is one of the snapshot steps."""
    return jnp.any(jnp.asarray(static.snapshot_steps or (-1,)) == done)


def write_snapshot(static: Static, history: dict, params: dict, row: Callable[[], dict], done: jax.Array) -> dict:
    """`history` with row k written, when `done` is the k-th snapshot step; `row()` is only computed then."""
    if not static.snapshot_steps:
        return history
    k = jnp.searchsorted(jnp.asarray(static.snapshot_steps), done)

    def write(history):
        values = row()
        if static.snapshot_params:
            values["params"] = params
        return jax.tree.map(lambda h, r: h.at[k].set(r), history, values)

    # `done` is the same for every model, so under vmap this stays a real branch.
    return jax.lax.cond(is_snapshot(static, done), write, lambda h: h, history)


def final(static: Static, state: State, eval_loss: jax.Array, **extra) -> dict:
    """The records of a trained model: params, mean tail loss, evaluation loss, diverged flag and history.

    A diverged model's losses are NaN, both of them: a finite eval loss of a model whose training loss
    blew up would read as a trained model.
    """
    params_ok = jnp.all(jnp.array([jnp.all(jnp.isfinite(v)) for v in jax.tree.leaves(state.params)]))
    diverged = state.diverged | ~params_ok | ~jnp.isfinite(eval_loss)
    return {
        "params": state.params,
        "loss": jnp.where(diverged, jnp.nan, state.tail_loss / min(TAIL_STEPS, static.steps)),
        "eval_loss": jnp.where(diverged, jnp.nan, eval_loss),
        "diverged": diverged,
        "history": state.history,
        **extra,
    }
