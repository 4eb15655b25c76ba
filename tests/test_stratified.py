"""The stratified expected loss: unbiased, and far less noisy than a plain batch at low density."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from toyjax import data
from toyjax.families.toy import models, sampled
from toyjax.families.toy.stratified import expected_loss


def plain_mc(kind, spec, params, density, importance, samples, key):
    x = data.sample(spec, samples, density, key=key)
    return jnp.mean(models.sample_loss(kind, params, x, importance))


@pytest.mark.parametrize(
    "spec, density",
    [
        (data.DataSpec("independent", 3), [0.3, 0.3, 0.05]),
        (data.DataSpec("correlated", 4, set_size=2), [0.2] * 4),
        (data.DataSpec("anticorrelated", 6, set_size=3), [0.4] * 6),
        (data.DataSpec("independent", 12), np.linspace(0.05, 0.5, 12)),  # count strata, non-uniform
        (data.DataSpec("independent", 3, signed=True), [0.2] * 3),
    ],
)
def test_agrees_with_a_large_plain_estimate(spec, density, key):
    kind = "abs_mlp" if spec.signed else "relu_output"
    params = models.INIT[kind](spec.n_features, 2, 1.0, key=key)
    params["b"] = params["b"] - 0.05
    density = jnp.asarray(density, jnp.float32)
    importance = 0.9 ** jnp.arange(spec.n_features)
    strat = [expected_loss(kind, spec, params, density, importance, samples=2048, key=jax.random.key(100 + i))
             for i in range(8)]
    ref = [plain_mc(kind, spec, params, density, importance, 200_000, jax.random.key(i)) for i in range(8)]
    stderr = np.sqrt(np.var(strat) / 8 + np.var(ref) / 8)
    assert abs(np.mean(strat) - np.mean(ref)) < 4 * stderr + 1e-3 * np.mean(ref)


def test_much_less_noisy_than_a_plain_batch_at_low_density(key):
    """Same sample budget; a plain batch wastes ~97% of it on all-zero inputs, so its std is >3x larger."""
    spec = data.DataSpec("independent", 3)
    params = models.init_tied(3, 2, 1.0, key=key)
    density, importance = jnp.full(3, 0.01), jnp.ones(3)
    keys = [jax.random.key(i) for i in range(20)]
    strat = [expected_loss("relu_output", spec, params, density, importance, samples=1024, key=k) for k in keys]
    plain = [plain_mc("relu_output", spec, params, density, importance, 8 * 1024, k) for k in keys]
    assert np.std(strat) < np.std(plain) / 3


def test_exact_for_a_model_that_outputs_its_bias(key):
    """With W = 0 the loss is Σ_i I_i E[(x_i − b_i)²], known in closed form."""
    spec = data.DataSpec("independent", 2)
    d, b = jnp.array([0.2, 0.7]), jnp.array([0.1, 0.3])
    params = {"W": jnp.zeros((1, 2)), "b": b}
    exact = jnp.sum(d * (1 / 3 - b + b**2) + (1 - d) * b**2)
    got = expected_loss("linear", spec, params, d, jnp.ones(2), samples=20_000, key=key)
    np.testing.assert_allclose(got, exact, rtol=5e-3)


@pytest.mark.parametrize("magnitude, m1, m2", [  # E[m], E[m²] of a firing feature's value
    ({"kind": "constant", "value": 2.0}, 2.0, 4.0),
    ({"kind": "folded_normal", "mean": 0.0, "std": 1.0}, np.sqrt(2 / np.pi), 1.0),  # half-normal
])
def test_magnitudes_keep_the_stratified_loss_exact(magnitude, m1, m2, key):
    """Magnitudes change only the values drawn given the pattern: the strata stay exact (bias-only model)."""
    spec = data.spec_of({"model": {"n_features": 2}, "data": {"magnitude": magnitude}})
    assert spec.independent_units
    d, b = jnp.array([0.2, 0.7]), jnp.array([0.1, 0.3])
    exact = jnp.sum(d * (m2 - 2 * b * m1 + b**2) + (1 - d) * b**2)
    got = expected_loss("linear", spec, {"W": jnp.zeros((1, 2)), "b": b}, d, jnp.ones(2), samples=20_000, key=key)
    np.testing.assert_allclose(got, exact, rtol=5e-3)


def test_dependent_units_take_a_plain_monte_carlo_mean_with_its_standard_error(key):
    """A child fires with probability d_parent · d_child: the Monte Carlo mean is within 4 standard errors."""
    spec = data.spec_of({"model": {"n_features": 2}, "data": {"hierarchy": {"parents": [-1, 0]}}})
    assert not spec.independent_units
    d, b = jnp.array([0.4, 0.5]), jnp.array([0.1, 0.3])
    q = jnp.array([0.4, 0.2])  # each feature's firing probability
    exact = jnp.sum(q * (1 / 3 - b + b**2) + (1 - q) * b**2)
    mean, se = sampled.expected_loss("linear", spec, {"W": jnp.zeros((1, 2)), "b": b}, d, jnp.ones(2),
                                     samples=4096, key=key)
    assert 0 < se < 0.01 * exact
    assert abs(mean - exact) < 4 * se


def test_the_old_module_name_still_works_and_warns():
    from toyjax.errors import ToyjaxDeprecationWarning

    with pytest.warns(ToyjaxDeprecationWarning, match="toyjax.families.toy.stratified"):
        from toyjax.expected_loss import expected_loss as old
    assert old is expected_loss
