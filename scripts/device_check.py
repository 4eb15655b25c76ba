"""What toyjax does on an accelerator, measured in one prepared run: speed, bits, and agreement with a CPU.

Run by ``scripts/device_check.sh`` (which installs what is missing); every section writes into ``OUT``:

1. ``blocks``: the same grid in blocks sized for a CPU's cache and for an accelerator's launches (the engine's
   default here, `toyjax.engine.blocks.ACCELERATOR`), timed one after the other: the ratio says whether it pays.
2. ``bench``: ``toyjax-bench`` on every workload at GPU-sized grids, with the roofline (bench.json, bench.md).
3. ``bits``: results bit-identical on the device whatever the block size, the grid around a model and the cut of
   a run into segments (a resume continues the same program), for toy models, a finite training set and SAEs.
4. ``paper``: the paper's presets at their own size, one after another while the section's time lasts.
5. ``double_descent``: the paper-sized §"double descent" grid for a few steps, timed per step.
6. ``agreement``: the §3 phase diagram and every model's expected loss on the device against the same run on
   the CPU (a second process), at ``highest`` and at ``tensorfloat32``.

Each section is timed and guarded: one that fails is recorded with its error and the others still run. The
summary is ``OUT/device_check.json`` and ``OUT/device_check.md``. ``--dry`` runs every section at a toy size on
whatever backend JAX has, so that CI proves the script works end to end on a CPU.

    python scripts/device_check.py --out OUT [--dry]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import jax
import numpy as np

import toyjax
from toyjax import config, numerics
from toyjax.analysis.phase import classify_phase
from toyjax.bench import engine, workloads
from toyjax.engine import blocks
from toyjax.families.sae import sources

ROOT = Path(__file__).resolve().parent.parent
# Sizes per mode: a GPU-sized check, and the smallest that still runs every line (--dry).
SIZES = {
    # Sized from the first H200 reading (docs/benchmarks.md) to end inside 8 minutes: a section that would start
    # after `budget_s` is skipped and says so.
    "full": {"bench": ["--models", "1,256,1024", "--models-for", "phase_n2m1=1,256,4096",
                       "--models-for", "uniform_geometry=1,16,64", "--models-for", "abs_computation=1,16,64",
                       "--models-for", "sae=1,16,64", "--steps", "500", "--repeats", "2", "--no-baselines"],
             "bits_steps": 500, "bits_cases": None, "paper_budget_s": 45, "agree_steps": 5000, "grid": [],
             "dd": ("double_descent", 20, []), "pytest": True, "budget_s": 420,
             "blocks": (["intro", "phase_n2m1"], [12, 4096], 300)},
    "dry": {"bench": ["--quick", "--workloads", "intro", "--models", "4", "--no-baselines"],
            "bits_steps": 30, "bits_cases": ["toy"], "paper_budget_s": 1, "agree_steps": 50,
            "grid": ["grid.axes.density=[0.1,1]", "grid.axes.seed=1"],
            "dd": ("double_descent_small", 2, ["grid.axes.dataset_size=[5,10]", "grid.axes.seed=1"]), "pytest": False,
            "budget_s": 600, "blocks": (["intro"], [32], 4)},
}
PAPER = ["intro", "demonstrating_superposition", "phase_n2m1", "phase_n3m2", "uniform_geometry", "nonuniform_pentagon",
         "correlated", "anticorrelated", "collapse", "adversarial", "dynamics", "privileged_basis", "abs_computation"]


def timed(name: str, fn, log: dict) -> None:
    """Run one section, recording its wall time, its result or its error; never raise."""
    began = time.perf_counter()
    print(f"== {name}", flush=True)
    try:
        log[name] = {"ok": True, **fn()}
    except Exception as err:  # a failed section is a finding, and the others still run
        traceback.print_exc()
        log[name] = {"ok": False, "error": f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"}
    log[name]["wall_s"] = round(time.perf_counter() - began, 1)
    print(f"   {name}: {json.dumps(log[name])[:400]}", flush=True)


def run(preset: str, overrides: list[str]) -> toyjax.Results:
    """One preset with overrides, trained here without a progress bar."""
    return toyjax.run(toyjax.compose(preset, overrides), progress=False)


def environment() -> dict:
    """The backend, its devices and the flags its numerics rest on."""
    dev = jax.devices()[0]
    return {"platform": dev.platform, "device_kind": dev.device_kind, "device_count": jax.device_count(),
            "jax": jax.__version__, "xla_flags": os.environ.get("XLA_FLAGS", "")}


def bench(out: Path, args: list[str]) -> dict:
    """toyjax-bench in a process of its own (it sets its own threads), into OUT/bench."""
    cmd = [sys.executable, "-m", "toyjax.bench.cli", *args, "--out", str(out / "bench")]
    subprocess.run(cmd, check=True)
    rows = json.loads((out / "bench" / "bench.json").read_text())
    return {"command": " ".join(["toyjax-bench", *args]), "bench_json": "bench/bench.json", "rows": _bench_rows(rows)}


def _bench_rows(bench_json: dict) -> list[dict]:
    """The headline of each measurement: workload, models, median model-steps/s, compile seconds."""
    return [{"workload": r["workload"], "n_models": r["n_models"], "compile_s": round(r["compile_s"], 2),
             "model_steps_per_s": round(r["model_steps_per_s"]["median"])} for r in bench_json["results"]]


def block_aims(names: list[str], grids: list[int], steps: int) -> dict:
    """Per workload and grid size: the grid trained for `steps` steps in CPU-sized and in accelerator-sized blocks
    (the last one padded, as the engine runs it), each timed after a warm-up block that compiles its program;
    model-steps/s and their ratio. A small grid shows what the padding costs, a large one what the blocks gain."""
    found = {}
    for name in names:
        work = workloads.get(name)
        _, plan = sources.plan_run(config.to_config(work.config(1, steps)))
        sizes = {aim_name: blocks.block_size(plan.static, blocks.device_memory(), aim)
                 for aim_name, aim in (("cpu", blocks.CPU), ("accelerator", blocks.ACCELERATOR))}
        found[name] = {f"{n} models": _compared(work, n, steps, sizes) for n in grids}
    return {"steps": steps, "workloads": found}


def _compared(work: workloads.Workload, n_models: int, steps: int, sizes: dict[str, int]) -> dict:
    """One grid in blocks of each of `sizes`, and the accelerator's rate over the CPU's."""
    found = {aim_name: _timed_in_blocks(work, n_models, steps, size) for aim_name, size in sizes.items()}
    rates = [found[a]["model_steps_per_s"] for a in ("accelerator", "cpu")]
    return {**found, "accelerator_over_cpu": round(rates[0] / max(rates[1], 1), 2)}


def _timed_in_blocks(work: workloads.Workload, n_models: int, steps: int, size: int) -> dict:
    """A workload's grid in blocks of `size`: compile time of its warm-up block, and the model-steps/s (models of
    the grid, padding not counted) of the whole grid after it."""
    warm = engine.runner_of(config.to_config(work.config(size, steps, block_size=size))).run(progress=False)
    timed = engine.runner_of(config.to_config(work.config(n_models, steps, block_size=size))).run(progress=False)
    return {"block_size": size, "compile_s": round(warm.timing["compile_s"], 2),
            "model_steps_per_s": round(timed.timing["model_steps_per_s"])}


# Each case: a preset and overrides small enough to train at several block sizes in seconds on a device.
BITS_CASES = {
    "toy": ("intro", ["grid.axes.density=log:0.01:1:6", "grid.axes.seed=[0,1,2]"]),
    "finite, full batch": ("double_descent_small", ["grid.axes.dataset_size=[5,20,80]", "grid.axes.seed=[0,1]",
                                                    "train.warmup_steps=5"]),
    "sae relu": ("sae_frontier_relu", ["grid.axes.l1_coefficient=[0.3,1,3]"]),
    "sae topk": ("sae_frontier_topk", ["grid.axes.k=[1,2,4]"]),
}


def bits(steps: int, cases: list[str] | None) -> dict:
    """Per case (`cases`, else all): the largest difference from the default run when the block size or the
    run's cut into segments changes (0.0 everywhere: bit-identical)."""
    out = {}
    for name in cases or BITS_CASES:
        preset, overrides = BITS_CASES[name]
        base = overrides + [f"train.steps={steps}", f"record.snapshots={min(4, steps)}"]
        ref = run(preset, base)
        out[name] = {f"block_size={b}": _max_diff(ref, run(preset, base + [f"grid.block_size={b}"])) for b in (1, 2)}
        with tempfile.TemporaryDirectory() as saved:  # the run cut into segments, its state saved after each
            cut = toyjax.run(toyjax.compose(preset, base + [f"record.checkpoint_every={max(1, steps // 3)}"]),
                             progress=False, checkpoint_dir=saved)
        out[name]["checkpointed"] = _max_diff(ref, cut)
    return {"max_abs_diff": out, "bit_identical": all(v == 0.0 for case in out.values() for v in case.values())}


def _max_diff(a: toyjax.Results, b: toyjax.Results) -> float:
    """The largest absolute difference between two runs' parameters and expected losses."""
    diffs = [np.max(np.abs(np.asarray(a.params[k]) - np.asarray(b.params[k]))) for k in a.params]
    return float(max(diffs + [np.nanmax(np.abs(a.eval_loss - b.eval_loss))]))


def paper(budget_s: float, steps: int | None) -> dict:
    """The paper's presets at their own size (`steps`: a dry run's), in order, while `budget_s` lasts."""
    done, began = {}, time.perf_counter()
    for preset in PAPER:
        if time.perf_counter() - began > budget_s:
            done[preset] = "not run (the section's time was spent)"
            continue
        start = time.perf_counter()
        results = run(preset, [f"train.steps={steps}", f"record.snapshots={min(steps, 4)}"] if steps else [])
        t = results.timing
        done[preset] = {"wall_s": round(time.perf_counter() - start, 2), "compile_s": round(t["compile_s"], 2),
                        "train_s": round(t["train_s"], 2), "models": int(np.size(results.eval_loss)),
                        "model_steps_per_s": round(t["model_steps_per_s"]), "diverged": int(results.diverged.sum())}
    return {"presets": done}


def double_descent(preset: str, steps: int, grid: list[str]) -> dict:
    """The paper-sized double-descent grid (n=10,000, T up to 100,000, 64 models) for `steps` steps, per step."""
    results = run(preset, grid + [f"train.steps={steps}", f"train.warmup_steps={max(1, steps // 2)}",
                                  f"record.snapshots={min(steps, 2)}"])
    t, full = results.timing, toyjax.compose(preset).train.steps
    per_step = t["train_s"] / steps
    return {"preset": preset, "steps": steps, "models": int(np.size(results.eval_loss)), "compile_s": t["compile_s"],
            "s_per_step": per_step, "full_run_h_estimate": per_step * full / 3600}


def agreement(steps: int, grid: list[str], out: Path) -> dict:
    """The §3 phase diagram and expected losses here at highest and tensorfloat32, against the CPU at highest."""
    overrides = grid + [f"train.steps={steps}", f"record.snapshots={min(steps, 4)}"]
    cpu_file = out / "cpu_reference.npz"
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    subprocess.run([sys.executable, __file__, "--cpu-reference", str(cpu_file), "--", *overrides], env=env,
                   check=True)
    cpu = np.load(cpu_file)
    found = {}
    for precision in ("highest", "tensorfloat32"):
        here = run("phase_n2m1_quick", overrides + [f"train.matmul_precision={precision}"])
        phases = classify_phase(np.asarray(here.params["W"]))
        rel = np.abs(here.eval_loss - cpu["eval_loss"]) / np.maximum(np.abs(cpu["eval_loss"]), 1e-12)
        found[precision] = {"phase_agreement": float(np.mean(phases == cpu["phases"])),
                            "eval_loss_max_rel_diff": float(np.nanmax(rel)),
                            "eval_loss_median_rel_diff": float(np.nanmedian(rel)),
                            "W_max_abs_diff": float(np.max(np.abs(np.asarray(here.params["W"]) - cpu["W"])))}
    cpu_file.unlink()
    return {"preset": "phase_n2m1_quick", "steps": steps, "against_cpu": found}


def cpu_reference(path: Path, overrides: list[str]) -> None:
    """The agreement section's CPU run (a process with JAX_PLATFORMS=cpu): W, phases and expected losses."""
    results = run("phase_n2m1_quick", overrides)
    W = np.asarray(results.params["W"])
    np.savez(path, W=W, phases=classify_phase(W), eval_loss=results.eval_loss)


def device_tests(out: Path) -> dict:
    """The bit-identity tests (grid size, block size, devices, resume) run on this device."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_grid.py", "tests/test_resume.py",
           "-k", "block_size_changes or interrupted or grid_size or single_point"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    (out / "device_tests.txt").write_text(done.stdout + done.stderr)
    last = (done.stdout.strip().splitlines() or [""])[-1]
    return {"command": " ".join(cmd[2:]), "exit_code": done.returncode, "last_line": last}


def markdown(log: dict) -> str:
    """The summary as a page: one section per check, its wall time, and what it found."""
    lines = ["# toyjax device check", ""]
    for name, entry in log.items():
        status = "ok" if entry.get("ok", True) else f"FAILED: {entry.get('error')}"
        lines += [f"## {name} ({entry.get('wall_s', 0)} s, {status})", "", "```",
                  json.dumps({k: v for k, v in entry.items() if k not in ("ok", "wall_s")}, indent=1), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("device_check"))
    p.add_argument("--dry", action="store_true", help="every section at a toy size, on any backend (CI)")
    p.add_argument("--cpu-reference", type=Path, help=argparse.SUPPRESS)
    p.add_argument("overrides", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.cpu_reference:
        cpu_reference(args.cpu_reference, args.overrides)
        return 0
    numerics.use_deterministic_ops()  # before the first device is touched, as toyjax's CLI does
    size, out = SIZES["dry" if args.dry else "full"], args.out
    out.mkdir(parents=True, exist_ok=True)
    sections = {
        "environment": environment,
        "blocks": lambda: block_aims(*size["blocks"]),
        "bench": lambda: bench(out, size["bench"]),
        "agreement": lambda: agreement(size["agree_steps"], size["grid"], out),
        "bits": lambda: bits(size["bits_steps"], size["bits_cases"]),
        "double_descent": lambda: double_descent(*size["dd"]),
        "device_tests": (lambda: device_tests(out)) if size["pytest"] else None,
        "paper": lambda: paper(size["paper_budget_s"], 20 if args.dry else None),
    }
    log, began = {}, time.perf_counter()
    for name, section in sections.items():
        if section is not None and time.perf_counter() - began > size["budget_s"]:
            log[name] = {"ok": True, "skipped": f"not run: the check's {size['budget_s']} s were spent"}
        elif section is not None:
            timed(name, section, log)
        write_summary(out, log)  # after every section: a run cut short still leaves what it measured
    print(f"wrote {out / 'device_check.json'} and device_check.md", flush=True)
    return 0 if all(entry["ok"] for entry in log.values()) else 1


def write_summary(out: Path, log: dict) -> None:
    """OUT/device_check.json and OUT/device_check.md, as they stand."""
    (out / "device_check.json").write_text(json.dumps(log, indent=1, default=str))
    (out / "device_check.md").write_text(markdown(log))


if __name__ == "__main__":
    sys.exit(main())
