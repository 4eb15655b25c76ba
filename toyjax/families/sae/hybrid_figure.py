"""The figure of the §9 hybrid (``sae_hybrid``): SAEs on toy models trained with the activation penalty λ‖h‖₁.

Three panels against the source's λ, one curve per density: the source's loss rise over λ = 0 (the 1% and
0.1% rises and each density's margins marked), the fraction of its learned features SAEs recover at
cos ≥ 0.9, and their MMCS (the mean over the SAE grid's other axes, and the best of them); the numbers come from
`toyjax.families.sae.hybrid`. This module imports matplotlib, numpy, `toyjax.axes`, `toyjax.families.sae` (config,
figures, hybrid, numbers, sources) and `toyjax.plots.common`.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

from toyjax.axes import axis_values
from toyjax.families.sae import figures, hybrid, numbers
from toyjax.families.sae.config import SYNTHETIC
from toyjax.families.sae.sources import ALL
from toyjax.plots import common

EVERY_CELL = "reads SAEs over every source cell, in the source's order, first (grid.axes.source_cell: all as the " \
             "first axis)"


def unfit(config: dict, dims: tuple[str, ...]) -> str | None:
    """Why the figure cannot be drawn on a run, as far as its own config says: not an SAE run, synthetic features
    for a source, or SAEs not over the source cells in order first (the source's grid: `source_unfit`)."""
    why = numbers.unfit(config, dims)
    if why:
        return why
    if config["sae"]["source"] == SYNTHETIC:
        return (f"needs a trained toy source over {hybrid.PENALTY} and {hybrid.DENSITY} (sae.source: preset:NAME or "
                "a run's directory), got synthetic")
    if _cells_read(config, dims) is None:
        return f"{EVERY_CELL}, got grid axes {', '.join(d for d in dims if d != 'seed') or 'seed'}"
    return None


def source_unfit(source_axes: dict, config: dict, dims: tuple[str, ...]) -> str | None:
    """Why the figure cannot be drawn from an SAE run's source grid (its axes and their values): not over λ and
    density with λ = 0 (`hybrid.source_unfit`), or not every one of its cells read (in `registry.SOURCE_FIT`)."""
    count = int(np.prod([len(v) for d, v in source_axes.items() if d != "seed"]))
    why, read = hybrid.source_unfit(source_axes), _cells_read(config, dims)
    if why or not isinstance(read, list) or len(read) == count:
        return why
    return f"{EVERY_CELL}, got {len(read)} of the source's {count} cells"


def _cells_read(config: dict, dims: tuple[str, ...]) -> list | str | None:
    """The source cells the SAE grid's first axis (seeds aside) reads: ``all``, or their indices from 0 in order;
    None when that axis is not ``source_cell`` or its cells are out of the source's order."""
    axes = config["grid"]["axes"]
    if [d for d in dims if d != "seed"][:1] != ["source_cell"]:
        return None
    if axes["source_cell"] in (ALL, [ALL]):
        return ALL
    cells = axis_values(SimpleNamespace(grid=SimpleNamespace(axes=axes)), "source_cell")
    return cells if cells == list(range(len(cells))) else None


def hybrid_figure(results, directory: Path, name: str = "sae_hybrid") -> list[Path]:
    """The §9 hybrid: the source's loss rise, and what SAEs recover of it, against the source's penalty λ, one
    curve per density, each density's 1% and 0.1% loss margins marked (`toyjax.families.sae.hybrid`)."""
    cells = hybrid.source_cells(hybrid.source_of(results))
    x = _symlog_positions(cells.penalty)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.9), constrained_layout=True)
    rise = np.maximum(cells.rise, 1e-5)
    for d, density in enumerate(cells.density):
        colour = plt.get_cmap("plasma")(0.8 * d / max(len(cells.density) - 1, 1))
        axes[0].plot(x, rise[:, d], "o-", ms=3.5, color=colour, label=f"density {common.fmt(density)}")
        for ax, key in zip(axes[1:], ("recovered_0.9", "mmcs")):
            values = hybrid.recovery(results, key, cells)[:, d]
            ax.plot(x, np.nanmean(values, axis=-1), "o-", ms=3.5, color=colour,
                    label=f"density {common.fmt(density)}, mean of the SAE settings")
            ax.plot(x, np.nanmax(values, axis=-1), ":", color=colour, lw=1,
                    label=f"density {common.fmt(density)}, best setting")
        for tolerance, style in zip(hybrid.MARGINS, ("--", ":")):
            at = x[np.searchsorted(cells.penalty, hybrid.margin(cells, tolerance)[d])]
            for ax in axes:
                ax.axvline(at, color=colour, ls=style, lw=0.9, alpha=0.7)
    for tolerance, style in zip(hybrid.MARGINS, ("--", ":")):
        axes[0].axhline(tolerance, color="0.4", ls=style, lw=1, label=f"{tolerance:.1%} rise (a margin: vertical)")
    axes[0].set(yscale="log", ylabel="loss rise over λ = 0 (expected loss, best seed; floor 1e-5)",
                title="the source's cost of the penalty")
    axes[1].set(ylabel="fraction of the source's learned features recovered", ylim=(0, 1.03),
                title="SAE recovery at cos ≥ 0.9")
    axes[2].set(ylabel="MMCS, features → latents", ylim=(0, 1.03), title="SAE MMCS")
    for ax in axes:
        ax.set_xticks(x, [common.fmt(v) for v in cells.penalty], rotation=45, fontsize=7)
        ax.set_xlabel("the source's activation penalty λ (λ‖h‖₁)")
        ax.grid(alpha=0.3)
        ax.title.set_fontsize(9)
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=6, loc="lower right")
    what = (f"the §9 hybrid: SAEs on models trained with an activation penalty; mean over SAE seeds and "
            f"{len(hybrid.settings(results))} settings")
    fig.suptitle(figures.title(results, what), fontsize=9)
    return common.save(fig, directory, name)


def _symlog_positions(penalty: np.ndarray) -> np.ndarray:
    """x positions of the λ values: 0 one step left of the smallest positive λ, the rest on a log scale."""
    positive = penalty[penalty > 0]
    low = np.log10(positive.min()) if positive.size else 0.0
    return np.where(penalty > 0, np.log10(np.maximum(penalty, 1e-300)), low - 0.5)
