"""The exceptions toyjax raises for bad input, each with a one-line message that names what is wrong.

This module imports nothing: every layer may raise these.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A bad configuration value; the message starts with the dotted field and says what is allowed."""


class ResultsError(ValueError):
    """A results directory that is missing, truncated or inconsistent."""


class CheckpointError(ValueError):
    """A checkpoint that belongs to another run or no longer matches this one."""


class MergeError(ValueError):
    """Shards that cannot be merged: from different configs, duplicated, or missing."""


class ToyjaxDeprecationWarning(DeprecationWarning):
    """An old spelling that still works for one release (the `toyjax` command prints these)."""


def first_line(text: str) -> str:
    """The first non-empty line of `text`, stripped: what an error says in one line."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return lines[0] if lines else ""
