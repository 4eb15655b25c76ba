"""The ``toyjax-reproduce`` command: train (or read) every claim's runs, measure, draw, write the report page.

    toyjax-reproduce                       # paper size: runs in outputs/reproduce/paper, docs/reproduction.md
    toyjax-reproduce --plot-only           # re-measure and re-draw from the saved runs, no training
    toyjax-reproduce --only adversarial    # one claim (its figure and findings; the page is left alone)
    toyjax-reproduce --size quick          # a smoke run of everything, page and figures under --out
    toyjax-reproduce --list                # the claims and their runs

Runs are cached under ``--out`` (`toyjax.reproduce.store`); ``findings.json`` there holds every claim's
numbers. This module imports `toyjax.reproduce`, `toyjax.errors` and `toyjax.plots.cli`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from toyjax.errors import ResultsError
from toyjax.plots.cli import run_command
from toyjax.reproduce import CLAIMS, document, store
from toyjax.reproduce.registry import SIZES
from toyjax.reproduce.runs import RUNS

FIGURES = "reproduction"  # the figures' directory, beside the page


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toyjax-reproduce", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=SIZES, default="paper", help="paper (default) or quick (a smoke run)")
    parser.add_argument("--out", type=Path, default=None, help="where runs are cached (outputs/reproduce/SIZE)")
    parser.add_argument("--doc", type=Path, default=None,
                        help="the page to write (paper: docs/reproduction.md; quick: OUT/reproduction.md)")
    parser.add_argument("--plot-only", action="store_true", help="read the saved runs; never train")
    parser.add_argument("--only", nargs="+", metavar="KEY", default=None, help="claims to redo (see --list)")
    parser.add_argument("--list", action="store_true", help="list the claims and their runs, then stop")
    return parser


def _claims(only: list[str] | None) -> list:
    if only is None:
        return list(CLAIMS)
    known = {c.key: c for c in CLAIMS}
    unknown = [k for k in only if k not in known]
    if unknown:
        raise ResultsError(f"--only: unknown claim {', '.join(unknown)}; allowed: {', '.join(known)}")
    return [known[k] for k in only]


def reproduce(size: str, out: Path, doc: Path | None, claims: list, train: bool = True) -> list[Path]:
    """Obtain every run of `claims`, measure and draw each claim, write findings.json and (if `doc`) the page."""
    names = list(dict.fromkeys(name for c in claims for name in c.runs))
    runs = {name: store.obtain(name, RUNS[name], size, out, train=train) for name in names}
    began = time.perf_counter()  # the page's "measuring and drawing" time; training has its own records
    figure_dir = (doc.parent if doc else out) / FIGURES
    figure_dir.mkdir(parents=True, exist_ok=True)
    findings, written = {}, []
    for claim in claims:
        findings[claim.key] = claim.measure({name: runs[name] for name in claim.runs})
        written.append(claim.figure(runs, findings[claim.key], figure_dir / f"{claim.key}.png"))
        print(f"toyjax-reproduce: {claim.section} {claim.key}: {findings[claim.key].status}")
    records = {name: store.read_record(out / name) or {} for name in names}
    record = {key: dataclasses.asdict(f) for key, f in findings.items()}
    (out / "findings.json").write_text(json.dumps({"size": size, "findings": record, "runs": records}, indent=1,
                                                  default=str))
    if doc is not None:
        figures = {c.key: f"{FIGURES}/{c.key}.png" for c in claims}
        written.append(document.write(doc, claims, findings, figures, size, records, time.perf_counter() - began))
    return written


def main(argv: list[str] | None = None) -> None:
    """Console script ``toyjax-reproduce``."""
    args = _parser().parse_args(argv)
    if args.list:
        for c in CLAIMS:
            print(f"{c.key:18} {c.section} {c.title}  (runs: {', '.join(c.runs)})")
        return
    out = args.out or Path("outputs") / "reproduce" / args.size
    doc = args.doc or (None if args.only else Path("docs/reproduction.md") if args.size == "paper"
                       else out / "reproduction.md")
    run_command("toyjax-reproduce", lambda: reproduce(args.size, out, doc, _claims(args.only), not args.plot_only))


if __name__ == "__main__":
    main()
