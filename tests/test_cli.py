"""End to end: the ``toyjax`` Hydra app in a subprocess at tiny size, multirun, validation errors and help."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import toyjax
from toyjax import presets

TINY = ["train.steps=20", "train.batch_size=32", "record.snapshots=2", "record.eval_samples=16", "progress=false"]


def toyjax_cmd(*args: str, cwd) -> subprocess.CompletedProcess:
    env = dict(os.environ, HYDRA_FULL_ERROR="0")
    return subprocess.run([sys.executable, "-m", "toyjax", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_default_run_writes_results_and_phase_figure(tmp_path):
    run_dir = tmp_path / "run"
    out = toyjax_cmd(*TINY, "grid.axes.seed=2", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for name in ("results.npz", "results.json", "phase.png", "phase.svg", ".hydra/config.yaml", "toyjax.log"):
        assert (run_dir / name).exists(), name
    results = toyjax.load(run_dir)
    assert results.dims == ("density", "extra_importance", "seed")
    assert results.grid_shape == (12, 10, 2)
    assert results.config["sweep_name"] == "phase_n2m1_quick"
    assert results.config["summary"]["phase"]["best"]["n_cells"] == 120
    assert "phase.best.all" in out.stdout


def test_multirun_of_every_preset(tmp_path):
    """One run of each preset at tiny size, as one multirun; the sweep dir lists every job."""
    sweep_dir = tmp_path / "multi"
    names = presets.preset_names()
    out = toyjax_cmd("-m", f"sweep={','.join(names)}", *TINY, "grid.axes.seed=1", "grid.axes.density=[0.1]",
                     f"hydra.sweep.dir={sweep_dir}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads((sweep_dir / "summary.json").read_text())
    assert summary["n_jobs"] == len(names) and summary["n_failed"] == 0
    assert "| status |" in (sweep_dir / "summary.md").read_text()
    for job, name in zip(summary["jobs"], names):
        assert job["status"] == "ok"
        assert f"sweep={name}" in job["overrides"]
        results = toyjax.load(job["result"])
        assert results.config["sweep_name"] == name
        if name.startswith("phase_"):
            assert os.path.exists(os.path.join(job["result"], "phase.png"))


ERRORS = [
    (["model.foo=1"], "model.foo: unknown key"),
    (["bogus=1"], "bogus: unknown key"),
    (["model.n_features=abc"], "model.n_features:"),
    (["model.n_features=0"], "model.n_features: must be >= 1"),
    (["model.kind=bogus"], "model.kind: unknown value 'bogus'"),
    (["grid.axes.density=[0.5,1.5]"], "grid.axes.density: density must be in (0, 1]"),
    (["sweep=dynamics", "data.density=1.5"], "data.density: density must be in (0, 1]"),
    (["grid.axes.density=log:0.01:1"], "grid.axes.density: range must look like"),
    (["sweep=nope"], "sweep: unknown preset 'nope'"),
]


@pytest.mark.parametrize(("args", "message"), ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_validation_error(tmp_path, args, message):
    run_dir = tmp_path / "run"
    out = toyjax_cmd(*args, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"toyjax: error: {message}"), lines[0]
    assert not run_dir.exists()
    assert not (tmp_path / "outputs").exists()


def test_multirun_validates_every_job_first(tmp_path):
    out = toyjax_cmd("-m", "model.n_features=2,0", f"hydra.sweep.dir={tmp_path / 'multi'}", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == "toyjax: error: model.n_features: must be >= 1, got 0"
    assert not (tmp_path / "multi").exists()


def test_help_lists_presets_and_axis_syntax(tmp_path):
    out = toyjax_cmd("--help", cwd=tmp_path)
    assert out.returncode == 0
    for name in presets.preset_names():
        assert name in out.stdout
    assert "grid.axes.density=log:0.01:1:40" in out.stdout
