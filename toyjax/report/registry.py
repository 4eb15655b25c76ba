"""Which page a run gets: its sections are chosen by the figure its YAML declares (``report.figure``).

`PAGES` maps every name of `toyjax.plots.FIGURES` to the function that builds that family's sections,
``(results, panel) -> (sections, first model)``; nothing is decided by a preset's name. Every page also
has the selected model, the loss over the grid, the untrained models and the run's config and summary
(`toyjax.report.grid`). `build` returns the page as text. This module imports numpy and the report's
family modules, `grid`, `model` and `page`.
"""

from __future__ import annotations

import numpy as np

from toyjax.families.sae import page as sae
from toyjax.plots import common
from toyjax.report import dynamics, encode, finite, grid, neurons, page, phase, solutions, superposition, uniform
from toyjax.report.model import best_flat, chosen_models, model_panel

PAGES = {
    "intro": solutions.intro,
    "superposition": superposition.superposition,
    "phase": phase.sections,
    "uniform_geometry": uniform.sections,
    "nonuniform": solutions.nonuniform,
    "correlated": solutions.correlated,
    "collapse": solutions.collapse,
    "dynamics": dynamics.sections,
    "adversarial": superposition.adversarial,
    "neurons": neurons.sections,
    "price": neurons.sections,  # §9: the stack plots of the (λ, density) cells
    "double_descent": finite.sections,
    "sae_directions": sae.directions,
    "sae_mmcs": sae.heatmaps,
    "sae_superposition": sae.recovery,
    "sae_frontier": sae.frontier,
    "sae_hybrid": sae.recovery,
    "sae_absorption": sae.absorption,
    "sae_hierarchy": sae.hierarchy,
    "sae_l0": sae.l0_curves,
}


def _first(results) -> int:
    """The best seed of the first cell that trained (or model 0)."""
    best = np.ravel(best_flat(results))
    status = np.ravel(grid.grid_data(results)["status"])[best]
    trained = best[status == common.TRAINED]
    return int(trained[0]) if trained.size else 0


def row(panel, k: int) -> list:
    """Model `k`'s row: its value of every panel field, in order."""
    return [values[k] for values in panel.fields.values()]


def row_bytes(panel, n_models: int, sample: int = 8) -> float:
    """The mean length of a model's row as JSON, over an even sample of the models."""
    picked = np.unique(np.linspace(0, n_models - 1, min(sample, n_models)).astype(int))
    return float(np.mean([len(encode.to_json(row(panel, k))) for k in picked]))


def build(results) -> str:
    """The report page of `results` (a `toyjax.results.Results`), as one self-contained HTML document."""
    panel = model_panel(results)
    figure = results.run_info.report.figure if results.run_info.report else None
    family, initial = PAGES[figure](results, panel) if figure in PAGES else ([], -1)
    index, note = chosen_models(results, row_bytes(panel, int(np.prod(results.grid_shape))))
    rows = {int(k): row(panel, k) for k in index}
    names = list(panel.fields)
    data = {"grid": grid.grid_data(results),
            "model": {"fields": names, "rows": rows, "bindings": panel.bindings, "note": note,
                      "initial": initial if initial >= 0 else _first(results), "matrix": panel.matrix,
                      "list_max": page.LIST_MAX}}
    sections = [*family, page.model_section(panel, note), grid.loss_section(results),
                grid.untrained_section(results), grid.run_section(results)]
    return page.render(grid.title(results), grid.subtitle(results), sections, data)
