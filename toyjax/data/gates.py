"""Which features fire, for structured data: correlated gates (a Gaussian copula) and the hierarchy's mask.

The JAX half of `toyjax.data.structure`, used by `toyjax.data.distributions` inside the compiled step. Gates are
uniform numbers u (n, batch), one per feature and sample, and feature i fires where u_i < p_i: independent
uniforms give independent firings; `copula` makes them from correlated normals, u = Φ(−z), so that each stays
Uniform[0, 1) (the firing rates are kept) while z's correlation ties the firings together. `hierarchy_mask`
then switches off every child whose parent does not fire and, for mutually exclusive siblings, all but one.
Normals come from uniforms by Φ⁻¹, so one uniform stream (`toyjax.data.uniform`) feeds everything. This module
imports jax, numpy and `toyjax.data.structure`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from toyjax.data.structure import Correlation, Hierarchy

TINY = 2.0**-25  # keeps Φ⁻¹ of a uniform in [0, 1) finite


def normal(u: jax.Array) -> jax.Array:
    """Standard normals from Uniform[0, 1) noise of the same shape: Φ⁻¹(u) = √2 erf⁻¹(2u − 1), XLA's own erf⁻¹."""
    return jnp.sqrt(2.0).astype(u.dtype) * jax.lax.erf_inv(2.0 * jnp.clip(u, TINY, 1.0 - TINY) - 1.0)


def copula(correlation: Correlation, u_factor: jax.Array, u_own: jax.Array) -> jax.Array:
    """Gates (n, batch), each Uniform[0, 1), correlated through the rank-R factor (module docstring).

    z = F g + √(1 − ‖F_i‖²) e from g = Φ⁻¹(u_factor) (R, batch) and e = Φ⁻¹(u_own) (n, batch); the gate is
    Φ(−z), so ``gate < p`` is SAELens's z > Φ⁻¹(1 − p).
    """
    F, own = (jnp.asarray(a) for a in correlation.factor(u_own.shape[0]))
    z = jnp.dot(F, normal(u_factor), precision=jax.lax.Precision.HIGHEST) + own[:, None] * normal(u_own)
    return jax.scipy.special.ndtr(-z)


def hierarchy_mask(hierarchy: Hierarchy, on: jax.Array, priority: jax.Array) -> jax.Array:
    """`on` (n, batch) with each child off where its parent is, level by level; with mutually exclusive siblings,
    only the one of highest `priority` (Uniform noise (n, batch)) of those on stays on (ties: the first)."""
    parents = np.asarray(hierarchy.parents)
    for level in hierarchy.levels():
        child = on[level] & on[parents[level]]
        if hierarchy.exclusive:
            child = _one_per_parent(child, priority[level], np.unique(parents[level], return_inverse=True)[1])
        on = on.at[level].set(child)
    return on


def _one_per_parent(on: jax.Array, priority: jax.Array, group: np.ndarray) -> jax.Array:
    """Of the siblings `on` (k, batch) in each `group` (k,), only the one of highest priority (first of a tie)."""
    groups = int(group.max()) + 1
    score = jnp.where(on, priority, -1.0)
    best = jax.ops.segment_max(score, group, num_segments=groups)[group]
    winner = on & (score == best)
    slot = jnp.broadcast_to(jnp.arange(len(group))[:, None], on.shape)
    first = jax.ops.segment_min(jnp.where(winner, slot, len(group)), group, num_segments=groups)[group]
    return winner & (slot == first)
