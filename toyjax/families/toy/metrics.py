"""Superposition metrics of Elhage et al., "Toy Models of Superposition" (2022), §2 and §4.

Every function takes W of shape (..., m, n), whose column W[..., :, i] is feature i's direction, with any
number of leading grid dimensions, as a NumPy or a JAX array, and returns the same kind of array, so the
metrics also work inside `jit` and `grad`. A zero column (a feature the model did not learn) gives norm 0,
superposition 0 and dimensionality 0, with no NaN in values or in gradients.

The engine records ‖W_i‖ and D_i with these during training; `toyjax.analysis` re-exports them. This module
imports jax, numpy and `toyjax.sums`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from toyjax.sums import pairwise_sum


def _namespace(*arrays):
    """jax.numpy if any argument is a JAX array (tracers included), else NumPy."""
    return jnp if any(isinstance(a, jax.Array) for a in arrays) else np


def _safe_divide(num, den, xp, fill=0.0):
    """num / den where den > 0, else `fill` (NaN stays NaN); the inner `where` keeps gradients finite at 0."""
    ok = ~(den <= 0)
    return xp.where(ok, num / xp.where(ok, den, 1), fill)


def _safe_sqrt(x, xp):
    """sqrt(x) for x >= 0 with a zero (not infinite) gradient at x = 0; NaN stays NaN (diverged models)."""
    ok = ~(x <= 0)
    return xp.where(ok, xp.sqrt(xp.where(ok, x, 1)), 0)


def feature_norms(W):
    """Length ‖W_i‖ of every feature's embedding (§2: ≈1 represented, ≈0 not).

    Args:
        W: (..., m, n) weights.

    Returns:
        (..., n) norms.
    """
    xp = _namespace(W)
    return _safe_sqrt(xp.sum(W * W, axis=-2), xp)


def gram(W):
    """WᵀW, the (..., n, n) matrix of dot products W_i·W_j (§2's heatmaps).

    Args:
        W: (..., m, n) weights.
    """
    xp = _namespace(W)
    return xp.swapaxes(W, -1, -2) @ W


def unit_features(W):
    """Ŵ_i = W_i / ‖W_i‖, with zero columns left at zero (§2).

    Args:
        W: (..., m, n) weights.

    Returns:
        (..., m, n) unit columns.
    """
    xp = _namespace(W)
    return _safe_divide(W, feature_norms(W)[..., None, :], xp)


def cosines(W):
    """Cosine similarity ŴᵀŴ between every pair of features; rows and columns of zero features are 0.

    Invariant under rotations of the hidden space and under W → −W.

    Args:
        W: (..., m, n) weights.

    Returns:
        (..., n, n) cosines, 1 on the diagonal of represented features.
    """
    return gram(unit_features(W))


def interference(W):
    """Interference matrix: WᵀW with its diagonal zeroed, so entry (i, j) = W_i·W_j for i ≠ j (§2).

    Entry (i, j) is how strongly feature j leaks into output i before the ReLU.

    Args:
        W: (..., m, n) weights.

    Returns:
        (..., n, n) off-diagonal dot products.
    """
    xp = _namespace(W)
    n = W.shape[-1]
    return gram(W) * (1 - xp.eye(n, dtype=W.dtype))


def superposition(W):
    """Superposition of each feature, Σ_{j≠i} (Ŵ_i·W_j)² (§2's bar colour).

    0 means orthogonal to all other features; ≥ 1 means some group of features can activate W_i as
    strongly as feature i itself. Computed as Σ_{j≠i} G_ij² / G_ii with G = WᵀW; 0 when W_i = 0.

    Args:
        W: (..., m, n) weights.

    Returns:
        (..., n) superposition.
    """
    xp = _namespace(W)
    G = gram(W)
    diag = xp.diagonal(G, axis1=-2, axis2=-1)
    off = xp.sum(interference(W) ** 2, axis=-1)
    return _safe_divide(off, diag, xp)


def feature_dimensionality(W):
    """Feature dimensionality D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)², the sum including j = i (§4).

    Equivalently D_i = G_ii² / Σ_j G_ij² with G = WᵀW, which needs no normalisation. Exact values: dedicated
    dimension 1, tetrahedron 3/4, triangle 2/3, digon 1/2, pentagon 2/5, square antiprism 3/8; 0 when W_i = 0.

    Args:
        W: (..., m, n) weights.

    Returns:
        (..., n) dimensionalities in [0, 1].
    """
    xp = _namespace(W)
    G = gram(W)
    diag = xp.diagonal(G, axis1=-2, axis2=-1)
    return _safe_divide(diag**2, xp.sum(G**2, axis=-1), xp)


def data_dimensionality(H):
    """Data-point dimensionality D_t = ‖h_t‖² / Σ_s (ĥ_t·h_s)² of hidden vectors h_t (Henighan et al. 2023).

    The feature dimensionality of §4 applied to the hidden vectors h_t = W x_t of a training set instead of
    the columns of W. Computed as ‖h_t‖⁴ / (h_tᵀ M h_t) with M = H Hᵀ (m, m), so a set of T points costs
    O(T m²), not O(T²). A T-gon in m = 2 gives m/T each; a zero vector gives 0. The sums run in a fixed
    order (`toyjax.sums`), so D_t has the same bits in every program.

    Args:
        H: (..., m, T) hidden vectors as columns.

    Returns:
        (..., T) dimensionalities in [0, 1].
    """
    xp = _namespace(H)
    M = pairwise_sum(H[..., :, None, :] * H[..., None, :, :], axis=-1)  # (..., m, m)
    norm2 = pairwise_sum(H * H, axis=-2)
    quad = pairwise_sum(pairwise_sum(H[..., :, None, :] * M[..., :, :, None] * H[..., None, :, :], axis=-2), axis=-2)
    return _safe_divide(norm2**2, quad, xp)


def features_per_dimension(W):
    """Features per dimension, ‖W‖_F² / m, the inverse of D* (§4, §6).

    Args:
        W: (..., m, n) weights.

    Returns:
        (...) features per dimension; 0 for W = 0.
    """
    xp = _namespace(W)
    return xp.sum(W * W, axis=(-2, -1)) / W.shape[-2]


def dimensions_per_feature(W):
    """Dimensions per feature D* = m / ‖W‖_F² (§4, "sticky" at 1 and 1/2).

    Args:
        W: (..., m, n) weights.

    Returns:
        (...) D*; +inf for W = 0 (no feature learned), never NaN.
    """
    xp = _namespace(W)
    return _safe_divide(1.0, features_per_dimension(W), xp, fill=xp.inf)
