"""Resume: a killed run continues from its checkpoint and ends bit-identical to an uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import toyjax
from tests.test_grid import assert_same
from toyjax import checkpoint
from toyjax.config import ConfigError


def test_interrupted_between_blocks_resumes_bit_identically(tmp_path, tiny, monkeypatch):
    cfg = tiny({"density": [1.0, 0.3, 0.1], "seed": 2}, grid={"block_size": 2},
               record={"checkpoint_every": 20, "snapshots": 4, "eval_samples": 32})
    cfg["grid"]["axes"] = {"density": [1.0, 0.3, 0.1], "seed": 2}
    reference = toyjax.run(cfg)

    original, calls = checkpoint.Checkpoint.save_block, []

    def crash_after_first_block(self, index, records):
        original(self, index, records)
        calls.append(index)
        if len(calls) == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint.Checkpoint, "save_block", crash_after_first_block)
    with pytest.raises(KeyboardInterrupt):
        toyjax.run(cfg, checkpoint_dir=tmp_path)
    assert (tmp_path / "checkpoint" / "block_00000.npz").is_file()
    resumed = toyjax.run(cfg, checkpoint_dir=tmp_path)
    assert calls == [0, 1, 2]  # block 0 came from the checkpoint, not from training
    assert_same(reference, resumed)
    assert not (tmp_path / "checkpoint").exists()


def test_checkpoint_of_another_config_is_refused(tmp_path, tiny, monkeypatch):
    cfg = tiny({"density": [1.0, 0.3]}, grid={"block_size": 1}, record={"checkpoint_every": 20})
    cfg["grid"]["axes"] = {"density": [1.0, 0.3]}
    monkeypatch.setattr(checkpoint.Checkpoint, "clear", lambda self: None)
    toyjax.run(cfg, checkpoint_dir=tmp_path)
    cfg["train"]["lr"] = 3e-3
    with pytest.raises(ConfigError, match="checkpoint of a different run"):
        toyjax.run(cfg, checkpoint_dir=tmp_path)


def test_killed_cli_run_resumes_bit_identically(tmp_path):
    """A real process killed after its first mid-block checkpoint, re-run with the same command."""
    args = ["sweep=intro", "train.steps=3000", "train.batch_size=256", "record.checkpoint_every=100",
            "grid.axes.density=[1.0,0.1]", "grid.axes.seed=2", "grid.block_size=4", "progress=false"]
    env = dict(os.environ, JAX_PLATFORMS="cpu")

    def cli(run_dir, **kw):
        return subprocess.Popen([sys.executable, "-m", "toyjax", *args, f"hydra.run.dir={run_dir}"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)

    killed = cli(tmp_path / "killed")
    progress = tmp_path / "killed" / "checkpoint" / "progress.json"
    deadline = time.time() + 120
    while not (progress.is_file() and '"state": {' in progress.read_text()):
        assert killed.poll() is None and time.time() < deadline, killed.stderr.read().decode()
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert not (tmp_path / "killed" / "results.npz").exists()

    assert cli(tmp_path / "killed").wait() == 0
    assert cli(tmp_path / "whole").wait() == 0
    a, b = toyjax.load(tmp_path / "killed"), toyjax.load(tmp_path / "whole")
    assert_same(b, a)
    np.testing.assert_array_equal(a.diverged, b.diverged)
    assert not (tmp_path / "killed" / "checkpoint").exists()
