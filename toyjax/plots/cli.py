"""The ``toyjax-plot`` command: re-render the figures of saved runs without retraining.

    toyjax-plot RUN_DIR [RUN_DIR ...]      # a run directory (results.json + results.npz)
    toyjax-plot SWEEP_DIR                  # a multirun directory: every job, then the combined figure
    toyjax-plot RUN_DIR --out FIGURE_DIR   # write the figures elsewhere

Runs are read with `toyjax.load`; figures are those of `toyjax.plots.render` (and `render_multirun`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from toyjax.results import JSON


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toyjax-plot", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="run directories or multirun sweep directories")
    parser.add_argument("--out", type=Path, default=None, help="write figures here instead of next to the results")
    return parser


def plot_path(path: Path, out: Path | None = None) -> list[Path]:
    """Render one run directory, or every job of a sweep directory plus its combined figure."""
    from toyjax import plots
    from toyjax.results import load

    if (path / JSON).is_file():
        results = load(path)
        return plots.render(results, out or path, summary=results.config.get("summary"), strict=True)
    jobs = sorted(p.parent for p in path.glob(f"*/{JSON}"))
    if not jobs:
        raise FileNotFoundError(f"{path}: no {JSON} here or in its subdirectories (not a toyjax run)")
    written = []
    for job in jobs:
        written += plot_path(job, out / job.name if out else None)
    return written + plots.render_multirun(out or path, jobs, strict=True)


def main(argv: list[str] | None = None) -> None:
    """Console script ``toyjax-plot``."""
    args = _parser().parse_args(argv)
    try:
        for path in args.paths:
            for written in plot_path(path, args.out):
                print(written)
    except (FileNotFoundError, ValueError) as e:
        print(f"toyjax-plot: error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
