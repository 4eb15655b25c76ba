"""Finite training sets: T points drawn once from a model's own key, stored sparsely, densified pass by pass.

Henighan et al., "Superposition, Memorization, and Double Descent" (Anthropic, 2023) train the toy models
on a fixed set of T points instead of a fresh batch each step. Point t of a model's set is one draw of
its data distribution (`toyjax.data`, with its densities) from the key ``fold_in(key, t)``, so the first
T points are the same whatever the largest T of the grid: a model with T = 10 trains on the first 10
points of the stream that a model of the same seed with T = 1000 trains on (nested training sets).

A point is stored as its `active` lowest-index non-zero features: ``index`` (K,) and ``value``
(K,), with zeros (value 0 at index 0) where it has fewer. At the follow-up's n = 10,000 and density 0.001
a point has about 10 non-zero features (K = 39 are stored), so a set of 100,000 points takes 31 MB instead
of 4 GB. K is the count that is exceeded with probability below `TRUNCATION_TAIL`
(`toyjax.data.count_bound`); a point with more keeps its K lowest-index features and is counted in
``truncated``. For training, each pass
of points is densified into columns x (n, P), the layout of `toyjax.families.toy.models` (docs/benchmarks.md shows why
a gather of the active features is not faster on a CPU).

This module imports jax and `toyjax.data`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from toyjax import data

TRUNCATION_TAIL = 1e-12  # probability that a point has more non-zero features than are stored


class Dataset(NamedTuple):
    """A training set of P stored points (a model's has P = rows, its T points then zero padding)."""

    index: jax.Array  # (P, K) int32, the feature of each stored value
    value: jax.Array  # (P, K) float32, 0 where a point has fewer than K non-zero features


def sparse(x: jax.Array, active: int) -> tuple[Dataset, jax.Array]:
    """One point x (n,) as its `active` lowest-index non-zero features, and whether some did not fit."""
    n = x.shape[0]
    nonzero = x != 0
    score = jnp.where(nonzero, jnp.float32(n) - jnp.arange(n, dtype=jnp.float32), 0.0)
    _, index = jax.lax.top_k(score, active)
    return Dataset(index.astype(jnp.int32), x[index]), jnp.sum(nonzero) > active


def draw(spec: data.DataSpec, density: jax.Array, rows: int, active: int, *, key: jax.Array
         ) -> tuple[Dataset, jax.Array]:
    """Points 0 .. rows − 1 of a model's stream (point t from ``fold_in(key, t)``), and how many were truncated.

    Args:
        spec: the data distribution; `density` (n,) its per-feature densities.
        rows: how many points to store (the largest T, rounded up to whole passes).
        active: K, the non-zero features stored per point.

    Returns:
        the `Dataset` (rows, K) and the number of points () int32 with more than K non-zero features.
    """

    def point(t):
        x = data.realize(spec, data.draw(spec, 1, key=jax.random.fold_in(key, t)), density)[:, 0]
        return sparse(x, active)

    # One point at a time: drawn in batches, the reduction of ‖x‖ would round differently for different
    # `rows`, and a point's bits would depend on the largest T of the grid.
    stored, truncated = jax.lax.map(point, jnp.arange(rows))
    return stored, jnp.sum(truncated.astype(jnp.int32))


def densify(n: int, points: Dataset) -> jax.Array:
    """Stored points (P, K) as the columns x (n, P) a model reads."""
    columns = jnp.arange(points.index.shape[0])[None, :]
    return jnp.zeros((n, points.index.shape[0]), jnp.float32).at[points.index.T, columns].add(points.value.T)


def rows(dataset: Dataset, start: jax.Array, size: int) -> Dataset:
    """The `size` stored points from `start` on (a pass of a full batch)."""
    return jax.tree.map(lambda a: jax.lax.dynamic_slice_in_dim(a, start, size), dataset)


def take(dataset: Dataset, which: jax.Array) -> Dataset:
    """The stored points `which` (B,) int32 (a minibatch)."""
    return jax.tree.map(lambda a: a[which], dataset)
