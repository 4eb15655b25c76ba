"""``docs/reproduction.md``: every claim's statement, measurement, status, command and figure, as Markdown.

The page is generated from the findings of real runs (`toyjax.reproduce.cli`), never typed: a table with one
row per claim (the figure beside it), then one section per claim with the paper's setup, toyjax's choices,
the measurement, the rule that gave the status, the exact commands and the figure with its caption. This
module imports only the standard library and `toyjax.reproduce.registry`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from toyjax.reproduce.registry import STATUSES, Claim, Finding
from toyjax.reproduce.runs import RUNS

THUMBNAIL = 280  # width of a figure in the table, in pixels


def _cell(text: str) -> str:
    """Text for one Markdown table cell: no newlines, no unescaped pipes."""
    return " ".join(text.split()).replace("|", "\\|")


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def header(claims: list[Claim], findings: dict[str, Finding], size: str, records: dict[str, dict],
           wall_s: float) -> list[str]:
    """Title, how the page was made, the status counts, and the time and load of the runs."""
    counts = {s: sum(findings[c.key].status == s for c in claims) for s in STATUSES}
    trained = sum(r.get("wall_s", 0) for r in records.values())
    loads = [r[k] for r in records.values() for k in ("load_before", "load_after") if k in r]
    cpus = next((r["cpus"] for r in records.values() if "cpus" in r), os.cpu_count())
    models = sum(r.get("models", 0) for r in records.values())
    load = f", load average {min(loads):.1f}–{max(loads):.1f} while training" if loads else ""
    command = "toyjax-reproduce" + ("" if size == "paper" else f" --size {size}")
    return [
        "# Reproducing \"Toy Models of Superposition\"",
        "",
        f"Written by `{command}` from the runs it trained (Elhage et al., 2022; the claims of "
        "`paper-facts` §1–§9); never edited by hand. `toyjax-reproduce --plot-only` re-renders it from the saved "
        "runs, `toyjax-reproduce --only KEY` redoes one claim, `--size quick` is a smoke run of everything.",
        "",
        f"**{len(claims)} claims: {counts['reproduced']} reproduced, {counts['partly']} partly, "
        f"{counts['not reproduced']} not.** Size: {size}. {len(records)} runs, {models:,} models, trained in "
        f"{_minutes(trained)} in all on {cpus} CPU cores shared with other work{load}; measuring and drawing "
        f"took {_minutes(wall_s)} more. Generated {time.strftime('%Y-%m-%d')}.",
        "",
    ]


def table(claims: list[Claim], findings: dict[str, Finding], figures: dict[str, str]) -> list[str]:
    rows = ["| § | claim | the paper says | toyjax measures | status | figure |", "|---|---|---|---|---|---|"]
    for c in claims:
        f = findings[c.key]
        image = f'<a href="{figures[c.key]}"><img src="{figures[c.key]}" width="{THUMBNAIL}"></a>'
        rows.append(f"| {c.section} | [{_cell(c.title)}](#{c.key}) | {_cell(c.paper)} | {_cell(f.measured)} | "
                    f"**{f.status}** | {image} |")
    return rows + [""]


def section(claim: Claim, found: Finding, figure: str, size: str, records: dict[str, dict]) -> list[str]:
    """One claim's section: paper, setup, measurement, status and rule, commands, details, figure."""
    flag = "" if size == "paper" else f" --size {size}"
    runs = []
    for name in claim.runs:
        record = records.get(name, {})
        timing = f" — {record['models']:,} models, trained in {_minutes(record['wall_s'])}" if record else ""
        runs.append(f"  - `{name}`: `{RUNS[name].command(size)}`{timing}")
    lines = [
        f'<a id="{claim.key}"></a>',
        f"## {claim.section} {claim.title}",
        "",
        f"**The paper.** {claim.paper}",
        "",
        f"**Setup.** {claim.setup}",
        "",
        f"**Measured.** {found.measured}",
        "",
        f"**Status: {found.status}.** Rule: {found.rule}.",
        "",
        f"**Commands.** `toyjax-reproduce --only {claim.key}{flag}`, which trains (or reads) these runs:",
        *runs,
        "",
    ]
    if found.details:
        lines += [found.details, ""]
    return lines + [f"![{claim.key}]({figure})", "", f"*{found.caption}*", ""]


def write(path: Path, claims: list[Claim], findings: dict[str, Finding], figures: dict[str, str], size: str,
          records: dict[str, dict], wall_s: float) -> Path:
    """Write the whole page to `path`; `figures` maps a claim's key to its PNG, relative to the page."""
    lines = header(claims, findings, size, records, wall_s) + table(claims, findings, figures)
    for claim in claims:
        lines += section(claim, findings[claim.key], figures[claim.key], size, records)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path
