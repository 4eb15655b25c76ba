"""Learning dynamics, Elhage et al. (2022) §5: feature dimensionalities and loss over training, and their jumps.

The paper finds that features move between dimensionalities (1, 3/4, 2/3, 1/2, 2/5, 3/8, ...) in sudden jumps,
each with a drop in the loss ("energy levels"). The engine records log-spaced snapshots; a jump is a
snapshot at which a feature's D_i moved by more than

    JUMP_THRESHOLD = 0.1   since the previous snapshot (1 → 3/4 is 0.25, 2/3 → 1/2 is 0.17, 1/2 → 2/5 is 0.1;
                           smaller moves such as 2/5 → 3/8 need a lower threshold)

and is aligned with the loss drop over the same snapshot interval, loss[k−1] − loss[k].
Inputs may be NumPy or JAX arrays with any leading grid dimensions; outputs are NumPy.
"""

from __future__ import annotations

import numpy as np

from toyjax.analysis.metrics import feature_dimensionality

JUMP_THRESHOLD = 0.1


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
        params = history["params"]
        dims = feature_dimensionality(np.asarray(params["W"] if "W" in params else params["W1"]))
    return {"step": np.asarray(history["step"]), "loss": np.asarray(history["loss"]), "dimensionality": dims}


def detect_jumps(dimensionality, loss, threshold: float = JUMP_THRESHOLD) -> dict[str, np.ndarray]:
    """Snapshots where a feature's D_i jumps, each aligned with the loss drop over the same interval (§5).

    Args:
        dimensionality: (..., K, n) D_i per snapshot.
        loss: (..., K) loss per snapshot.
        threshold: smallest |D_i[k] − D_i[k−1]| that counts as a jump.

    Returns:
        "jump" (..., K, n) booleans (False at k = 0); "delta" (..., K, n) D_i[k] − D_i[k−1];
        "loss_drop" (..., K) loss[k−1] − loss[k] (> 0 when the loss fell); "relative_loss_drop" (..., K) the
        drop over loss[k−1]; "jump_loss_drop" (..., K, n) the loss drop where a jump happened, NaN elsewhere.
    """
    D, loss = np.asarray(dimensionality, dtype=np.float64), np.asarray(loss, dtype=np.float64)
    delta = np.concatenate([np.zeros_like(D[..., :1, :]), np.diff(D, axis=-2)], axis=-2)
    drop = np.concatenate([np.zeros_like(loss[..., :1]), -np.diff(loss, axis=-1)], axis=-1)
    previous = np.concatenate([loss[..., :1], loss[..., :-1]], axis=-1)
    jump = np.abs(delta) > threshold
    return {
        "jump": jump,
        "delta": delta,
        "loss_drop": drop,
        "relative_loss_drop": np.where(previous > 0, drop / np.where(previous > 0, previous, 1), 0.0),
        "jump_loss_drop": np.where(jump, drop[..., None], np.nan),
    }


def jump_events(step, dimensionality, loss, threshold: float = JUMP_THRESHOLD) -> list[dict]:
    """The jumps of ONE model as a list of plain dicts, in time order (§5), for tables and plot markers.

    Args:
        step: (K,) snapshot steps.
        dimensionality: (K, n) D_i per snapshot.
        loss: (K,) loss per snapshot.
        threshold: as in `detect_jumps`.

    Returns:
        [{"step", "feature", "from", "to", "loss_drop", "relative_loss_drop"}].
    """
    D = np.asarray(dimensionality)
    if D.ndim != 2:
        raise ValueError(f"dimensionality: expected one model's (K, n) trajectory, got shape {D.shape}")
    found = detect_jumps(D, loss, threshold)
    k, i = np.nonzero(found["jump"])
    return [
        {
            "step": int(np.asarray(step)[a]),
            "feature": int(b),
            "from": float(D[a - 1, b]),
            "to": float(D[a, b]),
            "loss_drop": float(found["loss_drop"][a]),
            "relative_loss_drop": float(found["relative_loss_drop"][a]),
        }
        for a, b in zip(k, i)
    ]
