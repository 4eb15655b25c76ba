"""Double descent over the dataset size T (Henighan et al. 2023): the follow-up's first figure, as one figure.

Top: the test loss (stratified expected loss on fresh samples) against T, every seed a dot and their mean a
line, both axes logarithmic, with the training loss under it, and the peak marked with where it sits
against n, n·m and 1/density. Middle: the dimensionality of every training point D_t (red) and of every
feature D_i (blue) against T, with m/T, the value of a T-gon, dashed. Bottom, at a few T: the hidden vectors
h_t = W x_t of the training points (red) and the feature directions W_i (blue) in the 2-D hidden space, each
panel on its own scale, as in the follow-up's vector plots. The middle and bottom rows show, for each T, the
seed with the lowest training loss, as the follow-up keeps.

`curves_figure` draws the mean test loss against T of several runs (the jobs of a multirun, e.g. over
``model.n_hidden``: the follow-up's "effect of m") on one axes, each with its peak marked.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from toyjax.analysis import memorization
from toyjax.families.toy.metrics import feature_dimensionality
from toyjax.plots import common

GEOMETRY_PANELS = 7
MAX_FEATURES_DRAWN = 2000  # the longest features of a larger model: thousands of near-zero lines add only ink
POINT, FEATURE = "#d62728", "#1f77b4"


def unfit(config: dict, dims: tuple[str, ...]) -> str | None:
    """Why the figure cannot be drawn on a run: it is drawn against T, so it needs the dataset_size axis."""
    return None if "dataset_size" in dims else "needs the grid axis dataset_size (grid.axes.dataset_size: a finite " \
                                               "training set per model, drawn against T)"


def double_descent_figure(results, directory: Path, name: str = "double_descent") -> list[Path]:
    """The test loss against T with its peak, the dimensionalities against T, and 2-D geometry at a few T."""
    c = memorization.curve(results)
    sizes = c["dataset_size"]
    chosen = _chosen(results)
    panels = _panel_sizes(sizes, memorization.peak(results)["dataset_size"])
    fig = plt.figure(figsize=(2.05 * len(panels) + 0.6, 12.2), constrained_layout=True)
    grid = fig.add_gridspec(5, len(panels), height_ratios=[2.2, 1.0, 2.2, 1.15, 1.15])
    loss = fig.add_subplot(grid[0, :])
    train, dims = (fig.add_subplot(grid[i, :], sharex=loss) for i in (1, 2))
    _draw_loss(loss, train, results, c)
    _draw_dimensionality(dims, results, sizes, chosen)
    for col, k in enumerate(panels):
        _draw_geometry(fig.add_subplot(grid[3, col]), fig.add_subplot(grid[4, col]), results, k, chosen[k])
    common.suptitle(fig, results, "double descent over the dataset size T: test loss, dimensionality of training "
                                  "points and features, and their geometry in the hidden space")
    return common.save(fig, directory, name)


def _chosen(results) -> list[tuple[int, ...]]:
    """The grid index of the lowest-training-loss model of every T."""
    axis = list(results.dims).index("dataset_size")
    others = tuple(s for i, s in enumerate(results.grid_shape) if i != axis)
    best = memorization.best_by_training_loss(results)
    out = []
    for k, flat in enumerate(best):
        rest = np.unravel_index(int(flat), others) if others else ()
        out.append(tuple(rest[:axis]) + (k,) + tuple(rest[axis:]))
    return out


def _panel_sizes(sizes: np.ndarray, peak: float) -> list[int]:
    """Indices of the T drawn as geometry panels: evenly spread over the (log-spaced) axis, the peak's among them."""
    k = min(GEOMETRY_PANELS, len(sizes))
    chosen = set(np.unique(np.round(np.linspace(0, len(sizes) - 1, k)).astype(int)).tolist())
    peak_index = int(np.argmin(np.abs(np.log(sizes / peak))))
    if peak_index not in chosen:
        chosen.discard(min(chosen - {0, len(sizes) - 1}, key=lambda i: abs(i - peak_index), default=None))
        chosen.add(peak_index)
    return sorted(chosen)


def _draw_loss(ax, below, results, c: dict) -> None:
    """Test loss per seed and its mean (log-log), the peak marked; the training loss on the panel below."""
    T = c["dataset_size"]
    for s in range(c["test"].shape[1]):
        ax.scatter(T, c["test"][:, s], s=12, color="k", alpha=0.35, lw=0, label=None if s else "test loss, one seed")
    ax.plot(T, c["test_mean"], "o-", color="k", ms=4, lw=1.6, label=f"test loss, mean of {c['test'].shape[1]} seeds")
    p = memorization.peak(results)
    n = int(results.config["model"]["n_features"])
    for axis in (ax, below):
        axis.axvline(p["dataset_size"], color="C3", lw=1.2, ls="--")
    ax.text(0.99, 0.96, f"test-loss peak at T = {p['dataset_size']:.0f}\n= {p['T_over_n']:.2g} n"
            f" = {p['T_over_nm']:.2g} n·m = {p['T_times_density']:.2g} / density\n"
            f"mean test loss {p['test_loss']:.4g} ({p['test_loss_smallest_T']:.4g} at the smallest T, "
            f"{p['test_loss_largest_T']:.4g} at the largest)", transform=ax.transAxes, ha="right", va="top",
            fontsize=8, color="C3", bbox={"facecolor": "white", "edgecolor": "C3", "lw": 0.6, "alpha": 0.9})
    _guides(ax, T, n, float(np.mean(results.density)))
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_ticks(ax)
    ax.set_ylabel("test loss (expected, fresh samples)")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    for s in range(c["train"].shape[1]):
        below.scatter(T, c["train"][:, s], s=8, color="0.4", alpha=0.4, lw=0)
    below.plot(T, c["train_mean"], "o-", color="0.4", ms=3, lw=1.2)
    _guides(below, T, n, float(np.mean(results.density)), labels=False)
    below.set_xscale("log")
    below.set_ylim(-0.03, 1.05 * max(1.0, float(np.nanmax(c["train"]))))
    below.set_ylabel("training loss")


def _plain_ticks(ax) -> None:
    """Plain numbers on a log y axis spanning less than a decade (1.05, not 1.05×10⁰)."""
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=np.arange(1, 10) / 10, numticks=30))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _guides(ax, T: np.ndarray, n: int, density: float, labels: bool = True) -> None:
    """Dotted lines at T = n and T = 1/density where they fall inside the axis."""
    for value, text in ((n, "T = n"), (1 / density, "T = 1/density")):
        if T.min() <= value <= T.max():
            ax.axvline(value, color="0.6", lw=0.8, ls=":")
            if labels:
                ax.text(value, 0.02, f" {text}", transform=ax.get_xaxis_transform(), fontsize=7, color="0.4")


def _draw_dimensionality(ax, results, sizes: np.ndarray, chosen: list) -> None:
    """D_t of every training point and D_i of every feature of the chosen model of each T, against T."""
    rng = np.random.default_rng(0)
    good = memorization.ok(results)
    for k, index in enumerate(chosen):
        if not good[index]:
            continue
        T = int(sizes[k])
        D_t = results.train_set["dimensionality"][index][:T]
        D_i = feature_dimensionality(np.asarray(common.feature_W(results.params)[index], np.float64))
        for values, color in ((D_i, FEATURE), (D_t, POINT)):
            x = sizes[k] * np.exp(rng.uniform(-0.06, 0.06, values.shape))
            ax.scatter(x, np.maximum(values, 1e-4), s=4, color=color, alpha=0.3, lw=0)
    ax.plot(sizes, np.minimum(1.0, results.config["model"]["n_hidden"] / sizes), "--", color=POINT, lw=1.0)
    ax.scatter([], [], s=12, color=POINT, label="training points D_t (dashed: m/T, a T-gon)")
    ax.scatter([], [], s=12, color=FEATURE, label="features D_i")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(8e-5, 1.6)
    ax.set_ylabel("dimensionality (≤ 1e-4 drawn at 1e-4)")
    ax.set_xlabel("dataset size T (the lowest-training-loss seed of each)")
    ax.legend(loc="upper right", fontsize=8, frameon=True, framealpha=0.9, ncol=2)


def _draw_geometry(top, bottom, results, k: int, index: tuple) -> None:
    """The chosen model of the k-th T: its training points' h_t (top, red), its features W_i (bottom, blue)."""
    T = int(results.coords["dataset_size"][k])
    if not memorization.ok(results)[index]:
        seeds = int(np.prod(results.grid_shape)) // len(results.coords["dataset_size"])
        for ax in (top, bottom):
            common.blank_panel(ax, "diverged" if seeds == 1 else f"all {seeds} seeds diverged")
        top.set_title(f"T = {T}", fontsize=8)
        return
    hidden = results.train_set["hidden"][index][:T]
    W = np.asarray(common.feature_W(results.params)[index], np.float64)
    norms = np.linalg.norm(W, axis=0)
    keep = np.argsort(norms)[::-1][:MAX_FEATURES_DRAWN]
    _vectors(top, hidden, POINT)
    _vectors(bottom, W[:, keep].T, FEATURE)
    geometry = memorization.point_geometry(results)
    on, via = geometry["represented"][index], geometry["through_features"][index]
    top.set_title(f"T = {T}\n{on:.0%} represented, {via:.0%} of them\nalong a feature", fontsize=8)
    bottom.set_title(f"{int(memorization.features_in_polygon(results)[index])} features with D_i ≥ "
                     f"{memorization.FEATURE_REPRESENTED}", fontsize=8)
    if k == 0 or top.get_subplotspec().colspan.start == 0:
        top.set_ylabel("h_t = W x_t", fontsize=8)
        bottom.set_ylabel("features W_i", fontsize=8)


def _vectors(ax, V: np.ndarray, color: str) -> None:
    """Vectors V (k, 2) as lines from the origin, on a square scale of their own."""
    segments = np.stack([np.zeros_like(V), V], axis=1)
    ax.add_collection(LineCollection(segments, colors=color, linewidths=0.9, alpha=0.8))
    ax.scatter(V[:, 0], V[:, 1], s=3, color=color, lw=0)
    lim = 1.1 * max(float(np.abs(V).max(initial=0.0)), 1e-6)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.plot([0], [0], "k.", ms=2)


def curves_figure(runs: list, labels: list[str], directory: Path, name: str = "combined") -> list[Path]:
    """The mean test loss against T of every run, one curve per run labelled by `labels`, peaks marked."""
    fig, ax = plt.subplots(figsize=(9, 5.2), constrained_layout=True)
    for k, (run, label) in enumerate(zip(runs, labels)):
        c, p = memorization.curve(run), memorization.peak(run)
        color = plt.get_cmap("viridis")(k / max(len(runs) - 1, 1))
        ax.plot(c["dataset_size"], c["test_mean"], "o-", ms=3.5, color=color,
                label=f"{label}: peak at T = {p['dataset_size']:.0f}")
        ax.plot([p["dataset_size"]], [p["test_loss"]], "v", ms=9, color=color)
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_ticks(ax)
    ax.set_xlabel("dataset size T (training points)")
    ax.set_ylabel("test loss (mean over seeds; ▼ the peak)")
    ax.legend(fontsize=8, title="job", title_fontsize=8)
    names = sorted({str(r.run_info.preset) for r in runs})
    ax.set_title(f"multirun of {', '.join(names)}: test loss against the dataset size, one curve per job", fontsize=10)
    return common.save(fig, directory, name)
