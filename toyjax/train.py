"""The engine: a block of models trained by three pure functions, `jit`ted as they are.

`make_train(static)` returns the `Engine` of one `Static`: ``init(block)``, ``train(state, block, t0, t1)``
and ``finish(state, block)``, each vmapped over the block's models inside. `toyjax.programs` jits and
compiles exactly these functions, and `toyjax.runner` calls them; ``Engine.run(block)`` is the same run in
one call. `train` runs steps t0 .. t1 − 1 with traced bounds, so however a run is cut into segments (for
progress or checkpoints) it runs the one compiled program, and its results do not change by a bit.

One model's init, step, snapshot and final records come from its family: the toy models of Elhage et al.
(2022) (`toyjax.toy`), or sparse autoencoders on their activations (`toyjax.sae_train`, ``model.kind:
sae``). Every model reads a fresh batch each step, realised from noise its seed shares with the block;
a toy run with a finite training set (`Static.dataset_max`, Henighan et al. 2023) reads its own T points
instead (`toyjax.finite`), and the fresh-batch program is untouched by it.

This module imports jax, `toyjax.axes`, `toyjax.data`, `toyjax.finite`, `toyjax.plan`, `toyjax.sae_train`,
`toyjax.state` and `toyjax.toy`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from toyjax import data, finite, sae_train, toy
from toyjax.axes import Point
from toyjax.plan import Static
from toyjax.state import TAIL_STEPS, State, records_loss

__all__ = ["TAIL_STEPS", "Block", "Engine", "Keys", "State", "make_train", "model_keys"]


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


# --------------------------------------------------------------------------- a block of models


def init_block(static: Static, block: Block) -> State:
    """Every model's initial state, from its own seed index only."""

    init_model = sae_train.init_model if static.sae else toy.init_model

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
    """`step` (the family's) for every model, each realising its batch from its slot's noise."""

    def one(state, point, slot):
        x = data.realize(static.data, jax.tree.map(lambda a: a[slot], noise), point.density)
        return step(static, state, point, x, t)

    return jax.vmap(one)(state, block.points, block.slot)


def train_step(static: Static, block: Block, data_keys: jax.Array, t: jax.Array, state: State) -> State:
    """Step t of every model in the block: the shared draws, the step, and the snapshot when one is due.

    The draw is made outside the branches, so XLA keeps it as one buffer per data key instead of fusing
    the hash into every model's batch; the history stays outside them too, so that the steps that write no
    snapshot do not copy it. The branch depends on t alone, the same for every model, so under vmap it
    stays a real branch. A run with a finite training set takes `finite_step` instead, an SAE run `sae_step`.
    """
    if static.dataset_max is not None:
        return finite_step(static, block, data_keys, t, state)
    noise = jax.vmap(_draw, in_axes=(None, 0, None))(static, data_keys, t)
    if static.sae:
        return sae_step(static, block, noise, t, state)

    def branch(step):
        return lambda core: block_step(static, step, core, block, noise, t)

    core, loss = jax.lax.cond(records_loss(static, t), branch(toy.recorded_step), branch(toy.plain_step),
                              state._replace(history={}))
    history = jax.vmap(lambda h, p, v: toy.record(static, h, p, v, t + 1))(state.history, core.params, loss)
    return core._replace(history=history)


def sae_step(static: Static, block: Block, noise, t: jax.Array, state: State) -> State:
    """Step t of every SAE of the block: each reads its source's activations of its slot's features."""
    core, loss = block_step(static, sae_train.step, state._replace(history={}), block, noise, t)
    history = jax.vmap(lambda h, p, pt, v: sae_train.record(static, h, p, pt, v, t + 1))(
        state.history, core.params, block.points, loss)
    return core._replace(history=history)


def finite_step(static: Static, block: Block, data_keys: jax.Array, t: jax.Array, state: State) -> State:
    """Step t of every model on its own training set: the full batch, or a minibatch drawn from it."""
    if static.full_batch:
        loss, grads = finite.full_batch(static, state.params, state.dataset.points, block.points)
    else:
        u = jax.vmap(lambda key: finite.minibatch_noise(static, key, t))(data_keys)
        loss, grads = jax.vmap(lambda p, s, pt, slot: finite.minibatch(static, p, s, pt, u[slot]))(
            state.params, state.dataset.points, block.points, block.slot)
    core = jax.vmap(lambda s, p, v, g: toy.descend(static, s, p, v, g, t))(state._replace(history={}),
                                                                           block.points, loss, grads)

    def write(h, p, v, train_set, point):
        return toy.record(static, h, p, v, t + 1, (train_set, point))

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
    finish_model = sae_train.finish_model if static.sae else toy.finish_model
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
