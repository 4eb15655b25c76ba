"""Data: the feature distributions (`distributions`, re-exported here), their structure blocks (`structure`) and
finite training sets (`datasets`).

``from toyjax import data`` gives the distributions' functions (`data.draw`, `data.realize`, `data.DataSpec`,
...). They load lazily, as the package's public API does (`toyjax.__init__`): the config imports
`toyjax.data.structure`, and importing the config must do no JAX work. This package imports
`toyjax.data.distributions` when one of its names is first read.
"""

from __future__ import annotations

import importlib

__all__ = ["DataSpec", "conditional", "count_bound", "draw", "metadata", "normalized", "realize", "sample", "spec_of",
           "uniform", "unit_density"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module("toyjax.data.distributions"), name)
    raise AttributeError(f"module 'toyjax.data' has no attribute {name!r}")
