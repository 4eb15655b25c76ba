"""Names for every axis of a trained grid, and its view as a labelled `xarray.Dataset`.

Grid axes are named by the run (``density``, ``seed``, ...). Parameter axes are named after what they index:
W (m, n) is ``hidden × feature``, or ``neuron × feature`` where the hidden layer has a ReLU and so a
privileged basis (relu_hidden, and W1 of abs_mlp); W2 (n, m) is ``feature × neuron``; b is ``feature``.
The history has a ``snapshot_step`` axis; a finite training set's records (``train_set_*``) and the
training points' D_t have a ``point`` axis. xarray is optional (``pip install 'toyjax[xarray]'``); this
module imports only numpy, and xarray when a Dataset is asked for.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

PRIVILEGED = ("relu_hidden", "abs_mlp")  # models whose hidden units are neurons (a ReLU after W or W1)


def param_dims(kind: str) -> dict[str, tuple[str, ...]]:
    """The axis names of each parameter of a model of kind `kind`."""
    hidden = "neuron" if kind in PRIVILEGED else "hidden"
    if kind == "abs_mlp":
        return {"W1": (hidden, "feature"), "W2": ("feature", hidden), "b": ("feature",)}
    return {"W": (hidden, "feature"), "b": ("feature",)}


def to_xarray(results: Any):
    """An `xarray.Dataset` of `results`: losses, params, per-feature values and the history, all labelled."""
    try:
        import xarray as xr
    except ImportError:
        raise ImportError("Results.to_xarray needs xarray: pip install 'toyjax[xarray]'") from None
    grid = list(results.dims)
    names = param_dims(str(results.config.get("model", {}).get("kind", "")))
    data = {
        "loss": (grid, results.loss),
        "eval_loss": (grid, results.eval_loss),
        "diverged": (grid, results.diverged),
        "density_per_feature": (grid + ["feature"], results.density),
        "importance": (grid + ["feature"], results.importance),
    }
    data.update({name: (grid + list(names[name]), value) for name, value in results.params.items()})
    data.update(_history(results.history, grid, names))
    data.update(_train_set(getattr(results, "train_set", None) or {}, grid, names["W" if "W" in names else "W1"][0]))
    coords = {d: results.coords[d] if np.ndim(results.coords[d]) == 1 else np.arange(len(results.coords[d]))
              for d in grid}
    if "step" in results.history:
        coords["snapshot_step"] = np.asarray(results.history["step"])
    return xr.Dataset(data, coords=coords, attrs={"config": json.dumps(results.config)})


def _history(history: dict, grid: list[str], names: dict) -> dict:
    """The history's arrays as ``history_<name>`` variables with a ``snapshot_step`` axis."""
    out = {}
    for key, value in history.items():
        if key == "step":
            continue
        if key == "params":
            out.update({f"history_{p}": (grid + ["snapshot_step", *names[p]], v) for p, v in value.items()})
        else:
            per = "point" if key == "data_dimensionality" else "feature"
            trailing = [] if np.ndim(value) == len(grid) + 1 else [per]
            out[f"history_{key}"] = (grid + ["snapshot_step", *trailing], value)
    return out


def _train_set(train_set: dict, grid: list[str], hidden: str) -> dict:
    """A finite training set's records as ``train_set_<name>`` variables, per training point where they are."""
    per_point = {"point_loss", "zero_loss", "dimensionality"}
    trailing = {"hidden": ["point", hidden], **{k: ["point"] for k in per_point}}
    return {f"train_set_{k}": (grid + trailing.get(k, []), v) for k, v in train_set.items()}
