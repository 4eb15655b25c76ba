"""The model families toyjax trains, registered in one table, and the family a run's ``model.kind`` selects.

The toy models (`toyjax.families.toy.train`: every kind the ``model:`` section describes,
`toyjax.families.toy.architecture`) and sparse autoencoders (`toyjax.families.sae.train`, ``model.kind: sae``) are the
two families; the engine is handed one (`toyjax.engine.plan.make_plan`, `plan_of`) and never asks which. This module
imports `toyjax.families.toy.architecture`, `toyjax.config`, `toyjax.errors`, `toyjax.engine.family`,
`toyjax.engine.plan`, `toyjax.families.sae.train` and `toyjax.families.toy.train`.
"""

from __future__ import annotations

import importlib

from toyjax.config import Config
from toyjax.engine.family import Family
from toyjax.engine.plan import Plan, make_plan
from toyjax.errors import ConfigError
from toyjax.families.sae import train as sae_train
from toyjax.families.toy import train as toy
from toyjax.families.toy.architecture import SHORTHANDS

FAMILIES = {"toy": toy.FAMILY, "sae": sae_train.FAMILY}


def family_of(kind: str) -> Family:
    """The family of a validated ``model.kind``: a toy model's shorthand or ``toy``, a family's name, or the
    import path of a module whose ``FAMILY`` is a `Family` (a family of one's own)."""
    if kind in SHORTHANDS:
        return FAMILIES["toy"]
    if kind in FAMILIES:
        return FAMILIES[kind]
    try:
        found = getattr(importlib.import_module(kind), "FAMILY", None)
    except ImportError as e:
        raise ConfigError(f"model.kind: cannot import {kind} ({e})") from None
    if not isinstance(found, Family):
        raise ConfigError(f"model.kind: {kind} has no FAMILY (a toyjax.engine.family.Family)")
    return found


def plan_of(cfg: Config, source=None) -> Plan:
    """`toyjax.engine.plan.make_plan` of a validated config, handed the family its ``model.kind`` selects and
    checked by it first."""
    family = family_of(cfg.model.kind)
    family.check(cfg)
    return make_plan(cfg, family, source)

