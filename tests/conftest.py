"""Shared fixtures: tiny configs that train in well under a second."""

from __future__ import annotations

import copy

import jax
import pytest

TINY = {
    "model": {"kind": "relu_output", "n_features": 3, "n_hidden": 2},
    "train": {"steps": 60, "batch_size": 64},
    "record": {"snapshots": 4, "eval_samples": 32},
    "grid": {"axes": {}, "block_size": 8},
    "progress": False,
}


@pytest.fixture
def key():
    return jax.random.key(0)


@pytest.fixture
def tiny():
    """A factory of tiny run configs: ``tiny(axes, **sections)``."""

    def make(axes=None, **sections):
        cfg = copy.deepcopy(TINY)
        cfg["grid"]["axes"] = dict(axes or {})
        for name, values in sections.items():
            if isinstance(values, dict):
                cfg.setdefault(name, {}).update(values)
            else:
                cfg[name] = values
        return cfg

    return make


@pytest.fixture
def killed_after_states(monkeypatch):
    """``killed_after_states(n)``: the next run raises KeyboardInterrupt once its n-th checkpoint state is saved;
    ``killed_after_states(None)`` restores saving. Returns the steps saved, in order."""
    from toyjax.engine import checkpoint

    original, saves = checkpoint.Checkpoint.save_state, []

    def arm(count):
        def killed(self, block, step, state):
            original(self, block, step, state)
            saves.append(step)
            if len(saves) == count:
                raise KeyboardInterrupt

        monkeypatch.setattr(checkpoint.Checkpoint, "save_state", original if count is None else killed)
        return saves

    return arm
