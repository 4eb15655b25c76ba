"""Trained grids with named axes, and their open on-disk format.

A run directory holds ``results.npz`` (plain arrays, never pickled) and ``results.json`` (axis names and
values, shapes, the resolved config, the run's own description `run_info`, its `summary`, package
versions, devices and timing, and the axis names its family declares for its arrays). Both are written
atomically (`toyjax.fileio`), so a crash never leaves half a file behind. Files of format 1 (before
``run_info``) still load; files without axis names get those of their built-in family. This module imports
numpy, `toyjax.config`, `toyjax.errors`, `toyjax.families.schemas`, `toyjax.families.sae.config` (the key of
an SAE run's records), `toyjax.fileio` and `toyjax.labels`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from toyjax.config import ReportConfig, RunInfo
from toyjax.errors import ResultsError
from toyjax.families import schemas
from toyjax.families.sae import config as sae_config
from toyjax.fileio import atomic_write
from toyjax.labels import to_xarray

NPZ, JSON = "results.npz", "results.json"
FORMAT_VERSION = 2


@dataclass(eq=False)  # compared and cached by identity: its arrays make == meaningless
class Results:
    """A trained grid: every array has leading dims `grid_shape`, named by `dims`.

    Attributes:
        dims: axis names, e.g. ("density", "extra_importance", "seed").
        coords: axis name -> values (per-feature density axes give shape (len, n)).
        params: name -> array of shape grid_shape + param_shape (W: (m, n), b: (n,); abs_mlp: W1, W2, b).
        loss: grid_shape, mean training loss over the last steps.
        eval_loss: grid_shape, stratified expected loss (`toyjax.families.toy.stratified`); use it to pick seeds.
        history: "step" (K,), "loss" grid+(K,), "W_norm" and "dimensionality" grid+(K, n), and
            "params" (name -> grid+(K,)+param_shape) when recorded; with a finite training set also
            "data_dimensionality" grid+(K, T_max), each training point's D_t.
        diverged: grid_shape bool, a non-finite loss or parameter was seen.
        density, importance: grid_shape + (n,), each model's per-feature values.
        timing: compile_s, train_s, eval_s, model_steps_per_s (of the steps trained by this process).
        config: the resolved engine config as a plain dict.
        meta: package versions and devices.
        run_info: the preset, title and declared report of the run (`toyjax.config.RunInfo`).
        summary: the end-of-run numbers (`toyjax.analysis.summarize`), once computed.
        missing: grid_shape bool, models with no result (shards left out of a partial merge); None: none.
        train_set: with a finite training set (Henighan et al. 2023; `toyjax.families.toy.finite`), "size" grid (T),
            "loss" grid (the final loss on the T points), "hidden" grid+(T_max, m) (h_t = W x_t),
            "point_loss", "zero_loss" and "dimensionality" grid+(T_max,) (each point's loss, the loss of a
            zero output, and D_t; NaN beyond T),
            "truncated" grid (points stored without some of their features); None without one.
        sae: an SAE run's numbers (`toyjax.families.sae.train.records`), each grid-shaped ("dead" grid+(M,)): mse,
            fraction_variance_explained, l0, fraction_dead, MMCS both ways and recovery against all the
            source's features (``*_all``) and the ones it learned (``*_learned``), the source's features per
            dimension, its feature directions "features" grid+(d, n) and "learned" grid+(n,); None for toy
            models.
        array_dims: the axis names of each recorded array beyond the grid's, by its path ("params/W",
            "history/W_norm", "sae/dead"), as its family declares them (`toyjax.engine.family.Family.dims`).
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
    timing: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    run_info: RunInfo = field(default_factory=RunInfo)
    summary: dict[str, Any] = field(default_factory=dict)
    missing: np.ndarray | None = None
    records: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # a family's own, by name
    array_dims: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def train_set(self) -> dict[str, np.ndarray] | None:
        """A toy run's finite training-set records (`records["train_set"]`), or None."""
        return self.records.get("train_set")

    @property
    def sae(self) -> dict[str, np.ndarray] | None:
        """An SAE run's numbers (its family's records, `toyjax.families.sae.config.NAME`), or None."""
        return self.records.get(sae_config.NAME)

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
            "run_info": dataclasses.asdict(self.run_info),
            "summary": self.summary,
            "config": self.config,
            "timing": self.timing,
            "meta": self.meta,
            "array_dims": {k: list(v) for k, v in self.array_dims.items()},
        }
        atomic_write(directory / NPZ, lambda f: np.savez(f, **arrays))
        atomic_write(directory / JSON, lambda f: f.write(json.dumps(header, indent=2).encode()))
        return directory

    def to_xarray(self):
        """An `xarray.Dataset` with labelled axes (needs the optional `xarray` package); see `toyjax.labels`."""
        return to_xarray(self)


def load(directory: str | os.PathLike) -> Results:
    """Read a run directory written by `Results.save` (or by the `toyjax` command).

    Raises:
        ResultsError: the directory or its files are missing, truncated, corrupt, or disagree.
    """
    directory = Path(directory)
    if not directory.exists():
        raise ResultsError(f"{directory}: does not exist")
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
    header = _upgrade(directory, header)
    _check(directory, header, arrays)
    return _unflatten(header, arrays)


def _upgrade(directory: Path, header: dict) -> dict:
    """A format-1 header in format 2: the preset name and summary move out of the config into their own keys."""
    version = header.get("format_version")
    if version == FORMAT_VERSION:
        return header
    if version != 1:
        raise ResultsError(f"{directory / JSON}: unsupported format_version {version!r}")
    header, config = dict(header), copy.deepcopy(header.get("config", {}))
    preset = config.pop("sweep_name", None)
    config.pop("sweep_figure", None)
    header["summary"] = config.pop("summary", {}) or {}
    header["run_info"] = {"preset": preset, "report": None}  # no declared report: looked up by the preset
    header["config"] = config
    return header


def _check(directory: Path, header: dict, arrays: dict) -> None:
    """Raise ResultsError unless the arrays are exactly those the header lists, with its shapes."""
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
    if r.missing is not None:
        out["missing"] = r.missing
    for name, record in r.records.items():
        out.update({f"{name}/{k}": v for k, v in record.items()})
    for k, v in r.history.items():
        if isinstance(v, dict):
            out.update({f"history/params/{p}": a for p, a in v.items()})
        else:
            out[f"history/{k}"] = v
    return {k: np.asarray(v) for k, v in out.items()}


def _unflatten(header: dict, arrays: dict) -> Results:
    params = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("params/")}
    records: dict[str, dict] = {}
    for k, v in arrays.items():
        name, _, key = k.partition("/")
        if key and name not in ("params", "history"):
            records.setdefault(name, {})[key] = v
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
        run_info=_run_info(header.get("run_info") or {}),
        summary=header.get("summary") or {},
        missing=arrays.get("missing"),
        records=records,
        array_dims=_array_dims(header),
    )


def _array_dims(header: dict) -> dict[str, tuple[str, ...]]:
    """The axis names a results file's family declared for its arrays, else those of its built-in family."""
    declared = header.get("array_dims") or schemas.array_dims(header.get("config", {}))
    return {path: tuple(names) for path, names in declared.items()}


def _run_info(raw: dict) -> RunInfo:
    report = raw.get("report")
    return RunInfo(preset=raw.get("preset"), title=raw.get("title", ""), command=list(raw.get("command", [])),
                   report=None if report is None else ReportConfig(report.get("figure"), list(report["summaries"]),
                                                                   bool(report.get("html", True))))


def scatter(tree: Any, index: np.ndarray, n: int, shape: tuple[int, ...]) -> Any:
    """Per-model arrays (len(index), ...) of a nested dict, placed at flat models `index` of `n`, as `shape`.

    Models that no leaf fills are NaN (False for booleans, −1 for integers): missing, never mistaken for
    trained. A model that appears twice (a block's padding) writes the same value twice.
    """
    if isinstance(tree, dict):
        return {k: scatter(v, index, n, shape) for k, v in tree.items()}
    leaf = np.asarray(tree)
    fill = False if leaf.dtype == bool else -1 if np.issubdtype(leaf.dtype, np.integer) else np.nan
    flat = np.full((n, *leaf.shape[1:]), fill, leaf.dtype)
    flat[index] = leaf
    return flat.reshape(shape + leaf.shape[1:])
