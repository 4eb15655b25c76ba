"""The ``toyjax-report`` command: write the interactive page of saved runs without retraining.

    toyjax-report RUN_DIR                   # RUN_DIR/report.html
    toyjax-report RUN_DIR --out FILE        # the page elsewhere
    toyjax-report SWEEP_DIR                 # a multirun directory: every job's page, then its index.html

Runs are read with `toyjax.load`; a run saved before runs declared their figure gets its preset's
(`toyjax.plots.cli.with_report`). The page needs plotly (``pip install 'toyjax[report]'``). This module
imports `toyjax.plots.cli`, `toyjax.report` and `toyjax.results`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from toyjax.errors import ResultsError
from toyjax.plots.cli import run_command, with_report
from toyjax.report import INSTALL_HINT, REPORT, available, write_index, write_report
from toyjax.results import JSON, load


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toyjax-report", description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="a run directory, or a multirun sweep directory")
    parser.add_argument("--out", type=Path, default=None, help="where to write the page of a single run "
                        "(default RUN_DIR/report.html)")
    return parser


def report_path(path: Path, out: Path | None = None) -> list[Path]:
    """Write the page of one run directory, or of every job of a sweep directory and its index."""
    if not path.exists():
        raise ResultsError(f"{path}: does not exist")
    if out is not None and out.is_dir():
        raise ResultsError(f"--out {out}: is a directory; name the page's file, e.g. {out / REPORT}")
    if (path / JSON).is_file():
        return [write_report(with_report(load(path)), path, out)]
    jobs = sorted(p.parent for p in path.glob(f"*/{JSON}"))
    if not jobs:
        raise ResultsError(f"{path}: no {JSON} here or in its subdirectories (not a toyjax run)")
    if out is not None:
        raise ResultsError(f"{path}: --out names one page; a sweep directory gets one per job")
    written = [write_report(with_report(load(job)), job) for job in jobs]
    if (path / "summary.json").is_file():
        written.append(write_index(path, json.loads((path / "summary.json").read_text())))
    return written


def main(argv: list[str] | None = None) -> None:
    """Console script ``toyjax-report``."""
    args = _parser().parse_args(argv)
    if not available():
        print(f"toyjax-report: error: plotly is not installed; {INSTALL_HINT}", file=sys.stderr)
        sys.exit(2)
    run_command("toyjax-report", lambda: report_path(args.path, args.out))


if __name__ == "__main__":
    main()
