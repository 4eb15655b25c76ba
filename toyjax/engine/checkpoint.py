"""Checkpoints of a grid in training, so that a long run can be killed and continued bit-identically.

A run directory's ``checkpoint/`` holds ``progress.json`` (the run's fingerprint and where it stands),
one ``block_NNNNN.npz`` per finished block (its final records) and ``state_BBBBB_SSSSSSSSS.npz`` (the
training state of block B after S steps). The fingerprint covers everything that determines the run: the
config, the block size, the devices, and the bits of every per-model value of the plan (`digest`), so that
values the config only names (arrays a family reads from another run's directory) are pinned too. Arrays
are the leaves of the engine's pytrees in `jax.tree` order; their structure comes back from the same
compiled programs, which the fingerprint pins down. Every
file is written atomically (`toyjax.fileio`), and a new state gets a new file, which ``progress.json``
names only once it is complete: a kill at any moment leaves a progress file that names a state it matches.

This module imports jax (for its tree utilities), numpy, `toyjax.errors` and `toyjax.fileio`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import jax
import numpy as np

from toyjax.errors import CheckpointError
from toyjax.fileio import atomic_write

DIRNAME = "checkpoint"


def digest(arrays: dict[str, np.ndarray]) -> str:
    """sha256 of named arrays: their names, dtypes, shapes and bytes."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
        h.update(array.tobytes())
    return h.hexdigest()


class Checkpoint:
    """Saved progress of one run in `run_dir`, valid only for the run with the same `fingerprint`.

    `every` is the number of steps between saved training states (``record.checkpoint_every``).
    """

    def __init__(self, run_dir: str | Path, fingerprint: dict[str, Any], every: int):
        self.dir = Path(run_dir) / DIRNAME
        self.every = every
        self.fingerprint = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()
        self.progress = self._read_progress()

    def _read_progress(self) -> dict[str, Any]:
        path = self.dir / "progress.json"
        if not path.is_file():
            return {"fingerprint": self.fingerprint, "blocks_done": 0, "state": None}
        try:
            progress = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise CheckpointError(f"{path}: corrupt ({e}); remove {self.dir} to start again") from None
        if progress.get("fingerprint") != self.fingerprint:
            raise CheckpointError(
                f"{self.dir}: checkpoint of a different run (config, per-model values, block size or devices "
                "changed); remove it or choose another run directory"
            )
        return progress

    @property
    def blocks_done(self) -> int:
        """How many of this run's blocks have their final records saved."""
        return int(self.progress["blocks_done"])

    def resume_point(self) -> tuple[int, int]:
        """(block, step) this run continues from: the first unfinished block, and the steps it has done."""
        saved = self.progress["state"]
        if saved is not None and saved["block"] == self.blocks_done:
            return self.blocks_done, int(saved["step"])
        return self.blocks_done, 0

    def finished_block(self, index: int, template) -> Any:
        """The saved final records of block `index`, as a pytree shaped like `template`."""
        return _load_tree(self.dir / f"block_{index:05d}.npz", template)

    def saved_state(self, block: int, template) -> tuple[Any, int] | None:
        """(state, steps done) of `block` if its training state was saved, else None."""
        saved = self.progress["state"]
        if saved is None or saved["block"] != block:
            return None
        return _load_tree(self.dir / saved["file"], template), int(saved["step"])

    def due(self, step: int, steps: int) -> bool:
        """Whether the state after `step` of `steps` steps is saved: a multiple of `every`, before the end."""
        return self.every > 0 and step % self.every == 0 and step < steps

    def save_state(self, block: int, step: int, state) -> None:
        """Save the state of `block` after `step` steps, then point the progress file at it."""
        name = f"state_{block:05d}_{step:09d}.npz"
        _save_tree(self.dir / name, state)
        previous = self.progress["state"]
        self._write_progress(state={"block": block, "step": step, "file": name})
        self._remove_state(previous)

    def save_block(self, index: int, records) -> None:
        """Save the final records of block `index`; the blocks before it must be saved already."""
        _save_tree(self.dir / f"block_{index:05d}.npz", records)
        previous = self.progress["state"]
        self._write_progress(blocks_done=index + 1, state=None)
        self._remove_state(previous)

    def _remove_state(self, saved: dict | None) -> None:
        """Delete a state file the progress file no longer names."""
        if saved is not None and saved.get("file"):
            (self.dir / saved["file"]).unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove the checkpoint (after the results are safely written)."""
        shutil.rmtree(self.dir, ignore_errors=True)

    def _write_progress(self, **changes) -> None:
        self.progress.update(changes)
        text = json.dumps(self.progress, indent=2).encode()
        atomic_write(self.dir / "progress.json", lambda f: f.write(text))


def _save_tree(path: Path, tree) -> None:
    leaves = [np.asarray(leaf) for leaf in jax.tree.leaves(jax.device_get(tree))]
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: np.savez(f, *leaves))


def _load_tree(path: Path, template):
    leaves, treedef = jax.tree.flatten(template)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = [npz[f"arr_{i}"] for i in range(len(leaves))]
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as e:
        raise CheckpointError(f"{path}: unreadable ({type(e).__name__}: {e}); remove {path.parent} to start "
                              "again") from None
    for array, leaf in zip(arrays, leaves):
        if array.shape != tuple(leaf.shape) or array.dtype != leaf.dtype:
            raise CheckpointError(f"{path}: checkpoint arrays do not match this run; remove the checkpoint")
    return jax.tree.unflatten(treedef, arrays)
