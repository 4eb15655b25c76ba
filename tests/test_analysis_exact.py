"""The exact expected loss (§3) against the closed forms, brute-force integration and the stratified estimate."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from toyjax import data
from toyjax.analysis import exact, theory
from toyjax.families.toy import stratified


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("density", [0.01, 0.3, 1.0])
@pytest.mark.parametrize("ratio", [0.5, 3.0])
def test_the_closed_forms_are_the_exact_loss_of_their_configurations(n, density, ratio):
    importance = np.ones(n)
    importance[-1] = ratio
    closed = np.asarray(theory.candidate_losses(n, density, ratio))
    loss = jax.jit(exact.expected_loss)
    for code, expected in zip(theory.CANDIDATES[n], closed):
        params = theory.candidate_params(n, code, density)
        found = loss(jnp.asarray(params["W"]), jnp.asarray(params["b"]), density, importance)
        assert float(found) == pytest.approx(float(expected), rel=1e-5), theory.PHASES[code]


@pytest.mark.parametrize("alpha, beta, c, a", [(0.3, 0.0, -0.2, 0.9), (0.0, 1.0, 0.4, -1.3), (0.7, 0.0, 0.5, 0.0),
                                               (0.0, 1.0, -0.5, 0.0), (0.2, 0.0, -2.0, 1.0)])
def test_one_segment_integrates_exactly(alpha, beta, c, a):
    u = (np.arange(200_000) + 0.5) / 200_000
    brute = np.mean((alpha + beta * u - np.maximum(c + a * u, 0)) ** 2)
    assert float(exact.segment_error(alpha, beta, c, a)) == pytest.approx(brute, rel=1e-6, abs=1e-9)


def test_a_random_model_matches_the_stratified_estimate():
    rng = np.random.default_rng(0)
    W = jnp.asarray(rng.normal(size=(2, 3)), jnp.float32)
    b = jnp.asarray(0.3 * rng.normal(size=3), jnp.float32)
    for density in (0.05, 0.5):
        found = float(jax.jit(exact.expected_loss)(W, b, density, np.ones(3)))
        estimate = float(stratified.expected_loss("relu_output", data.DataSpec(n_features=3), {"W": W, "b": b},
                                                  jnp.full(3, density), jnp.ones(3), samples=2**15,
                                                  key=jax.random.PRNGKey(1)))
        assert found == pytest.approx(estimate, rel=3e-3)


def test_quadrature_converges_and_gradients_are_finite():
    rng = np.random.default_rng(1)
    W, b = jnp.asarray(rng.normal(size=(2, 3)), jnp.float32), jnp.asarray(0.3 * rng.normal(size=3), jnp.float32)
    coarse = float(jax.jit(lambda W, b: exact.expected_loss(W, b, 0.7, np.ones(3), nodes=12))(W, b))
    fine = float(jax.jit(lambda W, b: exact.expected_loss(W, b, 0.7, np.ones(3), nodes=24))(W, b))
    assert coarse == pytest.approx(fine, rel=1e-5)
    grad = jax.jit(jax.grad(lambda W: exact.expected_loss(W, b, 0.3, np.ones(3), nodes=8)))(W.at[0, 1].set(0.0))
    assert np.all(np.isfinite(np.asarray(grad)))


def test_gradients_stay_finite_as_a_feature_vanishes():
    """A dropped feature's norm decays towards 0 in training; its ReLU slope G_ij ~ ‖W_j‖² must not overflow."""
    W = jnp.asarray([[1.0, 0.0, 1e-11], [0.0, 1.0, 0.0]], jnp.float32)
    b = jnp.asarray([-3e-8, -4e-8, 0.3], jnp.float32)
    grad = jax.jit(jax.grad(lambda W, b: exact.expected_loss(W, b, 0.6, np.array([1.0, 1.0, 0.1]), nodes=8),
                            argnums=(0, 1)))(W, b)
    assert all(np.all(np.isfinite(np.asarray(g))) for g in grad)
