"""Deprecated alias of `toyjax.stratified` (renamed in toyjax 0.2; this alias goes in 0.3).

``from toyjax.expected_loss import expected_loss`` still works and warns; use
``from toyjax.stratified import expected_loss``.
"""

from __future__ import annotations

import warnings

from toyjax import stratified
from toyjax.errors import ToyjaxDeprecationWarning


def __getattr__(name: str):
    warnings.warn("toyjax.expected_loss is deprecated; use toyjax.stratified", ToyjaxDeprecationWarning, stacklevel=2)
    return getattr(stratified, name)
