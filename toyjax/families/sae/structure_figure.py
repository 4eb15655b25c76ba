"""Figures of SAEs on structured features: absorption on a hierarchy, and the matched latents against L0.

- `hierarchy_figure` (``sae_hierarchy``): on hierarchical features, each cell's absorption, hedging, MCC and
  variance explained, every seed a dot; `draw_hierarchy` sets several runs side by side (a multirun of
  BatchTopK against Matryoshka, `toyjax.plots.combined`).
- `l0_figure` (``sae_l0``): MCC and the matched latents' precision, recall and F1 against L0 (SynthSAEBench's
  plot), one point per cell, the mean over seeds.

Both read `Results.sae` (`toyjax.families.sae.train.records`; absorption and hedging exist where the data has a
hierarchy). This module imports matplotlib, numpy, `toyjax.analysis.summary`, `toyjax.families.sae.numbers`,
`toyjax.families.sae.figures` and `toyjax.plots.common`.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from toyjax.analysis.summary import valid
from toyjax.families.sae import numbers
from toyjax.families.sae.figures import title
from toyjax.plots import common

unfit = numbers.unfit  # both figures read `Results.sae`: an SAE run's (`toyjax.plots.registry.FIT`)
HIERARCHY_PANELS = (("absorption", "absorption rate (mean over parent → child pairs)"),
                    ("hedging", "hedging (mean over pairs)"), ("mcc", "MCC (matched latents)"),
                    ("fraction_variance_explained", "fraction of variance explained"))


def seed_columns(results, name: str) -> tuple[list[str], np.ndarray]:
    """A summary number as (a label per cell, values (cells, seeds)), NaN for the models that did not train."""
    values = np.where(valid(results), numbers.number(results, name), np.nan)
    dims = numbers.cell_dims(results)
    if "seed" in results.dims:
        values = np.moveaxis(values, results.dims.index("seed"), -1)
    values = values.reshape(-1, values.shape[-1] if "seed" in results.dims else 1)
    labels = [", ".join(f"{common.AXIS_NAMES.get(d, d)} {common.fmt(v)}" for d, v in zip(dims, combo))
              for combo in itertools.product(*(np.ravel(results.coords[d]) for d in dims))] or [""]
    return labels, values


def draw_hierarchy(axes, runs: list, labels: list[str]) -> None:
    """Per run and cell, absorption, hedging, MCC and variance explained: each seed a dot, their mean a bar."""
    for ax, (key, title_text) in zip(axes, HIERARCHY_PANELS):
        ticks = []
        for k, (run, label) in enumerate(zip(runs, labels)):
            cells, values = seed_columns(run, key)
            for cell, seeds in zip(cells, values):
                x = len(ticks)
                ticks.append("\n".join(part for part in (*label.split(", "), cell) if part))
                if np.isfinite(seeds).any():
                    ax.bar(x, np.nanmean(seeds), color=f"C{k}", alpha=0.45, width=0.7)
                ax.plot(np.full(seeds.shape, x), seeds, "o", ms=4, color=f"C{k}")
        ax.set_xticks(range(len(ticks)), ticks, fontsize=7)
        if key != "hedging":  # hedging is signed: a parent's latent may lean away from a child
            ax.set_ylim(0, 1.02)
        ax.set_title(title_text, fontsize=9)
        ax.grid(alpha=0.3, axis="y")


def hierarchy_figure(results, directory: Path, name: str = "sae_hierarchy") -> list[Path]:
    """Absorption, hedging, MCC and variance explained of every SAE on hierarchical features, per cell."""
    fig, axes = plt.subplots(1, len(HIERARCHY_PANELS), figsize=(15, 4.6), constrained_layout=True)
    draw_hierarchy(axes, [results], [str(results.config.get("sae", {}).get("kind", ""))])
    fig.suptitle(title(results, "absorption and hedging on a feature hierarchy; each dot a seed, bars their mean"),
                 fontsize=9)
    return common.save(fig, directory, name)


L0_CURVES = (("mcc", "MCC", "o-"), ("precision", "precision", "s--"), ("recall", "recall", "^--"),
             ("f1", "F1", "d:"))


def l0_figure(results, directory: Path, name: str = "sae_l0") -> list[Path]:
    """MCC and the matched latents' precision, recall and F1 against L0, one point per cell (mean over seeds)."""
    ok = valid(results)
    l0 = np.ravel(numbers.seed_mean(results, numbers.number(results, "l0"), ok))
    order = np.argsort(l0)
    fig, ax = plt.subplots(figsize=(8, 5.2), constrained_layout=True)
    for k, (key, label, style) in enumerate(L0_CURVES):
        values = np.ravel(numbers.seed_mean(results, numbers.number(results, key), ok))
        ax.plot(l0[order], values[order], style, color=f"C{k}", ms=5, label=label)
    labels, _ = seed_columns(results, "l0")
    for x, text in zip(l0, labels):
        ax.annotate(text, (x, 0.02), rotation=90, fontsize=7, color="0.35", ha="center", va="bottom")
    ax.set(xscale="log", xlabel="L0 (active latents per input, mean over seeds)", ylabel="mean over matched latents",
           ylim=(0, 1.03))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.suptitle(title(results, "MCC, precision and recall of the matched latents against L0"), fontsize=9)
    return common.save(fig, directory, name)
