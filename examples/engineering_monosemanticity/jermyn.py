"""A family of one's own: Jermyn, Schiefer and Hubinger, "Engineering Monosemanticity in Toy Models" (2022).

arXiv 2211.09169, their feature-decoder task. N sparse features x (toyjax's data: feature i is non-zero with
its density, then Uniform[0, 1]) are embedded into m dimensions by a FIXED random projection P (m, N), never
trained and the same for every model of a run; an untied hidden layer of k neurons with a bias reads them,
and a linear readout decodes the features again:

    h = act(W_in P x + b_in),    x' = W_out h,    L = mean over the batch of Σ_i I_i (x_i − x'_i)²,

on a fresh batch every step, with toyjax's AdamW (`toyjax.engine.optim`: each model's lr and weight decay, on every
parameter). The paper finds that moderately negative biases make the neurons monosemantic at no cost in
loss; ``bias_init`` and ``bias_decay`` are the knobs for that, and more neurons help too.

``model.n_features`` is N and ``model.n_hidden`` is m; ``model.options`` (`DEFAULTS`) holds ``neurons`` (k),
``activation`` (relu; gelu, exact; solu, z · softmax(z) over the neurons, without SoLU's LayerNorm),
``bias_init`` (every neuron's first bias), ``bias_decay`` λ_b and ``projection_seed``. Our choices, where
the paper's exact recipe is not reproduced or we were unsure:

- P is standard normal with unit-norm columns (each feature a random unit direction), drawn on the host by
  numpy's PCG64 from ``projection_seed``: a constant of the compiled program, so no model's key touches it.
- W_in and W_out are Xavier-normal from their own shapes × ``init_scale``; there is no output bias.
- ``bias_decay`` adds λ_b Σ_j (b_j − bias_init)² to the objective: it holds the biases near the engineered
  start (AdamW's weight decay already pulls every parameter towards 0). Our reading, not the paper's formula.
- ``eval_loss`` is a plain Monte Carlo mean of the reconstruction error on ``record.eval_samples`` points, one
  draw from the eval key shared by every model (`toyjax.data.sample`), not toyjax's stratified estimate.
- Each snapshot records the step's "loss" (reconstruction only), "monosemanticity" (N,) and
  "monosemantic_neurons" (`responses`, `feature_monosemanticity`, `monosemantic_neurons`).

`FAMILY` is the family as the engine takes it (`toyjax.engine.family`). This module imports jax, numpy, optax and
toyjax's `axes`, `checks`, `data`, `errors`, `family`, `optim`, `plan`, `state` and `sums`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from toyjax import axes, checks, data
from toyjax.axes import Point
from toyjax.engine import optim
from toyjax.engine.family import Block, Family, Keys, draw, for_each_model
from toyjax.engine.plan import Static
from toyjax.engine.state import State, add_tail, final, start, write_snapshot
from toyjax.errors import ConfigError
from toyjax.sums import pairwise_sum

DEFAULTS = {"neurons": 64, "activation": "relu", "bias_init": 0.0, "bias_decay": 0.0, "projection_seed": 0}
ACTIVATIONS = ("relu", "gelu", "solu")
MONOSEMANTIC_SHARE = 0.9  # a neuron is monosemantic when one feature carries this share of its response


def option(static: Static, name: str):
    """One of ``model.options``, or its default (`DEFAULTS`)."""
    return static.option(name, DEFAULTS[name])


@functools.lru_cache(maxsize=16)
def _projection(seed: int, m: int, n: int) -> np.ndarray:
    p = np.random.default_rng(seed).standard_normal((m, n))
    p = (p / np.linalg.norm(p, axis=0)).astype(np.float32)
    p.setflags(write=False)
    return p


def projection(static: Static) -> jax.Array:
    """P (m, N): the fixed embedding, unit-norm random columns drawn from ``projection_seed``."""
    return jnp.asarray(_projection(int(option(static, "projection_seed")), static.n_hidden, static.n_features))


def activate(name: str, z: jax.Array) -> jax.Array:
    """The neurons' activation of pre-activations z (k, ...): ReLU, exact GeLU, or SoLU over the neuron axis."""
    if name == "gelu":
        return jax.nn.gelu(z, approximate=False)
    if name == "solu":
        return z * jax.nn.softmax(z, axis=0)
    return jax.nn.relu(z)


def forward(static: Static, params: dict, x: jax.Array) -> jax.Array:
    """The decoded features x' (N, batch) of features x (N, batch)."""
    z = params["W_in"] @ (projection(static) @ x) + params["b_in"][:, None]
    return params["W_out"] @ activate(option(static, "activation"), z)


def errors(static: Static, params: dict, x: jax.Array, point: Point) -> jax.Array:
    """(batch,) each point's importance-weighted squared error Σ_i I_i (x_i − x'_i)², for x (N, batch)."""
    return jnp.sum(point.importance[:, None] * (x - forward(static, params, x)) ** 2, axis=0)


def objective(params: dict, static: Static, point: Point, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(the training objective, the reconstruction loss) of a batch x (N, batch): the loss + the bias penalty."""
    loss = jnp.mean(errors(static, params, x, point))
    decay = float(option(static, "bias_decay"))
    if decay == 0.0:
        return loss, loss
    return loss + decay * jnp.sum((params["b_in"] - float(option(static, "bias_init"))) ** 2), loss


def _xavier(key: jax.Array, shape: tuple[int, int]) -> jax.Array:
    return jax.random.normal(key, shape) * np.float32(np.sqrt(2.0 / sum(shape)))


def init(static: Static, point: Point, keys: Keys) -> State:
    """A fresh model from its init key: W_in (k, m), b_in (k,) = bias_init, W_out (N, k); AdamW state; history."""
    k, m, n = int(option(static, "neurons")), static.n_hidden, static.n_features
    params = {"W_in": _xavier(jax.random.fold_in(keys.init, 0), (k, m)) * point.init_scale,
              "b_in": jnp.full((k,), float(option(static, "bias_init")), jnp.float32),
              "W_out": _xavier(jax.random.fold_in(keys.init, 1), (n, k)) * point.init_scale}
    row = {"loss": jnp.zeros(()), "monosemanticity": jnp.zeros((n,)), "monosemantic_neurons": jnp.zeros(())}
    return start(static, params, optim.adamw(static, point).init(params), row)


def model_step(static: Static, state: State, point: Point, x: jax.Array, t: jax.Array) -> tuple[State, jax.Array]:
    """One AdamW step of one model on its batch x (N, batch); returns (state, reconstruction loss)."""
    (_, loss), grads = jax.value_and_grad(objective, has_aux=True)(state.params, static, point, x)
    updates, opt_state = optim.adamw(static, point).update(grads, state.opt_state, state.params)
    state = state._replace(params=optax.apply_updates(state.params, updates), opt_state=opt_state)
    return add_tail(static, state, loss, t), loss


def responses(static: Static, params: dict) -> jax.Array:
    """r (k, N): |act(W_in P e_i + b)_j − act(b)_j|, neuron j's response to feature i alone at value 1."""
    name, b = option(static, "activation"), params["b_in"][:, None]
    return jnp.abs(activate(name, params["W_in"] @ projection(static) + b) - activate(name, b))


def feature_monosemanticity(r: jax.Array) -> jax.Array:
    """(N,) the share of each feature's total response r (k, N) carried by its strongest neuron; 0 if none."""
    total = pairwise_sum(r, axis=0)
    return jnp.where(total > 0, jnp.max(r, axis=0) / jnp.where(total > 0, total, 1.0), 0.0)


def monosemantic_neurons(r: jax.Array) -> jax.Array:
    """() how many neurons of r (k, N) give one feature at least `MONOSEMANTIC_SHARE` of their response."""
    share = feature_monosemanticity(r.T)
    return pairwise_sum((share >= MONOSEMANTIC_SHARE).astype(jnp.float32))


def record(static: Static, history: dict, params: dict, loss: jax.Array, done: jax.Array) -> dict:
    """Write the loss and the monosemanticity numbers (and params) into row k at the k-th snapshot."""

    def row():
        r = responses(static, params)
        return {"loss": loss, "monosemanticity": feature_monosemanticity(r),
                "monosemantic_neurons": monosemantic_neurons(r)}

    return write_snapshot(static, history, params, row, done)


def step(static: Static, block: Block, data_keys: jax.Array, t: jax.Array, state: State) -> State:
    """Step t of every model of the block, on the block's shared draws, and the snapshot when one is due."""
    core, loss = for_each_model(static, model_step, state._replace(history={}), block,
                                draw(static, data_keys, t), t)
    history = jax.vmap(lambda h, p, v: record(static, h, p, v, t + 1))(state.history, core.params, loss)
    return core._replace(history=history)


def finish(static: Static, state: State, point: Point, eval_key: jax.Array) -> dict:
    """Final records (`toyjax.engine.state.final`); the eval loss is the Monte Carlo mean over the shared eval
    points."""
    x = data.sample(static.data, static.eval_samples, point.density, key=eval_key)
    return final(static, state, pairwise_sum(errors(static, state.params, x, point)) / static.eval_samples)


def check(cfg) -> None:
    """Refuse, in one line, bad ``model.options`` and what this family does not train."""
    given = dict(cfg.model.options or {})
    unknown = [name for name in given if name not in DEFAULTS]
    if unknown:
        raise ConfigError(f"model.options.{unknown[0]}: unknown option; allowed: {', '.join(DEFAULTS)}")
    get = {**DEFAULTS, **given}
    checks.integer("model.options.neurons", get["neurons"], low=1)
    checks.choice("model.options.activation", get["activation"], ACTIVATIONS)
    checks.number("model.options.bias_init", get["bias_init"])
    if checks.number("model.options.bias_decay", get["bias_decay"]) < 0:
        raise ConfigError(f"model.options.bias_decay: must be >= 0, got {get['bias_decay']}")
    checks.integer("model.options.projection_seed", get["projection_seed"], low=0)
    if axes.largest(cfg, "dataset_size") is not None:
        raise ConfigError("data.dataset_size: the jermyn family trains on a fresh batch every step")
    if axes.largest(cfg, "activation_l1") > 0:
        raise ConfigError("model.activation_l1: the jermyn family has no activation penalty; use 0")


DIMS = {"params/W_in": ("neuron", "hidden"), "params/b_in": ("neuron",), "params/W_out": ("feature", "neuron"),
        "history/monosemanticity": ("feature",)}  # each array's axes after the grid's (`Family.dims`)

FAMILY = Family("jermyn", init, step, finish, check, dims=lambda config: DIMS)
