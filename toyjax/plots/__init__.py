"""Figures of trained grids (Elhage et al., 2022), written next to the results with the Agg backend.

`render(results, directory)` writes the figure the run declares in its YAML (``report.figure``, a name in
`FIGURES`, see `toyjax.plots.registry`) as PNG and SVG and returns the paths; `render_multirun(sweep_dir)`
adds one figure across the jobs of a Hydra multirun (`toyjax.plots.combined`). Every figure is also a
function ``(results, directory)`` of its own module. This package imports `toyjax.analysis`,
`toyjax.families.toy.models` and `toyjax.results`.
"""

from __future__ import annotations

from toyjax.plots.common import FORMATS
from toyjax.plots.registry import FIGURES, FIT, SNAPSHOTS_NEEDED, SOURCE_FIT, render, render_multirun

__all__ = ["FIGURES", "FIT", "FORMATS", "SNAPSHOTS_NEEDED", "SOURCE_FIT", "render", "render_multirun"]
