"""The §3 phase diagram of Elhage et al. (2022): the trained grid's phase map beside the analytic one.

Left: each (density, relative extra importance) cell coloured by the phase of its best seed (lowest
stratified `eval_loss`), with the analytic boundaries drawn over it. Right: the analytic phase
(`toyjax.analysis.theory.analytic_phase`) on a fine grid. Both axes are logarithmic.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from toyjax.analysis import phase, theory  # noqa: E402
from toyjax.analysis.summary import phase_summary  # noqa: E402
from toyjax.plots import common  # noqa: E402

COLORS = {
    theory.UNCLEAR: "#d9d9d9",
    theory.NOT_REPRESENTED: "#4c72b0",
    theory.DEDICATED: "#55a868",
    theory.ORDINARY_ANTIPODAL: "#ccb974",
    theory.SUPERPOSITION: "#c44e52",
}
LABELS = {
    theory.UNCLEAR: "unclear",
    theory.NOT_REPRESENTED: "extra feature not represented",
    theory.DEDICATED: "extra feature gets a dedicated dimension",
    theory.ORDINARY_ANTIPODAL: "dedicated; ordinary features antipodal",
    theory.SUPERPOSITION: "extra feature in superposition (antipodal)",
}
_CMAP = ListedColormap([COLORS[c] for c in range(len(theory.PHASES))])
_NORM = BoundaryNorm(np.arange(len(theory.PHASES) + 1) - 0.5, _CMAP.N)


def cell_edges(values: np.ndarray) -> np.ndarray:
    """Cell edges of log-spaced centres (geometric midpoints, extrapolated at both ends)."""
    v = np.log(np.asarray(values, dtype=np.float64))
    if v.size == 1:
        return np.exp(v + np.array([-0.5, 0.5]))
    mid = (v[1:] + v[:-1]) / 2
    return np.exp(np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]]))


def on_diagram(values: np.ndarray, dims: tuple[str, ...]) -> np.ndarray:
    """A map over the grid without its seed axis as (density, extra importance); other axes at their first value."""
    for axis in [d for d in dims if d not in ("density", "extra_importance")]:
        values = np.take(values, 0, axis=dims.index(axis))
        dims = tuple(d for d in dims if d != axis)
    return np.transpose(values, [dims.index("density"), dims.index("extra_importance")])


def empirical_map(results) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(density values (D,), relative importances (R,), phase codes (D, R)) of the trained grid.

    Seeds are aggregated best-of-N by `eval_loss`; any other grid axis is fixed at its first value.
    """
    loss = common.finite_loss(results)
    codes, rest = phase.aggregate_phase(np.asarray(results.params["W"]), loss, tuple(results.dims), "best")
    codes = on_diagram(codes, rest)
    ordinary = float(np.asarray(results.importance).reshape(-1, results.importance.shape[-1])[0, 0])
    density = np.asarray(results.coords["density"], dtype=np.float64)
    ratio = np.asarray(results.coords["extra_importance"], dtype=np.float64) / ordinary
    return density, ratio, codes


def phase_figure(results, directory: Path, name: str = "phase") -> list[Path]:
    """Write ``<name>.png`` and ``<name>.svg``; returns [] unless density and extra_importance are grid axes."""
    if not {"density", "extra_importance"} <= set(results.dims):
        return []
    n = int(results.config["model"]["n_features"])
    m = int(results.config["model"]["n_hidden"])
    density, ratio, codes = empirical_map(results)
    s_fine = np.geomspace(cell_edges(density)[0], cell_edges(density)[-1], 300)
    r_fine = np.geomspace(cell_edges(ratio)[0], cell_edges(ratio)[-1], 300)
    # The top cell's edge lies above density 1, where no model exists: the analytic map holds density 1 there.
    analytic = np.asarray(theory.analytic_phase(n, np.minimum(s_fine, 1.0)[:, None], r_fine[None, :])[0])

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5), sharex=True, sharey=True, constrained_layout=True)
    left.pcolormesh(cell_edges(ratio), cell_edges(density), codes, cmap=_CMAP, norm=_NORM, rasterized=True)
    marked = _mark_untrained(left, results, ratio, density)
    left.contour(r_fine, s_fine, analytic, levels=np.arange(len(theory.PHASES)) + 0.5, colors="k", linewidths=1.2)
    right.pcolormesh(r_fine, s_fine, analytic, cmap=_CMAP, norm=_NORM, shading="nearest", rasterized=True)
    seeds = len(results.coords["seed"]) if "seed" in results.dims else 1
    left.set_title(f"trained (best of {seeds} seed{'s' * (seeds > 1)}; black: analytic boundary)")
    right.set_title("analytic (argmin of expected loss)")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("relative importance of the extra feature")
    left.set_ylabel("feature density (1−S)")
    shown = sorted(set(np.unique(codes)) | set(theory.CANDIDATES[n]))
    handles = [Patch(color=COLORS[c], label=LABELS[c]) for c in shown]
    handles += [Patch(facecolor="white", edgecolor="C3", hatch=HATCH[s], label=MARK_LABELS[s]) for s in marked]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 3), frameon=False)
    fig.suptitle(f"{results.run_info.preset or 'phase diagram'}: n={n}, m={m}, "
                 f"{int(results.config['train']['steps']):,} steps — {_score(results)}")
    return common.save(fig, directory, name)


HATCH = {common.DIVERGED: "xx", common.MISSING: "//"}
MARK_LABELS = {common.DIVERGED: "every seed diverged", common.MISSING: "seeds missing (shards not merged)"}


def _mark_untrained(ax, results, ratio: np.ndarray, density: np.ndarray) -> list[int]:
    """Hatch the cells whose every seed diverged or is missing (white), or some of whose seeds are missing
    (over their colour, which is then that of the best seed present); returns the statuses drawn."""
    cells = common.best_cells(results)
    status = on_diagram(cells.status, cells.dims)
    partial = (status == common.TRAINED) & (on_diagram(cells.n_missing, cells.dims) > 0)
    status = np.where(partial, common.MISSING, status)
    x, y = cell_edges(ratio), cell_edges(density)
    for (i, j), code in np.ndenumerate(status):
        if code != common.TRAINED:
            ax.add_patch(Rectangle((x[j], y[i]), x[j + 1] - x[j], y[i + 1] - y[i], edgecolor="C3", lw=0.5,
                                   facecolor="none" if partial[i, j] else "white", hatch=HATCH[int(code)]))
    return sorted({int(c) for c in np.unique(status)} - {common.TRAINED})


def _score(results) -> str:
    """'agreement with theory X% (Y% away from boundaries)', from the run's summary or computed here."""
    found = (results.summary.get("phase_agreement") or {}).get("best") or phase_summary(results)["best"]
    away = found.get("away_from_boundary")
    tail = f" ({away:.0%} away from boundaries)" if away is not None else ""
    return f"agreement with theory {found['all']:.0%}{tail}"
