"""Metrics of toyjax.families.toy.metrics: known values, zero columns, grids, NumPy/JAX parity, gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from toyjax.families.toy import metrics


@pytest.fixture
def W_grid():
    """A (3, 4) grid of random (2, 5) models."""
    return np.random.default_rng(0).normal(size=(3, 4, 2, 5)).astype(np.float32)


def test_known_values_of_an_orthogonal_model_with_a_pair():
    # features 0 and 1 antipodal on e1, feature 2 on e2, feature 3 not learned
    W = np.array([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0]])
    np.testing.assert_allclose(metrics.feature_norms(W), [1, 1, 2, 0])
    np.testing.assert_allclose(metrics.superposition(W), [1, 1, 0, 0])
    np.testing.assert_allclose(metrics.feature_dimensionality(W), [0.5, 0.5, 1, 0])
    np.testing.assert_allclose(metrics.features_per_dimension(W), 6 / 2)
    np.testing.assert_allclose(metrics.dimensions_per_feature(W), 2 / 6)
    np.testing.assert_allclose(metrics.interference(W)[0], [0, -1, 0, 0])
    np.testing.assert_allclose(np.diagonal(metrics.cosines(W)), [1, 1, 1, 0])


def test_zero_weights_give_zeros_and_no_nan():
    W = np.zeros((2, 3))
    for f in (metrics.feature_norms, metrics.superposition, metrics.feature_dimensionality, metrics.cosines):
        out = f(W)
        assert np.all(out == 0)
    assert np.isinf(metrics.dimensions_per_feature(W))


@pytest.mark.parametrize(
    "name",
    ["feature_norms", "superposition", "feature_dimensionality", "features_per_dimension", "cosines"],
)
def test_gradients_are_finite_at_a_zero_column(name):
    W = jnp.array([[1.0, 0.0, 0.5], [0.0, 0.0, 0.5]])
    grad = jax.grad(lambda w: jnp.sum(getattr(metrics, name)(w)))(W)
    assert bool(jnp.all(jnp.isfinite(grad)))


@pytest.mark.parametrize(
    "name",
    [
        "feature_norms",
        "gram",
        "unit_features",
        "cosines",
        "interference",
        "superposition",
        "feature_dimensionality",
        "features_per_dimension",
        "dimensions_per_feature",
    ],
)
def test_grid_dims_and_numpy_jax_parity(name, W_grid):
    f = getattr(metrics, name)
    out_np = f(W_grid)
    out_jax = jax.jit(f)(jnp.asarray(W_grid))
    assert isinstance(out_np, np.ndarray) and isinstance(out_jax, jax.Array)
    np.testing.assert_allclose(out_np, np.asarray(out_jax), rtol=1e-4, atol=1e-5)
    single = f(W_grid[1, 2])
    np.testing.assert_allclose(out_np[1, 2], single, rtol=1e-5)


def test_superposition_formula_matches_its_definition(W_grid):
    W = W_grid[0, 0].astype(np.float64)
    unit = W / np.linalg.norm(W, axis=0)
    expected = [sum((unit[:, i] @ W[:, j]) ** 2 for j in range(5) if j != i) for i in range(5)]
    np.testing.assert_allclose(metrics.superposition(W), expected, rtol=1e-10)
    expected_d = [np.sum(W[:, i] ** 2) / sum((unit[:, i] @ W[:, j]) ** 2 for j in range(5)) for i in range(5)]
    np.testing.assert_allclose(metrics.feature_dimensionality(W), expected_d, rtol=1e-10)


def test_metrics_are_rotation_and_sign_invariant(W_grid):
    Q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(2, 2)))
    W = W_grid.astype(np.float64)
    for f in (metrics.feature_norms, metrics.superposition, metrics.feature_dimensionality, metrics.cosines):
        np.testing.assert_allclose(f(Q @ W), f(W), atol=1e-10)
        np.testing.assert_allclose(f(-W), f(W), atol=1e-10)


def test_diverged_weights_give_nan_not_zero():
    W = np.array([[np.nan, 1.0], [0.0, 0.0]])
    assert np.isnan(metrics.feature_norms(W)[0])
    assert np.isnan(metrics.feature_dimensionality(W)[0])
    assert np.isnan(metrics.dimensions_per_feature(W))
