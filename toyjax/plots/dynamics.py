"""§5 learning dynamics: every feature's dimensionality D_i over training, above the loss curve.

One column per model (the lowest-loss seeds first). Top: D_i of every feature against the training step (log
axis), with the paper's fractions as faint lines; bottom: the training loss at the same snapshots. Detected
jumps (`toyjax.analysis.dynamics`: |ΔD_i| > 0.1 within a doubling of the step count) are marked on both with
dotted lines.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from toyjax.analysis import dynamics
from toyjax.plots import common

MODELS = 4
SNAPSHOTS = dynamics.MIN_SNAPSHOTS  # the figure is drawn from the snapshots of training: at least this many

unfit = common.toy_unfit  # drawn from a toy model's weights: refused on an SAE run (`toyjax.plots.registry.FIT`)


def dynamics_figure(results, directory: Path, name: str = "dynamics") -> list[Path]:
    """§5: D_i of every feature over training (log steps) above the loss, jumps marked, for the best seeds."""
    traj = dynamics.trajectories(results.history)
    steps = np.asarray(traj["step"])
    loss = common.finite_loss(results).ravel()
    models = [int(k) for k in np.argsort(loss, kind="stable")[:MODELS] if np.isfinite(loss[k])]
    if steps.size < 2 or not models:
        return []
    D = traj["dimensionality"].reshape((-1,) + traj["dimensionality"].shape[-2:])
    curve = traj["loss"].reshape(-1, steps.size)
    styles = _styles(results, D.shape[-1])
    fig, axes = plt.subplots(2, len(models), figsize=(3.6 * len(models) + 0.6, 6.2), sharex=True,
                             height_ratios=[1.4, 1], squeeze=False, constrained_layout=True)
    names = _model_names(results)
    for col, k in enumerate(models):
        _draw_model(axes[0, col], axes[1, col], steps, D[k], curve[k], styles, fractions=col == 0)
        axes[0, col].set_title(f"{names[k]}\nexpected loss {loss[k]:.4g}", fontsize=8)
    axes[0, 0].set_ylabel("feature dimensionality D_i")
    axes[1, 0].set_ylabel("training loss")
    handles, _ = axes[0, 0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], color="C3", ls=":", marker="v",
                              label="detected jump (|ΔD_i| > 0.1 within ×2 steps)"))
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 8), frameon=False, fontsize=8)
    note = " (dashed: second correlated set)" if "--" in {s for _, s in styles} else ""
    common.suptitle(fig, results, f"D_i of every feature over training, above the loss; "
                              f"the {len(models)} lowest-loss models{note}")
    return common.save(fig, directory, name)


def _styles(results, n: int) -> list[tuple]:
    """(colour, line style) of each feature: dashed for the second of alternating correlated sets."""
    data = results.config.get("data", {})
    sets = int(data.get("set_size", 0) or 0) if data.get("kind", "independent") != "independent" else 0
    colors = common.feature_colors(n)
    return [(colors[i], "--" if sets and (i // sets) % 2 else "-") for i in range(n)]


def _draw_model(top, bottom, steps, D, curve, styles, fractions: bool) -> None:
    """One model's column: D_i (top) and the loss (bottom) against the step, its jumps marked on both."""
    x = np.maximum(steps, 1)
    for value, text in common.FRACTIONS:
        top.axhline(value, color="0.85", lw=0.6, zorder=0)
        if fractions:  # 2/5 and 3/8 are 0.025 apart: one label above its line, the other below
            top.text(x[0], value, text, fontsize=7, color="0.4", va="top" if value == 3 / 8 else "bottom")
    for i, (color, style) in enumerate(styles):
        top.plot(x, D[:, i], style, color=color, lw=1.4, label=f"feature {i}")
    bottom.plot(x, curve, color="k", lw=1.2)
    for event in dynamics.jump_events(steps, D, curve):
        for ax in (top, bottom):
            ax.axvline(max(event["step"], 1), color="C3", ls=":", lw=0.8)
        top.plot(max(event["step"], 1), event["to"], "v", color="C3", ms=4)
    top.set_ylim(-0.03, 1.08)
    bottom.set_xscale("log")
    bottom.set_yscale("log")
    bottom.set_xlabel("training step")


def _model_names(results) -> list[str]:
    """'seed 3' / 'density 0.1, seed 0' for every grid point, flattened."""
    labels = []
    for index in np.ndindex(*results.grid_shape):
        parts = [f"{common.AXIS_NAMES.get(d, d)} {common.fmt(results.coords[d][i])}"
                 for d, i in zip(results.dims, index)]
        labels.append(", ".join(parts) or "model")
    return labels
