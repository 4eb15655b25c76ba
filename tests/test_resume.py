"""Resume: a killed run continues from its checkpoint and ends bit-identical to an uninterrupted one."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import toyjax
from tests.test_grid import assert_same
from toyjax.config import to_config
from toyjax.engine import checkpoint
from toyjax.engine.runner import Runner
from toyjax.errors import CheckpointError
from toyjax.families import plan_of
from toyjax.preset_source import saved_run


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
    # Timing counts what this process trained: blocks 1 and 2 (4 models x 60 steps), not block 0.
    assert resumed.timing["model_steps"] == 4 * 60 and resumed.timing["resumed_model_steps"] == 2 * 60
    assert reference.timing["model_steps"] == 6 * 60 and reference.timing["resumed_model_steps"] == 0
    rate = resumed.timing["model_steps"] / resumed.timing["train_s"]
    assert resumed.timing["model_steps_per_s"] == pytest.approx(rate)


def test_a_kill_between_a_state_file_and_the_progress_file_resumes_bit_identically(tmp_path, tiny, monkeypatch):
    """A kill after a new state is written but before the progress file names it keeps the older, matching state.

    A run killed at that moment under load once continued from a step its state file no longer held.
    """
    cfg = tiny({"density": [1.0, 0.3]}, grid={"block_size": 2}, record={"checkpoint_every": 10})
    cfg["grid"]["axes"] = {"density": [1.0, 0.3]}
    reference = toyjax.run(cfg)
    original, saves = checkpoint.Checkpoint._write_progress, []

    def killed_on_the_second_state(self, **changes):
        if changes.get("state"):
            saves.append(changes["state"]["step"])
            if len(saves) == 2:
                raise KeyboardInterrupt  # the state file of step 20 is on disk, progress still names step 10
        original(self, **changes)

    monkeypatch.setattr(checkpoint.Checkpoint, "_write_progress", killed_on_the_second_state)
    with pytest.raises(KeyboardInterrupt):
        toyjax.run(cfg, checkpoint_dir=tmp_path)
    monkeypatch.setattr(checkpoint.Checkpoint, "_write_progress", original)
    assert sorted(p.name for p in (tmp_path / "checkpoint").glob("state_*.npz")) == [
        "state_00000_000000010.npz", "state_00000_000000020.npz"]
    assert_same(reference, toyjax.run(cfg, checkpoint_dir=tmp_path))


def test_checkpoint_of_another_config_is_refused(tmp_path, tiny, monkeypatch):
    cfg = tiny({"density": [1.0, 0.3]}, grid={"block_size": 1}, record={"checkpoint_every": 20})
    cfg["grid"]["axes"] = {"density": [1.0, 0.3]}
    monkeypatch.setattr(checkpoint.Checkpoint, "clear", lambda self: None)
    toyjax.run(cfg, checkpoint_dir=tmp_path)
    cfg["train"]["lr"] = 3e-3
    with pytest.raises(CheckpointError, match="checkpoint of a different run"):
        toyjax.run(cfg, checkpoint_dir=tmp_path)


@pytest.mark.parametrize("damage", ["truncated", "empty", "missing"])
@pytest.mark.parametrize("which", ["state", "block"])
def test_a_damaged_checkpoint_file_is_one_line_naming_it_and_the_fix(tmp_path, tiny, killed_after_states, damage,
                                                                     which):
    """A truncated, empty or missing state or block file is refused like a corrupt progress.json: the path, the
    cause and how to start over, never a BadZipFile traceback."""
    cfg = tiny({"density": [1.0, 0.3, 0.1, 0.03]}, grid={"block_size": 2}, record={"checkpoint_every": 20})
    killed_after_states(3)  # block 0 done (states at steps 20 and 40), block 1 at step 20
    with pytest.raises(KeyboardInterrupt):
        toyjax.run(cfg, checkpoint_dir=tmp_path)
    killed_after_states(None)
    path = next((tmp_path / "checkpoint").glob(f"{which}_*.npz"))
    if damage == "missing":
        path.unlink()
    else:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2 if damage == "truncated" else 0])
    with pytest.raises(CheckpointError) as e:
        toyjax.run(cfg, checkpoint_dir=tmp_path)
    message = str(e.value)
    assert "\n" not in message and message.startswith(f"{path}: unreadable (")
    assert message.endswith(f"; remove {tmp_path / 'checkpoint'} to start again")


def test_killed_cli_run_resumes_bit_identically(tmp_path):
    """A real process killed after its first mid-block checkpoint, re-run with the same command."""
    args = ["sweep=intro", "train.steps=3000", "train.batch_size=256", "record.checkpoint_every=100",
            "grid.axes.density=[1.0,0.1]", "grid.axes.seed=2", "grid.block_size=4", "progress=false"]
    env = dict(os.environ, JAX_PLATFORMS="cpu")

    def cli(run_dir, **kw):
        kw.setdefault("stdout", subprocess.DEVNULL)
        return subprocess.Popen([sys.executable, "-m", "toyjax", *args, f"hydra.run.dir={run_dir}"], env=env,
                                stderr=subprocess.PIPE, **kw)

    killed = cli(tmp_path / "killed")
    progress = tmp_path / "killed" / "checkpoint" / "progress.json"
    deadline = time.time() + 120
    while not (progress.is_file() and '"state": {' in progress.read_text()):
        assert killed.poll() is None and time.time() < deadline, killed.stderr.read().decode()
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert not (tmp_path / "killed" / "results.npz").exists()

    resume = cli(tmp_path / "killed", **{"stdout": subprocess.PIPE})
    out, _ = resume.communicate()
    assert resume.returncode == 0
    assert cli(tmp_path / "whole").wait() == 0
    a, b = toyjax.load(tmp_path / "killed"), toyjax.load(tmp_path / "whole")
    assert_same(b, a)
    log = (tmp_path / "killed" / "toyjax.log").read_text()
    said = [line for line in out.decode().splitlines() if "resumed from" in line]
    assert said and said[0].startswith("toyjax: resumed from block 1/1, step "), out.decode()
    assert said[0].split("toyjax: ")[1] in log
    assert 0 < a.timing["resumed_model_steps"] < a.timing["resumed_model_steps"] + a.timing["model_steps"] == 4 * 3000
    np.testing.assert_array_equal(a.diverged, b.diverged)
    assert not (tmp_path / "killed" / "checkpoint").exists()


def test_ctrl_c_says_where_the_checkpoint_is_and_the_command_that_resumes(tmp_path):
    """Ctrl-C on a real process once it has saved a state: one line, job.json "interrupted", exit status 130; the
    command it prints continues the run to the end."""
    run_dir = tmp_path / "run"
    args = ["sweep=intro", "train.steps=3000", "train.batch_size=64", "record.checkpoint_every=100",
            "grid.axes.density=[0.1]", "grid.axes.seed=1", "report.html=false", "progress=false",
            f"hydra.run.dir={run_dir}"]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    run = subprocess.Popen([sys.executable, "-m", "toyjax", *args], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    progress = run_dir / "checkpoint" / "progress.json"
    deadline = time.time() + 120
    while not (progress.is_file() and '"state": {' in progress.read_text()):
        assert run.poll() is None and time.time() < deadline, run.stderr.read()
        time.sleep(0.02)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=120)
    command = shlex.join(["toyjax", *args])
    assert run.returncode == 130
    assert err.strip() == f"toyjax: interrupted; the checkpoint is in {run_dir / 'checkpoint'}; resume with: {command}"
    job = json.loads((run_dir / "job.json").read_text())
    assert job["status"] == "interrupted" and job["resume"] == command and job["result"] == str(run_dir)
    resumed = subprocess.run([sys.executable, "-m", "toyjax", *shlex.split(command)[1:]], env=env,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0 and "toyjax: resumed from block 1/1, step " in resumed.stdout, resumed.stderr
    assert json.loads((run_dir / "job.json").read_text())["status"] == "ok"


def test_zero_snapshots_records_no_history_and_zero_checkpoint_every_never_checkpoints(tmp_path, tiny, monkeypatch):
    saved = []
    monkeypatch.setattr(checkpoint.Checkpoint, "save_state", lambda self, *a: saved.append(a))
    r = toyjax.run(tiny({"density": [1.0, 0.3]}, record={"snapshots": 0, "checkpoint_every": 0}),
                   checkpoint_dir=tmp_path)
    assert r.history["step"].size == 0 and r.history["loss"].shape == (2, 0)
    assert saved == [] and not (tmp_path / "checkpoint").exists()


def test_a_checkpoint_from_before_the_data_blocks_still_resumes(tiny):
    """The fingerprint leaves out the structure blocks of the data when they are left out (their None), so it is
    what it was before they existed; one that is set is in it."""
    def data_keys(**data):
        cfg = to_config(tiny(data=data))
        return set(Runner(plan_of(cfg), cfg).fingerprint()["config"]["data"])

    assert data_keys() == {"kind", "set_size", "signed", "normalize", "dataset_size", "density", "extra_density",
                           "importance", "importance_decay", "extra_importance"}
    assert "hierarchy" in data_keys(hierarchy={"parents": [-1, 0, 0]})


@pytest.mark.parametrize("change", ["config", "toyjax version", "kind of device"])
def test_a_saved_run_is_reused_only_by_the_same_config_versions_and_kind_of_device(tmp_path, tiny, change):
    """What a rerun in a finished run's directory (a resumed multirun's finished jobs) reuses instead of training."""
    cfg = tiny({"density": [1.0, 0.3]})
    toyjax.run(cfg).save(tmp_path)
    assert saved_run(tmp_path, to_config(cfg)) is not None
    header = json.loads((tmp_path / "results.json").read_text())
    if change == "config":
        cfg = tiny({"density": [1.0, 0.2]})
    elif change == "toyjax version":
        header["meta"]["versions"]["toyjax"] = "0.0.1"
    else:
        header["meta"]["platform"] = "gpu"
    (tmp_path / "results.json").write_text(json.dumps(header))
    assert saved_run(tmp_path, to_config(cfg)) is None
