"""One figure across the jobs of a Hydra multirun (e.g. ``toyjax -m sweep=uniform_geometry model.n_hidden=10,20,30``).

§2 runs (e.g. ``model.kind=linear,relu_output``) become rows of one ‖W_i‖ / WᵀW figure. Any other set of runs
with a density axis gets their D* = m/‖W‖_F² curves against 1/(1−S) on one axes, one curve per job, labelled by
what differs between the jobs (model kind, n, m, steps).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from toyjax.analysis import metrics
from toyjax.plots import common
from toyjax.plots.uniform import draw_fractions

_KEYS = (("model", "kind", "{}"), ("model", "n_features", "n={}"), ("model", "n_hidden", "m={}"),
         ("train", "steps", "{} steps"), ("sweep_name", None, "{}"))


def job_labels(runs: list) -> list[str]:
    """A label per run from the config values that differ between runs (or the job number)."""
    def value(r, section, key):
        return r.config.get(section) if key is None else r.config.get(section, {}).get(key)

    varying = [(s, k, f) for s, k, f in _KEYS if len({str(value(r, s, k)) for r in runs}) > 1]
    if not varying:
        return [f"job {i}" for i in range(len(runs))]
    return [", ".join(f.format(value(r, s, k)) for s, k, f in varying) for r in runs]


def combined_figure(runs: list, directory: Path, name: str = "combined") -> list[Path]:
    """The multirun figure of `runs` (loaded `Results`) into `directory`; [] when there is nothing to compare."""
    from toyjax.plots import family

    if len(runs) < 1:
        return []
    if {family(r) for r in runs} == {"demo_sparsity"}:
        from toyjax.plots.superposition import demo_rows_figure

        order = sorted(range(len(runs)), key=lambda i: common.model_kind(runs[i]) != "linear")
        return demo_rows_figure([runs[i] for i in order], directory, name)
    curves = [(label, *_dstar_curve(r)) for label, r in zip(job_labels(runs), runs)]
    curves = [c for c in curves if c[1].size > 1]
    if not curves:
        return []
    fig, ax = plt.subplots(figsize=(9, 5.2), constrained_layout=True)
    for k, (label, density, dstar) in enumerate(curves):
        ax.plot(1 / density, dstar, "o-", ms=3.5, color=plt.get_cmap("viridis")(k / max(len(curves) - 1, 1)),
                label=label)
    draw_fractions(ax)
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.12)
    ax.set_xlabel(f"{common.INVERSE_DENSITY_LABEL}  (inverse feature density)")
    ax.set_ylabel("dimensions per feature D* = m/‖W‖_F²\n(best seed per density)")
    ax.legend(fontsize=8, title="job", title_fontsize=8)
    names = sorted({str(r.config.get("sweep_name")) for r in runs})
    ax.set_title(f"multirun of {', '.join(names)}: D* against inverse density, one curve per job", fontsize=10)
    return common.save(fig, directory, name)


def _dstar_curve(results) -> tuple[np.ndarray, np.ndarray]:
    """(densities, mean D* of the best seeds at each), sorted by density; empty without a density sweep."""
    cells = common.best_cells(results)
    W = common.feature_W(cells.params)
    dstar = np.asarray(metrics.dimensions_per_feature(W)).ravel()
    density = np.asarray(cells.density, dtype=np.float64).reshape(dstar.size, -1)[:, 0]
    ok = np.isfinite(cells.eval_loss.ravel())
    xs = np.unique(density[ok])
    return xs, np.array([dstar[ok & (density == x)].mean() for x in xs])
