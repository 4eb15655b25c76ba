"""Figures of trained grids (Elhage et al., 2022), written next to the results with the Agg backend.

`render(results, directory)` writes the figure family of the run's preset (``results.config["sweep_name"]``,
else guessed from the model kind and shapes) as PNG and SVG, and returns the paths:

| family | presets | module |
|---|---|---|
| intro | intro | `solutions.intro_figure`: 2-D arrows coloured by importance, polygon shaded |
| demo_sparsity | demo_sparsity, demo_sparsity_n80 | `superposition.demo_figure`: ‖W_i‖ bars, WᵀW and b |
| phase | phase_n2m1(_quick), phase_n3m2 | `phase.phase_figure`: empirical vs analytic phase diagram |
| uniform_geometry | uniform_geometry | `uniform.uniform_figure`: D* vs 1/(1−S), D_i, feature graphs |
| nonuniform_pentagon | nonuniform_pentagon | `solutions.nonuniform_figure`: pentagon → digons |
| correlated | correlated, anticorrelated | `solutions.correlated_figure`: arrows coloured by set (WᵀW if m≠2) |
| collapse | collapse | `solutions.collapse_figure`: collapsed correlated sets across density |
| dynamics | dynamics | `dynamics.dynamics_figure`: D_i over training above the loss |
| adversarial | adversarial | `adversarial.adversarial_figure`: vulnerability vs features per dimension |
| neurons | privileged_basis, abs_small, abs_computation | `neurons.neurons_figure`: stack plots |

`render_multirun(sweep_dir)` adds one figure across the jobs of a Hydra multirun (`combined.combined_figure`).
Every figure is also available as a function taking `(results, directory, name)`.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

FORMATS = ("png", "svg")
log = logging.getLogger(__name__)

FAMILIES = {
    "intro": ("toyjax.plots.solutions", "intro_figure"),
    "demo_sparsity": ("toyjax.plots.superposition", "demo_figure"),
    "phase": ("toyjax.plots.phase", "phase_figure"),
    "uniform_geometry": ("toyjax.plots.uniform", "uniform_figure"),
    "nonuniform_pentagon": ("toyjax.plots.solutions", "nonuniform_figure"),
    "correlated": ("toyjax.plots.solutions", "correlated_figure"),
    "collapse": ("toyjax.plots.solutions", "collapse_figure"),
    "dynamics": ("toyjax.plots.dynamics", "dynamics_figure"),
    "adversarial": ("toyjax.plots.adversarial", "adversarial_figure"),
    "neurons": ("toyjax.plots.neurons", "neurons_figure"),
}
PRESET_FAMILY = {
    "intro": "intro",
    "demo_sparsity": "demo_sparsity",
    "demo_sparsity_n80": "demo_sparsity",
    "phase_n2m1": "phase",
    "phase_n2m1_quick": "phase",
    "phase_n3m2": "phase",
    "uniform_geometry": "uniform_geometry",
    "nonuniform_pentagon": "nonuniform_pentagon",
    "correlated": "correlated",
    "anticorrelated": "correlated",
    "collapse": "collapse",
    "dynamics": "dynamics",
    "adversarial": "adversarial",
    "privileged_basis": "neurons",
    "abs_small": "neurons",
    "abs_computation": "neurons",
}


def family(results) -> str:
    """The figure family of a run: from its preset name, else from its model kind, data and shapes."""
    from toyjax.analysis.summary import is_phase_run

    cfg = results.config
    if cfg.get("sweep_name") in PRESET_FAMILY:
        return PRESET_FAMILY[cfg["sweep_name"]]
    model, data = cfg.get("model", {}), cfg.get("data", {})
    dims = tuple(results.dims)
    if is_phase_run(results):
        return "phase"
    if model.get("kind") in ("relu_hidden", "abs_mlp"):
        return "neurons"
    if data.get("kind", "independent") != "independent":
        return "collapse" if len(dims) == 2 and "density" in dims and "seed" in dims else "correlated"
    if "extra_density" in dims:
        return "nonuniform_pentagon"
    if int(cfg.get("record", {}).get("snapshots", 0)) >= 50 and "density" not in dims:
        return "dynamics"
    if model.get("n_hidden") == 2:
        return "intro"
    if int(model.get("n_features", 0)) >= 100:
        return "uniform_geometry"
    return "demo_sparsity"


def render(results, directory: str | Path, summary: dict[str, Any] | None = None, strict: bool = False) -> list[Path]:
    """Write the figures that apply to `results` into `directory`; returns the files written.

    A failing figure is logged and skipped (the trained grid is already saved) unless `strict`.
    """
    name = family(results)
    module, function = FAMILIES[name]
    kwargs = {"summary": summary} if name == "phase" else {}
    try:
        draw = getattr(importlib.import_module(module), function)
        return draw(results, Path(directory), **kwargs)
    except Exception:
        if strict:
            raise
        log.exception("figure %s failed", name)
        return []


def render_multirun(sweep_dir: str | Path, job_dirs: list | None = None, strict: bool = False) -> list[Path]:
    """Write the combined figure of a multirun's jobs into `sweep_dir` (jobs: its subdirectories with results)."""
    from toyjax.plots.combined import combined_figure
    from toyjax.results import load

    sweep_dir = Path(sweep_dir)
    if job_dirs is None:
        job_dirs = sorted(p.parent for p in sweep_dir.glob("*/results.json"))
    try:
        return combined_figure([load(d) for d in job_dirs], sweep_dir)
    except Exception:
        if strict:
            raise
        log.exception("combined figure failed")
        return []
