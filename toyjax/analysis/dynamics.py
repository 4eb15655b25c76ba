"""Learning dynamics, Elhage et al. (2022) §5: feature dimensionalities and loss over training, and their jumps.

The paper finds that features move between dimensionalities (1, 3/4, 2/3, 1/2, 2/5, 3/8, ...) in sudden jumps,
each with a drop in the loss ("energy levels"). The engine records log-spaced snapshots. A jump is judged over
a window of training time, never between consecutive snapshots, so that it does not depend on how many
snapshots were recorded: at snapshot step s, the change of D_i since step s / `WINDOW` (interpolated in
log-step between snapshots; the previous snapshot where snapshots are further apart) must exceed

    JUMP_THRESHOLD = 0.1   (1 → 3/4 is 0.25, 2/3 → 1/2 is 0.17, 1/2 → 2/5 is 0.1;
                            smaller moves such as 2/5 → 3/8 need a lower threshold)
    WINDOW = 2.0           one doubling of the step count

Consecutive snapshots over the threshold in the same direction are one jump, placed at the snapshot where the
change is largest, and aligned with the loss drop over the same window. Inputs may be NumPy or JAX arrays
with any leading grid dimensions; outputs are NumPy. This module imports numpy, `toyjax.families.toy.metrics` and
`toyjax.families.toy.models`.
"""

from __future__ import annotations

import numpy as np

from toyjax.families.toy.metrics import feature_dimensionality
from toyjax.families.toy.models import feature_matrix

JUMP_THRESHOLD = 0.1
WINDOW = 2.0
MIN_SNAPSHOTS = 2  # D_i over training needs at least a start and an end (``record.snapshots``)


def trajectories(history) -> dict[str, np.ndarray]:
    """D_i and loss at every recorded snapshot (§5).

    Uses the recorded "dimensionality" if present, else computes it from the snapshot params (W or W1).

    Args:
        history: the engine's history dict: "step" (K,), "loss" grid + (K,), and "dimensionality"
            grid + (K, n) or "params" {name: grid + (K,) + shape}.

    Returns:
        {"step": (K,), "loss": grid + (K,), "dimensionality": grid + (K, n)}.
    """
    if "dimensionality" in history:
        dims = np.asarray(history["dimensionality"])
    else:
        dims = feature_dimensionality(np.asarray(feature_matrix(history["params"])))
    return {"step": np.asarray(history["step"]), "loss": np.asarray(history["loss"]), "dimensionality": dims}


def window_start(step, values, window: float = WINDOW) -> np.ndarray:
    """`values` (..., K, ...) at step s / `window` for every snapshot step s, interpolated in log-step.

    Where the previous snapshot is further back than s / `window`, its value stands, so that a window
    always spans at least one snapshot interval. Before the first snapshot the first value stands. The
    snapshot axis is the one before last: D_i is (..., K, n); pass the loss as (..., K, 1).
    """
    logs = np.log(np.maximum(np.asarray(step, dtype=np.float64), 1.0))
    if len(logs) < 2:
        return np.asarray(values, dtype=np.float64)
    target = np.minimum(logs - np.log(window), np.concatenate([logs[:1], logs[:-1]]))
    upper = np.clip(np.searchsorted(logs, target, side="right"), 1, len(logs) - 1)
    lower = upper - 1
    span = np.where(logs[upper] > logs[lower], logs[upper] - logs[lower], 1.0)
    w = np.clip((target - logs[lower]) / span, 0.0, 1.0)[:, None]
    v = np.asarray(values, dtype=np.float64)
    return v[..., lower, :] * (1 - w) + v[..., upper, :] * w


def _peaks(change: np.ndarray, threshold: float) -> np.ndarray:
    """(M, K, n) booleans: the snapshot of largest |change| in each run of snapshots over `threshold`
    whose change has one sign."""
    M, K, n = change.shape
    sign = np.where(np.abs(change) > threshold, np.sign(change), 0.0)
    out = np.zeros(change.shape, bool)
    best = np.zeros((M, n), int)
    for k in range(K + 1):
        current = sign[:, k] if k < K else np.zeros((M, n))
        previous = sign[:, k - 1] if k > 0 else np.zeros((M, n))
        ended = (previous != 0) & (current != previous)
        m, i = np.nonzero(ended)
        out[m, best[m, i], i] = True
        if k < K:
            start = (current != 0) & (current != previous)
            larger = np.abs(change[:, k]) > np.abs(np.take_along_axis(change, best[:, None, :], 1)[:, 0])
            best = np.where(start | ((current != 0) & larger), k, best)
    return out


def detect_jumps(step, dimensionality, loss, threshold: float = JUMP_THRESHOLD, window: float = WINDOW
                 ) -> dict[str, np.ndarray]:
    """Jumps of every feature's D_i over a window of training time, each with the loss drop over it (§5).

    Args:
        step: (K,) snapshot steps.
        dimensionality: (..., K, n) D_i per snapshot.
        loss: (..., K) loss per snapshot.
        threshold: smallest |D_i(s) − D_i(s / window)| that counts as a jump.
        window: the factor of training time over which a change counts.

    Returns:
        "jump" (..., K, n) booleans, one per jump at its largest change; "delta" (..., K, n)
        D_i(s) − D_i(s / window); "loss_drop" (..., K) loss(s / window) − loss(s) (> 0 when it fell);
        "relative_loss_drop" (..., K) the drop over loss(s / window); "jump_loss_drop" (..., K, n) the loss
        drop where a jump is, NaN elsewhere.
    """
    D, loss = np.asarray(dimensionality, dtype=np.float64), np.asarray(loss, dtype=np.float64)
    delta = D - window_start(step, D, window)
    before = window_start(step, loss[..., None], window)[..., 0]
    drop = before - loss
    flat = delta.reshape((-1,) + delta.shape[-2:])
    jump = _peaks(flat, threshold).reshape(delta.shape)
    return {
        "jump": jump,
        "delta": delta,
        "loss_drop": drop,
        "relative_loss_drop": np.where(before > 0, drop / np.where(before > 0, before, 1), 0.0),
        "jump_loss_drop": np.where(jump, drop[..., None], np.nan),
    }


def jump_events(step, dimensionality, loss, threshold: float = JUMP_THRESHOLD, window: float = WINDOW
                ) -> list[dict]:
    """The jumps of ONE model as a list of plain dicts, in time order (§5), for tables and plot markers.

    Args:
        step: (K,) snapshot steps.
        dimensionality: (K, n) D_i per snapshot.
        loss: (K,) loss per snapshot.
        threshold, window: as in `detect_jumps`.

    Returns:
        [{"step", "feature", "from", "to", "loss_drop", "relative_loss_drop"}], "from" being D_i at
        step / window.
    """
    D = np.asarray(dimensionality, dtype=np.float64)
    if D.ndim != 2:
        raise ValueError(f"dimensionality: expected one model's (K, n) trajectory, got shape {D.shape}")
    found = detect_jumps(step, D, loss, threshold, window)
    k, i = np.nonzero(found["jump"])
    return [
        {
            "step": int(np.asarray(step)[a]),
            "feature": int(b),
            "from": float(D[a, b] - found["delta"][a, b]),
            "to": float(D[a, b]),
            "loss_drop": float(found["loss_drop"][a]),
            "relative_loss_drop": float(found["relative_loss_drop"][a]),
        }
        for a, b in zip(k, i)
    ]
