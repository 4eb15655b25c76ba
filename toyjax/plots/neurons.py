"""§7 privileged basis and §8 computation in superposition: neuron stack plots across densities.

One panel per density (best seed). Each column is a neuron; each block is one feature's weight into it, height
|w|, colour = feature, positive weights stacked above the axis and negative ones below. An untied model's
(abs_mlp's) neurons are normalised so that their largest |W1| weight is 1 (W2 scaled inversely; the function
is unchanged); every model's are sorted by the importance of their largest feature. Each neuron is marked M
(monosemantic: it codes one feature), the number of features it codes (polysemantic) or · (dead), and each
panel names the model's configuration ("3 monosemantic + 3 features in 2 neurons"); a neuron codes a feature
as `toyjax.analysis.neurons` says (with non-negative inputs only positive weights drive a neuron).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PolyCollection

from toyjax.analysis import neurons
from toyjax.plots import common

MARKS = {neurons.DEAD: ("·", "0.5"), neurons.MONOSEMANTIC: ("M", "C2"), neurons.POLYSEMANTIC: ("P", "C3")}
MIN_BLOCK = 0.01  # blocks thinner than this are invisible and only bloat the vector file
PANELS = 12  # every density of the presets (privileged_basis has 11); more are thinned and named in the title


def draw_stack(ax, data: dict, colors) -> None:
    """One stack plot from `toyjax.analysis.neurons.stack_plot_data` of a single model."""
    height, bottom = np.asarray(data["height"]), np.asarray(data["bottom"])
    m, n = height.shape
    k, i = np.nonzero(np.abs(height) >= MIN_BLOCK)
    x0, x1 = k - 0.4, k + 0.4
    y0, y1 = bottom[k, i], bottom[k, i] + height[k, i]
    boxes = np.stack([np.stack([x0, y0], -1), np.stack([x1, y0], -1), np.stack([x1, y1], -1),
                      np.stack([x0, y1], -1)], axis=1)
    ax.add_collection(PolyCollection(boxes, facecolors=[colors[j] for j in i], edgecolors="white",
                                     linewidths=0.2 if n <= 20 else 0))
    ax.axhline(0, color="k", lw=0.6)
    top = max(float(np.max(np.where(height > 0, bottom + height, 0), initial=0)), 0.5)
    low = min(float(np.min(np.where(height < 0, bottom + height, 0), initial=0)), -0.5)
    for k, code in enumerate(data["neuron_class"]):
        mark, color = MARKS[int(code)]
        mark = str(int(data["features_coded"][k])) if int(code) == neurons.POLYSEMANTIC else mark
        ax.text(k, top * 1.04, mark, ha="center", va="bottom", fontsize=8 if m <= 12 else 5, color=color,
                fontweight="bold")
    ax.set_ylim(low * 1.05, top * 1.18)
    ax.set_xlim(-0.6, m - 0.4)
    ax.set_xticks(range(m) if m <= 12 else [])
    ax.tick_params(labelsize=7)


def neurons_figure(results, directory: Path, name: str = "neurons") -> list[Path]:
    """§7/§8: stack plots of each density's best model, neurons marked mono/polysemantic."""
    cells = common.best_cells(results)
    if not ({"W1", "W"} & set(cells.params)):
        return []
    picked = common.spread(cells.indices(), PANELS)
    data = neurons.stack_plot_data(cells.params, cells.importance, common.signed_inputs(results))
    config = neurons.configuration(data["weights"], common.signed_inputs(results))
    n = cells.importance.shape[-1]
    colors = common.feature_colors(n)
    m = data["height"].shape[-2]
    cols = min(len(picked), 4 if m <= 12 else 2)  # wide panels for many neurons, two to a row
    rows = int(np.ceil(len(picked) / cols))
    width = max(2.6, 0.16 * m)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols + 1.6, 3.0 * rows + 1.4), squeeze=False,
                             constrained_layout=True)
    for ax in axes.ravel()[len(picked):]:
        ax.set_visible(False)
    for ax, index in zip(axes.ravel(), picked):
        if common.skip_panel(ax, cells, index, fontsize=8):
            continue
        one = {k: v[index] for k, v in data.items()}
        draw_stack(ax, one, colors)
        ax.set_title(f"{cells.label(index)}\n{neurons.describe_configuration(config, index)}", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("weight into neuron\n(normalised W1)" if "W1" in cells.params else "weight w_ki (W row k)",
                      fontsize=8)
    for ax in axes[-1, :]:
        ax.set_xlabel("neuron (sorted by its largest feature's importance)", fontsize=7)
    _feature_legend(fig, axes, n, colors)
    what = ("neuron stack plots: block height |w|, colour = feature, negative weights below the axis; "
            "M monosemantic, a number: the features a polysemantic neuron codes")
    common.suptitle(fig, results, f"{what}\n({common.seeds_note(cells) or 'one model per density'}"
                              f"{common.left_out(cells, picked)})")
    return common.save(fig, directory, name)


def _feature_legend(fig, axes, n: int, colors) -> None:
    """The coloured features by name; beyond `common.COLOURED_FEATURES`, one grey patch for the rest."""
    shown = min(n, common.COLOURED_FEATURES)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[i], label=f"feature {i}") for i in range(shown)]
    if n > shown:
        handles.append(plt.Rectangle((0, 0), 1, 1, color=colors[shown], label=f"features {shown}–{n - 1} "
                                     "(grey, lighter = less important)"))
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 6), frameon=False, fontsize=8,
               title="features, most important first", title_fontsize=8)
