"""Feature distributions, measured on samples: density, correlation structure and value range."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from toyjax import data
from toyjax.data import structure

N = 200_000


def sample(spec, density, key):
    """N samples as rows (N, n): `data.sample` returns them as columns (compiled: one dispatch, not hundreds)."""
    x = np.asarray(jax.jit(lambda d, k: data.sample(spec, N, d, key=k))(jnp.asarray(density, jnp.float32), key))
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


def spec_of(n, **blocks):
    """The `DataSpec` of an independent-kind run of `n` features with the given ``data`` blocks."""
    return data.spec_of({"model": {"n_features": n}, "data": blocks})


def test_zipf_profile_is_saelens_and_geometric_keeps_the_mean():
    """SAELens's zipfian_firing_probabilities: (i+1)^-a rescaled onto [p_min, p_max]; geometric as sae.density_decay."""
    zipf = structure.profile({"profile": "zipf", "exponent": 1.0, "p_max": 0.5, "p_min": 0.1}, 4)
    r = 1 / np.arange(1, 5)
    np.testing.assert_allclose(zipf, 0.1 + 0.4 * (r - r.min()) / (r.max() - r.min()), rtol=1e-6)
    geometric = structure.profile({"profile": "geometric", "decay": 0.5}, 3)
    np.testing.assert_allclose(geometric, np.array([1, 0.5, 0.25]) / (1.75 / 3), rtol=1e-6)
    assert structure.profile({"profile": "constant"}, 3) is None


@pytest.mark.parametrize("block, mean, var", [
    ({"kind": "constant", "value": 2.0}, 2.0, 0.0),
    ({"kind": "folded_normal", "mean": 0.0, "std": 1.0}, np.sqrt(2 / np.pi), 1 - 2 / np.pi),  # half-normal
])
def test_magnitudes(block, mean, var, key):
    x = sample(spec_of(3, magnitude=block), [0.3] * 3, key)
    active = x[x != 0]
    np.testing.assert_allclose((x != 0).mean(), 0.3, atol=0.005)
    assert active.min() > 0
    np.testing.assert_allclose([active.mean(), active.var()], [mean, var], atol=0.01)


def test_a_child_fires_only_with_its_parent_and_siblings_exclude_each_other(key):
    """Tree 0 -> {1, 2, 3}, 1 -> {4}: a child fires at its density given its parent; at most one of 1, 2, 3."""
    parents = [-1, 0, 0, 0, 1]
    x = sample(spec_of(5, hierarchy={"parents": parents}), [0.5] * 5, key)
    on = x != 0
    assert not (on[:, 1:] & ~on[:, [0, 0, 0, 1]]).any()
    np.testing.assert_allclose(on.mean(0), [0.5, 0.25, 0.25, 0.25, 0.125], atol=0.005)
    x = sample(spec_of(5, hierarchy={"parents": parents, "mutually_exclusive": True}), [0.5] * 5, key)
    on = x != 0
    assert not (on[:, 1:] & ~on[:, [0, 0, 0, 1]]).any()
    assert on[:, 1:4].sum(1).max() == 1
    p_any = 0.5 * (1 - 0.5**3)  # the parent fires and at least one child is drawn; the winner is uniform
    np.testing.assert_allclose(on[:, 1:4].mean(0), p_any / 3, atol=0.005)
    np.testing.assert_allclose(on[:, 4].mean(), p_any / 3 * 0.5, atol=0.005)


def test_low_rank_correlation_keeps_the_rates_and_correlates_as_the_factor_says(key):
    """SAELens's Gaussian copula: feature i fires where z_i > Φ⁻¹(1 − p_i), z ~ N(0, F Fᵀ + diag(1 − ‖F_i‖²))."""
    block = {"rank": 1, "scale": 0.8, "seed": 3}
    density = [0.5, 0.3, 0.2, 0.1]
    on = sample(spec_of(4, correlation=block), density, key) != 0
    np.testing.assert_allclose(on.mean(0), density, atol=0.006)
    F, _ = structure.correlation_of(block).factor(4)
    rho = (F @ F.T)[0, 1]  # two features at p = 1/2 and 0.3: P(both) from the bivariate normal
    z = np.random.default_rng(0).multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=N)
    both = ((z[:, 0] > 0) & (z[:, 1] > np.quantile(z[:, 1], 0.7))).mean()
    np.testing.assert_allclose((on[:, 0] & on[:, 1]).mean(), both, atol=0.006)
    assert abs((on[:, 0] & on[:, 1]).mean() - 0.15) > 0.03  # far from independent firings


@pytest.mark.parametrize("shape", [(5, 1024), (400, 3), (7,)])
def test_uniform_is_jax_threefry_uniform_bit_for_bit(shape):
    """The unrolled hash draws JAX's own stream: same bits as `jax.random.uniform`, also under vmap."""
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(7), i))(jnp.arange(3))
    with jax.threefry_partitionable(True):
        ours = jax.jit(jax.vmap(lambda k: data.uniform(k, shape)))(keys)
        jax_own = jax.vmap(lambda k: jax.random.uniform(k, shape))(keys)
    np.testing.assert_array_equal(np.asarray(ours).view(np.uint32), np.asarray(jax_own).view(np.uint32))
