"""Models: shapes, init scale, and gradients against finite differences."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from toyjax import data
from toyjax.families.toy import models

KINDS = list(models.APPLY)


@pytest.mark.parametrize("kind", KINDS)
def test_shapes_and_zero_bias(kind, key):
    params = models.INIT[kind](7, 3, 1.0, key=key)
    assert models.feature_matrix(params).shape == (3, 7)
    np.testing.assert_array_equal(params["b"], np.zeros(7))
    assert models.APPLY[kind](params, jnp.ones((7, 11))).shape == (7, 11)


def test_xavier_std_depends_only_on_the_model_shape(key):
    n, m = 400, 30
    W = models.init_tied(n, m, 2.0, key=key)["W"]
    np.testing.assert_allclose(np.std(W), 2.0 * np.sqrt(2.0 / (n + m)), rtol=0.03)


def test_models_match_the_paper_formulas(key):
    params = models.init_tied(4, 2, 1.0, key=key)
    params["b"] = jnp.array([0.1, -0.2, 0.3, -0.4])
    x = jax.random.uniform(key, (4, 5))  # five samples as columns
    W, b = params["W"], params["b"][:, None]
    np.testing.assert_allclose(models.linear(params, x), W.T @ W @ x + b, rtol=1e-5)
    np.testing.assert_allclose(models.relu_output(params, x), np.maximum(W.T @ W @ x + b, 0), rtol=1e-5)
    hidden = np.maximum(W @ x, 0)
    np.testing.assert_allclose(models.relu_hidden(params, x), np.maximum(W.T @ hidden + b, 0), rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_finite_differences(kind, key):
    jax.config.update("jax_enable_x64", True)
    try:
        params = jax.tree.map(lambda p: p.astype(jnp.float64), models.INIT[kind](4, 3, 1.0, key=key))
        params["b"] = params["b"] + 0.05
        spec = data.DataSpec(n_features=4, signed=kind == "abs_mlp")
        x = data.sample(spec, 64, jnp.full(4, 0.5), key=jax.random.key(1)).astype(jnp.float64)
        importance = jnp.array([1.0, 0.7, 0.5, 0.3], jnp.float64)

        def loss(p):
            return jnp.mean(models.sample_loss(kind, p, x, importance))

        grads = jax.grad(loss)(params)
        eps = 1e-6
        for name, value in params.items():
            flat = np.asarray(value).ravel()
            for i in range(0, flat.size, max(1, flat.size // 5)):
                bump = np.zeros_like(flat)
                bump[i] = eps
                plus = dict(params, **{name: value + bump.reshape(value.shape)})
                minus = dict(params, **{name: value - bump.reshape(value.shape)})
                numeric = (loss(plus) - loss(minus)) / (2 * eps)
                np.testing.assert_allclose(np.asarray(grads[name]).ravel()[i], numeric, rtol=1e-5, atol=1e-8)
    finally:
        jax.config.update("jax_enable_x64", False)
