"""Installed, not only editable: a built wheel carries conf/ and sweeps/ and runs every preset."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import SOURCED, TINY, TINY_SOURCE
from toyjax import presets

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def test_every_preset_runs_from_an_installed_wheel(tmp_path):
    dist, venv = tmp_path / "dist", tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(dist)], check=True)
    wheel = next(dist.glob("toyjax-*.whl"))
    # The venv borrows jax & co. from this interpreter; toyjax itself comes only from the wheel.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    subprocess.run([venv / "bin" / "pip", "install", "-q", "--no-deps", "--force-reinstall", wheel], check=True)
    where = subprocess.run([venv / "bin" / "python", "-c", "import toyjax; print(toyjax.__file__)"], cwd=tmp_path,
                           check=True, capture_output=True, text=True).stdout
    assert str(venv) in where, where

    # One multirun per kind of grid, each shrunk along the axis it sweeps.
    # SAE runs on synthetic features run with the toy models (a density axis of their features); those on a
    # preset:NAME source shrink that source instead.
    names = presets.preset_names()
    finite = [n for n in names if "dataset_size" in presets.compose(n).grid.axes]
    # SAE presets that resample dead latents do it at steps past the tiny run's 20: one step inside it instead.
    resampled = [n for n in names if presets.compose(n).model.kind == "sae" and presets.compose(n).sae.resample_steps]
    groups = {"finite": (finite, ["grid.axes.dataset_size=[5,50]"]),
              "infinite": ([n for n in names if n not in finite + SOURCED + resampled], ["grid.axes.density=[0.1]"]),
              "sae_resampled": ([n for n in resampled if n not in SOURCED],
                                ["grid.axes.density=[0.1]", "sae.resample_steps=[10]"]),
              "sae_sourced": (SOURCED, TINY_SOURCE)}
    for group, (members, shrink) in groups.items():
        sweep_dir = tmp_path / group
        out = subprocess.run(
            [venv / "bin" / "toyjax", "-m", f"sweep={','.join(members)}", *TINY, "grid.axes.seed=1", *shrink,
             f"hydra.sweep.dir={sweep_dir}"],
            cwd=tmp_path, capture_output=True, text=True, timeout=900,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        summary = json.loads((sweep_dir / "summary.json").read_text())
        assert summary["n_jobs"] == len(members) and summary["n_failed"] == 0
