"""Old spellings kept for one release: module paths that moved into `engine/`, `families/` and `data/` (toyjax 0.3),
and config keys that were renamed.

``import toyjax.models`` or ``from toyjax import toy`` still work: a finder on `sys.meta_path` (installed by
`toyjax/__init__.py`) hands back the module at its new path and warns once with `ToyjaxDeprecationWarning`.
A config's old keys (`RENAMED_KEYS`, e.g. ``train.seed``) move to their new names (`rename_deprecated`, called
by `toyjax.config.to_config`), with the same warning. This module imports only the standard library and
`toyjax.errors`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

from toyjax.errors import ToyjaxDeprecationWarning

MOVED = {
    "toyjax.family": "toyjax.engine.family", "toyjax.state": "toyjax.engine.state",
    "toyjax.optim": "toyjax.engine.optim", "toyjax.plan": "toyjax.engine.plan", "toyjax.train": "toyjax.engine.train",
    "toyjax.blocks": "toyjax.engine.blocks", "toyjax.programs": "toyjax.engine.programs",
    "toyjax.runner": "toyjax.engine.runner", "toyjax.checkpoint": "toyjax.engine.checkpoint",
    "toyjax.architecture": "toyjax.families.toy.architecture", "toyjax.models": "toyjax.families.toy.models",
    "toyjax.metrics": "toyjax.families.toy.metrics", "toyjax.stratified": "toyjax.families.toy.stratified",
    "toyjax.expected_loss": "toyjax.families.toy.stratified", "toyjax.finite": "toyjax.families.toy.finite",
    "toyjax.toy": "toyjax.families.toy.train", "toyjax.sae": "toyjax.families.sae.models",
    "toyjax.sae_config": "toyjax.families.sae.config", "toyjax.sae_metrics": "toyjax.families.sae.metrics",
    "toyjax.sae_train": "toyjax.families.sae.train", "toyjax.sources": "toyjax.families.sae.sources",
    "toyjax.datasets": "toyjax.data.datasets", "toyjax.analysis.sae": "toyjax.families.sae.numbers",
    "toyjax.plots.sae": "toyjax.families.sae.figures", "toyjax.report.sae": "toyjax.families.sae.page",
}
RENAMED_KEYS = {"train.seed": "train.base_seed"}  # old dotted config key -> new one


class MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old module path of `MOVED` and loads the module at its new path, with a warning."""

    def find_spec(self, fullname, path=None, target=None):
        return importlib.util.spec_from_loader(fullname, self) if fullname in MOVED else None

    def create_module(self, spec):
        warnings.warn(f"{spec.name} is deprecated; use {MOVED[spec.name]}", ToyjaxDeprecationWarning, stacklevel=2)
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module) -> None:
        """The module at the new path is already executed."""


def install() -> None:
    """Put the finder on `sys.meta_path`, once."""
    if not any(isinstance(f, MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(MovedFinder())


def rename_deprecated(raw: dict) -> dict:
    """`raw` with every old key of `RENAMED_KEYS` moved to its new name, warning once for each."""
    raw = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for old, new in RENAMED_KEYS.items():
        (section, key), (_, new_key) = old.split("."), new.split(".")
        if key in raw.get(section, {}):
            warnings.warn(f"{old} is deprecated; use {new}", ToyjaxDeprecationWarning, stacklevel=3)
            raw[section].setdefault(new_key, raw[section].pop(key))
    return raw
