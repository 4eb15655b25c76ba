"""The engine: a block of models trained by three pure functions, `jit`ted as they are.

`make_train(static)` returns the `Engine` of one `Static`: ``init(block)``, ``train(state, block, t0, t1)``
and ``finish(state, block)``, each vmapped over the block's models inside. `toyjax.engine.programs` jits and
compiles exactly these functions, and `toyjax.engine.runner` calls them; ``Engine.run(block)`` is the same run in
one call. `train` runs steps t0 .. t1 − 1 with traced bounds, so however a run is cut into segments (for
progress or checkpoints) it runs the one compiled program, and its results do not change by a bit.

Models' init, steps and final records come from the run's family (`Static.family`, a `toyjax.engine.family.Family`):
the engine is handed its pure functions and never asks which family it runs. This module imports jax,
`toyjax.numerics`, `toyjax.engine.family`, `toyjax.engine.plan` and `toyjax.engine.state`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from toyjax.engine.family import Block, Keys, model_keys
from toyjax.engine.plan import Static
from toyjax.engine.state import TAIL_STEPS, State
from toyjax.numerics import at_precision

__all__ = ["TAIL_STEPS", "Block", "Engine", "Keys", "State", "make_train", "model_keys"]


def init_block(static: Static, block: Block) -> State:
    """Every model's initial state (the family's `init`), from its own seed index only."""
    return jax.vmap(lambda point, seed: static.family.init(static, point, model_keys(block.base_seed, seed)))(
        block.points, block.seed)


def train_block(static: Static, state: State, block: Block, t0: jax.Array, t1: jax.Array) -> State:
    """Steps t0 .. t1 − 1 of every model in the block (traced bounds: one program for any segment).

    Each step draws one batch of noise per data key (K,) and every model realises its own batch from the
    draw of its slot (C,), so models with the same seed share the draw (common random numbers). A model's
    batch is the same whichever block it is in: the draw depends only on its key and the step.
    """
    data_keys = jax.vmap(lambda s: model_keys(block.base_seed, s).data)(block.data_seeds)
    step = static.family.step
    return jax.lax.fori_loop(t0, t1, lambda t, state: step(static, block, data_keys, t, state), state)


def finish_block(static: Static, state: State, block: Block) -> dict:
    """Every model's final records (the family's `finish`), all evaluated on the same samples."""
    eval_key = jax.random.key(block.eval_seed)
    return jax.vmap(lambda s, p: static.family.finish(static, s, p, eval_key))(state, block.points)


class Engine(NamedTuple):
    """The pure block functions of one `Static`; `toyjax.engine.programs` jits and compiles exactly these."""

    static: Static
    init: Callable[[Block], State]
    train: Callable[[State, Block, jax.Array, jax.Array], State]
    finish: Callable[[State, Block], dict]

    def run(self, block: Block) -> dict:
        """The whole run of a block in one call: init, every step, finish."""
        state = self.init(block)
        return self.finish(self.train(state, block, jnp.int32(0), jnp.int32(self.static.steps)), block)


def make_train(static: Static) -> Engine:
    """The engine of `static`: ``init(block)``, ``train(state, block, t0, t1)``, ``finish(state, block)``.

    Every matrix product they trace runs at ``static.matmul_precision`` (`toyjax.numerics`).
    """
    precise = functools.partial(at_precision, static.matmul_precision)
    return Engine(
        static=static,
        init=precise(lambda block: init_block(static, block)),
        train=precise(lambda state, block, t0, t1: train_block(static, state, block, t0, t1)),
        finish=precise(lambda state, block: finish_block(static, state, block)),
    )
