"""The four toy models of Elhage et al., "Toy Models of Superposition" (2022), as pure functions.

Every model is a pair ``init(n, m, scale, *, key) -> params`` and ``apply(params, x) -> x'`` over a
params dict. W has shape (m, n) as in the paper, so column W[:, i] is feature i's direction, and a batch
is a matrix of columns x (n, batch), so the formulas below read as written. No model has a hidden bias.

- linear (§2):          x' = WᵀW x + b
- relu_output (§2):     x' = ReLU(WᵀW x + b)
- relu_hidden (§7):     h = ReLU(W x),  x' = ReLU(Wᵀ h + b)        (privileged hidden basis)
- abs_mlp (§8):         h = ReLU(W1 x), y' = ReLU(W2 h + b)        (untied; trained on y = |x|)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

Params = dict[str, jax.Array]


def xavier_normal(key: jax.Array, shape: tuple[int, int], scale: jax.Array | float) -> jax.Array:
    """Xavier-normal matrix, std = scale·sqrt(2/(fan_in+fan_out)), from this model's own shape only.

    The std never depends on how many models are trained together (the stacked-PyTorch init trap).
    """
    std = scale * jnp.sqrt(2.0 / (shape[0] + shape[1]))
    return std * jax.random.normal(key, shape, jnp.float32)


def init_tied(n: int, m: int, scale: jax.Array | float, *, key: jax.Array) -> Params:
    """Params of the tied models: W (m, n) Xavier-normal, b (n,) zeros."""
    return {"W": xavier_normal(key, (m, n), scale), "b": jnp.zeros((n,), jnp.float32)}


def init_abs_mlp(n: int, m: int, scale: jax.Array | float, *, key: jax.Array) -> Params:
    """Params of abs_mlp: W1 (m, n), W2 (n, m) Xavier-normal, b (n,) zeros."""
    k1, k2 = jax.random.split(key)
    return {
        "W1": xavier_normal(k1, (m, n), scale),
        "W2": xavier_normal(k2, (n, m), scale),
        "b": jnp.zeros((n,), jnp.float32),
    }


def linear(params: Params, x: jax.Array) -> jax.Array:
    """x' = WᵀW x + b for a batch of columns x (n, batch)."""
    return params["W"].T @ (params["W"] @ x) + params["b"][:, None]


def relu_output(params: Params, x: jax.Array) -> jax.Array:
    """x' = ReLU(WᵀW x + b) for a batch of columns x (n, batch)."""
    return jax.nn.relu(linear(params, x))


def relu_hidden(params: Params, x: jax.Array) -> jax.Array:
    """x' = ReLU(Wᵀ ReLU(W x) + b) for a batch of columns x (n, batch)."""
    h = jax.nn.relu(params["W"] @ x)
    return jax.nn.relu(params["W"].T @ h + params["b"][:, None])


def abs_mlp(params: Params, x: jax.Array) -> jax.Array:
    """y' = ReLU(W2 ReLU(W1 x) + b) for a batch of columns x (n, batch)."""
    h = jax.nn.relu(params["W1"] @ x)
    return jax.nn.relu(params["W2"] @ h + params["b"][:, None])


APPLY = {"linear": linear, "relu_output": relu_output, "relu_hidden": relu_hidden, "abs_mlp": abs_mlp}
INIT = {"linear": init_tied, "relu_output": init_tied, "relu_hidden": init_tied, "abs_mlp": init_abs_mlp}


def target(kind: str, x: jax.Array) -> jax.Array:
    """What model `kind` is trained to output: |x| for abs_mlp, x itself otherwise."""
    return jnp.abs(x) if kind == "abs_mlp" else x


def weighted_error(importance: jax.Array, target: jax.Array, output: jax.Array) -> jax.Array:
    """Per-sample Σ_i I_i (target_i − output_i)² for columns (n, batch) and importance (n,); returns (batch,)."""
    return jnp.sum(importance[:, None] * (target - output) ** 2, axis=0)


def sample_loss(kind: str, params: Params, x: jax.Array, importance: jax.Array) -> jax.Array:
    """Per-sample loss Σ_i I_i (y_i − x'_i)² (§2) for x (n, batch) and importance (n,); returns (batch,)."""
    return weighted_error(importance, target(kind, x), APPLY[kind](params, x))


def hidden(kind: str, params: Params, x: jax.Array) -> jax.Array:
    """The hidden vectors (m, batch) of inputs x (n, batch): h = W x, or ReLU(W x) where a ReLU follows W (W1)."""
    h = feature_matrix(params) @ x
    return jax.nn.relu(h) if kind in ("relu_hidden", "abs_mlp") else h


def feature_matrix(params) -> jax.Array:
    """The (…, m, n) matrix whose columns are the features' embedding directions: W, or W1 of abs_mlp.

    Works on JAX and NumPy params alike, with any leading grid dimensions.
    """
    return params["W"] if "W" in params else params["W1"]
