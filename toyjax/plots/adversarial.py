"""§6 superposition and adversarial robustness: vulnerability to the analytic L2 attack.

Left: vulnerability (attack damage relative to the orthogonal, no-superposition reference, see
`toyjax.analysis.adversarial`) and features per dimension against feature density. Right: vulnerability
against features per dimension, every model coloured by its density.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from toyjax.analysis import adversarial
from toyjax.plots import common


def adversarial_figure(results, directory: Path, name: str = "adversarial") -> list[Path]:
    """§6: vulnerability and features per dimension against density; vulnerability against features/dimension."""
    if common.model_kind(results) not in adversarial.TIED_KINDS:
        return []
    found = adversarial.attack_results(results)  # the summary's attack, computed once per run
    ok = np.isfinite(common.finite_loss(results)) & np.isfinite(found["vulnerability"])
    density = np.asarray(results.density, dtype=np.float64)[..., 0]
    vul, fpd = found["vulnerability"], found["features_per_dimension"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.5, 4.8), constrained_layout=True)
    left.scatter(density[ok], vul[ok], s=12, color="C3", alpha=0.5, label="vulnerability (each model)")
    twin = left.twinx()
    twin.scatter(density[ok], fpd[ok], s=12, color="C0", alpha=0.5, marker="s", label="features per dimension")
    xs = np.unique(density[ok])
    left.plot(xs, [np.mean(vul[ok & (density == x)]) for x in xs], color="C3", lw=1.5)
    twin.plot(xs, [np.mean(fpd[ok & (density == x)]) for x in xs], color="C0", lw=1.5)
    left.axhline(1.0, color="C3", ls=":", lw=0.8)
    left.set_xscale("log")
    left.set_xlabel(common.DENSITY_LABEL)
    left.set_ylabel("vulnerability (L′−L)/(L′₀−L₀)\n1 = no-superposition reference", color="C3")
    twin.set_ylabel("features per dimension ‖W‖_F²/m", color="C0")
    left.set_ylim(bottom=0)
    twin.set_ylim(bottom=0)
    left.set_title("against feature density (lines: mean over seeds)", fontsize=9)
    points = right.scatter(fpd[ok], vul[ok], c=density[ok], cmap="viridis", norm=LogNorm(), s=16)
    fig.colorbar(points, ax=right).set_label(common.DENSITY_LABEL)
    right.axhline(1.0, color="0.5", ls=":", lw=0.8)
    right.set_xlabel("features per dimension ‖W‖_F²/m")
    right.set_ylabel("vulnerability (L′−L)/(L′₀−L₀)")
    if ok.sum() > 2 and np.std(vul[ok]) > 0 and np.std(fpd[ok]) > 0:
        right.set_title(f"correlation {np.corrcoef(vul[ok], fpd[ok])[0, 1]:.2f}", fontsize=9)
    common.suptitle(fig, results, "vulnerability to the analytic L2 attack (λ = 0.1 × mean ‖x‖) "
                              "against features per dimension")
    return common.save(fig, directory, name)
