"""Trained grids with named axes, and their open on-disk format.

A run directory holds ``results.npz`` (plain arrays, never pickled) and ``results.json`` (axis names and
values, shapes, the resolved config, package versions, devices and timing). Both are written atomically:
into a temporary file first, then renamed, so a crash never leaves half a file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

NPZ, JSON = "results.npz", "results.json"
FORMAT_VERSION = 1


class ResultsError(ValueError):
    """A results directory that is missing, truncated or inconsistent."""


@dataclass
class Results:
    """A trained grid: every array has leading dims `grid_shape`, named by `dims`.

    Attributes:
        dims: axis names, e.g. ("density", "extra_importance", "seed").
        coords: axis name -> values (per-feature density axes give shape (len, n)).
        params: name -> array of shape grid_shape + param_shape (W: (m, n), b: (n,); abs_mlp: W1, W2, b).
        loss: grid_shape, mean training loss over the last steps.
        eval_loss: grid_shape, stratified expected loss (`toyjax.expected_loss`); use it to pick seeds.
        history: "step" (K,), "loss" grid+(K,), "W_norm" and "dimensionality" grid+(K, n), and
            "params" (name -> grid+(K,)+param_shape) when recorded.
        diverged: grid_shape bool, a non-finite loss or parameter was seen.
        density, importance: grid_shape + (n,), each model's per-feature values.
        timing: compile_s, train_s, model_steps_per_s.
        config: the resolved run config as a plain dict.
        meta: package versions and devices.
    """

    dims: tuple[str, ...]
    coords: dict[str, np.ndarray]
    params: dict[str, np.ndarray]
    loss: np.ndarray
    eval_loss: np.ndarray
    history: dict[str, Any]
    diverged: np.ndarray
    density: np.ndarray
    importance: np.ndarray
    timing: dict[str, float] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def grid_shape(self) -> tuple[int, ...]:
        """Shape of the grid, one entry per axis in `dims`."""
        return tuple(self.loss.shape)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write results.npz and results.json into `directory`, atomically; returns the directory."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays = _flatten(self)
        header = {
            "format_version": FORMAT_VERSION,
            "dims": list(self.dims),
            "coords": {k: np.asarray(v).tolist() for k, v in self.coords.items()},
            "grid_shape": list(self.grid_shape),
            "shapes": {k: list(v.shape) for k, v in arrays.items()},
            "config": self.config,
            "timing": self.timing,
            "meta": self.meta,
        }
        _atomic_write(directory / NPZ, lambda f: np.savez(f, **arrays))
        _atomic_write(directory / JSON, lambda f: f.write(json.dumps(header, indent=2).encode()))
        return directory

    def to_xarray(self):
        """An `xarray.Dataset` with labelled grid axes (needs the optional `xarray` package)."""
        try:
            import xarray as xr
        except ImportError:
            raise ImportError("Results.to_xarray needs xarray: pip install 'toyjax[xarray]'") from None
        coords = {d: self.coords[d] if self.coords[d].ndim == 1 else np.arange(len(self.coords[d])) for d in self.dims}
        grid = list(self.dims)
        data = {
            "loss": (grid, self.loss),
            "eval_loss": (grid, self.eval_loss),
            "diverged": (grid, self.diverged),
            "density_per_feature": (grid + ["feature"], self.density),
            "importance": (grid + ["feature"], self.importance),
        }
        for name, value in self.params.items():
            data[name] = (grid + [f"{name}_{i}" for i in range(value.ndim - len(grid))], value)
        return xr.Dataset(data, coords=coords, attrs={"config": json.dumps(self.config)})


def load(directory: str | os.PathLike) -> Results:
    """Read a run directory written by `Results.save` (or by the `toyjax` command).

    Raises:
        ResultsError: the files are missing, truncated, corrupt, or disagree with each other.
    """
    directory = Path(directory)
    for name in (NPZ, JSON):
        if not (directory / name).is_file():
            raise ResultsError(f"{directory / name}: not found (is this a toyjax run directory?)")
    try:
        header = json.loads((directory / JSON).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ResultsError(f"{directory / JSON}: corrupt or truncated ({e})") from None
    try:
        with np.load(directory / NPZ, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise ResultsError(f"{directory / NPZ}: corrupt or truncated ({e})") from None
    _check(directory, header, arrays)
    return _unflatten(header, arrays)


def _check(directory: Path, header: dict, arrays: dict) -> None:
    """Raise ResultsError unless the arrays are exactly those the header lists, with its shapes."""
    if header.get("format_version") != FORMAT_VERSION:
        raise ResultsError(f"{directory / JSON}: unsupported format_version {header.get('format_version')!r}")
    shapes = header.get("shapes", {})
    if set(shapes) != set(arrays):
        missing = sorted(set(shapes) ^ set(arrays))
        raise ResultsError(f"{directory / NPZ}: arrays {missing} disagree with {JSON}")
    for k, shape in shapes.items():
        if list(arrays[k].shape) != shape:
            raise ResultsError(f"{directory / NPZ}: array {k!r} has shape {arrays[k].shape}, {JSON} says {shape}")


def _flatten(r: Results) -> dict[str, np.ndarray]:
    """All arrays of `r` under '/'-joined names."""
    out = {f"params/{k}": v for k, v in r.params.items()}
    out.update({"loss": r.loss, "eval_loss": r.eval_loss, "diverged": r.diverged})
    out.update({"density": r.density, "importance": r.importance})
    for k, v in r.history.items():
        if isinstance(v, dict):
            out.update({f"history/params/{p}": a for p, a in v.items()})
        else:
            out[f"history/{k}"] = v
    return {k: np.asarray(v) for k, v in out.items()}


def _unflatten(header: dict, arrays: dict) -> Results:
    params = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("params/")}
    history: dict[str, Any] = {}
    for k, v in arrays.items():
        if k.startswith("history/params/"):
            history.setdefault("params", {})[k.rsplit("/", 1)[1]] = v
        elif k.startswith("history/"):
            history[k.split("/", 1)[1]] = v
    return Results(
        dims=tuple(header["dims"]),
        coords={k: np.asarray(v) for k, v in header["coords"].items()},
        params=params,
        loss=arrays["loss"],
        eval_loss=arrays["eval_loss"],
        history=history,
        diverged=arrays["diverged"],
        density=arrays["density"],
        importance=arrays["importance"],
        timing=header.get("timing", {}),
        config=header.get("config", {}),
        meta=header.get("meta", {}),
    )


def _atomic_write(path: Path, write) -> None:
    """Write through `write(file)` into a temporary sibling of `path`, then rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
