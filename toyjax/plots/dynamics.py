"""§5 learning dynamics: every feature's dimensionality D_i over training, above the loss curve.

One column per model (the lowest-loss seeds first). Top: D_i of every feature against the training step (log
axis), with the paper's fractions as faint lines; bottom: the training loss at the same snapshots. Detected
jumps (`toyjax.analysis.dynamics`, |ΔD_i| > 0.1 between snapshots) are marked on both with dotted lines.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from toyjax.analysis import dynamics
from toyjax.plots import common
from toyjax.plots.uniform import FRACTIONS

MODELS = 4


def dynamics_figure(results, directory: Path, name: str = "dynamics") -> list[Path]:
    """§5: D_i of every feature over training (log steps) above the loss, jumps marked, for the best seeds."""
    traj = dynamics.trajectories(results.history)
    steps = np.asarray(traj["step"])
    if steps.size < 2:
        return []
    loss = common.finite_loss(results).ravel()
    D = traj["dimensionality"].reshape((-1,) + traj["dimensionality"].shape[-2:])
    curve = traj["loss"].reshape(-1, steps.size)
    models = [int(k) for k in np.argsort(loss, kind="stable")[:MODELS] if np.isfinite(loss[k])]
    if not models:
        return []
    n = D.shape[-1]
    colors = common.feature_colors(n)
    sets = int(results.config.get("data", {}).get("set_size", 0) or 0)
    correlated = results.config.get("data", {}).get("kind", "independent") != "independent"
    fig, axes = plt.subplots(2, len(models), figsize=(3.6 * len(models) + 0.6, 6.2), sharex=True,
                             height_ratios=[1.4, 1], squeeze=False, constrained_layout=True)
    x = np.maximum(steps, 1)
    names = _model_names(results)
    for col, k in enumerate(models):
        top, bottom = axes[0, col], axes[1, col]
        for value, text in FRACTIONS:
            top.axhline(value, color="0.85", lw=0.6, zorder=0)
            if col == 0:
                top.text(x[0], value, text, fontsize=7, color="0.4", va="bottom")
        for i in range(n):
            style = "--" if correlated and sets and (i // sets) % 2 else "-"
            top.plot(x, D[k, :, i], style, color=colors[i], lw=1.4, label=f"feature {i}")
        bottom.plot(x, curve[k], color="k", lw=1.2)
        for event in dynamics.jump_events(steps, D[k], curve[k]):
            for ax in (top, bottom):
                ax.axvline(max(event["step"], 1), color="C3", ls=":", lw=0.8)
            top.plot(max(event["step"], 1), event["to"], "v", color="C3", ms=4)
        top.set_title(f"{names[k]}\nexpected loss {loss[k]:.4g}", fontsize=8)
        top.set_ylim(-0.03, 1.08)
        bottom.set_xscale("log")
        bottom.set_yscale("log")
        bottom.set_xlabel("training step")
    axes[0, 0].set_ylabel("feature dimensionality D_i")
    axes[1, 0].set_ylabel("training loss")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], color="C3", ls=":", marker="v", label="detected jump (|ΔD_i| > 0.1)"))
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 8), frameon=False, fontsize=8)
    note = " (dashed: second correlated set)" if correlated and sets else ""
    common.suptitle(fig, results, f"D_i of every feature over training, above the loss; "
                              f"the {len(models)} lowest-loss models{note}")
    return common.save(fig, directory, name)


def _model_names(results) -> list[str]:
    """'seed 3' / 'density 0.1, seed 0' for every grid point, flattened."""
    labels = []
    for index in np.ndindex(*results.grid_shape):
        parts = [f"{common.AXIS_NAMES.get(d, d)} {common.fmt(results.coords[d][i])}"
                 for d, i in zip(results.dims, index)]
        labels.append(", ".join(parts) or "model")
    return labels
