"""A family of one's own: Jermyn, Schiefer and Hubinger, "Engineering Monosemanticity in Toy Models" (2022).

arXiv 2211.09169, their feature decoder. N sparse features x (toyjax's data: feature i is non-zero with its
density, then Uniform[0, 1]) are embedded into m dimensions by a FIXED random projection P (m, N), never trained
and the same for every model of a run; a hidden layer of k neurons with a bias reads them, and a linear readout
without a bias decodes the features again:

    h = act(W_in P x + b),    x' = W_out h,    L = mean over the batch of Σ_i I_i (x_i − x'_i)²,

on a fresh batch every step (their loss is this with every I_i = 1, toyjax's default importance). The paper
finds that a moderately negative bias makes the neurons monosemantic at no cost in loss.

``model.n_features`` is N and ``model.n_hidden`` is m (at most N); ``model.options`` (`DEFAULTS`) holds
``neurons`` (k), ``activation`` (relu; gelu, exact; solu, z · softmax(z) over the neurons, without SoLU's
LayerNorm), ``bias_init``, ``bias_decay`` λ_b, ``projection_seed`` and ``optimizer`` (``lamb``, theirs, or
``adamw``, toyjax's AdamW and ``train.schedule``).

Checked against their code (github.com/adamjermyn/toy_model_interpretability, read with the search tool:
``model3.py``, ``model_helper.py``, ``plot_helper.py``, ``learning_rate_sweep.py``, ``readme.md``) and the
paper's abstract; what this module does with each:

- Their runs: N=512, m=64, k=1024, eps (density) 1/64 with "equal" frequencies, batch 2^13 = 8192, 2^17 steps,
  lr swept 0.001–0.03; "no bias" is init_bias 0 and decay 0, "negative bias" init_bias −1 and decay 0.03 (the
  data file names of ``learning_rate_sweep.py``). The brief's settings agree.
- Projection: ``make_random_embedder``: the left singular vectors u (N, m) of a standard normal (N, m) matrix,
  each row (a feature) scaled to unit norm, transposed. Here the same from numpy's PCG64 at
  ``projection_seed`` (a constant of the compiled program, so no model's key touches it); m ≤ N is required.
- Init: torch's ``nn.Linear`` defaults, W and b ~ U(±1/√fan_in), then ``bias_init`` added to every bias
  ("the initial mean bias"). W_in and W_out are also multiplied by ``init_scale`` (1 by default).
- Optimiser: torch_optimizer's ``Lamb`` (betas 0.9, 0.999, eps 1e-6, weight decay 0; the trust ratio
  min(‖w‖, 10) / ‖adam step‖ per tensor) under ``CosineAnnealingLR(T_max=512, eta_min=0)``, which is periodic:
  lr_t = lr (1 + cos(π t / 512)) / 2. Here optax's Adam moments (with bias correction, which theirs has off:
  the trust ratio rescales each step to the weights' norm anyway), the clamped trust ratio (`trust_ratio`)
  and that schedule; ``train.weight_decay`` is LAMB's decoupled weight decay (theirs 0).
- Bias decay: after each optimiser step of the first half of training (step < steps / 2), b ← b (1 − λ_b lr)
  with lr the base learning rate: a decay towards 0 (not towards ``bias_init``), outside the loss
  (`decay_bias`). Earlier versions of this module added λ_b Σ_j (b_j − bias_init)² to the loss instead.
- Monosemanticity: ``single_feature_activations``, a (k, N) = act(W_in P e_i + b), each feature alone at value
  1, raw (not relative to act(b)); a neuron's share is max_i a_ji / (1e-10 + Σ_i a_ji), and it is monosemantic
  when the share exceeds ``r_threshold`` = 0.999 (`MONOSEMANTIC`). A dead neuron has share 0. Earlier versions
  counted |act(W_in P e_i + b) − act(b)| against 0.9; that threshold is gone, not reported.
- ``eval_loss`` is a plain Monte Carlo mean of the reconstruction error on ``record.eval_samples`` points, one
  draw from the eval key shared by every model (`toyjax.data.sample`), not toyjax's stratified estimate; theirs
  is the training loss, logged every 16 steps.
- Each snapshot records the step's "loss", "monosemanticity" (k,) (each neuron's share), "monosemantic_neurons"
  and "mean_bias": the three panels of their ``training_plot``.

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

DEFAULTS = {"neurons": 64, "activation": "relu", "bias_init": 0.0, "bias_decay": 0.0, "projection_seed": 0,
            "optimizer": "lamb"}
ACTIVATIONS = ("relu", "gelu", "solu")
OPTIMIZERS = ("lamb", "adamw")
MONOSEMANTIC = 0.999  # their r_threshold: a neuron is monosemantic when one feature's share exceeds it
TINY = 1e-10  # their guard in the share's denominator
CLAMP = 10.0  # torch_optimizer Lamb's clamp_value: the weight norm's cap in the trust ratio
ANNEALING = 512  # T_max of their CosineAnnealingLR: the learning rate's half-period, in steps


def option(static: Static, name: str):
    """One of ``model.options``, or its default (`DEFAULTS`)."""
    return static.option(name, DEFAULTS[name])


@functools.lru_cache(maxsize=16)
def _projection(seed: int, m: int, n: int) -> np.ndarray:
    u = np.linalg.svd(np.random.default_rng(seed).standard_normal((n, m)), full_matrices=False)[0]
    p = (u / np.linalg.norm(u, axis=1, keepdims=True)).T.astype(np.float32)
    p.setflags(write=False)
    return p


def projection(static: Static) -> jax.Array:
    """P (m, N): the fixed embedding, their ``make_random_embedder``: the left singular vectors of a normal (N, m)
    matrix, each feature's row scaled to unit norm, transposed; drawn from ``projection_seed``."""
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


def objective(params: dict, static: Static, point: Point, x: jax.Array) -> jax.Array:
    """The training loss of a batch x (N, batch): the mean over the batch of Σ_i I_i (x_i − x'_i)²."""
    return jnp.mean(errors(static, params, x, point))


def trust_ratio() -> optax.GradientTransformation:
    """LAMB's layer-wise rescaling as torch_optimizer's Lamb does it: u · min(‖w‖, `CLAMP`) / ‖u‖ (1 if either is 0)."""

    def scale(u: jax.Array, w: jax.Array) -> jax.Array:
        wn, un = jnp.minimum(jnp.linalg.norm(w), CLAMP), jnp.linalg.norm(u)
        return u * jnp.where((wn > 0) & (un > 0), wn / jnp.where(un > 0, un, 1.0), 1.0)

    return optax.GradientTransformation(lambda params: optax.EmptyState(),
                                        lambda updates, state, params: (jax.tree.map(scale, updates, params), state))


def optimizer(static: Static, point: Point) -> optax.GradientTransformation:
    """LAMB under their periodic cosine annealing (`ANNEALING`), or toyjax's AdamW and schedule, at this model's lr."""
    if option(static, "optimizer") == "adamw":
        return optim.adamw(static, point)
    return optax.chain(optax.scale_by_adam(b1=0.9, b2=0.999, eps=1e-6), optax.add_decayed_weights(point.weight_decay),
                       trust_ratio(), optax.scale_by_learning_rate(
                           lambda count: point.lr * 0.5 * (1.0 + jnp.cos(jnp.pi * count / ANNEALING))))


def _uniform(key: jax.Array, shape: tuple[int, ...], fan_in: int) -> jax.Array:
    bound = np.float32(1.0 / np.sqrt(fan_in))
    return jax.random.uniform(key, shape, jnp.float32, -bound, bound)


def init(static: Static, point: Point, keys: Keys) -> State:
    """A fresh model as torch's ``nn.Linear`` draws it (U(±1/√fan_in)), ``bias_init`` added to every bias;
    the optimiser's state; the history."""
    k, m, n = int(option(static, "neurons")), static.n_hidden, static.n_features
    params = {"W_in": _uniform(jax.random.fold_in(keys.init, 0), (k, m), m) * point.init_scale,
              "b_in": _uniform(jax.random.fold_in(keys.init, 2), (k,), m) + float(option(static, "bias_init")),
              "W_out": _uniform(jax.random.fold_in(keys.init, 1), (n, k), k) * point.init_scale}
    row = {"loss": jnp.zeros(()), "monosemanticity": jnp.zeros((k,)), "monosemantic_neurons": jnp.zeros(()),
           "mean_bias": jnp.zeros(())}
    return start(static, params, optimizer(static, point).init(params), row)


def decay_bias(static: Static, params: dict, point: Point, t: jax.Array) -> dict:
    """Their bias decay: b ← b (1 − λ_b · lr) after each step of the first half of training (towards 0)."""
    decay = float(option(static, "bias_decay"))
    if decay == 0.0:
        return params
    factor = jnp.where(2 * t < static.steps, 1.0 - decay * point.lr, 1.0)
    return {**params, "b_in": params["b_in"] * factor}


def model_step(static: Static, state: State, point: Point, x: jax.Array, t: jax.Array) -> tuple[State, jax.Array]:
    """One optimiser step of one model on its batch x (N, batch), then the bias decay; returns (state, loss)."""
    loss, grads = jax.value_and_grad(objective)(state.params, static, point, x)
    updates, opt_state = optimizer(static, point).update(grads, state.opt_state, state.params)
    params = decay_bias(static, optax.apply_updates(state.params, updates), point, t)
    state = state._replace(params=params, opt_state=opt_state)
    return add_tail(static, state, loss, t), loss


def activations(static: Static, params: dict) -> jax.Array:
    """a (k, N): act(W_in P e_i + b)_j, neuron j's activation on feature i alone at value 1 (their
    ``single_feature_activations``)."""
    z = params["W_in"] @ projection(static) + params["b_in"][:, None]
    return activate(option(static, "activation"), z)


def neuron_monosemanticity(a: jax.Array) -> jax.Array:
    """(k,) each neuron's largest single-feature activation over their sum (+1e-10), of a (k, N)."""
    return jnp.max(a, axis=1) / (TINY + pairwise_sum(a, axis=1))


def monosemantic_neurons(a: jax.Array) -> jax.Array:
    """() how many neurons of a (k, N) have a share above `MONOSEMANTIC` (0.999)."""
    return pairwise_sum((neuron_monosemanticity(a) > MONOSEMANTIC).astype(jnp.float32))


def record(static: Static, history: dict, params: dict, loss: jax.Array, done: jax.Array) -> dict:
    """Write the loss, the monosemanticity numbers and the mean bias (and params) at the k-th snapshot."""

    def row():
        a = activations(static, params)
        return {"loss": loss, "monosemanticity": neuron_monosemanticity(a),
                "monosemantic_neurons": monosemantic_neurons(a),
                "mean_bias": pairwise_sum(params["b_in"]) / params["b_in"].shape[0]}

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
    checks.choice("model.options.optimizer", get["optimizer"], OPTIMIZERS)
    if get["optimizer"] == "lamb" and cfg.train.schedule != "constant":
        raise ConfigError(f"train.schedule: LAMB follows their cosine annealing (period {2 * ANNEALING} steps), so "
                          f"{cfg.train.schedule} would be ignored; use constant, or model.options.optimizer=adamw")
    checks.number("model.options.bias_init", get["bias_init"])
    if checks.number("model.options.bias_decay", get["bias_decay"]) < 0:
        raise ConfigError(f"model.options.bias_decay: must be >= 0, got {get['bias_decay']}")
    checks.integer("model.options.projection_seed", get["projection_seed"], low=0)
    if cfg.model.n_hidden > cfg.model.n_features:
        raise ConfigError(f"model.n_hidden: their embedder takes m <= N dimensions (model.n_features, "
                          f"{cfg.model.n_features}), got {cfg.model.n_hidden}")
    if axes.largest(cfg, "dataset_size") is not None:
        raise ConfigError("data.dataset_size: the jermyn family trains on a fresh batch every step")
    if axes.largest(cfg, "activation_l1") > 0:
        raise ConfigError("model.activation_l1: the jermyn family has no activation penalty; use 0")


DIMS = {"params/W_in": ("neuron", "hidden"), "params/b_in": ("neuron",), "params/W_out": ("feature", "neuron"),
        "history/monosemanticity": ("neuron",)}  # each array's axes after the grid's (`Family.dims`)

FAMILY = Family("jermyn", init, step, finish, check, dims=lambda config: DIMS)
