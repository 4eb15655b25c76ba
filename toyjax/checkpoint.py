"""Checkpoints of a grid in training, so that a long run can be killed and continued bit-identically.

A run directory's ``checkpoint/`` holds ``progress.json`` (the run's fingerprint and where it stands),
one ``block_NNNNN.npz`` per finished block (its final records) and ``state.npz`` (the training state of
the block in progress). Arrays are the leaves of the engine's pytrees in `jax.tree` order; their
structure comes back from the same compiled programs, which the fingerprint pins down. Every file is
written atomically, so a kill at any moment leaves either the old checkpoint or the new one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from toyjax.config import ConfigError
from toyjax.results import _atomic_write

DIRNAME = "checkpoint"


class Checkpoint:
    """Saved progress of one run in `run_dir`, valid only for the run with the same `fingerprint`."""

    def __init__(self, run_dir: str | Path, fingerprint: dict[str, Any]):
        self.dir = Path(run_dir) / DIRNAME
        self.fingerprint = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()
        self.progress = self._read_progress()

    def _read_progress(self) -> dict[str, Any]:
        path = self.dir / "progress.json"
        if not path.is_file():
            return {"fingerprint": self.fingerprint, "blocks_done": 0, "state": None}
        progress = json.loads(path.read_text())
        if progress.get("fingerprint") != self.fingerprint:
            raise ConfigError(
                f"{self.dir}: checkpoint of a different run (config, block size or devices changed); "
                "remove it or choose another run directory"
            )
        return progress

    @property
    def blocks_done(self) -> int:
        return int(self.progress["blocks_done"])

    def finished_block(self, index: int, template) -> Any:
        """The saved final records of block `index`, as a pytree shaped like `template`."""
        return _load_tree(self.dir / f"block_{index:05d}.npz", template)

    def saved_state(self, block: int, template) -> tuple[Any, int] | None:
        """(state, next segment) of `block` if its training state was saved, else None."""
        saved = self.progress["state"]
        if saved is None or saved["block"] != block:
            return None
        return _load_tree(self.dir / "state.npz", template), int(saved["segment"])

    def save_state(self, block: int, segment: int, state) -> None:
        """Save the state of `block` before its segment `segment`."""
        _save_tree(self.dir / "state.npz", state)
        self._write_progress(state={"block": block, "segment": segment})

    def save_block(self, index: int, records) -> None:
        """Save the final records of block `index`; the blocks before it must be saved already."""
        _save_tree(self.dir / f"block_{index:05d}.npz", records)
        self._write_progress(blocks_done=index + 1, state=None)

    def clear(self) -> None:
        """Remove the checkpoint (after the results are safely written)."""
        shutil.rmtree(self.dir, ignore_errors=True)

    def _write_progress(self, **changes) -> None:
        self.progress.update(changes)
        text = json.dumps(self.progress, indent=2).encode()
        _atomic_write(self.dir / "progress.json", lambda f: f.write(text))


def _save_tree(path: Path, tree) -> None:
    import jax

    leaves = [np.asarray(leaf) for leaf in jax.tree.leaves(jax.device_get(tree))]
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, lambda f: np.savez(f, *leaves))


def _load_tree(path: Path, template):
    import jax

    leaves, treedef = jax.tree.flatten(template)
    with np.load(path, allow_pickle=False) as npz:
        arrays = [npz[f"arr_{i}"] for i in range(len(leaves))]
    for array, leaf in zip(arrays, leaves):
        if array.shape != tuple(leaf.shape) or array.dtype != leaf.dtype:
            raise ConfigError(f"{path}: checkpoint arrays do not match this run; remove the checkpoint")
    return jax.tree.unflatten(treedef, arrays)
