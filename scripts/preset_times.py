"""Measure how long every preset takes on this machine and write it, once, where people read it.

Each preset runs at 1000 steps (its own grid, shapes and batch) and its time is scaled to its full step
count: compile + evaluation + training × steps / 1000. The default preset is run whole. The result goes
into the preset's ``# time:`` header line and into the README's presets table, so both say the same.
`tests/test_readme.py` checks that they do.

    python scripts/preset_times.py            # measure, then rewrite sweeps/*.yaml headers and README.md
    python scripts/preset_times.py --dry-run  # measure and print only

A preset whose time line is an estimate (``# time: ... (estimate``, one sized for accelerators) is left out
unless named.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import toyjax
from toyjax import presets
from toyjax.config import to_config

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = "phase_n2m1_quick"
STEPS = 1000


def measure(name: str) -> tuple[float, int, int]:
    """(seconds for the preset's full run, models, steps), from a run at `STEPS` steps (the default: whole)."""
    full = to_config(toyjax.compose(name))
    steps = full.train.steps if name == DEFAULT else min(STEPS, full.train.steps)
    overrides = [f"train.steps={steps}", f"record.snapshots={min(full.record.snapshots, steps)}", "progress=false"]
    began = time.perf_counter()
    results = toyjax.run(toyjax.compose(name, overrides))
    wall = time.perf_counter() - began
    t = results.timing
    scaled = wall + t["train_s"] * (full.train.steps / steps - 1)
    return scaled, results.loss.size, full.train.steps


def spoken(seconds: float) -> str:
    """'~20 s', '~1.5 min', '~6 min'."""
    if seconds < 60:
        return f"~{max(5, round(seconds / 5) * 5)} s"
    minutes = seconds / 60
    return f"~{minutes:.1f} min" if minutes < 3 else f"~{round(minutes)} min"


def header_line(name: str, seconds: float, models: int, steps: int) -> str:
    how = "the whole run, warm compilation cache" if name == DEFAULT else f"measured at {STEPS} steps, scaled"
    return f"# time: {spoken(seconds)} on 2 CPU cores ({models} models x {steps:,} steps; {how})"


def rewrite(name: str, line: str, value: str) -> None:
    """Put `line` in the preset's header and `value` in its README row."""
    path = presets.sweeps_dir() / f"{name}.yaml"
    path.write_text(re.sub(r"^# time:.*$", line, path.read_text(), count=1, flags=re.M))
    readme = ROOT / "README.md"
    row = re.compile(rf"^(\| `{name}`[^\n]*\| )[^|\n]+( \|)$", re.M)
    text, count = row.subn(lambda m: f"{m.group(1)}{value}{m.group(2)}", readme.read_text())
    if count != 1:
        raise SystemExit(f"README.md: expected one presets-table row for {name}, found {count}")
    readme.write_text(text)


def measurable(name: str) -> bool:
    """Whether a preset runs on this CPU in reasonable time: its time line is not an estimate."""
    text = (presets.sweeps_dir() / f"{name}.yaml").read_text()
    return "(estimate" not in re.search(r"^# time:.*$", text, re.M).group(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="measure and print; rewrite nothing")
    parser.add_argument("presets", nargs="*", default=[n for n in presets.preset_names() if measurable(n)],
                        help="presets to measure (all but those whose time is an estimate)")
    args = parser.parse_args()
    warm = ["train.steps=10", "record.snapshots=2", "progress=false"]
    toyjax.run(toyjax.compose(DEFAULT, warm))  # JAX and the cache warmed up
    for name in args.presets:
        seconds, models, steps = measure(name)
        line = header_line(name, seconds, models, steps)
        print(f"{name}: {seconds:.1f} s -> {line}")
        if not args.dry_run:
            rewrite(name, line, spoken(seconds))


if __name__ == "__main__":
    main()
