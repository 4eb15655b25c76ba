"""Training: the linear model's known answer, the pure `make_train`, schedules."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import toyjax
from toyjax import train
from toyjax.config import to_config
from toyjax.grid import make_plan


@pytest.mark.parametrize("density", [1.0, 0.3, 0.05])
def test_linear_model_learns_the_top_m_features(tiny, density):
    cfg = tiny(
        model={"kind": "linear", "n_features": 5, "n_hidden": 2},
        data={"importance_decay": 0.7, "density": density},
        train={"steps": 1500, "batch_size": 256, "lr": 1e-2},
    )
    W = toyjax.run(cfg).params["W"]
    gram = W.T @ W
    np.testing.assert_allclose(gram[:2, :2], np.eye(2), atol=0.1)
    np.testing.assert_allclose(gram[2:, :], 0, atol=0.1)


def test_make_train_is_the_same_run_as_the_grid(tiny):
    cfg = to_config(tiny({"density": [1.0, 0.1], "seed": 2}))
    plan = make_plan(cfg)
    points = {k: jnp.asarray(v) for k, v in plan.points.items()}
    point = train.Point(**{k: v for k, v in points.items() if k != "seed"})
    pure = jax.jit(jax.vmap(train.make_train(plan.static), in_axes=(0, 0, None, None)))
    out = pure(point, points["seed"], jnp.uint32(0), jax.random.key(cfg.record.eval_seed))
    grid = toyjax.run(cfg)
    # Different programs may round differently in the last bit; the maths is the same.
    np.testing.assert_allclose(np.asarray(out["params"]["W"]).reshape(grid.params["W"].shape), grid.params["W"],
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(out["eval_loss"]).reshape(grid.grid_shape), grid.eval_loss, rtol=1e-4)


@pytest.mark.parametrize("schedule", ["constant", "linear", "cosine", "warmup_cosine"])
def test_unit_schedules(schedule):
    static = train.Static("relu_output", 3, 2, None, steps=100, schedule=schedule, warmup_steps=10)
    lr = np.array([train.unit_schedule(static)(t) for t in (0, 10, 50, 100)])
    expected = {
        "constant": [1, 1, 1, 1],
        "linear": [1, 0.9, 0.5, 0],
        "cosine": [1, 0.9755, 0.5, 0],
        "warmup_cosine": [0, 1, 0.5868, 0],
    }[schedule]
    np.testing.assert_allclose(lr, expected, atol=1e-3)


def test_weight_decay_is_the_notebooks_and_applies_to_b(tiny):
    """With zero data signal, decay alone shrinks both W and b."""
    cfg = tiny({"weight_decay": [0.0, 10.0]}, train={"steps": 50, "batch_size": 8, "lr": 1e-2})
    r = toyjax.run(cfg)
    assert np.linalg.norm(r.params["W"][1]) < np.linalg.norm(r.params["W"][0])
    assert to_config(tiny()).train.weight_decay == 0.01


def test_snapshot_history_ends_at_the_final_params(tiny):
    r = toyjax.run(tiny({"density": [1.0, 0.2]}))
    np.testing.assert_array_equal(r.history["params"]["W"][:, -1], r.params["W"])
    norms = np.linalg.norm(r.params["W"], axis=-2)
    np.testing.assert_allclose(r.history["W_norm"][:, -1], norms, rtol=1e-5)
    assert np.all(np.isfinite(r.history["loss"]))
