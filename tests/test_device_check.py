"""``scripts/device_check.sh --dry``: the prepared GPU check runs end to end here, every section at a toy size."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = {"environment", "blocks", "bench", "agreement", "bits", "double_descent", "paper"}


def test_the_device_check_runs_dry_on_a_cpu_and_writes_every_section(tmp_path):
    env = dict(os.environ, OUT=str(tmp_path), JAX_PLATFORMS="cpu", MPLBACKEND="Agg")
    env.pop("XLA_FLAGS", None)
    done = subprocess.run([str(ROOT / "scripts" / "device_check.sh"), "--dry"], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    log = json.loads((tmp_path / "device_check.json").read_text())
    assert set(log) == SECTIONS and all(entry["ok"] for entry in log.values()), log
    assert log["environment"]["xla_flags"] == "--xla_gpu_deterministic_ops=true"  # set before the backend started
    agreement = log["agreement"]["against_cpu"]
    assert agreement["highest"]["phase_agreement"] == 1.0 and agreement["highest"]["W_max_abs_diff"] == 0.0
    assert set(log["bits"]["max_abs_diff"]["toy"]) == {"block_size=1", "block_size=2", "checkpointed"}
    assert log["bench"]["rows"][0]["model_steps_per_s"] > 0 and log["double_descent"]["s_per_step"] > 0
    assert isinstance(log["paper"]["presets"]["intro"], dict)
    intro = log["blocks"]["workloads"]["intro"]["32 models"]  # two blocks of 16 for a CPU's cache, one padded
    assert (intro["cpu"]["block_size"], intro["accelerator"]["block_size"]) == (16, 512)  # to 512 otherwise
    assert intro["accelerator_over_cpu"] > 0
    assert (tmp_path / "bench" / "bench.md").is_file() and "## bits" in (tmp_path / "device_check.md").read_text()
