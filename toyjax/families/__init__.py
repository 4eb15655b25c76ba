"""Model families: the toy models (`toy/`) and sparse autoencoders (`sae/`), registered in `registry`.

A family implements `toyjax.engine.family.Family`; a researcher's own lives outside toyjax and is named by its
import path (``model.kind: package.module``). `FAMILIES`, `family_of` and `plan_of` are `registry`'s, loaded
on first use, so that importing a family's config schema does not import every family.
"""

from __future__ import annotations

import importlib

_REGISTRY = ("FAMILIES", "family_of", "plan_of")


def __getattr__(name: str):
    if name in _REGISTRY:
        return getattr(importlib.import_module("toyjax.families.registry"), name)
    raise AttributeError(f"module 'toyjax.families' has no attribute {name!r}")
