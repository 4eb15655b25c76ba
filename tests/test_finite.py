"""Finite training sets (Henighan et al. 2023): T as a grid axis, padding that changes nothing, full batches that
see only the T points, the stored sets, data-point dimensionality, and every invariance of the engine."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import toyjax
from toyjax import data
from toyjax.config import to_config
from toyjax.data import datasets
from toyjax.engine.runner import Runner
from toyjax.engine.train import model_keys
from toyjax.families import plan_of
from toyjax.families.toy import finite, metrics, models
from toyjax.merge import merge

FINITE = {
    "model": {"kind": "relu_output", "n_features": 40, "n_hidden": 2},
    "data": {"density": 0.1, "normalize": True},
    "train": {"steps": 300, "full_batch": True, "schedule": "warmup_cosine", "warmup_steps": 30},
    "record": {"snapshots": 4, "eval_samples": 32, "eval_tail": 1e-9},
    "progress": False,
}
SIZES = {"dataset_size": [3, 10, 40], "seed": 2}


def run(axes: dict, block_size: int = 4, **changes) -> toyjax.Results:
    cfg = {k: dict(v) if isinstance(v, dict) else v for k, v in FINITE.items()}
    cfg["grid"] = {"axes": axes, "block_size": block_size}
    for section, values in changes.items():
        cfg[section] = {**cfg.get(section, {}), **values}
    return toyjax.run(cfg)


def assert_same(a: toyjax.Results, b: toyjax.Results, index=...) -> None:
    """Bit-identical params, losses, history and training-set records (b may be a sub-grid of a)."""
    for name in a.params:
        np.testing.assert_array_equal(a.params[name][index], b.params[name])
    for got, want in [(a.loss, b.loss), (a.eval_loss, b.eval_loss)]:
        np.testing.assert_array_equal(got[index], want)
    np.testing.assert_array_equal(a.history["data_dimensionality"][index], b.history["data_dimensionality"])
    for key in a.train_set:
        np.testing.assert_array_equal(a.train_set[key][index], b.train_set[key])


# --------------------------------------------------------------------------- padding


def test_a_padded_model_matches_an_unpadded_run_on_the_same_points_to_float_rounding():
    """T = 10 padded to the grid's largest T = 40 against a grid whose largest T is 10: relative 1e-6."""
    padded, alone = run(SIZES), run({"dataset_size": [10], "seed": 2})
    for name in ("W", "b"):
        want = alone.params[name][0]
        np.testing.assert_allclose(padded.params[name][1], want, rtol=0, atol=1e-6 * np.abs(want).max())
    np.testing.assert_allclose(padded.train_set["loss"][1], alone.train_set["loss"][0], rtol=1e-6)
    np.testing.assert_allclose(padded.loss[1], alone.loss[0], rtol=1e-6)
    np.testing.assert_allclose(padded.train_set["dimensionality"][1, :, :10], alone.train_set["dimensionality"][0],
                               rtol=0, atol=1e-6)
    assert np.isnan(padded.train_set["dimensionality"][1, :, 10:]).all()  # no record beyond T


def test_with_a_shared_pass_size_padding_changes_no_bit():
    """Passes of 8 points: the padded model runs the same passes as the unpadded one, plus passes of zeros (the
    pass is shorter than either grid's largest T, which would cut it)."""
    padded, alone = run(SIZES, train={"chunk_size": 8}), run({"dataset_size": [10], "seed": 2},
                                                             train={"chunk_size": 8})
    for name in ("W", "b"):
        np.testing.assert_array_equal(padded.params[name][1], alone.params[name][0])


def test_a_pass_longer_than_the_largest_set_is_cut_to_it_without_changing_a_bit(caplog):
    """train.chunk_size beyond the grid's largest T would pad every pass (9 against 5,906 model-steps/s at T=50)."""
    axes = {"dataset_size": [3, 10], "seed": 2}
    cfg = to_config({**FINITE, "train": {**FINITE["train"], "chunk_size": 1000}, "grid": {"axes": axes}})
    assert plan_of(cfg).static.chunk == 10
    with caplog.at_level("INFO", logger="toyjax"):
        long = run(axes, train={"chunk_size": 1000})
    assert "train.chunk_size 1000 is more than the largest training set: passes of its T=10 points" in caplog.text
    assert_same(long, run(axes))


@pytest.mark.parametrize("train", [{}, {"chunk_size": 16}, {"full_batch": False, "batch_size": 8}])
def test_at_a_fixed_largest_T_bits_do_not_depend_on_the_grid_or_the_blocks(train):
    whole = run({"dataset_size": [3, 10, 40], "seed": 3}, train=train)
    part = run({"dataset_size": [40, 10], "seed": [2]}, train=train)  # other grid, other blocks
    assert_same(whole, part, np.s_[[2, 1], 2:3])
    single = run({"dataset_size": [3, 40], "seed": [1]}, block_size=4, train=train)
    assert_same(whole, single, np.s_[[0, 2], 1:2])


def test_two_devices_give_the_same_bits(tmp_path):
    script = textwrap.dedent(
        f"""
        import jax, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r} + "/..")
        from tests.test_finite import run, SIZES
        assert jax.local_device_count() == 2, jax.local_devices()
        run(SIZES, block_size=4).save({str(tmp_path / "two")!r})
        """
    )
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    subprocess.run([sys.executable, "-c", script], check=True, env=env)
    assert_same(run(SIZES, block_size=4), toyjax.load(tmp_path / "two"))


def test_a_killed_run_resumes_bit_identically(tmp_path, killed_after_states):
    reference = run(SIZES, record={"checkpoint_every": 100})
    killed_after_states(2)
    cfg = {**FINITE, "record": {**FINITE["record"], "checkpoint_every": 100},
           "grid": {"axes": SIZES, "block_size": 4}}
    with pytest.raises(KeyboardInterrupt):
        toyjax.run(cfg, checkpoint_dir=tmp_path)
    killed_after_states(None)
    assert_same(reference, toyjax.run(cfg, checkpoint_dir=tmp_path))


def test_shards_merge_to_the_single_run(tmp_path):
    whole = run(SIZES, block_size=2)
    shards = [run(SIZES, block_size=2, grid={"shard": k, "num_shards": 2}) for k in range(2)]
    merged, missing = merge(shards)
    assert missing == []
    assert_same(whole, merged)
    merged.save(tmp_path)
    assert_same(whole, toyjax.load(tmp_path))


# --------------------------------------------------------------------------- what a model trains on


def _engine(axes: dict, **train):
    cfg = to_config({**FINITE, "train": {**FINITE["train"], **train}, "grid": {"axes": axes, "block_size": 4}})
    runner = Runner(plan_of(cfg), cfg)
    block = runner.block(0)
    return runner.plan.static, block, runner.programs.engine.init(block)


def test_a_full_batch_sees_only_the_first_T_points():
    """The loss and gradients of the full batch are those of the T points alone, whatever the stored rest holds."""
    static, block, state = _engine({"dataset_size": [3, 40]}, chunk_size=16)
    stored = state.extra.points
    noisy = stored._replace(value=stored.value.at[:, 3:].set(1e3))  # garbage beyond T = 3 for every model
    params = jax.tree.map(lambda p: p[:1], state.params)
    first = jax.tree.map(lambda a: a[:1], block.points)
    loss, grads = finite.full_batch(static, params, jax.tree.map(lambda a: a[:1], noisy), first)
    x = datasets.densify(static.n_features, jax.tree.map(lambda a: a[0, :3], stored))
    p0 = jax.tree.map(lambda p: p[0], params)
    want, want_grads = jax.value_and_grad(
        lambda p: jnp.mean(models.sample_loss("relu_output", p, x, first.importance[0])))(p0)
    np.testing.assert_allclose(loss[0], want, rtol=1e-6)
    for name in grads:
        np.testing.assert_allclose(grads[name][0], want_grads[name], rtol=1e-5, atol=1e-7)


def test_a_minibatch_draws_only_from_the_first_T_points():
    static, block, state = _engine({"dataset_size": [3, 40]}, full_batch=False, batch_size=4)
    stored = jax.tree.map(lambda a: a[0], state.extra.points)
    point = jax.tree.map(lambda a: a[0], block.points)
    u = jnp.array([0.0, 0.34, 0.67, 1.0 - 2.0**-24])
    loss, _ = finite.minibatch(static, jax.tree.map(lambda p: p[0], state.params), stored, point, u)
    x = datasets.densify(static.n_features, datasets.take(stored, jnp.array([0, 1, 2, 2])))
    want = jnp.mean(models.sample_loss("relu_output", jax.tree.map(lambda p: p[0], state.params), x, point.importance))
    np.testing.assert_allclose(loss, want, rtol=1e-6)


def test_a_training_set_is_the_stream_of_its_data_distribution_stored_exactly():
    """Point t is ``realize(draw(fold_in(key, t)))``, normalised to ‖x‖ = 1; the stored copy is exact."""
    spec = data.DataSpec(n_features=40, normalize=True)
    density = jnp.full((40,), 0.1)
    key = jax.random.key(3)
    stored, truncated = datasets.draw(spec, density, 50, 20, key=key)
    x = datasets.densify(40, stored)
    want = jnp.stack([data.realize(spec, data.draw(spec, 1, key=jax.random.fold_in(key, t)), density)[:, 0]
                      for t in range(50)], axis=1)
    np.testing.assert_array_equal(x, want)
    norms = np.linalg.norm(np.asarray(x), axis=0)
    np.testing.assert_allclose(norms[norms > 0], 1.0, rtol=1e-6)
    assert int(truncated) == 0
    few, cut = datasets.draw(spec, density, 50, 2, key=key)  # 2 stored features: points with more are counted
    assert int(cut) == int(np.sum(np.sum(np.asarray(want) != 0, axis=0) > 2)) > 0


def test_the_stored_features_per_point_are_exceeded_with_tiny_probability():
    plan = plan_of(to_config({**FINITE, "model": {"n_features": 10_000, "n_hidden": 2},
                                "data": {"density": 0.001, "normalize": True},
                                "grid": {"axes": {"dataset_size": [100]}}}))
    assert plan.static.active == 39  # P(more than 39 of 10,000 at density 0.001) < 1e-12
    assert plan.static.eval_units == 34  # strata up to 34 active features: the rest hold < 1e-9


# --------------------------------------------------------------------------- records


def test_data_point_dimensionality_of_a_polygon_is_m_over_T():
    for T in (3, 4, 5, 8, 30):
        angles = 2 * np.pi * np.arange(T) / T
        H = 1.7 * np.stack([np.cos(angles), np.sin(angles)])  # (m=2, T): a regular T-gon
        np.testing.assert_allclose(metrics.data_dimensionality(H), 2 / T, rtol=1e-12)
    H = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])  # two orthogonal points and a zero vector
    np.testing.assert_allclose(metrics.data_dimensionality(H), [1.0, 1.0, 0.0])
    rng = np.random.default_rng(0)
    H = rng.normal(size=(3, 17))  # the same formula as feature dimensionality, computed in O(T m²)
    np.testing.assert_allclose(metrics.data_dimensionality(H), metrics.feature_dimensionality(H), rtol=1e-12)
    np.testing.assert_allclose(metrics.data_dimensionality(jnp.asarray(H, jnp.float32)),
                               metrics.feature_dimensionality(H), rtol=1e-5)


def test_records_are_those_of_the_T_points():
    """h_t = W x_t and each point's loss, for the points regenerated from the model's own key."""
    r = run(SIZES)
    W, b = r.params["W"][1, 1], r.params["b"][1, 1]
    T = int(r.train_set["size"][1, 1])
    hidden = r.train_set["hidden"][1, 1, :T]  # (T, m)
    assert T == 10 and np.isnan(r.train_set["hidden"][1, 1, T:]).all()
    key = jax.random.fold_in(model_keys(jnp.uint32(0), jnp.int32(1)).data, 0)
    spec = data.DataSpec(n_features=40, normalize=True)
    x = np.asarray(datasets.densify(40, datasets.draw(spec, jnp.full((40,), 0.1), T, 40, key=key)[0]))
    np.testing.assert_allclose(hidden, (W @ x).T, rtol=1e-5, atol=1e-6)
    out = np.maximum(W.T @ W @ x + b[:, None], 0)
    np.testing.assert_allclose(r.train_set["point_loss"][1, 1, :T], np.sum((x - out) ** 2, axis=0), rtol=1e-4)
    np.testing.assert_allclose(r.train_set["loss"][1, 1], np.mean(r.train_set["point_loss"][1, 1, :T]), rtol=1e-5)
    np.testing.assert_allclose(r.train_set["dimensionality"][1, 1, :T], metrics.data_dimensionality(hidden.T),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(r.history["data_dimensionality"][1, 1, -1, :T],
                                  r.train_set["dimensionality"][1, 1, :T])
    assert r.history["loss"].shape == (3, 2, 4)


def test_results_keep_the_training_set_through_save_load_and_xarray(tmp_path):
    r = run({"dataset_size": [3, 10]})
    r.save(tmp_path)
    back = toyjax.load(tmp_path)
    for key, value in r.train_set.items():
        np.testing.assert_array_equal(back.train_set[key], value)
    xr = pytest.importorskip("xarray")
    ds = r.to_xarray()
    assert isinstance(ds, xr.Dataset) and ds["train_set_hidden"].dims == ("dataset_size", "point", "hidden")
    assert ds["history_data_dimensionality"].dims == ("dataset_size", "snapshot_step", "point")


@pytest.mark.parametrize("kind, data_kind", [("relu_hidden", "independent"), ("abs_mlp", "independent"),
                                             ("linear", "independent"), ("relu_output", "correlated"),
                                             ("relu_output", "anticorrelated")])
def test_every_model_and_distribution_trains_on_a_finite_set(kind, data_kind):
    data_cfg = {"kind": data_kind, "density": 0.3, "signed": kind == "abs_mlp", "set_size": 2}
    r = toyjax.run({"model": {"kind": kind, "n_features": 8, "n_hidden": 3}, "data": data_cfg,
                    "train": {"steps": 50, "full_batch": True}, "record": {"snapshots": 2, "eval_samples": 16},
                    "grid": {"axes": {"dataset_size": [4, 20]}, "block_size": 4}, "progress": False})
    assert np.all(np.isfinite(r.eval_loss)) and not r.diverged.any()
    assert r.train_set["hidden"].shape == (2, 20, 3) and np.isfinite(r.train_set["hidden"][0, :4]).all()
    np.testing.assert_allclose(r.train_set["loss"], np.nanmean(r.train_set["point_loss"], axis=-1), rtol=1e-5)
    np.testing.assert_array_equal(r.train_set["truncated"], 0)


def test_the_follow_ups_schedule_warms_up_to_the_peak_then_decays_to_zero():
    """2,500 linear steps to lr 1e-3, then cosine to 0 at step 50,000 (Henighan et al. 2023)."""
    from toyjax.engine import optim

    static = plan_of(to_config(toyjax.compose("double_descent", ["grid.axes.dataset_size=[3]"]))).static
    lr = [1e-3 * float(optim.unit_schedule(static)(t)) for t in (0, 1250, 2500, 26_250, 50_000)]
    np.testing.assert_allclose(lr, [0.0, 5e-4, 1e-3, 5e-4, 0.0], atol=1e-9)
    assert (static.steps, static.warmup_steps, static.full_batch) == (50_000, 2500, True)
