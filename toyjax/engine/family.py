"""The contract between the engine and a model family, and the block they share.

The engine (`toyjax.engine.train`) trains a block of C models with pure functions it is handed, as PureJaxRL's
``make_train`` and optax's ``GradientTransformation(init, update)`` are: a `Family` is

- ``init(static, point, keys) -> State``: one model's fresh state (`toyjax.engine.state`), from its own keys;
- ``step(static, block, data_keys, t, state) -> State``: step t of every model of a block, whose batches
  come from the block's shared draws (`draw`, `for_each_model`) or the family's own data;
- ``finish(static, state, point, eval_key) -> dict``: one model's final records (`toyjax.engine.state.final`);
- ``check(cfg)``: what the family refuses of a run before anything is compiled (``model.options``, say);
- ``settings(cfg)``: its static settings, in `Static.settings` (a toy model's architecture, an SAE's kind);
- ``values(cfg, row)`` and ``points(cfg, points, source)``: its own per-model values at a grid point, and
  the plan's per-model arrays completed (an SAE's source cells), before anything is compiled; a model reads
  the arrays they add in ``point.own`` (`toyjax.axes.Point`), under the names they give;
- ``dims(config)``: the names of the axes of each array it records, beyond the grid's (a run's `Results`
  carries them, so that `toyjax.labels.to_xarray` labels every family's arrays alike).
- ``sizes(static)``: the config fields of its own that size its models' arrays, each with the size it gives
  (an SAE's width), so that a model too large for memory is refused naming one (`toyjax.engine.memory`).

The engine never asks which family it runs: `toyjax.engine.plan.Static` carries the family, so each family (and a
researcher's own) gets its own compiled programs. The toy models (`toyjax.families.toy.train`) and sparse autoencoders
(`toyjax.families.sae.train`) are two instances, registered in `toyjax.families`. This module also holds what every
family reads: a `Block`, a model's `Keys`, and the shared noise draw. It imports jax and `toyjax.data`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax

from toyjax import data


class Block(NamedTuple):
    """The inputs of one compiled call: C models, and the K seeds whose data draws they share."""

    points: Any  # the family's per-model values (`toyjax.axes.Point`), leaves (C, ...)
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


class Family(NamedTuple):
    """A model family: the pure functions the engine is handed (module docstring), and its name for logs."""

    name: str
    init: Callable[..., Any]  # (static, point, keys) -> State
    step: Callable[..., Any]  # (static, block, data_keys (K,), t, state) -> State
    finish: Callable[..., dict]  # (static, state, point, eval_key) -> records
    check: Callable[[Any], None] = lambda cfg: None  # a validated config's family checks; raises ConfigError
    settings: Callable[[Any], Any] = lambda cfg: None  # cfg -> the family's static settings (hashable)
    values: Callable[[Any, dict], dict] = lambda cfg, row: {}  # (cfg, grid point) -> its own per-model values
    points: Callable[[Any, dict, Any], dict] = lambda cfg, points, source: points  # completes the plan's arrays
    # (the run's config as a plain dict) -> {"params/W": ("hidden", "feature"), "history/W_norm": ("feature",),
    # "<record>/<name>": ...}: each recorded array's axes after the grid's (a param's history takes its names)
    dims: Callable[[dict], dict[str, tuple[str, ...]]] = lambda config: {}
    sizes: Callable[[Any], tuple] = lambda static: ()  # static -> ((config field, size it gives arrays), ...)


def draw(static, data_keys: jax.Array, t: jax.Array):
    """Step t's shared noise of every data key (K,): one draw per seed of the block (`toyjax.data.draw`)."""

    def one(key):
        return data.draw(static.data, static.batch_size, key=jax.random.fold_in(key, t))

    return jax.vmap(one)(data_keys)


def for_each_model(static, step: Callable, state, block: Block, noise, t: jax.Array):
    """`step(static, state, point, x, t)` for every model, each realising its batch x from its slot's noise."""

    def one(state, point, slot):
        x = data.realize(static.data, jax.tree.map(lambda a: a[slot], noise), point.density)
        return step(static, state, point, x, t)

    return jax.vmap(one)(state, block.points, block.slot)
