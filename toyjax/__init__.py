"""toyjax: whole grids of toy models of superposition, trained in one compiled JAX call.

Implements Elhage et al., "Toy Models of Superposition" (Anthropic, 2022). The public API is loaded
lazily, so ``import toyjax`` does no JAX work:

- `toyjax.compose(preset, overrides)`: a run config from a preset in ``sweeps/``;
- `toyjax.run(cfg)`: train the grid, returning `Results`;
- `toyjax.load(run_dir)`: read saved `Results` back.

The package reads top to bottom: config (`axes`, `config`) → `engine/` (plan, train, blocks, programs,
runner, checkpoint) handed a family from `families/` (`toy/`, `sae/`, `registry`), with `data/` beneath
both → `results` → `analysis/` → `plots/`, `report/` → the edge (`grid`, `publish`, `merge`, `presets`,
`multirun`, `cli`), and `bench/`, `reproduce/` on top.
"""

from __future__ import annotations

import importlib

from toyjax import _moved

__version__ = "0.2.0"
_moved.install()  # old module paths (toyjax.models, toyjax.train, ...) for one release, with a warning

_EXPORTS = {
    "run": ("toyjax.grid", "run"),
    "load": ("toyjax.results", "load"),
    "Results": ("toyjax.results", "Results"),
    "Config": ("toyjax.config", "Config"),
    "ConfigError": ("toyjax.errors", "ConfigError"),
    "compose": ("toyjax.presets", "compose"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        module, attr = _EXPORTS[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'toyjax' has no attribute {name!r}")
