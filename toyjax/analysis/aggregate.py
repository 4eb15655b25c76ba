"""Reductions over a trained grid: the best seed of each cell, per-axis means, ranges and fractions.

One home for what every summary and figure needs: diverged or missing models rank last (`ranking_loss`),
the best seed of a cell is the one with the lowest stratified expected loss (`best_seed`, `take_seed`), and
grid-shaped values reduce to JSON-friendly numbers (`stats`, `by_axis`, `fractions`, `jsonable`), two
samples to their rank correlation (`rank_correlation`). Inputs are NumPy arrays with the grid dimensions
first. This module imports only numpy.
"""

from __future__ import annotations

import math

import numpy as np


def ranking_loss(loss, diverged=None) -> np.ndarray:
    """`loss` as float64 with diverged, missing (NaN) or infinite models set to +inf, so they lose every pick."""
    loss = np.asarray(loss, dtype=np.float64)
    bad = ~np.isfinite(loss) if diverged is None else ~np.isfinite(loss) | np.asarray(diverged, bool)
    return np.where(bad, np.inf, loss)


def best_seed(loss, axis: int) -> np.ndarray:
    """Index of the lowest-`loss` seed along grid axis `axis` (rank with `ranking_loss` first).

    Best-of-N by the stratified expected loss, as the paper keeps the lowest-loss fit (§3, §4); a plain
    held-out batch would pick by noise at low density, where competing solutions differ by O(density²).
    """
    return np.argmin(np.asarray(loss), axis=axis)


def take_seed(array, best: np.ndarray, axis: int) -> np.ndarray:
    """`array`'s entries at the chosen seed `best` (the grid without `axis`) along grid axis `axis`.

    `array` has the grid dimensions first and any per-model dimensions after them (W: grid + (m, n)).
    """
    a = np.asarray(array)
    index = np.expand_dims(best, axis)
    index = index.reshape(index.shape + (1,) * (a.ndim - index.ndim))
    return np.take_along_axis(a, index, axis=axis).squeeze(axis)


def plain(x) -> float | None:
    """A float for JSON, None when not finite."""
    x = float(x)
    return x if math.isfinite(x) else None


def jsonable(obj):
    """Recursively turn NumPy scalars into Python ones and non-finite floats into None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return plain(obj)
    return obj


def stats(values, valid) -> dict[str, float | None]:
    """min / median / max of `values` over the `valid`, finite entries."""
    v = np.asarray(values, dtype=np.float64)[np.asarray(valid) & np.isfinite(values)]
    if v.size == 0:
        return {"min": None, "median": None, "max": None}
    return {"min": plain(v.min()), "median": plain(np.median(v)), "max": plain(v.max())}


def by_axis(values, valid, dims, axis: str) -> list[float | None]:
    """Mean of grid-shaped `values` over every axis but `axis`, ignoring invalid or non-finite entries."""
    ok = np.asarray(valid) & np.isfinite(values)
    v = np.where(ok, values, 0.0)
    others = tuple(i for i, d in enumerate(dims) if d != axis)
    count = ok.sum(axis=others)
    return [plain(s / c) if c else None for s, c in zip(v.sum(axis=others), count)]


def fractions(codes, names: tuple[str, ...]) -> dict[str, float]:
    """Fraction of `codes` (integers indexing `names`) equal to each name, over all given codes."""
    codes = np.asarray(codes).ravel()
    counts = np.bincount(codes, minlength=len(names))
    return {name: float(c / max(codes.size, 1)) for name, c in zip(names, counts)}


def rank_correlation(a, b) -> float | None:
    """Spearman's rank correlation of two 1-D samples (average ranks for ties); None when either is constant."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    ranks = [np.argsort(np.argsort(v, kind="stable"), kind="stable").astype(float) for v in (a, b)]
    for v, r in zip((a, b), ranks):
        for value in np.unique(v):  # ties share their mean rank
            r[v == value] = r[v == value].mean()
    if any(np.std(r) == 0 for r in ranks):
        return None
    return float(np.corrcoef(*ranks)[0, 1])
