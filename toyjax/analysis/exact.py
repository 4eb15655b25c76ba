"""The exact expected loss of a relu_output model on independent Uniform[0, 1] features, for few features (§3).

Elhage et al. (2022) §2 split the expected loss by which features are active:

    E[L] = Σ_A P(A) · Σ_i I_i E[(x_i − ReLU(Σ_{j∈A} G_ij x_j + b_i))² | A],   G = WᵀW,
    P(A) = Π_{j∈A} s_j · Π_{j∉A} (1 − s_j),

over every active set A (2ⁿ of them). Given A, each output's error is a piecewise quadratic in the active
values. For each output one active value, the one it depends on most, is integrated in closed form: the
ReLU is positive on one interval of it, found exactly, and the square of a linear function integrates
exactly on it. The others are integrated by Gauss–Legendre quadrature (`NODES` per dimension), on a
function that is smooth but for jumps in its third derivative. So sets of one active feature (the terms
that dominate at low density) are exact, and the rest agree to about 10⁻⁶ of the loss (the tests check
both against the closed forms of `toyjax.analysis.theory` and against the stratified estimate).
Enumerating the active sets makes this practical for n up to about 8. Pure JAX: it runs under `jit`,
`vmap` and `grad`. This module imports jax, numpy and `toyjax.families.toy.metrics`.
"""

from __future__ import annotations

import functools
import itertools

import jax.numpy as jnp
import numpy as np

from toyjax.families.toy.metrics import gram

NODES = 24  # Gauss–Legendre nodes per integrated dimension
FLAT = 1e-12  # |slope| below this is treated as 0 (the ReLU's argument does not depend on that value)


@functools.cache
def _quadrature(dims: int, nodes: int = NODES) -> tuple[np.ndarray, np.ndarray]:
    """Tensor-product Gauss–Legendre nodes (N^dims, dims) on [0, 1]^dims and their weights (N^dims,)."""
    x, w = np.polynomial.legendre.leggauss(nodes)
    x, w = (x + 1) / 2, w / 2
    points = np.array(list(itertools.product(x, repeat=dims))).reshape(nodes**dims, dims)
    weights = np.prod(np.array(list(itertools.product(w, repeat=dims))).reshape(nodes**dims, dims), axis=-1)
    return points.astype(np.float32), weights.astype(np.float32)


def segment_error(alpha, beta, c, a):
    """∫₀¹ (α + βu − ReLU(c + au))² du, exactly (every argument broadcasts).

    The ReLU is positive on one interval [l, h] of [0, 1] (empty, a prefix or a suffix), where the
    integrand is a quadratic polynomial; elsewhere it is (α + βu)².
    """
    flat = jnp.abs(a) < FLAT  # a slope this small is none: c/a would overflow, and so would its gradient
    root = jnp.clip(-c / jnp.where(flat, 1.0, a), 0.0, 1.0)
    lo = jnp.where(~flat & (a > 0), root, 0.0)
    hi = jnp.where(~flat & (a < 0), root, 1.0)
    hi = jnp.where(flat & (c <= 0), 0.0, hi)
    # on [l, h]: (α + βu)² − (α + βu − c − au)² = 2(α + βu)(c + au) − (c + au)² = k0 + k1 u + k2 u²
    k0 = 2 * alpha * c - c * c
    k1 = 2 * alpha * a + 2 * beta * c - 2 * a * c
    k2 = 2 * beta * a - a * a

    def antiderivative(u):
        return k0 * u + k1 * u**2 / 2 + k2 * u**3 / 3

    return alpha**2 + alpha * beta + beta**2 / 3 - (antiderivative(hi) - antiderivative(lo))


def _set_error(G, b, importance, active: tuple[int, ...], nodes: int):
    """Σ_i I_i E[(x_i − ReLU(Σ_{j∈A} G_ij x_j + b_i))² | exactly the features `active` are on], shape ().

    Output i integrates its largest-coefficient active value exactly (argmax_j |G_ij|), so that the
    quadrature over the others sees no kink in the function itself.
    """
    if not active:
        return jnp.sum(importance * jnp.maximum(b, 0.0) ** 2)
    per_choice = jnp.stack([_outputs_error(G, b, active, last, nodes) for last in active])  # (|A|, n)
    choice = jnp.argmax(jnp.abs(G[:, list(active)]), axis=-1)  # (n,)
    return jnp.sum(importance * jnp.take_along_axis(per_choice, choice[None, :], axis=0)[0])


def _outputs_error(G, b, active: tuple[int, ...], last: int, nodes: int):
    """E[(x_i − ReLU(...))² | A] of every output i (n,), the active value `last` integrated exactly."""
    outer = [j for j in active if j != last]
    points, weights = _quadrature(len(outer), nodes)
    v = jnp.zeros((points.shape[0], G.shape[-1]), G.dtype)
    if outer:
        v = v.at[:, outer].set(jnp.asarray(points))
    c = b[None, :] + v @ G.T  # (nodes, n): each output's value from the outer active features and its bias
    beta = (jnp.arange(G.shape[-1]) == last).astype(G.dtype)
    return jnp.asarray(weights) @ segment_error(v, beta[None, :], c, G[:, last][None, :])


def expected_loss(W, b, density, importance, nodes: int = NODES):
    """Exact expected loss E[Σ_i I_i (x_i − ReLU(WᵀWx + b)_i)²] of one relu_output model (module docstring).

    Args:
        W: (m, n) weights; b: (n,) biases.
        density: (n,) or scalar probability s_i that feature i is non-zero (values Uniform[0, 1]).
        importance: (n,) or scalar feature importances I_i.
        nodes: Gauss–Legendre nodes per dimension of the quadrature (fewer: faster, less exact).

    Returns:
        () the expected loss per sample, the quantity `toyjax.families.toy.stratified.expected_loss` estimates.
    """
    n = W.shape[-1]
    G = gram(W)
    s = jnp.broadcast_to(jnp.asarray(density, G.dtype), (n,))
    importance = jnp.broadcast_to(jnp.asarray(importance, G.dtype), (n,))
    total = jnp.zeros((), G.dtype)
    for pattern in itertools.product((False, True), repeat=n):
        on = np.array(pattern)
        weight = jnp.prod(jnp.where(on, s, 1 - s))
        total = total + weight * _set_error(G, b, importance, tuple(np.flatnonzero(on)), nodes)
    return total
