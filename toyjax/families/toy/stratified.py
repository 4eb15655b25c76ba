"""Stratified estimate of a model's expected loss, accurate at any feature density.

Picking the best of several seeds (Elhage et al. 2022, §3–4: "fit several times, keep the lowest loss")
needs the expected loss E[L] to within differences of O(density²). A plain evaluation batch cannot give
that at low density: with 8,192 samples at density 0.01 a given pair of features is co-active about once.
So we stratify over which units (features, or feature sets) are on:

    E[L] = Σ_A P(A) · E[L | A],    P(A) = Π_{u∈A} d_u · Π_{u∉A} (1 − d_u),

where P(A) is exact and E[L | A] is a Monte-Carlo mean over the active values.

- With at most `ENUMERATE_MAX_UNITS` units, every pattern A is enumerated.
- Beyond that, strata are the number k of active units. Within stratum k, A is drawn uniformly among the
  C(U, k) patterns and weighted by C(U, k)·P(A). That is unbiased for any per-unit densities and
  reduces to the exact binomial stratum weight when all densities are equal; with very unequal
  densities the weights spread out and the estimate gets noisier (raise ``record.eval_samples``).
- With `units` (``record.eval_tail`` > 0, `toyjax.engine.plan`), only the count strata k = 0 .. units are kept:
  the rest hold less than ``eval_tail`` of the probability, which bounds what is left out (times the
  largest conditional loss). At the follow-up's n = 10,000 and density 0.001 that is 35 strata instead of
  10,001. Enumerated patterns (at most `ENUMERATE_MAX_UNITS` units) are all kept.

All models evaluated with the same key see the same samples (common random numbers), so differences
between seeds are measured with much less noise than the losses themselves. Each stratum gets at least
`samples` draws, and more when there are few strata, so that every model is evaluated on at least
`EVAL_BUDGET` samples: at density 1 a single pattern carries all the weight, and 256 samples could not
tell a top-2 solution of n=5, m=2 from one that half-learns a third feature (losses 0.2% apart).

This module imports `toyjax.data` and `toyjax.families.toy.models`. (It was ``toyjax.expected_loss``, whose function
``expected_loss.expected_loss`` is now `toyjax.families.toy.stratified.expected_loss`.)
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np

from toyjax import data
from toyjax.families.toy import models
from toyjax.families.toy.architecture import Architecture

ENUMERATE_MAX_UNITS = 8
EVAL_BUDGET = 2**17  # samples per model at least, spread over the strata


def expected_loss(
    kind: Architecture | str,
    spec: data.DataSpec,
    params: models.Params,
    density: jax.Array,
    importance: jax.Array,
    *,
    samples: int,
    key: jax.Array,
    units: int | None = None,
) -> jax.Array:
    """Stratified estimate of E[Σ_i I_i (y_i − x'_i)²] for one model; density and importance are (n,).

    `units` keeps only the count strata of at most that many active units (None: all of them).
    """
    d = data.unit_density(spec, density)
    if spec.n_units > ENUMERATE_MAX_UNITS and units is not None and units < spec.n_units:
        return _truncated(kind, spec, params, d, importance, samples=max(samples, EVAL_BUDGET // (units + 1)),
                          key=key, top=units)
    n_strata = 2**spec.n_units if spec.n_units <= ENUMERATE_MAX_UNITS else spec.n_units + 1
    samples = max(samples, EVAL_BUDGET // n_strata)
    if spec.n_units <= ENUMERATE_MAX_UNITS:
        patterns = jnp.asarray(_all_patterns(spec.n_units))
        weights = jnp.prod(jnp.where(patterns, d, 1.0 - d), axis=-1)
        on = jnp.broadcast_to(patterns[:, None, :], (len(patterns), samples, spec.n_units))
        sample_weight = jnp.broadcast_to(weights[:, None], on.shape[:2])
    else:
        on, sample_weight = _count_strata(spec.n_units, d, samples, key=jax.random.fold_in(key, 1))

    def stratum(args):
        on, w = args
        x = data.conditional(spec, on.T, key=key)
        return jnp.mean(w * models.sample_loss(kind, params, x, importance))

    return jnp.sum(jax.lax.map(stratum, (on, sample_weight)))


def _all_patterns(n_units: int) -> np.ndarray:
    """Every on/off pattern of `n_units` units, shape (2**n_units, n_units), bool."""
    return np.array(list(itertools.product([False, True], repeat=n_units)), dtype=bool)


def _ranks(n_units: int, samples: int, *, key: jax.Array) -> jax.Array:
    """A uniformly random order of the units for every sample, (samples, U): the first k are stratum k's."""
    return jnp.argsort(jnp.argsort(jax.random.uniform(key, (samples, n_units)), axis=-1), axis=-1)


def _log_choose(n_units: int, k: jax.Array) -> jax.Array:
    """log C(U, k)."""
    return (
        jax.scipy.special.gammaln(n_units + 1.0)
        - jax.scipy.special.gammaln(k + 1.0)
        - jax.scipy.special.gammaln(n_units - k + 1.0)
    )


def _count_strata(n_units: int, d: jax.Array, samples: int, *, key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Patterns (U+1, samples, U) with exactly k units on in stratum k, and their weights C(U,k)·P(A)."""
    ranks = _ranks(n_units, samples, key=key)
    k = jnp.arange(n_units + 1)
    on = ranks[None, :, :] < k[:, None, None]
    log_choose = _log_choose(n_units, k)
    log_p = jnp.sum(jnp.where(on, jnp.log(d), jnp.log1p(-d)), axis=-1)
    return on, jnp.exp(log_choose[:, None] + log_p)


def _truncated(kind: str, spec: data.DataSpec, params: models.Params, d: jax.Array, importance: jax.Array, *,
               samples: int, key: jax.Array, top: int) -> jax.Array:
    """The count strata k = 0 .. top only, each made and weighted inside its own step of the map.

    Stratum k holds (samples, U) patterns at a time, not all strata at once, and log P(A) is two
    matrix products; at n = 10,000 that is 35 strata of 3,744 samples.
    """
    ranks = _ranks(spec.n_units, samples, key=jax.random.fold_in(key, 1))
    log_on, log_off = jnp.log(d), jnp.maximum(jnp.log1p(-d), -1e30)  # finite where d = 1: (1 − on)·log_off = 0

    def stratum(k):
        on = ranks < k
        log_p = on.astype(d.dtype) @ log_on + (~on).astype(d.dtype) @ log_off
        x = data.conditional(spec, on.T, key=key)
        return jnp.mean(jnp.exp(_log_choose(spec.n_units, k) + log_p) * models.sample_loss(kind, params, x, importance))

    return jnp.sum(jax.lax.map(stratum, jnp.arange(top + 1)))
