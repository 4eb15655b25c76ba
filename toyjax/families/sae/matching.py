"""Latents matched one to one to the true features, and how well each matched latent stands for its feature.

**Matching.** With C = F̂ᵀ D̂ (N, M) the cosines of the true feature directions with the decoder's columns
(`toyjax.families.sae.metrics.cosines`), the features and latents are paired one to one so that the sum of
|C| over the pairs is largest: the linear assignment of ``scipy.optimize.linear_sum_assignment`` on the cost
1 − |C| (as SAELens matches), over the known features and the SAE's own latents (its first ``dict_size``;
dead ones too, as SAELens matches every latent). min(features, latents) pairs form; a feature left over has
no latent (−1). `assign` solves it in JAX, so that the compiled final records of a block hold it (never the
training step): the shortest augmenting path algorithm that SciPy implements (Crouse, "On implementing 2D
rectangular assignment algorithms", IEEE TAES 2016), row by row with dual prices, in ``lax`` loops. It
reaches the same least cost as SciPy (the tests check it against SciPy); between pairings of equal cost it
may choose another.

**MCC**, the mean correlation coefficient, is the mean |cos| of the matched pairs: SAELens's
``sae_lens.synthetic.evals.mean_correlation_coefficient`` (sae-lens 6.x, the metric of SynthSAEBench, after
O'Neill et al., "Position: Mechanistic interpretability should prioritize feature consistency in SAEs",
arXiv:2505.20254). 1 when every feature has a latent of its own along (or against) its direction.

**Detection.** Each matched latent is scored as a detector of its feature on a batch: it fires (f > 0)
against the feature being on (x ≠ 0). Precision TP / (TP + FP), recall TP / (TP + FN), F1 their harmonic
mean, each 0 where undefined (a latent that never fires has precision 0), as SAELens's
``ClassificationMetricsCalculator``. SAELens pairs each latent with its best feature by |cos| and averages
over every latent; here the pairs are the Hungarian ones, and the means are over the matched pairs.

This module imports jax and `toyjax.families.sae.metrics`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from toyjax.families.sae.metrics import cosines


def match(features: jax.Array, decoder: jax.Array, known: jax.Array, own: jax.Array) -> jax.Array:
    """(N,) int32: `assign` on the cosines of the features (d, N) with the decoder's columns (d, M)."""
    return assign(cosines(features, decoder), known, own)


def assign(C: jax.Array, known: jax.Array, own: jax.Array) -> jax.Array:
    """(N,) int32: the latent paired with each known feature (rows of C (N, M)) among the `own` latents, −1 for
    none: the pairing of min(#known, #own) pairs with the largest sum of |C| (module docstring)."""
    cost, known, own = 1.0 - jnp.abs(jnp.asarray(C, jnp.float32)), jnp.asarray(known), jnp.asarray(own)
    by_feature = _solve(cost, known, own)[0]  # every known feature paired, when there are no more of them
    by_latent = _solve(cost.T, own, known)[1]  # every own latent paired, when there are fewer of them
    out = jnp.where(jnp.sum(known) <= jnp.sum(own), by_feature, by_latent)
    return jnp.where(known, out, -1).astype(jnp.int32)


def _solve(cost: jax.Array, rows: jax.Array, cols: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(column of each row, row of each column), −1 for none: each active row paired with its own active column
    at the least total cost, by shortest augmenting paths (SciPy's algorithm); needs #rows ≤ #cols active."""
    R, K = cost.shape
    start = (jnp.zeros(R), jnp.zeros(K), jnp.full(R, -1, jnp.int32), jnp.full(K, -1, jnp.int32))
    feasible = jnp.sum(rows) <= jnp.sum(cols)

    def row(cur, carry):
        return jax.lax.cond(rows[cur] & feasible, lambda c: _augment(cost, cols, cur, c), lambda c: c, carry)

    _, _, col4row, row4col = jax.lax.fori_loop(0, R, row, start)
    return col4row, row4col


def _augment(cost: jax.Array, cols: jax.Array, cur: jax.Array, carry: tuple) -> tuple:
    """Row `cur` added to the pairing: the shortest augmenting path to a free column, the dual prices updated,
    and the pairs along the path flipped."""
    u, v, col4row, row4col = carry
    (R, K), rows_at, cols_at = cost.shape, jnp.arange(cost.shape[0]), jnp.arange(cost.shape[1])

    def search(s):
        i, shortest, path, seen_rows, seen_cols, _, low = s
        reduced = low + cost[i] - u[i] - v
        better = cols & ~seen_cols & (reduced < shortest)
        path, shortest = jnp.where(better, i, path), jnp.where(better, reduced, shortest)
        open_cost = jnp.where(cols & ~seen_cols, shortest, jnp.inf)
        low = jnp.min(open_cost)
        tied = open_cost == low
        j = jnp.where(jnp.any(tied & (row4col < 0)), jnp.argmax(tied & (row4col < 0)), jnp.argmax(tied))
        free = (row4col[j] < 0) & (low < jnp.inf)
        return (jnp.where(free, i, row4col[j]), shortest, path, seen_rows | (rows_at == i), seen_cols | (cols_at == j),
                jnp.where(free, j, -1), low)

    state = (cur, jnp.full(K, jnp.inf), jnp.full(K, -1, jnp.int32), jnp.zeros(R, bool), jnp.zeros(K, bool),
             jnp.int32(-1), jnp.float32(0.0))
    # inf: no free column left. Never for an active row when #rows ≤ #cols; under vmap `cond` runs this for the
    # rows it then discards too, so the loops must end for them as well (no path is flipped without a sink).
    searching = lambda s: (s[5] < 0) & (s[6] < jnp.inf)  # noqa: E731
    _, shortest, path, seen_rows, seen_cols, sink, low = jax.lax.while_loop(searching, search, state)
    seen_rows = seen_rows | (rows_at == cur)
    u = u + jnp.where(rows_at == cur, low, jnp.where(seen_rows, low - shortest[jnp.maximum(col4row, 0)], 0.0))
    v = v - jnp.where(seen_cols, low - shortest, 0.0)

    def flip(s):
        j, col4row, row4col, _ = s
        i = path[j]
        return (col4row[i], jnp.where(rows_at == i, j, col4row), jnp.where(cols_at == j, i, row4col),
                (i == cur) | (i < 0))

    _, col4row, row4col, _ = jax.lax.while_loop(lambda s: ~s[3], flip, (sink, col4row, row4col, sink < 0))
    return u, v, col4row, row4col


def mcc(C: jax.Array, matched: jax.Array) -> jax.Array:
    """The mean |cos| of the matched pairs (`matched` (N,), −1 for none); 0 when there is no pair."""
    paired = matched >= 0
    cos = jnp.abs(jnp.take_along_axis(C, jnp.maximum(matched, 0)[:, None], axis=1)[:, 0])
    return jnp.sum(jnp.where(paired, cos, 0.0)) / jnp.maximum(jnp.sum(paired), 1)


def detection(x: jax.Array, f: jax.Array, matched: jax.Array) -> dict[str, jax.Array]:
    """Each feature's matched latent as a detector of it, on features x (N, batch) and latents f (M, batch).

    Returns (N,) "precision", "recall" and "f1" (0 where undefined, and for a feature with no latent)."""
    on = x != 0
    fires = f[jnp.maximum(matched, 0)] > 0
    tp = jnp.sum(on & fires, axis=1)
    precision = _ratio(tp, jnp.sum(fires, axis=1))
    recall = _ratio(tp, jnp.sum(on, axis=1))
    f1 = _ratio(2 * precision * recall, precision + recall)
    paired = matched >= 0
    return {k: jnp.where(paired, v, 0.0) for k, v in (("precision", precision), ("recall", recall), ("f1", f1))}


def matched_means(per_feature: dict[str, jax.Array], matched: jax.Array) -> dict[str, jax.Array]:
    """The mean of each per-feature number over the matched pairs (0 when there is none)."""
    paired = matched >= 0
    return {k: jnp.sum(jnp.where(paired, v, 0.0)) / jnp.maximum(jnp.sum(paired), 1) for k, v in per_feature.items()}


def _ratio(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.where(b > 0, a / jnp.where(b > 0, b, 1), 0.0)
