"""The numerical optimum of the §3 phase change: the exact expected loss minimised over configurations.

The closed forms of `toyjax.analysis.theory` price four hand-built configurations (unit norms, bias 0 or s/2).
Here the exact expected loss (`toyjax.analysis.exact`) is minimised over the whole family of relu_output
configurations, parametrised by what the paper's diagrams describe:

    m = 1:  a signed norm per feature (its direction is ±1) and a bias per feature;
    m = 2:  a norm and an angle per feature (feature 0 at angle 0: rotations change nothing) and a bias.

Each cell is solved from several starts, the four closed-form configurations and `RESTARTS` random ones,
by Adam on the exact loss (with a coarser quadrature while descending, `DESCENT_NODES`), and the start with
the lowest exact loss (full quadrature) is kept. The optimum's phase is read off its W by the same
classifier as trained models (`toyjax.analysis.phase.classify_phase`). This module imports jax, numpy,
optax and `toyjax.analysis` (exact, phase, theory).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from toyjax.analysis import exact, theory
from toyjax.analysis.phase import classify_phase
from toyjax.numerics import at_precision

RESTARTS = 8  # random starts per cell, beside the closed-form configurations
STEPS = 1500  # Adam steps per start
LEARNING_RATE = 0.02  # cosine-decayed to 1% over the steps
DESCENT_NODES = 12  # quadrature nodes per dimension while descending (the kept loss uses exact.NODES)


def to_params(theta, n: int, m: int):
    """(W (m, n), b (n,)) of one configuration vector: signed norms (m=1) or norms and angles (m=2), biases."""
    if m == 1:
        return theta[None, :n], theta[n:]
    angle = jnp.concatenate([jnp.zeros(1, theta.dtype), theta[n : 2 * n - 1]])
    W = jnp.stack([theta[:n] * jnp.cos(angle), theta[:n] * jnp.sin(angle)])
    return W, theta[2 * n - 1 :]


def from_params(W, b) -> np.ndarray:
    """The configuration vector of one (W, b) (m = 1 or 2), rotated so that feature 0 lies at angle 0."""
    W, b = np.asarray(W, np.float64), np.asarray(b, np.float64)
    if W.shape[0] == 1:
        return np.concatenate([W[0], b]).astype(np.float32)
    norms = np.linalg.norm(W, axis=0)
    angle = np.arctan2(W[1], W[0])
    angle = angle - (angle[0] if norms[0] > 0 else 0.0)
    return np.concatenate([norms, angle[1:], b]).astype(np.float32)


def _check(n: int, m: int) -> None:
    if m not in (1, 2) or n < m:
        raise ValueError(f"n_hidden: the numerical optimum is parametrised for m = 1 or 2 (n ≥ m), got n={n}, m={m}")


def _starts(n: int, m: int, density: float, key, restarts: int) -> np.ndarray:
    """(k, P) starting vectors: the closed-form configurations (when n=2, m=1 or n=3, m=2), then random ones."""
    size = 2 * n if m == 1 else 3 * n - 1
    found = []
    if n in theory.CANDIDATES and m == n - 1:
        for code in theory.CANDIDATES[n]:
            params = theory.candidate_params(n, code, np.float32(density))
            found.append(from_params(params["W"], params["b"]))
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel())
    random = rng.uniform(-1.2, 1.2, (restarts, size))
    if m == 2:
        random[:, n : 2 * n - 1] = rng.uniform(0, 2 * np.pi, (restarts, n - 1))
    random[:, size - n :] = rng.uniform(-0.3, 0.3, (restarts, n))
    return np.concatenate([np.array(found).reshape(-1, size), random]).astype(np.float32)


@functools.cache
def _solver(n: int, m: int, steps: int):
    """jit(vmap) of one descent: (starts (k, P), density (k,), importance (k, n)) -> (final (k, P), loss (k,))."""
    schedule = optax.cosine_decay_schedule(LEARNING_RATE, steps, alpha=0.01)
    opt = optax.adam(schedule)

    def loss(theta, s, importance, nodes):
        W, b = to_params(theta, n, m)
        return exact.expected_loss(W, b, s, importance, nodes=nodes)

    def descend(theta, s, importance):
        grad = jax.grad(loss)

        def step(carry, _):
            theta, state = carry
            updates, state = opt.update(grad(theta, s, importance, DESCENT_NODES), state)
            return (optax.apply_updates(theta, updates), state), None

        (theta, _), _ = jax.lax.scan(step, (theta, opt.init(theta)), None, length=steps)
        return theta, loss(theta, s, importance, exact.NODES)

    return jax.jit(at_precision("highest", jax.vmap(descend)))


def numerical_optimum(n: int, m: int, density, importance, *, key=None, restarts: int = RESTARTS,
                      steps: int = STEPS) -> dict[str, np.ndarray]:
    """The lowest exact expected loss over the configurations of every cell (module docstring).

    Args:
        n, m: features and hidden dimensions (m = 1 or 2).
        density: (C,) density s of every feature, one per cell.
        importance: (C, n) importances, one row per cell.
        key: PRNG key of the random starts (default: PRNGKey(0)).
        restarts: random starts per cell; steps: Adam steps per start.

    Returns:
        "W" (C, m, n), "b" (C, n), "loss" (C,) exact expected loss, "phase" (C,) codes into `theory.PHASES`.
    """
    _check(n, m)
    key = jax.random.PRNGKey(0) if key is None else key
    density = np.asarray(density, np.float32).reshape(-1)
    importance = np.asarray(importance, np.float32).reshape(density.size, n)
    starts = [_starts(n, m, float(s), jax.random.fold_in(key, c), restarts) for c, s in enumerate(density)]
    k = starts[0].shape[0]
    flat = np.concatenate(starts)
    theta, loss = _solver(n, m, steps)(jnp.asarray(flat), jnp.repeat(density, k), jnp.repeat(importance, k, axis=0))
    loss = np.where(np.isfinite(loss), np.asarray(loss), np.inf).reshape(density.size, k)
    best = np.asarray(theta).reshape(density.size, k, -1)[np.arange(density.size), np.argmin(loss, axis=1)]
    W, b = jax.vmap(lambda t: to_params(t, n, m))(jnp.asarray(best))
    return {"W": np.asarray(W), "b": np.asarray(b), "loss": loss.min(axis=1), "phase": classify_phase(np.asarray(W))}


def exact_losses(W, b, density, importance) -> np.ndarray:
    """Exact expected loss of many relu_output models: W (C, m, n), b (C, n), density (C,) or (C, n),
    importance (C, n); returns (C,)."""
    W = jnp.asarray(W, jnp.float32)
    C, n = W.shape[0], W.shape[-1]
    density = jnp.broadcast_to(jnp.asarray(density, jnp.float32).reshape(C, -1), (C, n))
    one = jax.jit(at_precision("highest", jax.vmap(lambda W, b, s, imp: exact.expected_loss(W, b, s, imp))))
    return np.asarray(one(W, jnp.asarray(b, jnp.float32), density, jnp.asarray(importance, jnp.float32)))
