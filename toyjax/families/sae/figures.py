"""Figures of SAE runs: decoder directions over the true features, MMCS heatmaps, recovery and the L0 frontier.

- `directions_figure` (``sae_directions``): in a 2-D source, each cell's best SAE as its decoder directions
  (unit length, dead latents dotted) over the source's feature arrows W_i; else the cosine of every feature
  with every latent.
- `mmcs_figure` (``sae_mmcs``): MMCS and the fraction of dead latents over the grid's first two axes, the
  mean over seeds in each cell (Sharkey, Braun and Millidge 2022, their L1 × dictionary-size heatmaps).
- `superposition_figure` (``sae_superposition``): the fraction of the source's learned features an SAE
  recovers, against the source's features per dimension ‖W‖_F²/m, one source cell per point.
- `frontier_figure` (``sae_frontier``): unexplained variance against L0, one point per cell, coloured by
  MMCS; `draw_frontier` overlays several runs (a multirun of ReLU against TopK, `toyjax.plots.combined`).

Every figure reads `Results.sae` (`toyjax.families.sae.train.records`). This module imports matplotlib, numpy,
`toyjax.analysis.aggregate`, `toyjax.families.sae.numbers`, `toyjax.analysis.summary` and `toyjax.plots.common`.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from toyjax.analysis.aggregate import take_seed
from toyjax.analysis.summary import valid
from toyjax.families.sae import numbers
from toyjax.plots import common

PANELS = 8
MIN_WIDTH = 6.8  # inches: the two-line title and the legend's three entries, whatever the number of panels
unfit = numbers.unfit  # every figure here reads `Results.sae`: an SAE run's (`toyjax.plots.registry.FIT`)
LONG_NAMES = {"l1_coefficient": "L1 coefficient λ", "dict_size": "dictionary size (× the features)", "k": "k (TopK)"}


def title(results, what: str) -> str:
    """'<preset>: <what>' over the SAE's kind, width, source and training length."""
    sae, model = results.config.get("sae", {}), results.config.get("model", {})
    steps = int(results.config.get("train", {}).get("steps", 0))
    source = sae.get("source_name") or ("synthetic features" if sae.get("source") == "synthetic" else "a toy run")
    return (f"{results.run_info.preset or 'toyjax'}: {what}\n{sae.get('kind')} SAEs of up to {sae.get('width')} "
            f"latents on {source} (n={model.get('n_features')} features in d={model.get('n_hidden')}), "
            f"{steps:,} steps")


def best(results) -> tuple[common.Cells, dict[str, np.ndarray]]:
    """The best seed of every cell (`toyjax.plots.common.best_cells`) and its `Results.sae` arrays."""
    cells = common.best_cells(results)
    if "seed" not in results.dims:
        return cells, {k: np.asarray(v) for k, v in results.sae.items()}
    axis = results.dims.index("seed")
    return cells, {k: take_seed(v, cells.seed, axis) for k, v in results.sae.items()}


def directions_figure(results, directory: Path, name: str = "sae_directions") -> list[Path]:
    """Each cell's best SAE: its decoder directions over the source's feature arrows (2-D), else cosines."""
    cells, sae = best(results)
    picked = common.spread(cells.indices(), PANELS)
    d = np.asarray(sae["features"]).shape[-2]
    cols = len(picked) if len(picked) <= 5 else 4
    rows = int(np.ceil(len(picked) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(max(3.1 * cols + 0.6, MIN_WIDTH), 3.3 * rows + 1.1), squeeze=False,
                             constrained_layout=True)
    for ax in axes.ravel()[len(picked):]:
        ax.set_visible(False)
    for ax, index in zip(axes.ravel(), picked):
        if common.skip_panel(ax, cells, index):
            continue
        features, W_dec = sae["features"][index], cells.params["W_dec"][index]
        live = ~np.asarray(sae["dead"][index], bool) & (np.arange(W_dec.shape[-1]) < _dict_size(results, cells,
                                                                                                  index))
        (_draw_directions if d == 2 else _draw_cosines)(ax, features, W_dec, live)
        found = int(round(sae["recovered_0.99_learned"][index] * sae["learned"][index].sum()))
        ax.set_title(f"{cells.label(index)}\nMMCS {sae['features_to_latents_learned'][index]:.3f}, "
                     f"{found}/{int(sae['learned'][index].sum())} at cos ≥ 0.99, L0 {sae['l0'][index]:.2f}",
                     fontsize=8)
    _key(fig, axes, d)
    fig.suptitle(title(results, "decoder directions over the true features; " + common.seeds_note(cells)),
                 fontsize=9)
    return common.save(fig, directory, name)


def _key(fig, axes, d: int) -> None:
    """Below the panels, in space the layout keeps for it: the arrows' legend (2-D), else the cosines' colour bar."""
    if d != 2:
        scale = plt.cm.ScalarMappable(plt.Normalize(-1, 1), common.DIVERGING)
        bar = fig.colorbar(scale, ax=axes, location="bottom", shrink=0.5, aspect=40)
        bar.set_label("cos(true feature i, latent)", fontsize=8)
        bar.ax.tick_params(labelsize=7)
        return
    handles = [plt.Line2D([], [], color="C1", lw=2, label="true features W_i of the source (one colour each)"),
               plt.Line2D([], [], color="k", lw=1.2, label="decoder direction (unit length)"),
               plt.Line2D([], [], color="0.6", lw=1, ls=":", label="dead latent")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8, frameon=False)


def _dict_size(results, cells, index) -> int:
    size = results.config.get("sae", {}).get("width", 0)
    if "dict_size" in cells.dims:
        size = int(cells.coords["dict_size"][index[cells.dims.index("dict_size")]])
    return size


def _draw_directions(ax, features: np.ndarray, W_dec: np.ndarray, live: np.ndarray) -> None:
    """The features as coloured arrows, each live latent's unit decoder direction as a black spoke."""
    n = features.shape[-1]
    ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, ls="--", lw=0.6, color="0.6"))
    ax.quiver(np.zeros(n), np.zeros(n), features[0], features[1], color=common.feature_colors(n), angles="xy",
              scale_units="xy", scale=1, width=0.014, zorder=3)
    reach = 1.25 * max(1.0, float(np.linalg.norm(features, axis=0).max(initial=0)))
    ax.set(xlim=(-reach, reach), ylim=(-reach, reach), aspect="equal", xticks=[], yticks=[])
    unit = W_dec / np.maximum(np.linalg.norm(W_dec, axis=0, keepdims=True), 1e-12)
    for j in range(unit.shape[-1]):
        style = {"color": "k", "lw": 1.1} if live[j] else {"color": "0.6", "lw": 0.8, "ls": ":"}
        ax.plot([0, unit[0, j]], [0, unit[1, j]], zorder=4, **style)
        if live[j]:
            ax.plot(unit[0, j], unit[1, j], "o", ms=3, color="k", zorder=5)


def _draw_cosines(ax, features: np.ndarray, W_dec: np.ndarray, live: np.ndarray) -> None:
    F = features / np.maximum(np.linalg.norm(features, axis=0, keepdims=True), 1e-12)
    D = W_dec / np.maximum(np.linalg.norm(W_dec, axis=0, keepdims=True), 1e-12)
    C = (F.T @ D)[:, live]
    order = np.argsort(np.argmax(C, axis=0), kind="stable") if C.size else []
    ax.imshow(C[:, order], cmap=common.DIVERGING, vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    ax.set_xlabel("live latent (by best feature)", fontsize=7)
    ax.set_ylabel("true feature i", fontsize=7)
    ax.tick_params(labelsize=6)


def _cell_means(results, name: str) -> np.ndarray:
    return numbers.seed_mean(results, numbers.number(results, name), valid(results))


def _axis_labels(results, axis: str) -> list[str]:
    values = np.ravel(results.coords[axis])
    if axis == "dict_size":
        n = int(results.config["model"]["n_features"])
        return [f"{int(v)} (×{v / n:.3g})" for v in values]
    return [common.fmt(v) for v in values]


def mmcs_figure(results, directory: Path, name: str = "sae_mmcs") -> list[Path]:
    """MMCS (both ways) and dead latents over the first two cell axes, mean over seeds, values written in."""
    dims = numbers.cell_dims(results)
    if len(dims) != 2:
        return frontier_figure(results, directory, name)
    panels = (("mmcs", "MMCS, features → latents", "viridis"), ("mmcs_latents", "MMCS, latents → features",
                                                                 "viridis"),
              ("fraction_dead", "fraction of dead latents", "magma_r"))
    fig, axes = plt.subplots(1, 3, figsize=(15.5, 4.9), constrained_layout=True)
    for ax, (key, label, cmap) in zip(axes, panels):
        values = _cell_means(results, key).T  # rows: the second axis
        image = ax.imshow(values, origin="lower", cmap=cmap, vmin=0, vmax=1, aspect="auto")
        for (row, col), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(col, row, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="w" if (v < 0.55) == (cmap == "viridis") else "k")
        ax.set_xticks(range(values.shape[1]), _axis_labels(results, dims[0]), rotation=45, fontsize=7)
        ax.set_yticks(range(values.shape[0]), _axis_labels(results, dims[1]), fontsize=7)
        ax.set_xlabel(LONG_NAMES.get(dims[0], dims[0]))
        ax.set_ylabel(LONG_NAMES.get(dims[1], dims[1]))
        ax.set_title(label, fontsize=10)
        fig.colorbar(image, ax=ax, shrink=0.85)
    seeds = f"mean of {results.grid_shape[results.dims.index('seed')]} seeds" if "seed" in results.dims else ""
    fig.suptitle(title(results, f"MMCS with the true features and dead latents; {seeds}"), fontsize=9)
    return common.save(fig, directory, name)


def _curves(results, values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Cell means (grid without seeds) as (cells along the first axis, one column per combination of the
    other axes), and a label per column ("λ 0.3"; "" when there is no other axis)."""
    dims = numbers.cell_dims(results)
    values = np.asarray(values, np.float64).reshape(len(results.coords[dims[0]]), -1)
    others = [np.ravel(results.coords[d]) for d in dims[1:]]
    labels = [", ".join(f"{common.AXIS_NAMES.get(d, d)} {common.fmt(v)}" for d, v in zip(dims[1:], combo))
              for combo in itertools.product(*others)] or [""]
    return values, labels


def superposition_figure(results, directory: Path, name: str = "sae_superposition") -> list[Path]:
    """Recovery of the source's learned features against its features per dimension, and MMCS against its
    density: one point per source cell (the first axis), one colour per value of the other axes (e.g. λ)."""
    ok = valid(results)
    fpd, _ = _curves(results, numbers.seed_mean(results, results.sae["source_features_per_dimension"], ok))
    density, _ = _curves(results, numbers.seed_mean(results, np.asarray(results.density)[..., 0], ok))
    learned, _ = _curves(results, numbers.seed_mean(results, np.sum(results.sae["learned"], axis=-1), ok))
    fig, (left, right) = plt.subplots(1, 2, figsize=(13.5, 5.2), constrained_layout=True)
    for key, style in (("recovered_0.9", "o-"), ("recovered_0.99", "s--")):
        values, labels = _curves(results, _cell_means(results, key))
        for c, label in enumerate(labels):
            order = np.argsort(fpd[:, c])
            left.plot(fpd[order, c], values[order, c], style, ms=3.5, lw=1.3, color=_shade(c, len(labels)),
                      label=f"{label}: cos ≥ {key.split('_')[1]}".lstrip(": "))
    values, labels = _curves(results, _cell_means(results, "mmcs"))
    for c, label in enumerate(labels):
        right.plot(1 / density[:, c], values[:, c], "o-", ms=3.5, color=_shade(c, len(labels)),
                   label=f"MMCS, {label}" if label else "MMCS")
    twin = right.twinx()
    twin.plot(1 / density[:, 0], learned[:, 0], ":", color="0.45", lw=1.5, label="features the toy model learned")
    twin.set_ylabel("features the toy model learned (‖W_i‖ ≥ 0.3)", color="0.35")
    twin.set_ylim(bottom=0)
    left.set(xlabel="source's features per dimension ‖W‖_F²/m", ylabel="fraction of its learned features recovered",
             ylim=(0, 1.03), title="recovery against superposition (one SAE per source cell)")
    right.set(xscale="log", xlabel=common.INVERSE_DENSITY_LABEL + " of the source's data", ylim=(0, 1.03),
              ylabel="MMCS, features → latents", title="MMCS against the source's density")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.title.set_fontsize(9)
    left.legend(fontsize=7, loc="center", bbox_to_anchor=(0.7, 0.55), ncol=2 if len(labels) > 1 else 1)
    handles = right.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    right.legend(handles=handles, fontsize=7, loc="lower left")
    seeds = common.seeds_note(common.best_cells(results)).replace("best of", "mean of").replace(" by expected loss", "")
    fig.suptitle(title(results, "how much of a toy model's superposition an SAE takes back out" +
                       (f"; {seeds}" if seeds else "")), fontsize=9)
    return common.save(fig, directory, name)


def superposition_unfit(config: dict, dims: tuple[str, ...]) -> str | None:
    """Why `superposition_figure` cannot be drawn on a run: not an SAE run, or no axis but the seed's to draw along."""
    why = unfit(config, dims)
    if why:
        return why
    return None if set(dims) - {"seed"} else ("draws one point per source cell: needs a grid axis besides seed "
                                              "(grid.axes.source_cell: all)")


def _shade(k: int, count: int):
    return plt.get_cmap("plasma")(0.8 * k / max(count - 1, 1)) if count > 1 else "C0"


def frontier_points(results) -> dict[str, np.ndarray]:
    """L0, unexplained variance, MMCS and label of every cell's best seed, sorted by L0."""
    cells, sae = best(results)
    ok = np.ravel(cells.status == common.TRAINED)
    l0 = np.ravel(sae["l0"])[ok]
    order = np.argsort(l0)
    fvu = 1 - np.ravel(sae["fraction_variance_explained"])[ok]
    labels = np.array([cells.label(i) for i in cells.indices()], dtype=object)[ok]
    return {"l0": l0[order], "fvu": np.maximum(fvu[order], 1e-6), "label": labels[order],
            "mmcs": np.ravel(sae["features_to_latents_learned"])[ok][order]}


def draw_frontier(ax, runs: list, labels: list[str], annotate: bool = False):
    """Each run's cells as unexplained variance against L0, a line per run, points coloured by MMCS (and, with
    `annotate`, named by their cell)."""
    image = None
    for k, (run, label) in enumerate(zip(runs, labels)):
        p = frontier_points(run)
        ax.plot(p["l0"], p["fvu"], "-", color=f"C{k}", lw=1.4, label=label, zorder=1)
        image = ax.scatter(p["l0"], p["fvu"], c=p["mmcs"], cmap="viridis", vmin=0, vmax=1, s=42,
                           edgecolors=f"C{k}", linewidths=1.2, zorder=2, marker="os^D"[k % 4])
        for x, y, text in zip(p["l0"], p["fvu"], p["label"]) if annotate else ():
            ax.annotate(text, (x, y), xytext=(6, 4), textcoords="offset points", fontsize=7, color="0.25")
    active = {round(float(np.mean(np.sum(r.density, axis=-1))), 3) for r in runs}
    if len(active) == 1:
        ax.axvline(active.pop(), color="0.4", ls=":", lw=1, label="features active per input (the data's L0)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("L0 (active latents per input)")
    ax.set_ylabel("unexplained variance 1 − FVE")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return image


def frontier_figure(results, directory: Path, name: str = "sae_frontier") -> list[Path]:
    """The run's L0 – unexplained-variance frontier, one point per cell (best seed), coloured by MMCS."""
    fig, ax = plt.subplots(figsize=(7.5, 5.2), constrained_layout=True)
    kind = results.config.get("sae", {}).get("kind", "SAE")
    image = draw_frontier(ax, [results], [f"{kind}, over {' × '.join(numbers.cell_dims(results)) or 'seeds'}"],
                          annotate=True)
    fig.colorbar(image, ax=ax).set_label("MMCS, features → latents")
    fig.suptitle(title(results, "L0 against reconstruction"), fontsize=9)
    return common.save(fig, directory, name)

