"""Validators for single config values: each raises `ConfigError` naming the dotted field and what is allowed.

This module imports only `toyjax.errors`.
"""

from __future__ import annotations

import math
from typing import Any

from toyjax.errors import ConfigError


def choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    """`value` must be one of `allowed`."""
    if value not in allowed:
        raise ConfigError(f"{name}: unknown value {value!r}; allowed: {', '.join(allowed)}")


def integer(name: str, value: Any, low: int, high: int | None = None, bound: str | None = None) -> None:
    """`value` must be an integer in [low, high] (no upper bound when `high` is None); `bound` names the field
    that sets `high`, and the message then says to lower `value` or raise that field."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}: expected an integer, got {value!r}")
    if bound is not None and value > high:
        raise ConfigError(f"{name}: must be at most {bound} ({high}), got {value}; lower {name} or raise {bound}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ConfigError(f"{name}: must be {bound}, got {value}")


def boolean(name: str, value: Any) -> None:
    """`value` must be true or false."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name}: expected true or false, got {value!r}")


def number(name: str, value: Any) -> float:
    """`value` must be a finite number; returns it as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{name}: expected a finite number, got {value!r}")
    return float(value)


def vector(name: str, value: Any, n: int, low: float) -> None:
    """`value` must be a list of `n` finite numbers, each >= `low`."""
    if not isinstance(value, list | tuple) or len(value) != n:
        raise ConfigError(f"{name}: expected a list of model.n_features={n} numbers, got {value!r}")
    for v in value:
        if number(name, v) < low:
            raise ConfigError(f"{name}: values must be >= {low}, got {v}")


def strings(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    """`value` must be a list of names, each one of `allowed`, none repeated."""
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{name}: expected a list of names, got {value!r}")
    for v in value:
        choice(name, v, allowed)
    if len(set(value)) != len(value):
        raise ConfigError(f"{name}: names must not repeat, got {list(value)}")
