"""The grid: axes, layout, and every invariance a model's result must have."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

import toyjax
from toyjax.config import to_config
from toyjax.engine.plan import snapshot_steps
from toyjax.families import plan_of


def assert_same(a: toyjax.Results, b: toyjax.Results, index=...) -> None:
    """Bit-identical params, losses and history (b may be a sub-grid selected by `index` of a)."""
    for name in a.params:
        np.testing.assert_array_equal(a.params[name][index], b.params[name])
    np.testing.assert_array_equal(a.loss[index], b.loss)
    np.testing.assert_array_equal(a.eval_loss[index], b.eval_loss)
    np.testing.assert_array_equal(a.history["dimensionality"][index], b.history["dimensionality"])


AXES = {"density": [1.0, 0.3, 0.05], "extra_importance": [0.5, 3.0], "seed": 2}


def test_dims_coords_and_shapes(tiny):
    r = toyjax.run(tiny(AXES))
    assert r.dims == ("density", "extra_importance", "seed")
    assert r.grid_shape == (3, 2, 2)
    assert r.params["W"].shape == (3, 2, 2, 2, 3)
    assert r.params["b"].shape == (3, 2, 2, 3)
    assert r.history["W_norm"].shape == (3, 2, 2, len(r.history["step"]), 3)
    np.testing.assert_array_equal(r.coords["seed"], [0, 1])
    np.testing.assert_allclose(r.density[1, 0, 0], [0.3, 0.3, 0.3])
    np.testing.assert_allclose(r.importance[0, 1, 1], [1.0, 1.0, 3.0])
    assert r.history["step"][-1] == 60
    assert set(r.timing) >= {"compile_s", "train_s", "model_steps_per_s"}


def test_axis_order_is_the_order_given(tiny):
    a = toyjax.run(tiny({"seed": 2, "density": [1.0, 0.3]}))
    b = toyjax.run(tiny({"density": [1.0, 0.3], "seed": 2}))
    assert a.dims == ("seed", "density")
    np.testing.assert_array_equal(a.params["W"], np.swapaxes(b.params["W"], 0, 1))


def test_same_config_is_bit_identical(tiny):
    assert_same(toyjax.run(tiny(AXES)), toyjax.run(tiny(AXES)))


@pytest.mark.parametrize("block_size", [1, 2, 5])
def test_number_of_blocks_does_not_change_results(tiny, block_size):
    """12 models in 12, 6 or 3 blocks give what each model gives in a block of its own."""
    blocked = toyjax.run(tiny(grid={"axes": AXES, "block_size": block_size}))
    alone = toyjax.run(tiny(grid={"axes": {"seed": [1]}, "block_size": block_size},
                            data={"density": 0.05, "extra_importance": 3.0}))
    assert_same(blocked, alone, np.s_[2, 1, 1:2])


# One small grid per family and data source; `grid.block_size` 1, 2 and the default must give the same bits.
BLOCK_CASES = {
    "toy": ("intro", ["grid.axes.density=[0.1,1]", "grid.axes.seed=[0,1]"]),
    "finite, full batch": ("double_descent_small", ["grid.axes.dataset_size=[5,20]", "grid.axes.seed=[0,1]",
                                                    "train.warmup_steps=5"]),
    "finite, minibatch": ("double_descent_small", ["grid.axes.dataset_size=[8,20]", "grid.axes.seed=[0,1]",
                                                   "train.warmup_steps=5", "train.full_batch=false",
                                                   "train.batch_size=4", "train.chunk_size=null"]),
    **{f"sae {kind}": ("sae_frontier_relu", [f"sae.kind={kind}", "grid.axes.l1_coefficient=[0.3,3]"])
       for kind in ("relu", "relu_unit", "jumprelu")},
    "sae topk": ("sae_frontier_topk", ["grid.axes.k=[1,4]"]),
}


def every_array(results: toyjax.Results) -> dict[str, np.ndarray]:
    """Every array a run returns, by its path: losses, params, history and each family's records."""
    tree = {"loss": results.loss, "eval_loss": results.eval_loss, "diverged": results.diverged,
            "params": results.params, "history": results.history, "records": results.records}
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {jax.tree_util.keystr(path): np.asarray(leaf) for path, leaf in leaves}


# Where a block of two and the default block (16 or 64 models here) still differ, in float32's last bits: XLA
# vectorises a block's reductions by its size. Measured after 40 steps: evaluated numbers (eval_loss, ‖W_i‖, an
# SAE's mse) by up to 2.8e-5 relative; only the finite minibatch's training itself, by 2.5e-5 in W.
BLOCK_EXACT = {"toy", "sae relu"}


@pytest.mark.parametrize("case", sorted(BLOCK_CASES))
def test_the_block_size_changes_no_bit_in_any_family_or_data_source(case):
    """A block of one model compiled to another program (XLA folds its model axis away), whose bits differed
    by up to 0.05 after 300 steps; so no block runs fewer than two (`toyjax.engine.blocks.MIN_COMPILED`), and
    ``grid.block_size=1`` gives the bits of 2. Against the default block, bit-identical where `BLOCK_EXACT`
    says so, else within float32 rounding (README, Guarantees)."""
    preset, overrides = BLOCK_CASES[case]
    base = overrides + ["train.steps=40", "record.snapshots=4", "progress=false"]
    one, two, default = (every_array(toyjax.run(toyjax.compose(preset, base + extra))) for extra in
                         (["grid.block_size=1"], ["grid.block_size=2"], []))
    assert one.keys() == two.keys() == default.keys()
    for name, value in default.items():
        np.testing.assert_array_equal(one[name], two[name], err_msg=f"grid.block_size 1 against 2: {name}")
        if case in BLOCK_EXACT:
            np.testing.assert_array_equal(value, two[name], err_msg=f"the default block against 2: {name}")
        else:
            np.testing.assert_allclose(two[name], value, rtol=1e-4, atol=1e-7, err_msg=f"default against 2: {name}")


def test_grid_size_does_not_change_results(tiny):
    full = toyjax.run(tiny(AXES))
    small = toyjax.run(tiny({"density": [0.3], "extra_importance": [3.0], "seed": 2}))
    assert_same(full, small, np.s_[1:2, 1:2])


def test_single_point_alone_reproduces_its_grid_value(tiny):
    full = toyjax.run(tiny(AXES))
    alone = toyjax.run(tiny({"seed": [1]}, data={"density": 0.05, "extra_importance": 0.5}))
    assert_same(full, alone, np.s_[2, 0, 1:2])


def test_seeds_differ(tiny):
    r = toyjax.run(tiny({"seed": 2}))
    assert not np.array_equal(r.params["W"][0], r.params["W"][1])


def test_new_axis_values_do_not_recompile(tiny):
    import jax

    compiles = []

    def listen(event, *_, **__):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(event)

    jax.monitoring.register_event_duration_secs_listener(listen)
    toyjax.run(tiny({"density": [1.0, 0.5], "lr": [1e-3, 3e-3]}))
    before = len(compiles)
    toyjax.run(tiny({"density": [0.2, 0.1], "lr": [1e-2, 2e-3]}))
    assert len(compiles) == before


def test_new_axis_lengths_reuse_the_compiled_program(tiny):
    a = toyjax.run(tiny({"density": [1.0, 0.5, 0.2], "seed": 3}))
    b = toyjax.run(tiny({"density": [0.1]}))
    assert b.timing["compile_s"] == 0.0
    assert a.grid_shape == (3, 3) and b.grid_shape == (1,)


def test_diverging_model_is_flagged_and_others_train(tiny):
    r = toyjax.run(tiny({"lr": [1e-3, 1e9]}, train={"steps": 200, "batch_size": 64}))
    assert r.diverged.tolist() == [False, True]
    assert np.all(np.isfinite(r.params["W"][0])) and np.isfinite(r.eval_loss[0])
    assert np.isnan(r.loss[1]) and np.isnan(r.eval_loss[1])  # never a finite loss for a diverged model
    healthy = toyjax.run(tiny({"lr": [1e-3]}, train={"steps": 200, "batch_size": 64}))
    assert_same(r, healthy, np.s_[0:1])


def test_snapshot_steps_are_log_spaced_and_end_at_steps():
    steps = snapshot_steps(10_000, 16)
    assert steps[0] == 1 and steps[-1] == 10_000
    assert all(b > a for a, b in zip(steps, steps[1:]))
    assert snapshot_steps(100, 0) == ()


def test_plan_puts_per_feature_density_on_every_model(tiny):
    plan = plan_of(to_config(tiny({"density": [[1.0, 0.5, 0.1], [0.2, 0.2, 0.2]]})))
    np.testing.assert_allclose(plan.points["density"], [[1.0, 0.5, 0.1], [0.2, 0.2, 0.2]])


def test_two_devices_give_the_same_results(tmp_path, tiny):
    """The point axis is sharded over 2 fake CPU devices; every model must come out bit-identical."""
    script = textwrap.dedent(
        f"""
        import jax, toyjax
        assert jax.local_device_count() == 2, jax.local_devices()
        toyjax.run({tiny(AXES)!r}).save({str(tmp_path / "two")!r})
        """
    )
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    subprocess.run([sys.executable, "-c", script], check=True, env=env)
    assert_same(toyjax.run(tiny(AXES)), toyjax.load(tmp_path / "two"))


def test_blocks_spanning_many_seeds_match_single_runs(tiny):
    """A block drawing noise for 6 seeds gives each model what it gets with a draw of its own."""
    many = toyjax.run(tiny({"seed": 6, "density": [0.2]}))
    alone = toyjax.run(tiny({"seed": [4]}, data={"density": 0.2}))
    assert_same(many, alone, np.s_[4, 0:1])
