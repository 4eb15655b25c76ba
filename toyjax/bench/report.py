"""What a benchmark run writes: the device description, ``bench.json``, ``bench.md`` and ``bench.png``.

Also checks the speed targets of issue 5 against the measured ratios.
"""

from __future__ import annotations

import json
import math
import os
import platform
from pathlib import Path
from typing import Any


def device_info() -> dict[str, Any]:
    """Platform, device kind and count, jax/jaxlib versions, CPU model or GPU name, cores, torch if present."""
    from importlib.metadata import PackageNotFoundError, version

    import jax

    devices = jax.local_devices()
    versions = {}
    for pkg in ("jax", "jaxlib", "toyjax", "torch"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "platform": devices[0].platform,
        "device_kind": devices[0].device_kind,
        "device_count": len(devices),
        "accelerator": None if devices[0].platform == "cpu" else devices[0].device_kind,
        "cpu_model": cpu_model(),
        "cpu_cores": cores,
        "python": platform.python_version(),
        "versions": versions,
        "jax_platforms_env": os.environ.get("JAX_PLATFORMS"),
    }


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else `platform.processor()`."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# --------------------------------------------------------------------------- targets


def _find(rows: list[dict], workload: str, n_models: int | None = None) -> list[dict]:
    return [r for r in rows if r["workload"] == workload and (n_models is None or r["n_models"] == n_models)]


def _vs_torch(rows, workload, n_models, factor) -> dict:
    name = f"≥ {factor}× stacked PyTorch on {workload}, {n_models} models"
    found = [r for r in _find(rows, workload, n_models) if r.get("vs_torch") is not None]
    if not found:
        return {"target": name, "measured": None, "met": None, "detail": "not measured in this run"}
    ratio = found[0]["vs_torch"]
    return {"target": name, "measured": ratio, "met": ratio >= factor, "detail": f"{ratio:.2f}×"}


def targets(rows: list[dict]) -> list[dict]:
    """Issue 5's five speed targets, each with its measured ratio and met / not met (None: not measured)."""
    out = [_vs_torch(rows, "intro", 256, 5), _vs_torch(rows, "uniform_geometry", 20, 3)]

    name = "≥ 50% of matmul roofline on uniform_geometry"
    fr = [r["matmul_fraction"] for r in _find(rows, "uniform_geometry") if r.get("matmul_fraction") is not None]
    out.append({"target": name, "measured": max(fr) if fr else None, "met": (max(fr) >= 0.5) if fr else None,
                "detail": f"best {max(fr):.0%} over grid sizes {_sizes(rows, 'uniform_geometry')}" if fr
                else "not measured in this run"})

    name = "phase_n2m1 model-steps/s within 20% of best from 256 to 65,536 models"
    span = [r for r in _find(rows, "phase_n2m1") if 256 <= r["n_models"] <= 65536]
    if len({r["n_models"] for r in span}) >= 2:
        rates = {r["n_models"]: r["model_steps_per_s"]["median"] for r in span}
        worst = min(rates.values()) / max(rates.values())
        covers = min(rates) == 256 and max(rates) == 65536
        out.append({"target": name, "measured": worst, "met": worst >= 0.8,
                    "detail": f"worst/best = {worst:.2f} over {sorted(rates)}"
                    + ("" if covers else " (the run did not span 256..65,536)")})
    else:
        out.append({"target": name, "measured": None, "met": None, "detail": "needs ≥ 2 grid sizes in 256..65,536"})

    name = "compile < 3 s for every workload, not growing with grid size"
    if rows:
        worst = max(r["compile_s"] for r in rows)
        growth = {}
        for w in {r["workload"] for r in rows}:
            by_size = sorted(_find(rows, w), key=lambda r: r["n_models"])
            growth[w] = by_size[-1]["compile_s"] / max(by_size[0]["compile_s"], 1e-9)
        grows = max(growth.values())
        detail = f"max {worst:.2f} s; largest/smallest grid per workload: " + ", ".join(
            f"{w} {g:.2f}×" for w, g in sorted(growth.items()))
        out.append({"target": name, "measured": worst, "met": worst < 3.0 and grows <= 1.5, "detail": detail})
    return out


def _sizes(rows, workload) -> list[int]:
    return sorted(r["n_models"] for r in _find(rows, workload))


# --------------------------------------------------------------------------- outputs


def write_json(path: Path, bench: dict) -> None:
    path.write_text(json.dumps(bench, indent=2, default=_jsonable) + "\n")


def _jsonable(x):
    if hasattr(x, "tolist"):
        return x.tolist()
    return str(x)


def _num(x: float | None, fmt: str = ",.0f") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return format(x, fmt)


COLUMNS = (
    "| workload | models | block | compile s | train s: median [min–max] (repeats) | model-steps/s | samples/s "
    "| GFLOP/s | % matmul roofline | % copy bandwidth | peak memory MiB | × per-model jit | × torch |"
)


def _pct(f: float | None) -> str:
    return _num(100 * f, ".1f") if f is not None else "–"


def _bandwidth(f: float | None) -> str:
    """% of the measured copy bandwidth; past 100% the data stayed in cache, and a share of DRAM means nothing."""
    return "cache-resident" if f is not None and f > 1 else _pct(f)


def table_row(r: dict) -> str:
    t = r["train_s"]
    gflops = r["achieved_flops_per_s"] / 1e9 if r.get("achieved_flops_per_s") else None
    mem = r["peak_memory_bytes"] / 2**20 if r.get("peak_memory_bytes") else None
    return (f"| {r['workload']} (n={r['n_features']}, m={r['n_hidden']}) | {r['n_models']:,} | {r['block_size']} "
            f"| {r['compile_s']:.2f} | {t['median']:.3f} [{t['min']:.3f}–{t['max']:.3f}] ({t['repeats']}) "
            f"| {_num(r['model_steps_per_s']['median'])} | {_num(r['samples_per_s']['median'], ',.3g')} "
            f"| {_num(gflops, '.1f')} | {_pct(r.get('matmul_fraction'))} | {_bandwidth(r.get('bandwidth_fraction'))} "
            f"| {_num(mem, ',.0f')} | {_num(r.get('vs_per_model'), '.1f')} | {_num(r.get('vs_torch'), '.2f')} |")


def markdown(bench: dict) -> str:
    """The whole report as Markdown: device, roofline, results table, baselines, targets."""
    lines = _header(bench) + [COLUMNS, "|" + "---|" * COLUMNS.count(" | ") + "---|"]
    lines += [table_row(r) for r in bench["results"]]
    lines += ["", "Baselines (model-steps/s, median [min–max], repeats):", ""]
    lines += [line for r in bench["results"] for line in _baseline_lines(r)]
    lines += ["", "## Targets (issue 5)", "", "| target | measured | met |", "|---|---|---|"]
    for t in bench["targets"]:
        met = {True: "yes", False: "no", None: "not measured"}[t["met"]]
        lines.append(f"| {t['target']} | {t['detail']} | {met} |")
    return "\n".join(lines) + "\n"


def _header(bench: dict) -> list[str]:
    """The command, device, roofline and settings above the table."""
    d, roof, s = bench["device"], bench["roofline"], bench["settings"]
    mm, cp = roof["matmul"], roof["copy"]
    return [
        "# toyjax-bench",
        "",
        f"Command: `{s['command']}`",
        "",
        f"Device: {d['platform']} × {d['device_count']} ({d['device_kind']}); CPU {d['cpu_model']}, "
        f"{d['cpu_cores']} usable cores; jax {d['versions']['jax']}, jaxlib {d['versions']['jaxlib']}; "
        f"torch {bench['torch']['status']}.",
        "",
        f"Roofline (same run): matmul {mm['size']}² float32 {mm['flops_per_s']['median'] / 1e9:.1f} GFLOP/s "
        f"(range {mm['flops_per_s']['min'] / 1e9:.1f}–{mm['flops_per_s']['max'] / 1e9:.1f},"
        f" {mm['time_s']['repeats']} repeats); copy of {cp['n_bytes'] / 2**20:.0f} MiB "
        f"{cp['bytes_per_s']['median'] / 1e9:.1f} GB/s "
        f"(range {cp['bytes_per_s']['min'] / 1e9:.1f}–{cp['bytes_per_s']['max'] / 1e9:.1f}).",
        "",
        f"Steps per model {s['steps']}, batch {s['batch_size']}, repeats {s['repeats']}; peak memory: "
        f"{bench['results'][0]['peak_memory_source'] if bench['results'] else '–'}.",
        "",
    ]


def _baseline_lines(r: dict) -> list[str]:
    """One line per baseline of a result row."""
    lines = []
    for name, b in r.get("baselines", {}).items():
        if "skipped" in b:
            lines.append(f"- {r['workload']} {r['n_models']:,} models, {name}: {b['skipped']}")
            continue
        rate = b["model_steps_per_s"]
        extra = f", {b['models_timed']} models timed" if "models_timed" in b else ""
        extra += f", {b['threads']} threads" if "threads" in b else ""
        lines.append(f"- {r['workload']} {r['n_models']:,} models, {name}: {rate['median']:,.0f} "
                     f"[{rate['min']:,.0f}–{rate['max']:,.0f}] ({b['time_s']['repeats']}{extra})")
    return lines


def plot(path: Path, bench: dict) -> None:
    """Model-steps/s against number of models per workload, log-log; baselines dashed / dotted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, w in enumerate(dict.fromkeys(r["workload"] for r in bench["results"])):
        rows = sorted(_find(bench["results"], w), key=lambda r: r["n_models"])
        color = f"C{i}"
        x = [r["n_models"] for r in rows]
        ax.plot(x, [r["model_steps_per_s"]["median"] for r in rows], "o-", color=color, label=f"{w} (toyjax)")
        for name, style in (("per_model_jit", "s--"), ("torch", "^:")):
            pts = [(r["n_models"], r["baselines"][name]["model_steps_per_s"]["median"])
                   for r in rows if "model_steps_per_s" in r.get("baselines", {}).get(name, {})]
            if pts:
                ax.plot(*zip(*pts), style, color=color, alpha=0.7, label=f"{w} ({name})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of models in the grid")
    ax.set_ylabel("model-steps / s")
    d = bench["device"]
    ax.set_title(f"toyjax-bench: {d['platform']} ({d['cpu_model'] if d['platform'] == 'cpu' else d['device_kind']})",
                 fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
