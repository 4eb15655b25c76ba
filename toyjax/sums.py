"""Sums in an order that no compiler changes, so that a value's bits do not depend on the program around it.

XLA:CPU may split a long reduction into a tree of partial sums (``reduce-window`` of 32, then a reduce) in
one program and not in another: a sharded program on two devices did so where the same computation on one
device did not, and the sum of squares behind ‖x‖ then differed in its last bit. `pairwise_sum` adds
halves elementwise, which no compiler reassociates, so every program gives the same bits. It costs about
twice a plain reduction; use it only where a value must be identical across programs. This module imports
jax and numpy.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def pairwise_sum(v, axis: int = 0):
    """Σ of v over `axis`, adding the two halves elementwise until one row is left (zero-padded to 2^k).

    Works on NumPy and JAX arrays alike; the axis is removed, as in ``sum``.

    >>> float(pairwise_sum(np.arange(5.0)))
    10.0
    """
    xp = jnp if isinstance(v, jax.Array) else np
    v = xp.moveaxis(v, axis, 0)
    size = 1 << max(v.shape[0] - 1, 0).bit_length()
    if size > v.shape[0]:
        v = xp.concatenate([v, xp.zeros((size - v.shape[0], *v.shape[1:]), v.dtype)])
    while v.shape[0] > 1:
        half = v.shape[0] // 2
        v = v[:half] + v[half:]
    return v[0]
