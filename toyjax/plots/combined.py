"""One figure across the jobs of a Hydra multirun (e.g. ``toyjax -m sweep=uniform_geometry model.n_hidden=10,20,30``).

Runs that all declare the §2 figure (e.g. ``model.kind=linear,relu_output``) become rows of one ‖W_i‖ / WᵀW
figure, those with no output activation (linear) first; runs that all declare the double-descent figure get
their test-loss curves against the dataset size T on one axes (`toyjax.plots.finite.curves_figure`); runs that
all declare the absorption figure (``sweep=sae_absorption sae.tied=false,true``) their absorption curves on one
figure (`toyjax.families.sae.absorption_figure`), and SAE runs that all declare the hierarchy figure
(``sweep=sae_matryoshka_batchtopk,sae_matryoshka``) their absorption side by side; runs that all declare the §9
price figure and differ only in their width (``sweep=ways_out_width model.n_hidden=5,6,7,8,10``) the paper's
k = m′/m against density (`toyjax.plots.price.widths_figure`); other SAE runs
(e.g. ``sweep=sae_frontier_relu,sae_frontier_topk``) their L0 frontiers on one axes. Any other set of toy-model
runs with a density axis gets their D* = m/‖W‖_F² curves against 1/(1−S) on one axes, scaled to the data, one
curve per job, labelled by what differs between the jobs (model kind, n, m, steps, SAE kind and width,
preset; the architecture's fields too where a job describes its model, ``model.kind=toy``). The shards of
one grid are parts of one run, never curves of their own: they are left out (their merge, ``toyjax-merge``,
is a run of its own). The families declare which keys of their own config sections label a job
(`toyjax.families.schemas.JOB_LABELS`). This module imports matplotlib, numpy, `toyjax.families.schemas`, the toy
family's `architecture` and `metrics` and the figure modules it combines.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from toyjax.families.sae import absorption_figure
from toyjax.families.sae.figures import draw_frontier
from toyjax.families.sae.structure_figure import HIERARCHY_PANELS, draw_hierarchy
from toyjax.families.schemas import JOB_LABELS
from toyjax.families.toy import metrics
from toyjax.families.toy.architecture import DESCRIBED
from toyjax.plots import common, finite, price
from toyjax.plots.superposition import demo_rows_figure
from toyjax.plots.uniform import draw_fractions

_KEYS = (("model", "kind", "{}"), ("architecture", "encoder", "{} encoder"),
         ("architecture", "hidden_activation", "hidden {}"), ("architecture", "hidden_bias", "hidden bias {}"),
         ("architecture", "output_activation", "output {}"), ("architecture", "target", "target {}"),
         ("model", "activation_l1", "λ={}"), ("model", "n_features", "n={}"), ("model", "n_hidden", "m={}"),
         ("train", "steps", "{} steps"),
         *((section, key, form) for section, labels in JOB_LABELS.items() for key, form in labels.items()))


def _value(run, section: str | None, key: str):
    """A config value of `run`; section "architecture": a field of what its toy model is (None for an SAE)."""
    if section == "architecture":
        arch = common.architecture(run)
        return None if arch is None else getattr(arch, key)
    return run.run_info.preset if section is None else run.config.get(section, {}).get(key)


def _varying(runs: list) -> list[tuple]:
    """The (section, key, label format) of the config values that differ between runs."""
    keys = (*_KEYS, (None, "preset", "{}"))
    if all(_value(r, "model", "kind") != DESCRIBED for r in runs):  # the kinds name their architectures
        keys = tuple(key for key in keys if key[0] != "architecture")
    return [(s, k, f) for s, k, f in keys if len({str(_value(r, s, k)) for r in runs}) > 1]


def job_labels(runs: list) -> list[str]:
    """A label per run from the config values that differ between runs (or the job number)."""
    varying = _varying(runs)
    if not varying:
        return [f"job {i}" for i in range(len(runs))]
    return [", ".join(f.format(_value(r, s, k)) for s, k, f in varying) for r in runs]


def _output_activation(run) -> str | None:
    """The output activation of a run's toy model: linear-output rows (the §2 linear model) come first."""
    arch = common.architecture(run)
    return None if arch is None else arch.output_activation


def _figure_name(run) -> str | None:
    return run.run_info.report.figure if run.run_info.report else None


def combined_figure(runs: list, directory: Path, name: str = "combined") -> list[Path]:
    """The multirun figure of `runs` (loaded `Results`) into `directory`; [] when there is nothing to compare."""
    runs = [r for r in runs if int(r.config.get("grid", {}).get("num_shards", 1)) == 1]
    if not runs:
        return []
    if {_figure_name(r) for r in runs} == {"superposition"}:
        order = sorted(range(len(runs)), key=lambda i: _output_activation(runs[i]) != "none")
        return demo_rows_figure([runs[i] for i in order], directory, name)
    if {_figure_name(r) for r in runs} == {"double_descent"}:
        return finite.curves_figure(runs, job_labels(runs), directory, name)
    if {_figure_name(r) for r in runs} == {"sae_absorption"}:
        return absorption_figure.runs_figure(runs, job_labels(runs), directory, name)
    if {_figure_name(r) for r in runs} == {"sae_hierarchy"}:
        return sae_hierarchies(runs, directory, name)
    if {_figure_name(r) for r in runs} == {"price"} and [v[:2] for v in _varying(runs)] == [("model", "n_hidden")]:
        return price.widths_figure(runs, directory, name)
    if all(r.sae is not None for r in runs):
        return sae_frontiers(runs, directory, name)
    curves = [(label, *_dstar_curve(r)) for label, r in zip(job_labels(runs), runs)
              if common.architecture(r) is not None]  # toy models: no SAE, no family of one's own
    curves = [c for c in curves if c[1].size > 1]
    if not curves:
        return []
    fig, ax = plt.subplots(figsize=(9, 5.2), constrained_layout=True)
    for k, (label, density, dstar) in enumerate(curves):
        ax.plot(1 / density, dstar, "o-", ms=3.5, color=plt.get_cmap("viridis")(k / max(len(curves) - 1, 1)),
                label=label)
    draw_fractions(ax)
    ax.set_xscale("log")
    ax.set_ylim(-0.03, y_top([c[2] for c in curves]))
    ax.set_xlabel(f"{common.INVERSE_DENSITY_LABEL}  (inverse feature density)")
    ax.set_ylabel("dimensions per feature D* = m/‖W‖_F²\n(best seed per density)")
    ax.legend(fontsize=8, title="job", title_fontsize=8)
    names = sorted({str(r.run_info.preset) for r in runs})
    ax.set_title(f"multirun of {', '.join(names)}: D* against inverse density, one curve per job", fontsize=10)
    return common.save(fig, directory, name)


def y_top(curves: list[np.ndarray]) -> float:
    """The top of the D* axis: room for every finite point (abs_mlp's D* reaches 4), and at least 1.12."""
    finite = [c[np.isfinite(c)] for c in curves]
    return max([1.12] + [1.08 * float(c.max()) for c in finite if c.size])


def _dstar_curve(results) -> tuple[np.ndarray, np.ndarray]:
    """(densities, mean D* of the best seeds at each), sorted by density; empty without a density sweep."""
    cells = common.best_cells(results)
    W = common.feature_W(cells.params)
    dstar = np.asarray(metrics.dimensions_per_feature(W)).ravel()
    density = np.asarray(cells.density, dtype=np.float64).reshape(dstar.size, -1)[:, 0]
    ok = np.isfinite(cells.eval_loss.ravel()) & np.isfinite(dstar)
    xs = np.unique(density[ok])
    return xs, np.array([dstar[ok & (density == x)].mean() for x in xs])


def sae_frontiers(runs: list, directory: Path, name: str) -> list[Path]:
    """SAE jobs (e.g. ``toyjax -m sweep=sae_frontier_relu,sae_frontier_topk``): their L0 frontiers on one axes."""
    fig, ax = plt.subplots(figsize=(8, 5.4), constrained_layout=True)
    image = draw_frontier(ax, runs, job_labels(runs))
    fig.colorbar(image, ax=ax).set_label("MMCS, features → latents")
    ax.set_title("SAEs of the sweep: unexplained variance against L0 (one point per cell, its best seed)", fontsize=10)
    return common.save(fig, directory, name)


def sae_hierarchies(runs: list, directory: Path, name: str) -> list[Path]:
    """SAE jobs on hierarchical features (e.g. BatchTopK against Matryoshka): absorption, hedging, MCC side by side."""
    fig, axes = plt.subplots(1, len(HIERARCHY_PANELS), figsize=(15, 4.6), constrained_layout=True)
    draw_hierarchy(axes, runs, job_labels(runs))
    fig.suptitle("SAEs of the sweep on hierarchical features: each dot a seed, bars their mean", fontsize=10)
    return common.save(fig, directory, name)
