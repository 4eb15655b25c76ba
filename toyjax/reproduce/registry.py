"""What a claim of the paper is to the reproduction: its statement, its runs, its measurement and status rule.

A `Claim` names the paper's statement (Elhage et al., 2022, one of paper-facts §1–§9), the paper's setup and
where toyjax had to choose, the runs it reads (names in `RUNS`: a preset of ``sweeps/`` with overrides per
size), a measurement that turns those runs into a `Finding` (the numbers, the status and the rule that gave
it), and a figure. `Run` sizes: ``paper`` is the paper's setting (or toyjax's documented choice where it is
silent); ``quick`` is a smoke size that runs the whole pipeline in minutes. A claim whose quick size still
tests it (``ci=True``) is checked by the slow tests at that size. This module imports only the standard
library.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

REPRODUCED, PARTLY, NOT_REPRODUCED = "reproduced", "partly", "not reproduced"
STATUSES = (REPRODUCED, PARTLY, NOT_REPRODUCED)
SIZES = ("paper", "quick")


@dataclass(frozen=True)
class Run:
    """One trained grid: a preset of ``sweeps/`` (or a YAML path) and its Hydra-style overrides at each size.

    `path` lists directories, relative to where ``toyjax-reproduce`` runs (the repository root), that go on the
    import path before the run is composed: a family of one's own's (``examples``), as PYTHONPATH would.
    """

    preset: str
    paper: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()
    path: tuple[str, ...] = ()

    def overrides(self, size: str) -> tuple[str, ...]:
        if size not in SIZES:
            raise ValueError(f"size: unknown {size!r}; allowed: {', '.join(SIZES)}")
        return self.paper if size == "paper" else self.quick

    def command(self, size: str) -> str:
        """The equivalent ``toyjax`` command line (with PYTHONPATH when the run has a `path`)."""
        env = [f"PYTHONPATH={os.pathsep.join(self.path)}"] if self.path else []
        return shlex.join([*env, "toyjax", f"sweep={self.preset}", *self.overrides(size)])


@dataclass(frozen=True)
class Finding:
    """What a claim's measurement found: the status, its rule, the numbers, and what the figure shows.

    Attributes:
        status: one of STATUSES.
        measured: the measured numbers in words (Markdown), for the document's row.
        rule: the status rule with its thresholds, stated before measuring.
        numbers: headline numbers by name (plain floats, ints or strings), for tests and the JSON record.
        caption: the figure's caption; it says so where the figure disagrees with the paper.
        details: longer Markdown (tables, evidence) for the claim's own section; may be empty.
    """

    status: str
    measured: str
    rule: str
    numbers: dict[str, Any] = field(default_factory=dict)
    caption: str = ""
    details: str = ""


@dataclass(frozen=True)
class Claim:
    """One claim of the paper, measured by toyjax (module docstring)."""

    key: str
    section: str
    title: str
    paper: str
    setup: str
    runs: tuple[str, ...]
    measure: Callable[[dict], Finding]
    figure: Callable[[dict, Finding, Any], Any]
    ci: bool = False


def status_of(passed: int, total: int) -> str:
    """REPRODUCED when every check passed, NOT_REPRODUCED when none did, PARTLY in between."""
    return REPRODUCED if passed == total else NOT_REPRODUCED if passed == 0 else PARTLY


def tally(passed: int, total: int, measured: str, rule: str, caption: str, details: str = "") -> Finding:
    """The Finding of a claim judged by `passed` of `total` checks (`status_of`), its counts among the numbers."""
    return Finding(status_of(passed, total), measured, rule, {"passed": passed, "checks": total}, caption, details)


def mark(ok: bool) -> str:
    """'✓' or '✗' for a check in a Finding's words."""
    return "✓" if ok else "✗"
