"""A family of one's own, outside the package: the engine's guarantees hold for the Jermyn et al. (2022) example.

``examples/engineering_monosemanticity/jermyn.py`` trains from the command line run elsewhere than the repository
(with the example on PYTHONPATH) and writes its results and report page; its results do not depend on the grid or
the number of blocks; a killed run resumes bit-identically; bad ``model.options`` and a ``model.kind`` that does not
import fail in one line before anything is compiled. Tiny shapes: N=8 features, m=4, k=16 neurons.
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

import toyjax
from toyjax import config
from toyjax.engine import runner
from toyjax.errors import ConfigError
from toyjax.families import plan_of

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
YAML = EXAMPLES / "engineering_monosemanticity" / "jermyn.yaml"
KIND = "engineering_monosemanticity.jermyn"
ARGS = [f"sweep={YAML}", "model.n_features=8", "model.n_hidden=4", "model.options.neurons=16",
        "train.steps=2000", "train.batch_size=64", "record.eval_samples=256", "record.snapshots=6",
        "record.checkpoint_every=50", "grid.axes.density=[1.0,0.1]", "grid.axes.seed=2", "progress=false"]
TINY = {"model": {"kind": KIND, "n_features": 8, "n_hidden": 4,
                  "options": {"neurons": 16, "bias_init": -0.1, "bias_decay": 0.01}},
        "train": {"steps": 100, "batch_size": 64, "lr": 3e-3}, "record": {"snapshots": 4, "eval_samples": 256},
        "grid": {"axes": {"density": [1.0, 0.3, 0.1], "seed": 2}}, "progress": False}


def cli(*args, **kw) -> subprocess.Popen:
    """``python -m toyjax ARGS...`` in a directory outside the repository, with the example on PYTHONPATH."""
    path = os.pathsep.join(p for p in (str(EXAMPLES), os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, JAX_PLATFORMS="cpu", HYDRA_FULL_ERROR="0", PYTHONPATH=path)
    kw.setdefault("stdout", subprocess.DEVNULL)
    return subprocess.Popen([sys.executable, "-m", "toyjax", *args], env=env, stderr=subprocess.PIPE, text=True, **kw)


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    """The run directory of one uninterrupted CLI run of `ARGS`."""
    cwd = tmp_path_factory.mktemp("elsewhere")
    run = cli(*ARGS, f"hydra.run.dir={cwd / 'whole'}", cwd=cwd)
    _, err = run.communicate(timeout=600)
    assert run.returncode == 0, err[-3000:]
    return cwd / "whole"


@pytest.fixture
def jermyn(monkeypatch):
    """The example module, importable in this process."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import engineering_monosemanticity.jermyn as module

    return module


def assert_same(a: toyjax.Results, b: toyjax.Results, index=...) -> None:
    """Bit-identical params, losses and history rows (b may be the sub-grid `index` of a)."""
    for name in a.params:
        np.testing.assert_array_equal(a.params[name][index], b.params[name], err_msg=name)
    np.testing.assert_array_equal(a.loss[index], b.loss)
    np.testing.assert_array_equal(a.eval_loss[index], b.eval_loss)
    for name in ("loss", "monosemanticity", "monosemantic_neurons", "mean_bias"):
        np.testing.assert_array_equal(a.history[name][index], b.history[name], err_msg=name)


def test_trains_from_the_cli_outside_the_repository_and_writes_its_report(whole):
    for name in ("results.npz", "results.json", "report.html", "toyjax.log"):
        assert (whole / name).is_file(), name
    r = toyjax.load(whole)
    assert r.dims == ("density", "seed") and r.grid_shape == (2, 2)
    assert {k: v.shape for k, v in r.params.items()} == {"W_in": (2, 2, 16, 4), "b_in": (2, 2, 16),
                                                          "W_out": (2, 2, 8, 16)}
    assert r.history["monosemanticity"].shape == (2, 2, len(r.history["step"]), 16)  # one share per neuron
    assert not r.diverged.any() and np.all(r.eval_loss < 8 / 3)  # below a zero output's loss at density 1
    summary = json.loads((whole / "results.json").read_text())["summary"]
    assert summary["model"] == KIND and summary["n_models"] == 4 and "dimensions_per_feature" not in summary
    page = (whole / "report.html").read_text()
    data = json.loads(re.search(r'id="toyjax-data">(.*?)</script>', page, re.S).group(1))
    assert data["model"]["fields"] == ["curve"] and {"m-curve", "grid-loss"} <= set(data["figures"])


def test_the_axis_names_the_family_declares_are_saved_with_its_results(whole):
    pytest.importorskip("xarray")
    ds = toyjax.load(whole).to_xarray()
    assert ds["W_in"].dims == ("density", "seed", "neuron", "hidden")
    assert ds["history_monosemanticity"].dims == ("density", "seed", "snapshot_step", "neuron")


def test_to_xarray_labels_every_array_by_the_familys_declaration(jermyn):
    pytest.importorskip("xarray")
    cfg = copy.deepcopy(TINY)
    cfg["train"]["steps"] = 10
    ds = toyjax.run(cfg).to_xarray()
    assert ds["W_in"].dims == ("density", "seed", "neuron", "hidden") and ds["b_in"].dims[-1] == "neuron"
    assert ds["W_out"].dims == ("density", "seed", "feature", "neuron")
    assert ds["history_W_out"].dims == ("density", "seed", "snapshot_step", "feature", "neuron")
    assert not [name for name in ds.data_vars if any("_dim" in d for d in ds[name].dims)]
    assert ds.sizes["neuron"] == 16 and ds.sizes["hidden"] == 4 and ds.sizes["feature"] == 8


def test_killed_cli_run_resumes_bit_identically(whole, tmp_path):
    killed = cli(*ARGS, f"hydra.run.dir={tmp_path / 'killed'}", cwd=tmp_path)
    progress = tmp_path / "killed" / "checkpoint" / "progress.json"
    deadline = time.time() + 120
    while not (progress.is_file() and '"state": {' in progress.read_text()):
        assert killed.poll() is None and time.time() < deadline, killed.stderr.read()
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert not (tmp_path / "killed" / "results.npz").exists()
    resumed = cli(*ARGS, f"hydra.run.dir={tmp_path / 'killed'}", cwd=tmp_path)
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err[-3000:]
    a = toyjax.load(tmp_path / "killed")
    assert a.timing["resumed_model_steps"] > 0
    assert_same(toyjax.load(whole), a)


@pytest.mark.parametrize(("block_size", "activation"), [(None, "relu"), (2, "solu")])
def test_results_do_not_depend_on_the_grid_or_the_number_of_blocks(jermyn, block_size, activation):
    """At the run's block size (fixed by the shapes, never by the grid), a model trained alone matches the grid."""
    cfg = copy.deepcopy(TINY)
    cfg["model"]["options"]["activation"] = activation
    cfg["grid"]["block_size"] = block_size
    grid = toyjax.run(cfg)
    cfg["grid"]["axes"] = {"density": [0.3], "seed": [1]}
    assert_same(grid, toyjax.run(cfg), np.s_[1:2, 1:2])
    assert not np.array_equal(grid.params["W_in"][0, 0], grid.params["W_in"][0, 1])  # the seeds differ


@pytest.mark.parametrize(("changes", "message"), [
    ({"options": {"neurons": 0}}, "model.options.neurons: must be >= 1, got 0"),
    ({"options": {"activation": "tanh"}}, "model.options.activation: unknown value 'tanh'; allowed: relu, gelu"),
    ({"options": {"bias_decay": -1.0}}, "model.options.bias_decay: must be >= 0, got -1.0"),
    ({"options": {"optimizer": "sgd"}}, "model.options.optimizer: unknown value 'sgd'; allowed: lamb, adamw"),
    ({"train": {"schedule": "cosine"}}, "train.schedule: LAMB follows their cosine annealing"),
    ({"options": {"projection_seed": 0.5}}, "model.options.projection_seed: expected an integer, got 0.5"),
    ({"options": {"nerons": 4}}, "model.options.nerons: unknown option; allowed: neurons, activation"),
    ({"activation_l1": 0.1}, "model.activation_l1: the jermyn family has no activation penalty"),
    ({"n_hidden": 9}, "model.n_hidden: their embedder takes m <= N dimensions (model.n_features, 8), got 9"),
    ({"kind": "no_such.module"}, "model.kind: cannot import no_such.module"),
])
def test_bad_model_settings_fail_in_one_line_before_compiling(jermyn, monkeypatch, changes, message):
    monkeypatch.setattr(runner.Runner, "__init__", lambda *a, **k: pytest.fail("reached the runner"))
    cfg = copy.deepcopy(TINY)
    cfg["model"].update({key: value for key, value in changes.items() if key != "train"})
    cfg["train"].update(changes.get("train", {}))
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}") as error:
        toyjax.run(cfg)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(("override", "message"), [
    ("model.options.neurons=0", "model.options.neurons: must be >= 1, got 0"),
    ("model.kind=no_such.module", "model.kind: cannot import no_such.module"),
])
def test_the_cli_prints_the_error_and_writes_nothing(tmp_path, override, message):
    run = cli(f"sweep={YAML}", override, f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    _, err = run.communicate(timeout=600)
    assert run.returncode == 2 and err.strip().startswith(f"toyjax: error: {message}"), err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def _static(cfg: dict):
    """The plan's static settings of a run config."""
    return plan_of(config.to_config(copy.deepcopy(cfg))).static


def test_projection_is_their_embedder(jermyn):
    """P (m, N) is their ``make_random_embedder``: the left singular vectors of a normal (N, m) matrix with unit
    rows, transposed; the same for every model and call."""
    P = np.asarray(jermyn.projection(_static(TINY)))
    assert P.shape == (4, 8) and np.array_equal(P, np.asarray(jermyn.projection(_static(TINY))))
    u = np.linalg.svd(np.random.default_rng(0).standard_normal((8, 4)), full_matrices=False)[0]
    np.testing.assert_allclose(P, (u / np.linalg.norm(u, axis=1, keepdims=True)).T, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(P, axis=0), 1.0, rtol=1e-6)


def test_a_neuron_is_monosemantic_as_they_count_it(jermyn):
    """Their model_helper: a neuron's largest single-feature activation over their sum (+1e-10) exceeds 0.999."""
    a = np.eye(16, 8, dtype=np.float32)  # neuron j fires on feature j alone (8 of the 16 neurons; 8 are dead)
    np.testing.assert_allclose(jermyn.neuron_monosemanticity(a), [1.0] * 8 + [0.0] * 8, rtol=1e-6)
    assert float(jermyn.monosemantic_neurons(a)) == 8
    a[0, 1] = 0.002  # 0.998 of neuron 0's activation on feature 0: monosemantic at 0.9, not at their 0.999
    a[1, 2] = 0.0005  # 0.9995 of neuron 1's on feature 1: monosemantic
    assert float(jermyn.monosemantic_neurons(a)) == 7
    static = _static(TINY)
    params = {"W_in": np.zeros((16, 4), np.float32), "b_in": np.full(16, 0.5, np.float32)}
    np.testing.assert_allclose(jermyn.activations(static, params), 0.5)  # raw activations, the bias included


def test_init_is_torch_linear_with_the_bias_offset(jermyn):
    """torch's nn.Linear: weights and biases U(±1/√fan_in); ``bias_init`` is added to every bias (their mean)."""
    cfg = copy.deepcopy(TINY)
    cfg["train"].update(steps=1, lr=1e-12)
    cfg["record"]["snapshots"] = 1
    cfg["model"]["options"].update(bias_init=-1.0, bias_decay=0.0)
    r = toyjax.run(cfg)
    b = r.params["b_in"] + 1.0
    assert np.all(np.abs(b) <= 0.5) and b.std() > 0.2  # U(±1/2) around −1, m = 4
    assert np.all(np.abs(r.params["W_in"]) <= 0.5) and np.all(np.abs(r.params["W_out"]) <= 0.25)  # k = 16


def test_bias_decay_is_theirs(jermyn):
    """b ← b (1 − λ_b lr) after each step of the first half of training, towards 0, not towards bias_init."""
    cfg = copy.deepcopy(TINY)
    cfg["model"]["options"].update(bias_init=-1.0, bias_decay=0.5)
    static, point = _static(cfg), types.SimpleNamespace(lr=np.float32(0.1))
    params = {"b_in": np.full(16, -1.0, np.float32)}
    np.testing.assert_allclose(jermyn.decay_bias(static, params, point, np.int32(49))["b_in"], -0.95, rtol=1e-6)
    np.testing.assert_array_equal(jermyn.decay_bias(static, params, point, np.int32(50))["b_in"], -1.0)
