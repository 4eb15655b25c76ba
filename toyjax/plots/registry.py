"""Which figure a run draws: the name its YAML declares in ``report.figure``, looked up in `FIGURES`.

| name | module | figure |
|---|---|---|
| intro | `solutions.intro_figure` | §1: 2-D arrows coloured by importance, polygon shaded |
| superposition | `superposition.demo_figure` | §2: ‖W_i‖ bars coloured by superposition, WᵀW and b |
| phase | `phase.phase_figure` | §3: empirical vs analytic phase diagram |
| uniform_geometry | `uniform.uniform_figure` | §4: D* vs 1/(1−S), D_i, feature graphs |
| nonuniform | `solutions.nonuniform_figure` | §4: pentagon → digons |
| correlated | `solutions.correlated_figure` | §4: arrows coloured by set (WᵀW if m≠2) |
| collapse | `solutions.collapse_figure` | §4: collapsed correlated sets across density |
| dynamics | `dynamics.dynamics_figure` | §5: D_i over training above the loss |
| adversarial | `adversarial.adversarial_figure` | §6: vulnerability vs features per dimension |
| neurons | `neurons.neurons_figure` | §7, §8: neuron stack plots |
| price | `price.price_figure` | §9: loss cost of λ‖h‖₁ against superposition removed, features killed |
| double_descent | `finite.double_descent_figure` | Henighan et al. 2023: test loss, D_t, D_i against T, 2-D geometry |
| sae_directions | `sae.directions_figure` | SAE decoder directions over the true features (2-D), else cosines |
| sae_mmcs | `sae.mmcs_figure` | SAE MMCS and dead latents over two axes (Sharkey et al. 2022) |
| sae_superposition | `sae.superposition_figure` | SAE recovery against the source's features per dimension |
| sae_hybrid | `hybrid_figure.hybrid_figure` | §9 hybrid: SAE recovery against the source's activation penalty λ |
| sae_frontier | `sae.frontier_figure` | SAE unexplained variance against L0 |
| sae_absorption | `absorption_figure.absorption_figure` | absorption rate against λ; a one-latent SAE's hedging |
| sae_hierarchy | `structure_figure.hierarchy_figure` | SAE absorption, hedging and MCC on a feature hierarchy |
| sae_l0 | `structure_figure.l0_figure` | SAE MCC, precision and recall of the matched latents against L0 |

Each figure is a function ``(results, directory, name) -> [paths]`` writing ``<name>.png`` and
``<name>.svg``; it reads the run's `summary` where it needs it. A figure drawn from the snapshots of training
says in `SNAPSHOTS_NEEDED` how many it needs (``record.snapshots``, checked before anything is compiled). A figure
that cannot be drawn on every run says which it can in `FIT`: ``unfit(config, dims) -> str | None`` (why not, or
None), kept in its own module, the same shape as a summary's; `toyjax.publish.check_report` refuses the rest
before anything is compiled. Figures not in `FIT` draw something (or, by design, nothing) on any run. A figure
that reads an SAE run's source grid says in `SOURCE_FIT` what it needs of that grid's axes
(``source_unfit(source_axes, config, dims) -> str | None``), checked once the source is resolved, before the SAEs
compile.
Nothing is decided by a preset's name.
This module imports the figure modules of `toyjax.plots` and `toyjax.results`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from toyjax.families.sae import absorption_figure, hybrid_figure, structure_figure
from toyjax.families.sae import figures as sae
from toyjax.plots import (
    adversarial,
    combined,
    dynamics,
    finite,
    neurons,
    phase,
    price,
    solutions,
    superposition,
    uniform,
)
from toyjax.results import Results, load

log = logging.getLogger("toyjax")

FIGURES = {
    "intro": solutions.intro_figure,
    "superposition": superposition.demo_figure,
    "phase": phase.phase_figure,
    "uniform_geometry": uniform.uniform_figure,
    "nonuniform": solutions.nonuniform_figure,
    "correlated": solutions.correlated_figure,
    "collapse": solutions.collapse_figure,
    "dynamics": dynamics.dynamics_figure,
    "adversarial": adversarial.adversarial_figure,
    "neurons": neurons.neurons_figure,
    "price": price.price_figure,
    "double_descent": finite.double_descent_figure,
    "sae_directions": sae.directions_figure,
    "sae_mmcs": sae.mmcs_figure,
    "sae_superposition": sae.superposition_figure,
    "sae_frontier": sae.frontier_figure,
    "sae_hierarchy": structure_figure.hierarchy_figure,
    "sae_l0": structure_figure.l0_figure,
    "sae_hybrid": hybrid_figure.hybrid_figure,
    "sae_absorption": absorption_figure.absorption_figure,
}
FIT = {  # figures that fail on some runs: why a run's config and grid axes cannot have them (None: they can)
    **dict.fromkeys(("intro", "nonuniform", "correlated", "collapse"), solutions.unfit),
    "superposition": superposition.unfit,
    "uniform_geometry": uniform.unfit,
    "dynamics": dynamics.unfit,
    "price": price.unfit,
    "double_descent": finite.unfit,
    **dict.fromkeys(("sae_directions", "sae_mmcs", "sae_frontier"), sae.unfit),
    "sae_superposition": sae.superposition_unfit,
    **dict.fromkeys(("sae_hierarchy", "sae_l0"), structure_figure.unfit),
    "sae_hybrid": hybrid_figure.unfit,
    "sae_absorption": absorption_figure.unfit,
}
SOURCE_FIT = {"sae_hybrid": hybrid_figure.source_unfit}  # figures that read an SAE run's source grid, and its needs
SNAPSHOTS_NEEDED = {"dynamics": dynamics.SNAPSHOTS}  # figures drawn from the snapshots, and how many they need


def render(results: Results, directory: str | Path, strict: bool = False) -> list[Path]:
    """Write the figure the run declares (``run_info.report.figure``) into `directory`; returns the files.

    A run that declares none gets none. A failing figure is logged and skipped (the trained grid is already
    saved) unless `strict`.
    """
    name = results.run_info.report.figure if results.run_info.report else None
    if name is None:
        log.info("no figure declared (report.figure)")
        return []
    try:
        return FIGURES[name](results, Path(directory), name=name)
    except Exception:
        if strict:
            raise
        log.exception("figure %s failed", name)
        return []


def render_multirun(sweep_dir: str | Path, job_dirs: list | None = None, strict: bool = False) -> list[Path]:
    """Write the combined figure of a multirun's jobs into `sweep_dir` (jobs: its subdirectories with results)."""
    sweep_dir = Path(sweep_dir)
    if job_dirs is None:
        job_dirs = sorted(p.parent for p in sweep_dir.glob("*/results.json"))
    try:
        return combined.combined_figure([load(d) for d in job_dirs], sweep_dir)
    except Exception:
        if strict:
            raise
        log.exception("combined figure failed")
        return []
