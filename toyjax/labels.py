"""Names for every axis of a trained grid, and its view as a labelled `xarray.Dataset`.

Grid axes are named by the run (``density``, ``seed``, ...). Parameter axes are named after what they index,
as the model's `Architecture` says: W (m, n) is ``hidden × feature``, or ``neuron × feature`` where a hidden
activation makes the basis privileged (relu_hidden, abs_mlp, any ``hidden_activation`` but none); an untied
model's W1 (m, n) is the same and its W2 (n, m) ``feature × hidden``; b is ``feature``, a hidden bias
b_hidden ``hidden`` (or ``neuron``). Any other model's params (an SAE's, a family of one's own's) get generic
axes ``<param>_dim0``, ``<param>_dim1``, ... The history has a ``snapshot_step`` axis; a finite training set's
records (``train_set_*``) and the training points' D_t have a ``point`` axis. xarray is optional
(``pip install 'toyjax[xarray]'``); this module imports numpy and `toyjax.families.toy.architecture`, and xarray when a
Dataset is asked for.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from toyjax.families.toy.architecture import Architecture, architecture_of, describes_toy


def param_dims(model: Architecture | str) -> dict[str, tuple[str, ...]]:
    """The axis names of each parameter of a model: its `Architecture`, or a shorthand kind."""
    arch = model if isinstance(model, Architecture) else architecture_of({"kind": model})
    hidden = "neuron" if arch.privileged else "hidden"
    if arch.tied:
        names = {"W": (hidden, "feature"), "b": ("feature",)}
    else:
        names = {"W1": (hidden, "feature"), "W2": ("feature", hidden), "b": ("feature",)}
    return {**names, "b_hidden": (hidden,)} if arch.hidden_bias else names


def param_names(results: Any) -> dict[str, tuple[str, ...]]:
    """The axis names of each of `results`' params: a toy model's from its architecture (`param_dims`), any
    other's (an SAE's, a family of one's own's) generic, ``<param>_dim0``, ``<param>_dim1``, ..."""
    model = results.config.get("model", {})
    known = param_dims(architecture_of(model)) if describes_toy(model.get("kind", "toy")) else {}
    grid = len(results.dims)
    return {name: known.get(name) or tuple(f"{name}_dim{i}" for i in range(np.ndim(value) - grid))
            for name, value in results.params.items()}


def to_xarray(results: Any):
    """An `xarray.Dataset` of `results`: losses, params, per-feature values and the history, all labelled."""
    try:
        import xarray as xr
    except ImportError:
        raise ImportError("Results.to_xarray needs xarray: pip install 'toyjax[xarray]'") from None
    grid = list(results.dims)
    names = param_names(results)
    data = {
        "loss": (grid, results.loss),
        "eval_loss": (grid, results.eval_loss),
        "diverged": (grid, results.diverged),
        "density_per_feature": (grid + ["feature"], results.density),
        "importance": (grid + ["feature"], results.importance),
    }
    data.update({name: (grid + list(names[name]), value) for name, value in results.params.items()})
    data.update(_history(results.history, grid, names, np.shape(results.density)[-1]))
    hidden = names.get("W", names.get("W1", ("hidden",)))[0]
    data.update(_train_set(getattr(results, "train_set", None) or {}, grid, hidden))
    coords = {d: results.coords[d] if np.ndim(results.coords[d]) == 1 else np.arange(len(results.coords[d]))
              for d in grid}
    if "step" in results.history:
        coords["snapshot_step"] = np.asarray(results.history["step"])
    return xr.Dataset(data, coords=coords, attrs={"config": json.dumps(results.config)})


def _history(history: dict, grid: list[str], names: dict, n: int) -> dict:
    """The history's arrays as ``history_<name>`` variables with a ``snapshot_step`` axis; a row that is not
    per feature (of the n) nor per training point gets generic axes ``<name>_dim0``, ..."""
    out = {}
    for key, value in history.items():
        if key == "step":
            continue
        if key == "params":
            out.update({f"history_{p}": (grid + ["snapshot_step", *names[p]], v) for p, v in value.items()})
        else:
            shape = np.shape(value)[len(grid) + 1:]
            per = "point" if key == "data_dimensionality" else "feature" if shape == (n,) else None
            trailing = [per] if per and shape else [f"{key}_dim{i}" for i in range(len(shape))]
            out[f"history_{key}"] = (grid + ["snapshot_step", *trailing], value)
    return out


def _train_set(train_set: dict, grid: list[str], hidden: str) -> dict:
    """A finite training set's records as ``train_set_<name>`` variables, per training point where they are."""
    per_point = {"point_loss", "zero_loss", "dimensionality"}
    trailing = {"hidden": ["point", hidden], **{k: ["point"] for k in per_point}}
    return {f"train_set_{k}": (grid + trailing.get(k, []), v) for k, v in train_set.items()}
