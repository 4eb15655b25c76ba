"""Figures of trained grids (Elhage et al., 2022), written next to the results with the Agg backend.

`render(results, directory)` writes every figure that applies to a run and returns their paths; today that
is the §3 phase diagram (`toyjax.plots.phase`) for phase runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FORMATS = ("png", "svg")


def render(results, directory: str | Path, summary: dict[str, Any] | None = None) -> list[Path]:
    """Write the figures that apply to `results` into `directory`; returns the files written."""
    from toyjax.analysis.summary import is_phase_run

    written: list[Path] = []
    if is_phase_run(results):
        from toyjax.plots.phase import phase_figure

        written += phase_figure(results, Path(directory), summary=summary)
    return written
