"""The ``toyjax-plot`` command: re-render the figures of saved runs without retraining.

    toyjax-plot RUN_DIR [RUN_DIR ...]      # a run directory (results.json + results.npz)
    toyjax-plot SWEEP_DIR                  # a multirun directory: every job, then the combined figure
    toyjax-plot RUN_DIR --out FIGURE_DIR   # write the figures elsewhere

Runs are read with `toyjax.load`; each draws the figure it declares (``report.figure``); a run saved before
runs declared their figure draws its preset's. This module imports `toyjax.plots`, `toyjax.presets`,
`toyjax.errors`, `toyjax.fileio` and `toyjax.results`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from toyjax import plots, presets
from toyjax.errors import ResultsError
from toyjax.fileio import describe
from toyjax.results import JSON, Results, load


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toyjax-plot", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="run directories or multirun sweep directories")
    parser.add_argument("--out", type=Path, default=None, help="write figures here instead of next to the results")
    return parser


def with_report(results: Results) -> Results:
    """`results`, with its preset's declared report where the file predates declared reports."""
    if results.run_info.report is None:
        report = presets.declared_report(results.run_info.preset)
        results.run_info = dataclasses.replace(results.run_info, report=report)
    return results


def plot_path(path: Path, out: Path | None = None) -> list[Path]:
    """Render one run directory, or every job of a sweep directory plus its combined figure."""
    if not path.exists():
        raise ResultsError(f"{path}: does not exist")
    if (path / JSON).is_file():
        return plots.render(with_report(load(path)), out or path, strict=True)
    jobs = sorted(p.parent for p in path.glob(f"*/{JSON}"))
    if not jobs:
        raise ResultsError(f"{path}: no {JSON} here or in its subdirectories (not a toyjax run)")
    written = []
    for job in jobs:
        written += plot_path(job, out / job.name if out else None)
    return written + plots.render_multirun(out or path, jobs, strict=True)


def main(argv: list[str] | None = None) -> None:
    """Console script ``toyjax-plot``."""
    args = _parser().parse_args(argv)
    run_command("toyjax-plot", lambda: (w for path in args.paths for w in plot_path(path, args.out)))


def run_command(prog: str, written: Callable[[], Iterable[Path]]) -> None:
    """Print every path `written()` yields; a `ResultsError` ends `prog` with one line and exit status 2, a file
    that cannot be written (a read-only or full directory, a path that cannot be made) with one line naming it
    and the cause, and exit status 1."""
    try:
        for path in written():
            print(path)
    except ResultsError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(2)
    except OSError as e:
        print(f"{prog}: error: {describe(e)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
