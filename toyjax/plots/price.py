"""§9 "the price of monosemanticity": what the activation L1 penalty λ‖h‖₁ costs in loss and removes in superposition.

Left: the loss increase against λ = 0 (best seed per cell, reconstruction loss only) against the superposition
removed S(0) − S(λ), one curve per density, λ growing along each curve (`toyjax.analysis.price`); absolute, as a
share of S(0) means nothing where λ = 0 has almost none. Middle: the loss increase against λ, with the hybrid
margins (1% and 0.1%) marked. Right: how many features some neuron represents against λ, with the kill
threshold's importance beside it. `widths_figure` draws the paper's k = m′/m from runs at several widths (a
multirun's combined figure, `toyjax.plots.combined`; the reproduction draws its panels, `width_panel` and
`monosemantic_panel`). This module imports matplotlib, numpy,
`toyjax.analysis.price` and `toyjax.plots.common`.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from toyjax.analysis import price
from toyjax.plots import common

FLOOR = 1e-5  # costs below this (or negative: seed noise) sit on the symlog axis's linear part
unfit = price.unfit  # the figure reads the price summary's (λ, density, seed) cells (`toyjax.plots.registry.FIT`)


def _colors(count: int):
    return plt.cm.viridis(np.linspace(0.0, 0.9, max(count, 1)))


def cost_panel(ax, table: dict) -> None:
    """Loss increase (%) against the superposition removed, S(0) − S(λ), one curve per density."""
    removed_all = table["superposition"][:1] - table["superposition"]
    for j, (d, color) in enumerate(zip(table["density"], _colors(len(table["density"])))):
        removed, cost = removed_all[:, j], 100 * table["cost"][:, j]
        ok = np.isfinite(removed) & np.isfinite(cost)
        ax.plot(removed[ok], cost[ok], "o-", color=color, ms=4,
                label=f"density {common.fmt(d)} (S(0) = {table['superposition'][0, j]:.2f})")
    _cost_axes(ax, "superposition removed, S(0) − S(λ)", "the price of monosemanticity (λ grows along each curve)")


def l1_panel(ax, table: dict) -> None:
    """Loss increase (%) against λ, with the 1% and 0.1% margins as dotted lines."""
    l1 = table["l1"]
    for j, (d, color) in enumerate(zip(table["density"], _colors(len(table["density"])))):
        ax.plot(l1[1:], 100 * table["cost"][1:, j], "o-", color=color, ms=4, label=f"density {common.fmt(d)}")
    for tol in price.MARGINS:
        ax.axhline(100 * tol, color="0.5", ls=":", lw=0.8)
    ax.set_xscale("log")
    _cost_axes(ax, "λ of λ‖h‖₁", "hybrid margins: 1% and 0.1% (dotted)")


def _cost_axes(ax, xlabel: str, title: str) -> None:
    """The loss increase (%) on a symmetric log y axis, as both cost panels draw it."""
    ax.set_yscale("symlog", linthresh=100 * FLOOR * 10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss increase over λ = 0 (%)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)


def kill_panel(ax, table: dict) -> None:
    """Features represented against λ (solid) and the kill threshold's importance (dashed, right axis)."""
    l1, twin = table["l1"], ax.twinx()
    for j, (d, color) in enumerate(zip(table["density"], _colors(len(table["density"])))):
        ax.plot(l1[1:], table["represented"][1:, j], "o-", color=color, ms=4, label=f"density {common.fmt(d)}")
        twin.plot(l1[1:], table["kill_threshold"][1:, j], "--", color=color, lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("λ of λ‖h‖₁")
    ax.set_ylabel("features represented (some neuron codes them)")
    twin.set_ylabel("kill threshold: importance of the top feature lost (dashed)")
    ax.set_title("killing features below an importance threshold", fontsize=9)
    ax.set_zorder(twin.get_zorder() + 1)  # the legend above the twin's dashed lines, placed clear of the solid ones
    ax.patch.set_visible(False)
    ax.legend(fontsize=7, framealpha=0.9)


def width_panel(ax, density, k, most: float) -> None:
    """k = m′/m, the monosemantic width matching the superposition model, against density; where no width up to
    k = `most` matched, an upward triangle at `most`."""
    density, k = np.asarray(density, float), np.asarray(k, float)
    ok = np.isfinite(k)
    ax.plot(density[ok], k[ok], "o-", color="C3", label="k measured")
    if (~ok).any():
        ax.plot(density[~ok], np.full((~ok).sum(), most), "^", color="C3", mfc="none", label=f"k > {most:g}")
    ax.axhline(1.0, color="0.5", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_ylim(0.9, most + 0.2)
    ax.set_xlabel(common.DENSITY_LABEL)
    ax.set_ylabel("k = m′/m")
    ax.set_title("monosemantic width matching the superposition model", fontsize=9)
    ax.legend(fontsize=7)


def monosemantic_panel(ax, table: dict) -> None:
    """Each width's best monosemantic loss over the superposition model's (`price.width_table`), one curve per
    density, the 1% match dotted."""
    for j, d in enumerate(table["density"]):
        ax.plot(table["widths"], table["mono"][:, j] / table["reference"][j], "o-", label=f"density {common.fmt(d)}")
    ax.axhline(1 + price.MATCH, color="0.5", ls=":", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("width m′ of the monosemantic model")
    ax.set_ylabel(f"best monosemantic loss / m={table['widths'][0]} loss at λ = 0")
    ax.legend(fontsize=7)


def widths_figure(runs: list, directory: Path, name: str = "combined") -> list[Path]:
    """§9 "kn neurons" from runs at widths m′ (``toyjax -m sweep=ways_out_width model.n_hidden=5,6,7,8,10``): k
    against density, and each width's best monosemantic loss against the narrowest run's at λ = 0."""
    table = price.width_table(runs)
    m = int(table["widths"][0])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), constrained_layout=True)
    width_panel(axes[0], table["density"], table["k"], table["widths"][-1] / m)
    monosemantic_panel(axes[1], table)
    names = ", ".join(sorted({str(r.run_info.preset) for r in runs}))
    fig.suptitle(f"multirun of {names}: a monosemantic model of width m′ = {', '.join(map(str, table['widths']))} "
                 f"against the m={m} model at λ = 0, k = m′/{m}", fontsize=10)
    return common.save(fig, directory, name)


def price_figure(results, directory: Path, name: str = "price") -> list[Path]:
    """§9: loss cost against superposition removed, cost against λ, features represented against λ."""
    table = price.cells(results)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6), constrained_layout=True)
    cost_panel(axes[0], table)
    l1_panel(axes[1], table)
    kill_panel(axes[2], table)
    common.suptitle(fig, results, "the price of monosemanticity: λ‖h‖₁ against loss and superposition")
    return common.save(fig, directory, name)
