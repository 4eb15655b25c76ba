"""Toy models of Elhage et al., "Toy Models of Superposition" (2022), described by their architecture.

A toy model is an `Architecture`: a frozen description read from the run's ``model:`` section, never from
a name. W has shape (m, n) as in the paper, so column W[:, i] is feature i's direction, and a batch is a
matrix of columns x (n, batch), so the formulas read as written:

    h  = act(W x + b_h)                 the hidden vector; b_h only with ``hidden_bias``
    x' = out(W_out h + b)               W_out = Wᵀ (tied encoder) or W2 (n, m) (untied; W is then W1)
    L  = Σ_i I_i (y_i − x'_i)²  (+ λ ‖h‖₁ with ``activation_l1``, §9)   y = x, or |x| (``target: abs``)

The paper's four models are named shorthands of this description (`SHORTHANDS`):

- linear (§2):          x' = WᵀW x + b
- relu_output (§2):     x' = ReLU(WᵀW x + b)
- relu_hidden (§7):     h = ReLU(W x),  x' = ReLU(Wᵀ h + b)        (privileged hidden basis)
- abs_mlp (§8):         h = ReLU(W1 x), y' = ReLU(W2 h + b)        (untied; trained on y = |x|)

Hidden activations: none, ReLU, GeLU (the exact erf form, as PyTorch's default) and SoLU, x·softmax(x) over
the hidden units (Elhage et al. 2022, "Softmax Linear Units", without its LayerNorm). A hidden activation
other than none makes the hidden basis privileged: its units are neurons. This module imports jax and
`toyjax.families.toy.architecture` (the description itself, free of JAX so that the config can read it).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from toyjax.families.toy.architecture import SHORTHANDS, Architecture, as_architecture

Params = dict[str, jax.Array]



def xavier_normal(key: jax.Array, shape: tuple[int, int], scale: jax.Array | float) -> jax.Array:
    """Xavier-normal matrix, std = scale·sqrt(2/(fan_in+fan_out)), from this model's own shape only.

    The std never depends on how many models are trained together (the stacked-PyTorch init trap).
    """
    std = scale * jnp.sqrt(2.0 / (shape[0] + shape[1]))
    return std * jax.random.normal(key, shape, jnp.float32)


def init(model: Architecture | str, n: int, m: int, scale: jax.Array | float, *, key: jax.Array) -> Params:
    """Params of a model: W (m, n) Xavier-normal, or W1 (m, n) and W2 (n, m) from two halves of `key`;
    b (n,) zeros; b_hidden (m,) zeros with a hidden bias."""
    arch = as_architecture(model)
    if arch.tied:
        params = {"W": xavier_normal(key, (m, n), scale)}
    else:
        k1, k2 = jax.random.split(key)
        params = {"W1": xavier_normal(k1, (m, n), scale), "W2": xavier_normal(k2, (n, m), scale)}
    params["b"] = jnp.zeros((n,), jnp.float32)
    if arch.hidden_bias:
        params["b_hidden"] = jnp.zeros((m,), jnp.float32)
    return params


def activation(name: str, h: jax.Array) -> jax.Array:
    """The hidden activation `name` of h (m, batch); SoLU's softmax runs over the m hidden units."""
    if name == "relu":
        return jax.nn.relu(h)
    if name == "gelu":
        return jax.nn.gelu(h, approximate=False)
    if name == "solu":
        return h * jax.nn.softmax(h, axis=0)
    return h


def hidden(model: Architecture | str, params: Params, x: jax.Array) -> jax.Array:
    """The hidden vectors h = act(W x + b_h) (m, batch) of inputs x (n, batch)."""
    arch = as_architecture(model)
    h = feature_matrix(params) @ x
    if arch.hidden_bias:
        h = h + params["b_hidden"][:, None]
    return activation(arch.hidden_activation, h)


def decoder(model: Architecture | str, params: Params) -> jax.Array:
    """W_out (n, m): Wᵀ of a tied model, W2 of an untied one."""
    return params["W"].T if as_architecture(model).tied else params["W2"]


def decode(model: Architecture | str, params: Params, h: jax.Array, W_out: jax.Array | None = None) -> jax.Array:
    """x' = out(W_out h + b) (n, batch) of hidden vectors h (m, batch); W_out is `decoder`'s unless given."""
    arch = as_architecture(model)
    out = (decoder(arch, params) if W_out is None else W_out) @ h + params["b"][:, None]
    return jax.nn.relu(out) if arch.output_activation == "relu" else out


def apply(model: Architecture | str, params: Params, x: jax.Array) -> jax.Array:
    """x' of a batch of columns x (n, batch) (module docstring).

    W_out is taken before h, in the order of the paper's WᵀWx: XLA schedules the program by the order of its
    ops, and this order runs the §1 grid (256 models, n=5, m=2) 14% faster than h first (`scripts/speed_vs.sh`).
    """
    W_out = decoder(model, params)
    return decode(model, params, hidden(model, params, x), W_out)


def target(model: Architecture | str, x: jax.Array) -> jax.Array:
    """What a model is trained to output: |x| with ``target: abs`` (§8), x itself otherwise."""
    return jnp.abs(x) if as_architecture(model).target == "abs" else x


def weighted_error(importance: jax.Array, target: jax.Array, output: jax.Array) -> jax.Array:
    """Per-sample Σ_i I_i (target_i − output_i)² for columns (n, batch) and importance (n,); returns (batch,)."""
    return jnp.sum(importance[:, None] * (target - output) ** 2, axis=0)


def sample_loss(model: Architecture | str, params: Params, x: jax.Array, importance: jax.Array) -> jax.Array:
    """Per-sample loss Σ_i I_i (y_i − x'_i)² (§2) for x (n, batch) and importance (n,); returns (batch,)."""
    return weighted_error(importance, target(model, x), apply(model, params, x))


def penalized_loss(model: Architecture | str, params: Params, x: jax.Array, importance: jax.Array,
                   l1: jax.Array) -> jax.Array:
    """Per-sample loss plus λ‖h‖₁, the §9 penalty on the hidden activations; returns (batch,).

    Elhage et al. (2022) §9 ("The Strategic Picture"): "apply an L1 regularization term to the hidden layer
    activations (i.e. add λ‖h‖₁ to the loss)".
    """
    W_out = decoder(model, params)  # before h, as in `apply`
    h = hidden(model, params, x)
    error = weighted_error(importance, target(model, x), decode(model, params, h, W_out))
    return error + l1 * jnp.sum(jnp.abs(h), axis=0)


def feature_matrix(params) -> jax.Array:
    """The (…, m, n) matrix whose columns are the features' embedding directions: W, or W1 when untied.

    Works on JAX and NumPy params alike, with any leading grid dimensions.
    """
    return params["W"] if "W" in params else params["W1"]


# The shorthands as functions, for code that names a model by its shorthand.
APPLY = {name: (lambda arch: lambda params, x: apply(arch, params, x))(arch) for name, arch in SHORTHANDS.items()}
INIT = {name: (lambda arch: lambda n, m, scale, *, key: init(arch, n, m, scale, key=key))(arch)
        for name, arch in SHORTHANDS.items()}


def init_tied(n: int, m: int, scale: jax.Array | float, *, key: jax.Array) -> Params:
    """Params of the tied shorthands: W (m, n) Xavier-normal, b (n,) zeros."""
    return init(SHORTHANDS["relu_output"], n, m, scale, key=key)


def linear(params: Params, x: jax.Array) -> jax.Array:
    """x' = WᵀW x + b for a batch of columns x (n, batch)."""
    return apply(SHORTHANDS["linear"], params, x)


def relu_output(params: Params, x: jax.Array) -> jax.Array:
    """x' = ReLU(WᵀW x + b) for a batch of columns x (n, batch)."""
    return apply(SHORTHANDS["relu_output"], params, x)


def relu_hidden(params: Params, x: jax.Array) -> jax.Array:
    """x' = ReLU(Wᵀ ReLU(W x) + b) for a batch of columns x (n, batch)."""
    return apply(SHORTHANDS["relu_hidden"], params, x)


def abs_mlp(params: Params, x: jax.Array) -> jax.Array:
    """y' = ReLU(W2 ReLU(W1 x) + b) for a batch of columns x (n, batch)."""
    return apply(SHORTHANDS["abs_mlp"], params, x)
