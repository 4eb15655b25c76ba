"""Memory: a model too large for the memory there is is refused before anything is compiled, naming the field that
sizes it, with the estimate and the limit; a block too large gets fewer models, or is refused naming grid.block_size."""

from __future__ import annotations

import logging

import pytest

import toyjax
from toyjax.config import to_config
from toyjax.engine import blocks, memory, programs
from toyjax.families import plan_of

LIMIT = 8 * 10**9  # bytes: what these tests say a device has, whatever the machine's memory


@pytest.fixture
def limit(monkeypatch):
    """``limit(bytes)``: the memory `toyjax.engine.memory` sees on this device from now on (default `LIMIT`)."""

    def set_limit(value: int = LIMIT) -> None:
        monkeypatch.setattr(memory, "available", lambda: value)

    set_limit()
    return set_limit


@pytest.mark.parametrize("preset, override, field", [
    ("uniform_geometry", "data.dataset_size=16777216", "data.dataset_size"),  # the stored training set
    ("sae_frontier_relu", "sae.width=10000000", "sae.width"),  # a family's own size (Family.sizes)
    ("uniform_geometry", "train.batch_size=16777216", "train.batch_size"),  # a step's arrays, not its state
])
def test_a_model_too_large_for_memory_is_refused_before_compiling(limit, monkeypatch, preset, override, field):
    monkeypatch.setattr(programs.Programs, "compiled", lambda *a: pytest.fail("compiled a model that cannot fit"))
    with pytest.raises(toyjax.ConfigError) as err:
        toyjax.run(toyjax.compose(preset, [override, "progress=false"]))
    message = str(err.value)
    assert message.startswith(f"{field}: one model needs about "), message
    assert message.endswith(f"more than the 8 GB available on this cpu device; lower {field}"), message
    assert "\n" not in message and "; its largest array, " in message


def test_a_pass_longer_than_the_training_set_needs_no_more_memory(limit):
    """train.chunk_size=100000000 on T <= 1,500: the pass is cut to T (a pass of 1e8 points would need 200 GB)."""
    cfg = to_config(toyjax.compose("double_descent_small", ["train.chunk_size=100000000"]))
    plan = plan_of(cfg)
    assert plan.static.chunk == 1500 and memory.footprint(plan).total < 10**8
    assert blocks.plan_layout(plan, None).per_call == own_block(plan)


def own_block(plan, aim=None) -> int:
    """The engine's block size for `plan` on this device's memory (and its kind, unless `aim` says another)."""
    return blocks.block_size(plan.static, blocks.device_memory(), aim or blocks.device_aim())


def small(tiny, block_size):
    cfg = to_config(tiny({"seed": 16}, grid={"axes": {"seed": 16}, "block_size": block_size}))
    return plan_of(cfg)


def test_a_block_too_large_for_memory_gets_fewer_models(tiny, limit, caplog):
    plan = small(tiny, None)
    size = blocks.block_size(plan.static, blocks.device_memory(), blocks.device_aim())
    assert size > 2 and blocks.plan_layout(plan, None).per_call == size
    limit(3 * memory.footprint(plan).total)
    with caplog.at_level(logging.INFO, logger="toyjax"):
        assert blocks.plan_layout(plan, None).per_call == 2  # a power of two, as the block sizes it replaces
    assert f"block size {size} lowered to 2: a block of {size} models needs about" in caplog.text


def test_a_block_size_asked_for_that_does_not_fit_is_refused(tiny, limit):
    plan = small(tiny, 8)
    one = memory.footprint(plan).total
    limit(3 * one)
    with pytest.raises(toyjax.ConfigError, match=rf"^grid.block_size: a block of 8 models needs about "
                                                 rf"{memory.readable(8 * one)} of memory, more than the "
                                                 rf"{memory.readable(3 * one)} available on this cpu device; at most 3 "
                                                 r"fit \(grid.block_size=3\)$"):
        blocks.plan_layout(plan, 8)
    assert blocks.plan_layout(plan, 3).per_call == 3


def test_the_estimate_holds_the_state_exactly_and_the_largest_array_of_a_step():
    """uniform_geometry's model: W (30, 400), b (400,) and their two Adam moments, 16 snapshots of them and of three
    rows; its largest working array is one of the evaluation's (samples, n) batches."""
    plan = plan_of(to_config(toyjax.compose("uniform_geometry", ["grid.axes.density=[0.1]"])))
    found = memory.footprint(plan)
    params = 30 * 400 + 400
    snapshots = len(plan.static.snapshot_steps)
    rows = 1 + 400 + 400  # loss, ‖W_i‖, D_i
    assert found.state >= 4 * (3 * params + snapshots * (params + rows))
    assert found.state < 4 * (3 * params + snapshots * (params + rows)) + 1000  # counters and flags
    assert found.work >= 4 * 400 * 1024  # at least a batch of 1024 inputs
    assert found.total == found.state + memory.WORKING_COPIES * found.work


@pytest.mark.parametrize("preset, cpu, accelerator", [
    ("intro", 16, 512),  # batch 1024 of n=5: 2^17 and 2^22 inputs
    ("phase_n2m1", 64, 2048),  # n=2
])
def test_an_accelerators_block_is_sized_for_its_launches_not_a_cpus_cache(preset, cpu, accelerator):
    plan = plan_of(to_config(toyjax.compose(preset)))
    assert blocks.device_aim() == blocks.CPU  # JAX_PLATFORMS=cpu
    assert (own_block(plan, blocks.CPU), own_block(plan, blocks.ACCELERATOR)) == (cpu, accelerator)
    one = 4 * 4 * (8 * plan.static.batch_size * (plan.static.n_features + plan.static.n_hidden))  # a quarter, per model
    assert blocks.block_size(plan.static, 100 * one, blocks.ACCELERATOR) <= 100  # memory still bounds it


def test_a_grid_on_an_accelerator_runs_in_its_blocks(tiny, monkeypatch):
    plan = small(tiny, None)
    monkeypatch.setattr(blocks, "device_aim", lambda: blocks.ACCELERATOR)
    assert blocks.plan_layout(plan, None).per_call == own_block(plan, blocks.ACCELERATOR) > own_block(plan, blocks.CPU)
