"""Feature distributions, measured on samples: density, correlation structure and value range."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from toyjax import data

N = 200_000


def sample(spec, density, key):
    """N samples as rows (N, n): `data.sample` returns them as columns."""
    x = np.asarray(data.sample(spec, N, jnp.asarray(density, jnp.float32), key=key))
    assert x.shape == (spec.n_features, N)
    return x.T


def test_independent_per_feature_density_and_values(key):
    density = [1.0, 0.5, 0.1, 0.01]
    x = sample(data.DataSpec("independent", 4), density, key)
    np.testing.assert_allclose((x != 0).mean(0), density, atol=4 * np.sqrt(0.25 / N))
    active = x[:, 2][x[:, 2] != 0]
    assert active.min() >= 0 and active.max() < 1
    np.testing.assert_allclose([active.mean(), active.var()], [0.5, 1 / 12], atol=0.01)
    corr = np.corrcoef((x[:, 1:] != 0).T)
    np.testing.assert_allclose(corr[np.triu_indices(3, 1)], 0, atol=0.01)


def test_signed_values_are_uniform_on_minus_one_to_one(key):
    x = sample(data.DataSpec("independent", 3, signed=True), [0.3] * 3, key)
    active = x[x != 0]
    np.testing.assert_allclose((x != 0).mean(), 0.3, atol=0.005)
    assert active.min() >= -1 and active.max() < 1
    np.testing.assert_allclose([active.mean(), (active > 0).mean()], [0.0, 0.5], atol=0.01)


def test_correlated_sets_switch_on_together(key):
    x = sample(data.DataSpec("correlated", 6, set_size=2), [0.2] * 6, key)
    on = x != 0
    np.testing.assert_array_equal(on[:, 0], on[:, 1])
    np.testing.assert_allclose(on.mean(0), 0.2, atol=0.005)
    assert abs(np.corrcoef(on[:, 0], on[:, 2])[0, 1]) < 0.01
    both = x[on[:, 0]]
    assert abs(np.corrcoef(both[:, 0], both[:, 1])[0, 1]) < 0.02  # values are independent


def test_anticorrelated_sets_have_exactly_one_active_member(key):
    x = sample(data.DataSpec("anticorrelated", 6, set_size=3), [0.3] * 6, key)
    per_set = (x != 0).reshape(N, 2, 3).sum(-1)
    assert per_set.max() == 1
    np.testing.assert_allclose((per_set == 1).mean(0), 0.3, atol=0.005)
    np.testing.assert_allclose((x != 0).mean(0), 0.1, atol=0.004)


@pytest.mark.parametrize("kind", ["independent", "correlated", "anticorrelated"])
def test_conditional_activates_exactly_the_given_units(kind, key):
    spec = data.DataSpec(kind, 6, set_size=2)
    on = jax.random.bernoulli(key, 0.5, (1000, spec.n_units))
    x = np.asarray(data.conditional(spec, on.T, key=jax.random.key(3))).T
    per_unit = (x != 0).reshape(1000, spec.n_units, -1).sum(-1)
    expected = {"independent": 1, "correlated": 2, "anticorrelated": 1}[kind]
    np.testing.assert_array_equal(per_unit, np.asarray(on) * expected)


@pytest.mark.parametrize("shape", [(5, 1024), (400, 3), (7,)])
def test_uniform_is_jax_threefry_uniform_bit_for_bit(shape):
    """The unrolled hash draws JAX's own stream: same bits as `jax.random.uniform`, also under vmap."""
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(7), i))(jnp.arange(3))
    with jax.threefry_partitionable(True):
        ours = jax.jit(jax.vmap(lambda k: data.uniform(k, shape)))(keys)
        jax_own = jax.vmap(lambda k: jax.random.uniform(k, shape))(keys)
    np.testing.assert_array_equal(np.asarray(ours).view(np.uint32), np.asarray(jax_own).view(np.uint32))
