"""Shared pieces of the figures: the best model of each cell, panel labels, colour scales and saving.

Every figure shows one model per grid cell where it draws a solution; that model is the seed with the lowest
stratified expected loss (`Results.eval_loss`), diverged and missing seeds excluded
(`toyjax.analysis.aggregate`). What a run's model is comes from its `Architecture` (`architecture`), never
from its kind's name, which is only a label. This module imports matplotlib, numpy, `toyjax.analysis`,
`toyjax.families.toy.architecture`, `toyjax.families.toy.models`, `toyjax.families.schemas` and `toyjax.fileio`.
A figure drawn from a toy model's weights refuses, before anything is compiled, a run of another built-in family
(`toy_unfit`, the fit check of `toyjax.plots.registry.FIT`).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from toyjax.analysis.aggregate import best_seed, ranking_loss, take_seed  # noqa: E402
from toyjax.analysis.summary import architecture as run_architecture  # noqa: E402
from toyjax.analysis.summary import missing, valid  # noqa: E402
from toyjax.families.schemas import KINDS  # noqa: E402
from toyjax.families.toy.architecture import Architecture, describes_toy  # noqa: E402
from toyjax.families.toy.models import feature_matrix  # noqa: E402
from toyjax.fileio import atomic_write  # noqa: E402

FORMATS = ("png", "svg")
DPI = 120
MAX_PANELS = 8
DENSITY_LABEL = "feature density (1−S)"
INVERSE_DENSITY_LABEL = "1/(1−S)"
AXIS_NAMES = {
    "density": "density",
    "extra_density": "varied feature's density",
    "extra_importance": "extra importance",
    "importance_decay": "importance decay",
    "lr": "lr",
    "weight_decay": "weight decay",
    "init_scale": "init scale",
    "l1_coefficient": "λ",  # an SAE's L1 coefficient
    "dict_size": "dictionary size",
    "source_cell": "source cell",
}
# The dimensionalities of §4's polytopes, drawn as guide lines: dedicated, tetrahedron, triangle, digon,
# pentagon, square antiprism.
FRACTIONS = ((1.0, "1"), (3 / 4, "3/4"), (2 / 3, "2/3"), (1 / 2, "1/2"), (2 / 5, "2/5"), (3 / 8, "3/8"))
# Diverging scale of the §2 heatmaps, and the fixed 0..1 scale of the superposition bar colour.
DIVERGING = "RdBu_r"
SUPERPOSITION_CMAP = "viridis"
STATUS = ("trained", "diverged", "missing")  # a cell's model: what its panel shows
TRAINED, DIVERGED, MISSING = range(len(STATUS))


@dataclass
class Cells:
    """The best seed of every grid cell: arrays have leading dims `dims` (the grid without its seed axis)."""

    dims: tuple[str, ...]
    coords: dict[str, np.ndarray]
    params: dict[str, np.ndarray]
    eval_loss: np.ndarray
    density: np.ndarray
    importance: np.ndarray
    history: dict[str, Any]
    seed: np.ndarray  # the chosen seed index per cell
    n_seeds: int
    status: np.ndarray  # per cell: TRAINED, or DIVERGED / MISSING when no seed of the cell trained
    n_missing: np.ndarray  # per cell: how many of its seeds are missing (shards left out of a merge)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.eval_loss.shape)

    def indices(self) -> list[tuple[int, ...]]:
        """Every cell's index, in C order."""
        return list(np.ndindex(*self.shape))

    def label(self, index: tuple[int, ...]) -> str:
        """'density 0.1' style label of one cell (every non-seed axis)."""
        return ", ".join(f"{AXIS_NAMES.get(d, d)} {fmt(self.coords[d][i])}" for d, i in zip(self.dims, index))

    def note(self, index: tuple[int, ...]) -> str | None:
        """Why the cell shows no model ('every seed diverged', 'missing: shard not merged'), or None."""
        code = int(self.status[index])
        if code == DIVERGED:
            return "diverged" if self.n_seeds == 1 else f"all {self.n_seeds} seeds diverged"
        return "missing: shard not merged" if code == MISSING else None

    def take(self, tree, index):
        """The entry of one cell from every array of a nested dict (or one array)."""
        if isinstance(tree, dict):
            return {k: self.take(v, index) for k, v in tree.items()}
        return np.asarray(tree)[index]


def fmt(value) -> str:
    """Short number: 0.1, 0.003, 1, or a per-feature list's distinct values."""
    v = np.asarray(value, dtype=np.float64)
    if v.ndim:
        uniq = np.unique(v)
        return fmt(uniq[0]) if uniq.size == 1 else "[" + ",".join(fmt(u) for u in v) + "]"
    return f"{float(v):.3g}"


def finite_loss(results) -> np.ndarray:
    """eval_loss with diverged or missing models set to +inf (`toyjax.analysis.aggregate.ranking_loss`)."""
    return ranking_loss(results.eval_loss, ~valid(results))


def best_cells(results) -> Cells:
    """Keep the best seed (lowest `eval_loss`, diverged ignored) of every cell; a grid without seeds is kept."""
    dims = tuple(results.dims)
    loss = finite_loss(results)
    history = {k: v for k, v in (results.history or {}).items() if k != "step"}
    status = np.where(missing(results), MISSING, np.where(np.asarray(results.diverged, bool), DIVERGED, TRAINED))
    if "seed" not in dims:
        return Cells(dims, dict(results.coords), dict(results.params), loss, np.asarray(results.density),
                     np.asarray(results.importance), {**history, "step": _steps(results)},
                     np.zeros(loss.shape, int), 1, status, missing(results).astype(int))
    axis = dims.index("seed")
    best = best_seed(loss, axis)

    def pick(a):
        return take_seed(a, best, axis)

    def pick_tree(tree):
        return {k: pick_tree(v) for k, v in tree.items()} if isinstance(tree, dict) else pick(tree)

    rest = dims[:axis] + dims[axis + 1 :]
    return Cells(
        dims=rest,
        coords={d: np.asarray(results.coords[d]) for d in rest},
        params=pick_tree(dict(results.params)),
        eval_loss=pick(loss),
        density=pick(results.density),
        importance=pick(results.importance),
        history={**pick_tree(history), "step": _steps(results)},
        seed=best,
        n_seeds=int(results.grid_shape[axis]),
        status=pick(status),  # the best seed is a trained one wherever the cell has one
        n_missing=missing(results).sum(axis=axis),
    )


def _steps(results) -> np.ndarray:
    return np.asarray((results.history or {}).get("step", np.zeros(0)))


def blank_panel(ax, text: str) -> None:
    """A panel that says why it shows no model (a diverged or missing one), instead of drawing garbage."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="C3", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("C3")
        spine.set_linestyle(":")


def skip_panel(ax, cells: Cells, index: tuple[int, ...], fontsize: int = 9) -> bool:
    """Blank the panel of a cell with no trained model (saying why, under the cell's label); True if so."""
    note = cells.note(index)
    if note is not None:
        blank_panel(ax, note)
        ax.set_title(cells.label(index), fontsize=fontsize)
    return note is not None


def spread(items: list, k: int = MAX_PANELS) -> list:
    """At most `k` items, evenly spread over the list and keeping both ends."""
    if len(items) <= k:
        return list(items)
    return [items[i] for i in np.unique(np.round(np.linspace(0, len(items) - 1, k)).astype(int))]


def seeds_note(cells: Cells) -> str:
    """'best of N seeds by expected loss' (or '' for a grid without a seed axis)."""
    return f"best of {cells.n_seeds} seeds by expected loss" if cells.n_seeds > 1 else ""


def title(results, what: str, width: int = 110) -> str:
    """Figure title: '<preset>: <what> — n=…, m=…, kind, steps'."""
    model = results.config.get("model", {})
    steps = int(results.config.get("train", {}).get("steps", 0))
    name = results.run_info.preset or "toyjax"
    what = "\n".join(textwrap.wrap(f"{name}: {what}", width=width))
    return (f"{what}\n{model.get('kind')}, n={model.get('n_features')} features, "
            f"m={model.get('n_hidden')} hidden dimensions, {steps:,} steps")


def suptitle(fig, results, what: str) -> None:
    """Set the figure title (`title`), wrapped to the figure's width."""
    fig.suptitle(title(results, what, width=max(60, int(fig.get_figwidth() * 12))), fontsize=10)


COLOURED_FEATURES = 10  # beyond this many features, the rest are greys: 100 shades of one map cannot be told apart


def feature_colors(n: int):
    """One colour per feature: tab10 for the 10 most important, then greys, darker for the more important."""
    colors = [plt.get_cmap("tab10")(i) for i in range(min(n, COLOURED_FEATURES))]
    rest = max(n - COLOURED_FEATURES, 0)
    if rest:
        colors[7] = "#1a237e"  # tab10's own grey would pass for one of the greys that follow
    return colors + [str(round(0.35 + 0.5 * k / max(rest - 1, 1), 3)) for k in range(rest)]


def left_out(cells: Cells, picked: list) -> str:
    """'; not shown: density 0.12, 0.05' when a figure draws only some of the cells, else ''."""
    hidden = [index for index in cells.indices() if index not in picked]
    if not hidden:
        return ""
    return f"; {len(picked)} of {len(cells.indices())} cells shown, not: " + "; ".join(cells.label(i) for i in hidden)


def save(fig, directory: str | Path, name: str) -> list[Path]:
    """Write `fig` as <name>.png (DPI) and every vector format in FORMATS, each atomically; close it; return the
    paths."""
    directory = Path(directory)
    paths = [directory / f"{name}.{ext}" for ext in FORMATS]
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path in paths:
            atomic_write(path, lambda f, ext=path.suffix[1:]: fig.savefig(f, dpi=DPI, format=ext))
    finally:
        plt.close(fig)
    return paths


def signed_inputs(results) -> bool:
    """Whether the run's feature values take both signs (data.signed: the §8 absolute-value task)."""
    return bool(results.config.get("data", {}).get("signed", False))


def model_kind(results) -> str:
    """The run's ``model.kind``, as a label only: what the model is, `architecture` says."""
    return str(results.config.get("model", {}).get("kind", ""))


def architecture(results) -> Architecture | None:
    """What the run's toy model is (`toyjax.analysis.summary.architecture`); None for an SAE run or a family of
    one's own."""
    return run_architecture(results.config)


def feature_W(params: dict) -> np.ndarray:
    """Feature directions as a NumPy array: W of a tied model, W1 of an untied one
    (`toyjax.families.toy.models.feature_matrix`)."""
    return np.asarray(feature_matrix(params))


def toy_unfit(config: dict, dims: tuple[str, ...]) -> str | None:
    """Why a figure drawn from a toy model's weights cannot be drawn on a run: a built-in kind that is not a toy
    model (a family of one's own may record the same weights, and is not refused); None where it can."""
    kind = config["model"]["kind"]
    if kind not in KINDS or describes_toy(kind):
        return None
    toys = ", ".join(k for k in KINDS if describes_toy(k))
    return f"is drawn from a toy model's weights: it needs a toy model's run (model.kind: {toys}), got " \
           f"model.kind={kind}"
