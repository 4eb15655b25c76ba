"""Names for every axis of a trained grid, and its view as a labelled `xarray.Dataset`.

Grid axes are named by the run (``density``, ``seed``, ...). Every other axis of a recorded array is named by
the model's family, which declares them (`toyjax.engine.family.Family.dims`; a run's `Results.array_dims`):
a toy model's W is ``hidden × feature`` (``neuron × feature`` where a hidden activation makes the basis
privileged), an SAE's W_dec ``hidden × latent``, a finite training set's records have a ``point`` axis. An
array its family does not declare gets generic axes ``<name>_dim0``, ``<name>_dim1``, ... The history has a
``snapshot_step`` axis, and a param's history the param's axes after it. xarray is optional
(``pip install 'toyjax[xarray]'``); this module imports numpy, and xarray when a Dataset is asked for.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np


def axes_of(results: Any, path: str, value: Any, before: tuple[str, ...] = ()) -> list[str]:
    """The axes of the array at `path` ("params/W", "history/loss", "sae/dead"): the grid's, `before`, then
    those its family declares, or generic ones named after the array."""
    extra = np.ndim(value) - len(results.dims) - len(before)
    name = path.rsplit("/", 1)[-1] if path.startswith(("params/", "history/")) else path.replace("/", "_")
    declared = tuple(results.array_dims.get(path) or ())
    return [*results.dims, *before, *(declared if len(declared) == extra else (f"{name}_dim{i}" for i in range(extra)))]


def to_xarray(results: Any):
    """An `xarray.Dataset` of `results`: losses, params, per-feature values, the history and the family's own
    records (``<record>_<name>``), all labelled."""
    try:
        import xarray as xr
    except ImportError:
        raise ImportError("Results.to_xarray needs xarray: pip install 'toyjax[xarray]'") from None
    grid = list(results.dims)
    data = {
        "loss": (grid, results.loss),
        "eval_loss": (grid, results.eval_loss),
        "diverged": (grid, results.diverged),
        "density_per_feature": (grid + ["feature"], results.density),
        "importance": (grid + ["feature"], results.importance),
    }
    data.update({name: (axes_of(results, f"params/{name}", value), value) for name, value in results.params.items()})
    data.update(_history(results))
    for record, arrays in results.records.items():
        data.update({f"{record}_{name}": (axes_of(results, f"{record}/{name}", value), value)
                     for name, value in arrays.items()})
    coords = {d: results.coords[d] if np.ndim(results.coords[d]) == 1 else np.arange(len(results.coords[d]))
              for d in grid}
    if "step" in results.history:
        coords["snapshot_step"] = np.asarray(results.history["step"])
    return xr.Dataset(data, coords=coords, attrs={"config": json.dumps(results.config)})


def _history(results: Any) -> dict:
    """The history's arrays as ``history_<name>`` variables with a ``snapshot_step`` axis after the grid's."""
    out, step = {}, ("snapshot_step",)
    for key, value in results.history.items():
        if key == "params":
            out.update({f"history_{p}": (axes_of(results, f"params/{p}", v, step), v) for p, v in value.items()})
        elif key != "step":
            out[f"history_{key}"] = (axes_of(results, f"history/{key}", value, step), value)
    return out
