"""The §9 hybrid, measured: what SAEs recover of toy models trained with the activation penalty λ‖h‖₁.

An SAE run whose source is a toy grid over ``activation_l1`` × ``density`` (and seeds), every cell read
(``source_cell: all``), as ``sweeps/ways_out_hybrid.yaml``. Per source cell (`source_cells`): its λ, density, best
seed's expected loss, that loss's relative rise over λ = 0 at the same density, and the features it learned; per
density, the margin (`margin`, the toy runs' rule of `toyjax.analysis.price`): the largest λ up to which every λ's
rise is within a tolerance (1% and 0.1%, `MARGINS`), the paper's "reduce superposition at least a little bit with
essentially no effect on performance". Per source cell and SAE setting (the SAE grid's other axes: L1 coefficient,
dictionary size), the seed mean of each recovery number (`recovery`). The source is the toy run named in the SAE
run's ``sae.source`` (a ``preset:NAME`` source is trained into ``<run_dir>/source`` and named there). This module
imports numpy, `toyjax.analysis` (aggregate, geometry, price, summary), `toyjax.axes`, `toyjax.errors`,
`toyjax.results` and `toyjax.families.sae.numbers`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from toyjax.analysis import price
from toyjax.analysis.aggregate import best_seed, ranking_loss, take_seed
from toyjax.analysis.geometry import NOT_LEARNED_NORM
from toyjax.analysis.summary import valid
from toyjax.axes import grid_axes
from toyjax.errors import ResultsError
from toyjax.families.sae import numbers
from toyjax.results import Results, load

PENALTY, DENSITY = "activation_l1", "density"
MARGINS = price.MARGINS  # loss rises over λ = 0 that count as "essentially no effect on performance"
RECOVERY = ("recovered_0.9", "recovered_0.99", "mmcs")  # `numbers.NUMBERS` names


class SourceCells(NamedTuple):
    """The source's cells, in the SAE run's ``source_cell`` order: (penalties, densities) arrays each."""

    penalty: np.ndarray  # (L,) the λ values of the source's axis
    density: np.ndarray  # (D,) its densities
    loss: np.ndarray  # (L, D) the best seed's expected loss
    rise: np.ndarray  # (L, D) loss / loss at λ = 0 − 1
    learned: np.ndarray  # (L, D) features the best seed learned (‖W_i‖ ≥ 0.3 after the ReLU)


def source_of(results: Results) -> Results:
    """The toy run an SAE run read (its ``sae.source`` directory).

    Raises:
        ResultsError: the source is not a saved run over ``activation_l1`` and ``density`` (and seeds).
    """
    path = str(results.config.get("sae", {}).get("source", ""))
    source = load(path)
    why = source_unfit(grid_axes(source.dims, source.coords))
    if why:
        raise ResultsError(f"{path}: the hybrid {why}")
    return source


def source_unfit(axes: dict | None) -> str | None:
    """Why a source grid (its axes and their values; None: synthetic features) cannot be the hybrid's: it needs
    exactly the axes λ and density (and seeds), λ = 0 among its values; None where it can."""
    dims = list(axes or {})
    if set(dims) - {"seed"} != {PENALTY, DENSITY}:
        return (f"needs a source grid over exactly {PENALTY} and {DENSITY} (and seed), got "
                f"{', '.join(dims) or 'synthetic features'}: give the source these grid axes")
    if 0 not in axes[PENALTY]:
        return f"compares with λ = 0; the source's grid.axes.{PENALTY} has no 0, got {axes[PENALTY]}"
    if np.any(np.diff(axes[PENALTY]) <= 0):
        return f"needs the source's grid.axes.{PENALTY} ascending from λ = 0, got {axes[PENALTY]}"
    return None


def source_cells(source: Results) -> SourceCells:
    """Per cell of the source: λ, density, the best seed's expected loss, its rise over λ = 0, learned features."""
    loss = ranking_loss(source.eval_loss, source.diverged)
    W = np.maximum(np.asarray(source.params["W"], np.float64), 0)
    learned = np.sum(np.linalg.norm(W, axis=-2) >= NOT_LEARNED_NORM, axis=-1)
    if "seed" in source.dims:
        best = best_seed(loss, source.dims.index("seed"))
        loss, learned = (take_seed(a, best, source.dims.index("seed")) for a in (loss, learned))
    if source.dims.index(PENALTY) > source.dims.index(DENSITY):
        loss, learned = loss.T, learned.T
    penalty = np.ravel(source.coords[PENALTY]).astype(float)
    zero = int(np.flatnonzero(penalty == 0)[0])
    return SourceCells(penalty, np.ravel(source.coords[DENSITY]).astype(float), loss, loss / loss[zero] - 1,
                       learned)


def margin(cells: SourceCells, tolerance: float) -> np.ndarray:
    """(D,) per density, the §9 hybrid margin of the source (`toyjax.analysis.price.margin`, the toy runs' rule):
    the largest λ up to which every λ's loss rises by at most `tolerance` over λ = 0 (0 when the first does not)."""
    return price.margin(cells.penalty, cells.rise, tolerance)


def recovery(results: Results, name: str, cells: SourceCells) -> np.ndarray:
    """(L, D, settings) the seed mean of SAE number `name`, one column per setting of the SAE grid's other axes.

    Raises:
        ResultsError: the SAE grid's first axis is not ``source_cell`` over every cell of the source.
    """
    dims = numbers.cell_dims(results)
    count = cells.loss.size
    if not dims or dims[0] != "source_cell" or len(np.ravel(results.coords["source_cell"])) != count:
        raise ResultsError(f"the hybrid reads SAEs over source_cell (all {count} cells) first, got {', '.join(dims)}")
    order = np.ravel(results.coords["source_cell"]).astype(int)
    if not np.array_equal(order, np.arange(count)):
        raise ResultsError("the hybrid reads SAEs over source_cell in the source's order (source_cell: all)")
    values = numbers.seed_mean(results, numbers.number(results, name), valid(results))
    return values.reshape(*cells.loss.shape, -1)


def settings(results: Results) -> list[str]:
    """A label per column of `recovery`: "l1_coefficient 0.1, dict_size 20" ("" when the grid has no other axis)."""
    dims = numbers.cell_dims(results)[1:]
    if not dims:
        return [""]
    grids = np.meshgrid(*[np.ravel(results.coords[d]) for d in dims], indexing="ij")
    return [", ".join(f"{d} {float(g.flat[i]):.3g}" for d, g in zip(dims, grids)) for i in range(grids[0].size)]
