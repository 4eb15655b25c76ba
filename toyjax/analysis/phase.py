"""Phase classification of trained §3 models, seed aggregation, and agreement with the analytic diagram.

Elhage et al. (2022) §3 train relu_output models with n=2, m=1 or n=3, m=2, whose last ("extra") feature has
importance r, and colour each grid point by the extra feature's norm and superposition. Here a model is
matched against the signature of each candidate configuration of `toyjax.analysis.theory`, using only
quantities that do not change under rotations of the hidden space or under W → −W: feature norms ‖W_i‖ and
absolute cosines |cos(W_i, W_j)|. The ordinary features are interchangeable, so a signature matches under any
permutation of them.

Thresholds (trained features with weight decay 0.01 have norms ≈ 0.9–1; dropped ones decay to ≈ 0):

    ON_NORM = 0.6     ‖W_i‖ ≥ 0.6: feature represented
    OFF_NORM = 0.3    ‖W_i‖ ≤ 0.3: feature not represented
    PAIR_COS = 0.9    |cos| ≥ 0.9 between two represented features: they share a direction (antipodal pair;
                      |cos| cannot tell antipodal from parallel, and a parallel pair is never optimal)
    ORTH_COS = 0.3    |cos| ≤ 0.3: they are orthogonal (each has its own dimension)

Anything between the bands, or a model matching no candidate's signature, is UNCLEAR: reported, never forced.
With a single hidden dimension (n=2) any two represented features have |cos| = 1, i.e. share it.

Grid points that differ only by seed are aggregated by a named policy (see `POLICIES`).
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from toyjax.analysis.aggregate import best_seed, ranking_loss, take_seed
from toyjax.analysis.theory import (
    CANDIDATES,
    DEDICATED,
    ORDINARY_ANTIPODAL,
    PHASES,
    UNCLEAR,
    _check_n,
    candidate_params,
)
from toyjax.families.toy.metrics import cosines, feature_norms

ON_NORM = 0.6
OFF_NORM = 0.3
PAIR_COS = 0.9
ORTH_COS = 0.3


def phase_metrics(W) -> tuple[np.ndarray, np.ndarray]:
    """The sign- and rotation-invariant metrics the classifier uses: ‖W_i‖ and |cos(W_i, W_j)| (§3).

    Args:
        W: (..., m, n) weights.

    Returns:
        norms (..., n) and abs_cos (..., n, n), as NumPy arrays (these may be averaged over seeds).
    """
    W = np.asarray(W)
    return feature_norms(W), np.abs(cosines(W))


def _states(norms, abs_cos) -> tuple[np.ndarray, np.ndarray]:
    """Discretise: feature 1 on / 0 off / −1 in between; pair 1 shared / 0 orthogonal / −1 in between."""
    feature = np.where(norms >= ON_NORM, 1, np.where(norms <= OFF_NORM, 0, -1))
    pair = np.where(abs_cos >= PAIR_COS, 1, np.where(abs_cos <= ORTH_COS, 0, -1))
    return feature, pair


@functools.cache
def _signatures(n: int) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """(code, feature states (P, n), pair states (P, n, n), pair mask (P, n, n)) of every candidate.

    P runs over permutations of the ordinary features; the mask keeps pairs of two represented,
    distinct features (the cosine of a dropped feature is noise).
    """
    _check_n(n)
    perms = [list(p) + [n - 1] for p in itertools.permutations(range(n - 1))]
    out = []
    for code in CANDIDATES[n]:
        feature, pair = _states(*phase_metrics(candidate_params(n, code, 1.0)["W"]))
        f = np.stack([feature[p] for p in perms])
        pr = np.stack([pair[np.ix_(p, p)] for p in perms])
        mask = (f[:, :, None] == 1) & (f[:, None, :] == 1) & ~np.eye(n, dtype=bool)
        out.append((code, f, pr, mask))
    return out


def classify_phase_metrics(norms, abs_cos) -> np.ndarray:
    """Phase code of each model from its (possibly seed-averaged) norms and |cosines| (§3).

    Args:
        norms: (..., n) feature norms, n = 2 or 3, the last feature being the extra one.
        abs_cos: (..., n, n) absolute cosines.

    Returns:
        (...) integer codes into `toyjax.analysis.theory.PHASES`; UNCLEAR when no signature matches.
    """
    feature, pair = _states(np.asarray(norms), np.asarray(abs_cos))
    phase = np.full(feature.shape[:-1], UNCLEAR)
    for code, f, pr, mask in _signatures(feature.shape[-1]):
        same_features = np.all(feature[..., None, :] == f, axis=-1)
        same_pairs = np.all((pair[..., None, :, :] == pr) | ~mask, axis=(-2, -1))
        phase = np.where(np.any(same_features & same_pairs, axis=-1), code, phase)
    return phase


def classify_phase(W) -> np.ndarray:
    """Phase code of each trained n=2, m=1 or n=3, m=2 model (§3); W and −W give the same answer.

    Args:
        W: (..., m, n) weights.

    Returns:
        (...) integer codes into `toyjax.analysis.theory.PHASES`.
    """
    return classify_phase_metrics(*phase_metrics(W))


def extra_feature_phase(codes) -> np.ndarray:
    """The extra feature's own status, as the paper's §3 diagram colours it: not represented / dedicated /
    superposition. ORDINARY_ANTIPODAL folds into DEDICATED (the extra feature has its own dimension in both).

    Args:
        codes: (...) phase codes.
    """
    codes = np.asarray(codes)
    return np.where(codes == ORDINARY_ANTIPODAL, DEDICATED, codes)


# --------------------------------------------------------------------------- seed aggregation


def _grid_axis(W, axis: int) -> int:
    """The seed axis as a non-negative index among W's grid dimensions (W has two trailing dims)."""
    return axis % (np.ndim(W) - 2)


def phase_best(W, loss, axis: int) -> np.ndarray:
    """Best-of-N: the phase of the seed with the lowest expected loss (use the engine's stratified `eval_loss`).

    A plain held-out batch picks by noise at low density, where competing solutions differ by O(density²).

    Args:
        W: grid + (m, n) weights.
        loss: grid-shaped expected loss, lower is better; non-finite counts as worst.
        axis: index of the seed axis among the grid dimensions (negative counts from the last grid axis).

    Returns:
        grid-without-seed-axis phase codes.
    """
    axis = _grid_axis(W, axis)
    return take_seed(classify_phase(W), best_seed(ranking_loss(loss), axis), axis)


def _sort_ordinary(norms, abs_cos) -> tuple[np.ndarray, np.ndarray]:
    """Relabel the interchangeable ordinary features in a canonical order, so that seeds can be averaged.

    Sorted by ‖W_i‖·(1 + |cos(W_i, W_extra)|), descending: the feature paired with the extra one, or else
    the represented one, comes first. The extra (last) feature stays last.
    """
    key = norms[..., :-1] * (1 + abs_cos[..., :-1, -1])
    order = np.argsort(-key, axis=-1, kind="stable")
    order = np.concatenate([order, np.full(order.shape[:-1] + (1,), norms.shape[-1] - 1)], axis=-1)
    abs_cos = np.take_along_axis(abs_cos, order[..., :, None], axis=-2)
    return np.take_along_axis(norms, order, axis=-1), np.take_along_axis(abs_cos, order[..., None, :], axis=-1)


def phase_paper(W, loss, axis: int) -> np.ndarray:
    """The paper's rule (§3): discard the highest-loss seed, average the sign-invariant metrics, classify.

    Averages ‖W_i‖ and |cos(W_i, W_j)| (never W itself: W and −W are the same solution), after putting each
    seed's ordinary features in a canonical order (they are interchangeable, so seed A pairing the extra
    feature with feature 0 and seed B with feature 1 agree). Diverged seeds are dropped too; a single
    remaining seed is kept; a point with none left is UNCLEAR.

    Args:
        W: grid + (m, n) weights.
        loss: grid-shaped loss, lower is better.
        axis: index of the seed axis among the grid dimensions (negative counts from the last grid axis).
    """
    axis = _grid_axis(W, axis)
    norms, abs_cos = _sort_ordinary(*phase_metrics(W))
    loss = ranking_loss(loss)
    finite = np.isfinite(loss) & np.all(np.isfinite(norms), axis=-1)
    worst = np.arange(loss.shape[axis]).reshape((-1,) + (1,) * (loss.ndim - axis - 1))
    worst = worst == np.expand_dims(np.argmax(np.where(finite, loss, -np.inf), axis=axis), axis)
    keep = finite & ~(worst & (np.sum(finite, axis=axis, keepdims=True) > 1))
    weight = keep / np.maximum(np.sum(keep, axis=axis, keepdims=True), 1)
    empty = ~np.any(keep, axis=axis)
    mean_norms = np.sum(weight[..., None] * np.nan_to_num(norms), axis=axis)
    mean_cos = np.sum(weight[..., None, None] * np.nan_to_num(abs_cos), axis=axis)
    return np.where(empty, UNCLEAR, classify_phase_metrics(mean_norms, mean_cos))


def phase_vote(W, loss, axis: int) -> np.ndarray:
    """Majority (plurality) vote of the seeds' phases; `loss` is unused. Ties and all-unclear give UNCLEAR.

    Args:
        W: grid + (m, n) weights.
        loss: ignored (kept so every policy has the same signature).
        axis: index of the seed axis among the grid dimensions (negative counts from the last grid axis).
    """
    codes = classify_phase(W)
    votes = np.sum(codes[..., None] == np.arange(1, len(PHASES)), axis=_grid_axis(W, axis))
    top = np.max(votes, axis=-1)
    tied = np.sum(votes == top[..., None], axis=-1) > 1
    return np.where((top == 0) | tied, UNCLEAR, np.argmax(votes, axis=-1) + 1)


POLICIES = {"best": phase_best, "paper": phase_paper, "vote": phase_vote}


def aggregate_phase(W, loss, dims, policy: str = "best", seed_axis: str = "seed") -> tuple[np.ndarray, tuple]:
    """Phase map over a named grid, seeds aggregated by a named policy ("best", "paper" or "vote").

    Args:
        W: grid + (m, n) weights, grid axes named by `dims`.
        loss: grid-shaped loss for "best"/"paper" (the engine's stratified `eval_loss`).
        dims: names of the grid axes, e.g. ("density", "extra_importance", "seed").
        policy: a key of `POLICIES`.
        seed_axis: name of the axis to aggregate; without it the grid is classified as is.

    Returns:
        phase codes (grid without the seed axis) and the remaining axis names.
    """
    if policy not in POLICIES:
        raise ValueError(f"policy: unknown {policy!r}; allowed: {', '.join(POLICIES)}")
    dims = tuple(dims)
    if seed_axis not in dims:
        return classify_phase(W), dims
    axis = dims.index(seed_axis)
    return POLICIES[policy](W, loss, axis), dims[:axis] + dims[axis + 1 :]


# --------------------------------------------------------------------------- agreement with theory


def near_boundary(analytic, axes=None) -> np.ndarray:
    """Cells within one cell (the 3^d − 1 neighbourhood; 8 in 2-D) of a cell of another analytic phase.

    Args:
        analytic: (...) analytic phase map on a regular grid.
        axes: the grid axes along which neighbours count (default: all).

    Returns:
        (...) boolean mask.
    """
    analytic = np.asarray(analytic)
    axes = tuple(range(analytic.ndim)) if axes is None else tuple(a % analytic.ndim for a in axes)
    pad = [(1, 1) if a in axes else (0, 0) for a in range(analytic.ndim)]
    padded = np.pad(analytic, pad, mode="edge")
    near = np.zeros(analytic.shape, dtype=bool)
    for offset in itertools.product((0, 1, 2), repeat=len(axes)):
        starts = dict(zip(axes, offset))
        window = tuple(slice(starts.get(a, 0), starts.get(a, 0) + analytic.shape[a]) for a in range(analytic.ndim))
        near |= padded[window] != analytic
    return near


def agreement(empirical, analytic, axes=None) -> dict[str, float]:
    """Agreement of an empirical phase map with the analytic one (§3 figure vs theory).

    Unclear cells count as mismatches.

    Args:
        empirical: (...) phase codes of the trained grid (seeds already aggregated).
        analytic: (...) analytic phase codes on the same grid.
        axes: grid axes along which `near_boundary` looks for neighbours (default: all).

    Returns:
        {"all": fraction of matching cells, "away_from_boundary": the same over cells not within one cell of
        an analytic boundary (NaN if there are none), "n_cells", "n_away"}.
    """
    match = np.asarray(empirical) == np.asarray(analytic)
    away = ~near_boundary(analytic, axes)
    n_away = int(away.sum())
    return {
        "all": float(match.mean()),
        "away_from_boundary": float(match[away].mean()) if n_away else float("nan"),
        "n_cells": int(match.size),
        "n_away": n_away,
    }
