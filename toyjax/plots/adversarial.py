"""§6 superposition and adversarial robustness: vulnerability to the analytic L2 attack.

Left: vulnerability (attack damage relative to the orthogonal, no-superposition reference, see
`toyjax.analysis.adversarial`) for both attack sizes, λ = 0.1 × mean ‖x‖ shared by every input (the paper's
words) and λ = 0.1 × ‖x‖ per input, with features per dimension, against feature density. Right:
vulnerability against features per dimension, every model coloured by its density. Tied models only (the
attack is defined through WᵀW); any other run draws nothing.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from toyjax.analysis import adversarial
from toyjax.analysis.summary import rank_correlation
from toyjax.plots import common

SIZES = {"shared": ("C3", "o", "λ = 0.1 × mean ‖x‖ (shared, the paper's words)"),
         "per_input": ("C1", "^", "λ = 0.1 × ‖x‖ (per input)")}


def _mean_line(ax, density, values, ok, **style) -> None:
    xs = np.unique(density[ok])
    ax.plot(xs, [np.mean(values[ok & (density == x)]) for x in xs], **style)


def _label_density_panel(left, twin) -> None:
    left.axhline(1.0, color="0.5", ls=":", lw=0.8)
    left.set_xscale("log")
    left.set_xlabel(common.DENSITY_LABEL)
    left.set_ylabel("vulnerability (L′−L)/(L′₀−L₀)\n1 = no-superposition reference")
    twin.set_ylabel("features per dimension ‖W‖_F²/m", color="C0")
    left.set_ylim(bottom=0)
    twin.set_ylim(bottom=0)
    handles = left.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    left.legend(handles=handles, fontsize=8, loc="upper right")
    left.set_title("against feature density (lines: mean over seeds)", fontsize=9)


def adversarial_figure(results, directory: Path, name: str = "adversarial") -> list[Path]:
    """§6: vulnerability (both attack sizes) and features per dimension against density, and against each other."""
    arch = common.architecture(results)
    if arch is None or not arch.tied:  # the attack is defined through the tied WᵀW
        return []
    found = {size: adversarial.attack_results(results, size) for size in SIZES}  # the summary's attacks
    trained = np.isfinite(common.finite_loss(results))
    density = np.asarray(results.density, dtype=np.float64)[..., 0]
    fpd = found["shared"]["features_per_dimension"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.5, 4.8), constrained_layout=True)
    twin = left.twinx()
    twin.scatter(density[trained], fpd[trained], s=12, color="C0", alpha=0.4, marker="s")
    _mean_line(twin, density, fpd, trained, color="C0", lw=1.5, label="features per dimension")
    notes = []
    for size, (color, marker, label) in SIZES.items():
        vul = found[size]["vulnerability"]
        ok = trained & np.isfinite(vul)
        left.scatter(density[ok], vul[ok], s=12, color=color, alpha=0.4, marker=marker)
        _mean_line(left, density, vul, ok, color=color, lw=1.5, label=label)
        right.scatter(fpd[ok], vul[ok], c=density[ok], cmap="viridis", norm=LogNorm(), s=18, marker=marker,
                      label=label)
        rho = rank_correlation(vul[ok], fpd[ok]) if ok.sum() > 2 else None
        notes.append(f"{size}: rank correlation {rho:.2f}" if rho is not None else size)
    _label_density_panel(left, twin)
    right.axhline(1.0, color="0.5", ls=":", lw=0.8)
    right.set_xlabel("features per dimension ‖W‖_F²/m")
    right.set_ylabel("vulnerability (L′−L)/(L′₀−L₀)")
    right.legend(fontsize=8, loc="upper left")
    right.set_title("; ".join(notes), fontsize=9)
    fig.colorbar(plt.cm.ScalarMappable(norm=LogNorm(density.min(), density.max()), cmap="viridis"),
                 ax=right).set_label(common.DENSITY_LABEL)
    common.suptitle(fig, results, "vulnerability to the analytic L2 attack against features per dimension")
    return common.save(fig, directory, name)
