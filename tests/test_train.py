"""Training: the linear model's known answer, the one engine behind `toyjax.run`, schedules."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

import toyjax
from toyjax import data
from toyjax.config import to_config
from toyjax.engine import optim
from toyjax.engine.runner import Runner
from toyjax.families import plan_of


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


def test_the_whole_run_in_one_call_is_bit_identical_to_the_grid(tiny):
    """`Engine.run`, jitted as one program, is the run `toyjax.run` makes segment by segment."""
    cfg = to_config(tiny({"density": [1.0, 0.1], "seed": 3}, train={"steps": 150}))
    grid = toyjax.run(cfg)
    runner = Runner(plan_of(cfg), cfg)
    models = runner.layout.blocks[0][:6]  # the block is padded to 8 with repeats
    out = jax.jit(runner.programs.engine.run)(runner.block(0))
    for got, want in [(out["params"]["W"], grid.params["W"]), (out["eval_loss"], grid.eval_loss),
                      (out["loss"], grid.loss), (out["history"]["dimensionality"], grid.history["dimensionality"])]:
        want = np.asarray(want).reshape((6,) + np.shape(want)[2:])
        np.testing.assert_array_equal(np.asarray(got)[:6], want[models])


def test_how_a_run_is_cut_into_segments_changes_no_bit(tiny, monkeypatch):
    """Progress granularity is not part of the compiled program, nor of the results."""
    from toyjax.engine import runner

    cfg = tiny({"density": [1.0, 0.1]}, train={"steps": 150})
    before = toyjax.run(cfg)
    monkeypatch.setattr(runner, "PROGRESS_TICKS", 7)
    after = toyjax.run(cfg)
    assert after.timing["compile_s"] == 0.0
    np.testing.assert_array_equal(before.params["W"], after.params["W"])
    np.testing.assert_array_equal(before.history["loss"], after.history["loss"])


@pytest.mark.parametrize("schedule", ["constant", "linear", "cosine", "warmup_cosine"])
def test_unit_schedules(tiny, schedule):
    static = plan_of(to_config(tiny(train={"steps": 100}))).static
    static = dataclasses.replace(static, schedule=schedule, warmup_steps=10)
    lr = np.array([optim.unit_schedule(static)(t) for t in (0, 10, 50, 100)])
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


def test_a_toy_run_on_structured_features(tiny):
    """Zipf firing (SAELens's: 1, 1/2, 1/3 mapped onto [0.1, 0.6]), folded-normal values, a hierarchy and correlated
    firings train; the eval loss is then a Monte Carlo mean with its standard error, and results.json says why (not
    for magnitudes alone: the units still fire independently, and the stratified loss stays exact)."""
    zipf = {"profile": "zipf", "exponent": 1.0, "p_max": 0.6, "p_min": 0.1}
    structured = {"firing": zipf, "magnitude": {"kind": "folded_normal", "mean": 1.0, "std": 0.3},
                  "hierarchy": {"parents": [-1, 0, 0], "mutually_exclusive": True}, "correlation": {"rank": 1}}
    results = toyjax.run(tiny({"seed": 2}, data=structured, train={"steps": 20}))
    np.testing.assert_allclose(results.density, [[0.6, 0.225, 0.1]] * 2, rtol=1e-6)
    assert results.meta["data"]["eval_loss"] == "monte_carlo" and "hierarchy" in results.meta["data"]["why"]
    se = results.records["eval"]["loss_se"]
    assert se.shape == (2,) and np.all((se > 0) & (se < 0.05 * results.eval_loss))
    plain = dataclasses.asdict(to_config(tiny(data={"magnitude": {"kind": "constant"}})))
    assert data.spec_of(plain).independent_units and data.metadata(data.spec_of(plain)) == {}
