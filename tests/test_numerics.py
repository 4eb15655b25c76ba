"""The numerics every backend runs with (`toyjax.numerics`), checked by lowering the engine for GPUs and TPUs here.

`jax.export` lowers a program for a platform this machine does not have, so the precision every `dot_general` of
every family's init, train and finish carries on a GPU or a TPU can be read on a CPU. The same lowering lists the
scatter-adds over indices that may repeat, the ops XLA runs with atomics on a GPU unless its deterministic ops
are on (`use_deterministic_ops`).
"""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
import types

import jax
import numpy as np
import pytest
from jax import export

import toyjax
from toyjax import config as config_lib
from toyjax import numerics
from toyjax.engine.runner import Runner
from toyjax.errors import ConfigError
from toyjax.families.sae.sources import plan_run

from .test_family_of_ones_own import EXAMPLES

# One small config per family and data source; every one is lowered, never trained.
CASES = {
    "toy": ("intro", ["train.steps=40", "grid.axes.seed=[0,1]"]),
    "toy, untied gelu with activation L1": ("intro", ["train.steps=40", "model.kind=toy", "model.encoder=untied",
                                                      "model.hidden_activation=gelu", "model.activation_l1=0.01"]),
    "toy, finite full batch": ("double_descent_small", ["train.steps=40", "train.warmup_steps=4",
                                                        "grid.axes.dataset_size=[8,16]"]),
    "sae relu": ("sae_frontier_relu", ["train.steps=40"]),
    "sae topk": ("sae_frontier_topk", ["train.steps=40"]),
    "a family of one's own": (str(EXAMPLES / "engineering_monosemanticity" / "jermyn.yaml"), ["train.steps=40"]),
}
# Jax's names for the settings, as lowered: tensorfloat32 is HIGH.
LOWERED = {"highest": "HIGHEST", "tensorfloat32": "HIGH"}


def lowered(case: str, overrides: list[str] = ()) -> dict[str, dict[str, str]]:
    """Each program's StableHLO text for cuda and for tpu: {program: {platform: text}}."""
    preset, base = CASES[case]
    cfg, plan = plan_run(config_lib.to_config(toyjax.compose(preset, base + list(overrides))))
    runner = Runner(plan, cfg)
    engine = runner.programs.engine
    block = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), runner.block(0))
    state, bound = jax.eval_shape(engine.init, block), jax.ShapeDtypeStruct((), np.int32)
    args = {"init": (engine.init, (block,)), "train": (engine.train, (state, block, bound, bound)),
            "finish": (engine.finish, (state, block))}
    return {name: {platform: export.export(jax.jit(fn), platforms=[platform])(*a).mlir_module()
                   for platform in ("cuda", "tpu")} for name, (fn, a) in args.items()}


def dot_precisions(text: str) -> collections.Counter:
    """How many dot_generals carry each precision (``none`` where they carry none)."""
    dots = re.findall(r"stablehlo\.dot_general[^\n]*", text)
    return collections.Counter(m.group(1) if (m := re.search(r"precision = \[(\w+), \1\]", d)) else "none"
                               for d in dots)


@pytest.fixture(autouse=True)
def example_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_product_of_every_program_runs_in_full_float32_on_gpus_and_tpus(case):
    programs = lowered(case)
    assert sum(dot_precisions(programs["train"]["cuda"]).values()) > 0, "no product found: the check reads nothing"
    for name, by_platform in programs.items():
        for platform, text in by_platform.items():
            assert set(dot_precisions(text)) <= {"HIGHEST"}, (name, platform, dot_precisions(text))


@pytest.mark.parametrize("case", ["toy", "sae topk"])
def test_a_faster_precision_is_opted_into_and_reaches_every_product(case):
    for name, by_platform in lowered(case, ["train.matmul_precision=tensorfloat32"]).items():
        for platform, text in by_platform.items():
            assert set(dot_precisions(text)) <= {LOWERED["tensorfloat32"]}, (name, platform)


def test_an_unknown_precision_is_refused_with_one_line_naming_the_field():
    with pytest.raises(ConfigError, match=r"^train\.matmul_precision: .*highest.*tensorfloat32") as err:
        config_lib.to_config(toyjax.compose("intro", ["train.matmul_precision=fp8"]))
    assert "\n" not in str(err.value)


def unordered_scatter_adds(text: str) -> int:
    """Scatter-adds whose indices may repeat: XLA runs them with atomics on a GPU unless deterministic ops are on."""
    heads = re.findall(r"stablehlo\.scatter[^\n]*\n(?:[^\n]*\n){0,3}", text)
    return sum("unique_indices = true" not in h and "stablehlo.add" in h for h in heads)


@pytest.mark.parametrize("case", ["toy", "sae relu", "sae topk", "a family of one's own"])
def test_programs_without_a_training_set_have_no_scatter_add_whose_order_could_vary(case):
    for name, by_platform in lowered(case).items():
        assert unordered_scatter_adds(by_platform["cuda"]) == 0, name


def test_a_finite_training_set_is_densified_by_scatter_adds_that_need_deterministic_ops():
    """`data.datasets.dense` adds each point's stored values at their feature indices; padding repeats an index
    (adding zeros, so even atomics would agree), and the deterministic flag makes the order fixed anyway."""
    programs = lowered("toy, finite full batch")
    assert unordered_scatter_adds(programs["train"]["cuda"]) > 0


def test_deterministic_ops_are_asked_for_unless_the_user_said_either_way(monkeypatch):
    monkeypatch.setattr(numerics, "_backend_started", lambda: False)
    monkeypatch.setattr(numerics, "_FLAGS_AT_START", [])
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=dumps")
    numerics.use_deterministic_ops()
    assert os.environ["XLA_FLAGS"] == "--xla_dump_to=dumps --xla_gpu_deterministic_ops=true"
    monkeypatch.setenv("XLA_FLAGS", "--xla_gpu_deterministic_ops=false")
    numerics.use_deterministic_ops()
    assert os.environ["XLA_FLAGS"] == "--xla_gpu_deterministic_ops=false"
    monkeypatch.delenv("XLA_FLAGS")
    numerics.use_deterministic_ops()
    assert os.environ["XLA_FLAGS"] == numerics.DETERMINISTIC_FLAG


def test_a_gpu_run_claims_deterministic_ops_only_when_the_backend_started_with_them(monkeypatch):
    gpu = [types.SimpleNamespace(platform="gpu")]
    monkeypatch.setattr(numerics, "_FLAGS_AT_START", [])
    monkeypatch.setattr(numerics, "_backend_started", lambda: True)  # a notebook that used the GPU first
    numerics.use_deterministic_ops()
    assert numerics.numerics(gpu, "highest")["deterministic_ops"] == "unknown: the backend started first"
    monkeypatch.setattr(numerics, "_backend_started", lambda: False)
    monkeypatch.setenv("XLA_FLAGS", "--xla_gpu_deterministic_ops=false")
    numerics.use_deterministic_ops()
    assert numerics.numerics(gpu, "highest")["deterministic_ops"] is False
    monkeypatch.delenv("XLA_FLAGS")
    numerics.use_deterministic_ops()
    assert numerics.numerics(gpu, "highest") == {"matmul_precision": "highest", "deterministic_ops": True}


def test_the_cli_asks_for_deterministic_ops_before_the_backend_starts(tmp_path):
    """A fresh process: the flag is in XLA_FLAGS before JAX's backend reads it (a CPU backend accepts it)."""
    code = ("import os, sys; from toyjax import multirun; multirun.prepare_environment(False); "
            "import jax; jax.devices(); print(os.environ['XLA_FLAGS'])")
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == numerics.DETERMINISTIC_FLAG


def test_on_a_cpu_a_faster_precision_changes_no_bit_and_the_run_records_its_numerics(tmp_path):
    base = ["train.steps=200", "grid.axes.seed=[0,1]", "grid.axes.density=[0.1,0.5]"]
    highest = toyjax.run(toyjax.compose("intro", base), progress=False)
    faster = toyjax.run(toyjax.compose("intro", base + ["train.matmul_precision=tensorfloat32"]), progress=False)
    np.testing.assert_array_equal(highest.params["W"], faster.params["W"])
    np.testing.assert_array_equal(highest.eval_loss, faster.eval_loss)
    assert highest.meta["matmul_precision"] == "highest" and faster.meta["matmul_precision"] == "tensorfloat32"
    assert highest.meta["deterministic_ops"] == "not needed"  # a CPU
    highest.save(tmp_path)
    assert json.loads((tmp_path / "results.json").read_text())["meta"]["matmul_precision"] == "highest"
