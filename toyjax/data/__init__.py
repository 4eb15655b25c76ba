"""Data: the feature distributions (`distributions`, re-exported here) and finite training sets (`datasets`).

``from toyjax import data`` gives the distributions' functions (`data.draw`, `data.realize`, `data.DataSpec`,
...). This package imports `toyjax.data.distributions`.
"""

from __future__ import annotations

from toyjax.data.distributions import (
    DataSpec,
    conditional,
    count_bound,
    draw,
    metadata,
    normalized,
    realize,
    sample,
    spec_of,
    uniform,
    unit_density,
)

__all__ = ["DataSpec", "conditional", "count_bound", "draw", "metadata", "normalized", "realize", "sample", "spec_of",
           "uniform", "unit_density"]
