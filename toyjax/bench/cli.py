"""The ``toyjax-bench`` command: time the engine on named workloads, write bench.json / bench.md / bench.png.

    toyjax-bench --workloads intro,uniform_geometry --models 1,16,256 --steps 200 --repeats 3 --out bench
    toyjax-bench --quick                      # a smoke test: tiny grids and steps, seconds per workload
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from toyjax import checks
from toyjax.bench import baselines, engine, report, roofline, workloads
from toyjax.numerics import use_deterministic_ops

QUICK = {"steps": 20, "models": [1, 8], "repeats": 2, "matmul_size": 512, "copy_bytes": 2**24,
         "per_model_sample": 2, "baseline_max_models": 8}


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.replace("_", "").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _per_workload(text: str) -> tuple[str, list[int]]:
    name, _, sizes = text.partition("=")
    if name not in workloads.WORKLOADS or not sizes:
        raise argparse.ArgumentTypeError(f"expected WORKLOAD=N1,N2,... with a workload in {list(workloads.WORKLOADS)}")
    return name, _ints(sizes)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="toyjax-bench", description=__doc__.split("\n")[0])
    p.add_argument("--workloads", default=",".join(workloads.WORKLOADS),
                   help=f"comma-separated, from {', '.join(workloads.WORKLOADS)} (default: all)")
    p.add_argument("--models", type=_ints, default=None, help="grid sizes (default 1,16,256,4096,65536)")
    p.add_argument("--models-for", type=_per_workload, action="append", default=[], metavar="WORKLOAD=N1,N2",
                   help="grid sizes for one workload, replacing --models for it (repeatable)")
    p.add_argument("--steps", type=int, default=None,
                   help="training steps per model (default 1000). The engine computes the loss only on the last "
                        "100 steps and at snapshots, so shorter runs spend a larger share of steps on it")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per measurement (default 3)")
    p.add_argument("--out", type=Path, default=Path("bench"), help="output directory (default ./bench)")
    p.add_argument("--quick", action="store_true", help="tiny grids, steps and roofline: a smoke test")
    p.add_argument("--baseline-max-models", type=int, default=None,
                   help="run the baselines only on grids up to this size (default 256)")
    p.add_argument("--per-model-sample", type=int, default=None,
                   help="models timed by the per-model loop baseline (default 8; its rate does not depend on N)")
    p.add_argument("--no-baselines", action="store_true", help="skip both baselines")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch baseline even if torch is installed")
    p.add_argument("--torch-threads", type=_ints, default=None,
                   help="thread counts to try for the torch baseline, fastest reported (default: usable cores)")
    p.add_argument("--matmul-size", type=int, default=None, help="roofline matmul size (default 4096)")
    p.add_argument("--copy-bytes", type=int, default=None, help="roofline copy size in bytes (default 2**28)")
    return p


def settings(args: argparse.Namespace, argv: list[str]) -> dict:
    """Resolved settings: explicit flags, else --quick's, else the defaults.

    Raises:
        ValueError: an unknown workload, or a count below 1 (``--steps: must be >= 1, got 0``).
    """
    defaults = {"steps": 1000, "models": [1, 16, 256, 4096, 65536], "repeats": 3, "matmul_size": 4096,
                "copy_bytes": 2**28, "per_model_sample": 8, "baseline_max_models": 256}
    base = {**defaults, **(QUICK if args.quick else {})}
    out = {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in base.items()}
    for key in ("steps", "repeats", "matmul_size", "copy_bytes", "per_model_sample"):
        checks.integer(f"--{key.replace('_', '-')}", out[key], low=1)
    names = [w for w in args.workloads.split(",") if w]
    for name in names:
        workloads.get(name)
    per = dict(args.models_for)
    out.update(
        workloads=names,
        models_for={name: per.get(name, out["models"]) for name in names},
        batch_size=1024,  # the engine's and the notebook's default; every workload uses it
        baselines=not args.no_baselines,
        torch_threads=args.torch_threads or [],
        command="toyjax-bench " + " ".join(shlex.quote(a) for a in argv),
    )
    return out


def torch_status(enabled: bool):
    """The torch baseline module, or None, and a line saying why."""
    if not enabled:
        return None, "skipped (--no-torch or --no-baselines)"
    try:
        from toyjax.bench import torch_baseline
    except ImportError:
        return None, "not installed: baseline (b) skipped (pip install 'toyjax[torch]')"
    return torch_baseline, f"{torch_baseline.torch.__version__}"


def torch_for(w, torch_mod):
    """The PyTorch baseline of workload `w`: stacked toy models, or stacked SAEs for the ``sae`` workload."""
    if w.model != "sae":
        return torch_mod
    from toyjax.bench import torch_sae

    return torch_sae


def say(text: str) -> None:
    print(f"[toyjax-bench] {text}", flush=True)


def measure_roofline(s: dict) -> dict:
    mm = roofline.matmul(s["matmul_size"], s["repeats"])
    say(f"roofline matmul {mm['size']}²: {mm['flops_per_s']['median'] / 1e9:.1f} GFLOP/s")
    cp = roofline.copy(s["copy_bytes"], s["repeats"])
    say(f"roofline copy {cp['n_bytes'] / 2**20:.0f} MiB: {cp['bytes_per_s']['median'] / 1e9:.1f} GB/s")
    return {"matmul": mm, "copy": cp}


def _times(a, b):
    return a * b if a is not None and b is not None else None


def measure_point(w, n_models: int, s: dict, costs: dict, roof: dict, torch_mod) -> dict:
    """Every measurement of one workload at one grid size; `costs` caches the cost analysis per block size."""
    res = engine.measure(w, n_models, s["steps"], s["repeats"])
    if res["block_size"] not in costs:
        costs[res["block_size"]] = engine.step_cost(w, s["steps"], res["block_size"])
    cost = costs[res["block_size"]]
    rate = res["model_steps_per_s"]["median"]
    row = {"workload": w.name, **w.describe(), "n_models": n_models, "steps": s["steps"],
           "batch_size": s["batch_size"], **res, **cost}
    row["achieved_flops_per_s"] = _times(cost["flops_per_model_step"], rate)
    row["achieved_bytes_per_s"] = _times(cost["bytes_per_model_step"], rate)
    row["matmul_fraction"] = _times(row["achieved_flops_per_s"], 1 / roof["matmul"]["flops_per_s"]["median"])
    row["bandwidth_fraction"] = _times(row["achieved_bytes_per_s"], 1 / roof["copy"]["bytes_per_s"]["median"])
    t = res["train_s"]
    flops = "" if row["matmul_fraction"] is None else (
        f", {row['achieved_flops_per_s'] / 1e9:.2f} GFLOP/s ({row['matmul_fraction']:.1%} of matmul)")
    say(f"{w.name} models={n_models:,}: compile {res['compile_s']:.2f} s, train {t['median']:.3f} s "
        f"[{t['min']:.3f}–{t['max']:.3f}, {t['repeats']} repeats], {rate:,.0f} model-steps/s{flops}")
    row["baselines"] = measure_baselines(w, n_models, s, torch_mod)
    for name, key in (("per_model_jit", "vs_per_model"), ("torch", "vs_torch")):
        b = row["baselines"].get(name, {})
        row[key] = rate / b["model_steps_per_s"]["median"] if "model_steps_per_s" in b else None
    return row


def measure_baselines(w, n_models: int, s: dict, torch_mod) -> dict:
    if not s["baselines"]:
        return {}
    if n_models > s["baseline_max_models"]:
        skip = {"skipped": f"grid larger than --baseline-max-models={s['baseline_max_models']}"}
        return {"per_model_jit": skip, "torch": skip}
    out = {"per_model_jit": baselines.per_model_loop(w, n_models, s["steps"], s["repeats"], s["per_model_sample"])}
    say(f"  baseline per-model jit: {out['per_model_jit']['model_steps_per_s']['median']:,.0f} model-steps/s")
    if torch_mod is None:
        out["torch"] = {"skipped": "torch not available"}
        return out
    out["torch"] = torch_for(w, torch_mod).measure(w, n_models, s["steps"], s["repeats"], s["batch_size"],
                                                    tuple(s["torch_threads"]))
    say(f"  baseline torch stacked: {out['torch']['model_steps_per_s']['median']:,.0f} model-steps/s "
        f"({out['torch']['threads']} threads)")
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser().parse_args(argv)
    try:
        s = settings(args, argv)
    except ValueError as err:
        print(f"toyjax-bench: error: {err}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    use_deterministic_ops()  # the numerics of every toyjax run, set before the backend starts
    device = report.device_info()
    torch_mod, torch_line = torch_status(s["baselines"] and not args.no_torch)
    say(f"device: {device['platform']} x{device['device_count']} ({device['device_kind']}), "
        f"CPU {device['cpu_model']}, jax {device['versions']['jax']}; torch: {torch_line}")
    roof = measure_roofline(s)
    rows = []
    for name in s["workloads"]:
        w = workloads.get(name)
        costs: dict[int, dict] = {}
        for n_models in s["models_for"][name]:
            rows.append(measure_point(w, n_models, s, costs, roof, torch_mod))
    bench = {"settings": s, "device": device, "torch": {"status": torch_line}, "roofline": roof,
             "results": rows, "targets": report.targets(rows), "wall_s": time.perf_counter() - start}
    s["out"] = str(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    report.write_json(args.out / "bench.json", bench)
    (args.out / "bench.md").write_text(report.markdown(bench))
    report.plot(args.out / "bench.png", bench)
    say(f"wrote {args.out}/bench.json, bench.md, bench.png in {bench['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
