"""Memorisation and double descent over the dataset size T (Henighan et al., Anthropic 2023).

"Superposition, Memorization, and Double Descent" finds two regimes of the ReLU-output model trained on T
points: with few points the hidden vectors h_t = W x_t of the *training points* form a T-gon (each data
point dimensionality D_t = m/T) while the features are a mess; with many, the *features* form a polygon
(five of them, a pentagon, in m = 2) and most points have D_t near 0. In between, the test loss rises
and falls again (double descent).

- `curve`: the test loss (the stratified expected loss on fresh samples, `Results.eval_loss`) and the
  training loss against T, per seed and averaged over the seeds; `peak`: the T of the highest mean test
  loss, in units of n (features), of n·m (weights), and of 1/density (T·density is how often a feature
  appears in the training set, on which Jermyn's comment in the follow-up finds the onset of the
  generalising regime).
- `point_geometry`: which training points are represented and how: a point is represented when
  D_t ≥ `REPRESENTED`·m/T (half its share of a T-gon); it is represented *through a feature* when its h_t
  lies within `ALIGNED_DEGREES` of a feature of the generalising polygon, else as a data point of its own
  (memorised); in m = 2, how evenly the represented points are spread in angle (0 for a regular polygon);
  and how much of each point's loss the model removes (1 − loss / loss of a zero output).
- `features_in_polygon`: features with D_i ≥ `FEATURE_REPRESENTED` (the follow-up's pentagon has
  D_i below 2/5, as thousands of small features share the denominator), and in m = 2 how evenly they
  are spread in angle (`feature_polygon_spread`, 0 for a regular polygon).

Inputs are `Results` of a grid with a ``dataset_size`` axis (and usually ``seed``); diverged and missing
models are left out. This module imports numpy, `toyjax.analysis.aggregate`, `toyjax.families.toy.metrics` and
`toyjax.families.toy.models`.
"""

from __future__ import annotations

import numpy as np

from toyjax.analysis.aggregate import ranking_loss
from toyjax.families.toy.metrics import feature_dimensionality
from toyjax.families.toy.models import feature_matrix

REPRESENTED = 0.5  # a training point is on the polygon when D_t >= REPRESENTED · m/T
FEATURE_REPRESENTED = 0.2  # a feature is in the generalising polygon when D_i >= this
ALIGNED_DEGREES = 10.0  # a point is represented through a feature when h_t is this close to it in angle


def ok(results) -> np.ndarray:
    """Models that trained without diverging and are not missing, grid-shaped."""
    bad = np.asarray(results.diverged, bool)
    if getattr(results, "missing", None) is not None:
        bad = bad | np.asarray(results.missing, bool)
    return ~bad


def _per_size(results, values) -> np.ndarray:
    """Grid-shaped `values` as (sizes, others): the dataset_size axis first, every other axis flattened."""
    axis = list(results.dims).index("dataset_size")
    moved = np.moveaxis(np.asarray(values, np.float64), axis, 0)
    return moved.reshape(moved.shape[0], -1)


def curve(results) -> dict[str, np.ndarray]:
    """Test and training loss against T: "dataset_size" (S,), "test"/"train" (S, seeds) with NaN for
    diverged or missing models, and their means over the seeds "test_mean"/"train_mean" (S,)."""
    good = _per_size(results, ok(results)) > 0
    test = np.where(good, _per_size(results, results.eval_loss), np.nan)
    train = np.where(good, _per_size(results, results.train_set["loss"]), np.nan)
    return {"dataset_size": np.asarray(results.coords["dataset_size"]), "test": test, "train": train,
            "test_mean": _nanmean(test), "train_mean": _nanmean(train)}


def _nanmean(a: np.ndarray) -> np.ndarray:
    count = np.isfinite(a).sum(axis=1)
    return np.where(count > 0, np.nansum(a, axis=1) / np.maximum(count, 1), np.nan)


def peak(results) -> dict[str, float]:
    """The T of the highest mean test loss, where it sits against n, n·m and 1/density, and its rise.

    "rise" is the peak's mean test loss minus the larger of those at the smallest and the largest T:
    positive when the test loss rises and falls again.
    """
    c = curve(results)
    mean = np.where(np.isfinite(c["test_mean"]), c["test_mean"], -np.inf)
    k = int(np.argmax(mean))
    T = float(c["dataset_size"][k])
    n, m = int(results.config["model"]["n_features"]), int(results.config["model"]["n_hidden"])
    density = float(np.mean(np.asarray(results.density)))
    ends = c["test_mean"][[0, -1]]
    return {"dataset_size": T, "test_loss": float(mean[k]), "T_over_n": T / n, "T_over_nm": T / (n * m),
            "T_times_density": T * density, "test_loss_smallest_T": float(ends[0]),
            "test_loss_largest_T": float(ends[1]), "rise": float(mean[k] - np.nanmax(ends))}


def point_geometry(results) -> dict[str, np.ndarray]:
    """Per model (grid-shaped): "represented" (the share of its T points with D_t >= REPRESENTED·m/T),
    "through_features" (of those, the share whose h_t is within ALIGNED_DEGREES of a feature with D_i >=
    FEATURE_REPRESENTED; the rest are memorised as points of their own), "angle_spread" (in m = 2, std/mean of
    the angles between neighbouring represented points; 0 when they form a regular polygon), "recovered"
    (the mean share of a point's loss the model removes)."""
    ts = results.train_set
    m = int(results.config["model"]["n_hidden"])
    size = np.asarray(ts["size"], np.float64)[..., None]
    real = np.arange(ts["dimensionality"].shape[-1]) < size
    on = real & (np.where(real, ts["dimensionality"], 0.0) >= REPRESENTED * m / size)
    k = on.sum(-1)
    aligned = on & _aligned(results, np.where(real[..., None], ts["hidden"], 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        through = np.where(k > 0, aligned.sum(-1) / np.maximum(k, 1), np.nan)
        recovered = np.where(real, 1.0 - ts["point_loss"] / ts["zero_loss"], 0.0).sum(-1) / size[..., 0]
    spread = angle_spread(ts["hidden"], on) if m == 2 else np.full(k.shape, np.nan)
    return {"represented": k / size[..., 0], "through_features": through, "angle_spread": spread,
            "recovered": recovered}


def _aligned(results, hidden: np.ndarray) -> np.ndarray:
    """(grid, T_max) whether each h_t is within ALIGNED_DEGREES of a feature in the generalising polygon."""
    W = np.asarray(feature_matrix(results.params), np.float64)  # (grid, m, n)
    polygon = feature_dimensionality(W) >= FEATURE_REPRESENTED  # (grid, n)
    unit_W = W / np.maximum(np.linalg.norm(W, axis=-2, keepdims=True), 1e-30)
    unit_h = hidden / np.maximum(np.linalg.norm(hidden, axis=-1, keepdims=True), 1e-30)
    cos = np.where(polygon[..., None, :], unit_h @ unit_W, -1.0)  # (grid, T_max, n)
    return cos.max(-1, initial=-1.0) >= np.cos(np.radians(ALIGNED_DEGREES))


def angle_spread(vectors: np.ndarray, on: np.ndarray) -> np.ndarray:
    """std / mean of the gaps between the sorted angles of the 2-D `vectors` (..., k, 2) that are `on` (..., k),
    per model: 0 for a regular polygon, NaN for fewer than 3."""
    angle = np.where(on, np.arctan2(vectors[..., 1], vectors[..., 0]), np.inf)
    angle = np.sort(angle, axis=-1)
    k = on.sum(-1)
    out = np.full(k.shape, np.nan)
    for index in np.ndindex(*k.shape):
        a = angle[index][: k[index]]
        if len(a) >= 3:
            gaps = np.diff(np.append(a, a[0] + 2 * np.pi))
            out[index] = gaps.std() / gaps.mean()
    return out


def features_in_polygon(results) -> np.ndarray:
    """How many features of each model have D_i >= `FEATURE_REPRESENTED`, grid-shaped."""
    D = feature_dimensionality(np.asarray(feature_matrix(results.params), np.float64))
    return (D >= FEATURE_REPRESENTED).sum(-1)


def feature_polygon_spread(results) -> np.ndarray:
    """In m = 2, `angle_spread` of the features with D_i >= `FEATURE_REPRESENTED`: 0 for a regular polygon."""
    W = np.asarray(feature_matrix(results.params), np.float64)
    return angle_spread(np.swapaxes(W, -1, -2), feature_dimensionality(W) >= FEATURE_REPRESENTED)


def best_by_training_loss(results) -> np.ndarray:
    """For every T, the flat index (over the other axes) of the model with the lowest training loss.

    The follow-up keeps, of several initialisations, the one with the lowest training loss.
    """
    loss = ranking_loss(_per_size(results, results.train_set["loss"]), _per_size(results, ~ok(results)) > 0)
    return np.argmin(loss, axis=1)


def summary(results) -> dict:
    """Numbers of a double-descent grid: the curve, its peak, and the geometry of points and features per T."""
    c = curve(results)
    geometry = point_geometry(results)
    good = _per_size(results, ok(results)) > 0
    m = int(results.config["model"]["n_hidden"])

    def mean(values) -> list:
        return _nanmean(np.where(good, _per_size(results, values), np.nan)).tolist()

    return {
        "dataset_size": c["dataset_size"].tolist(),
        "test_loss": c["test_mean"].tolist(),
        "train_loss": c["train_mean"].tolist(),
        "peak": peak(results),
        "points_represented": mean(geometry["represented"]),
        "points_through_features": mean(geometry["through_features"]),
        "points_angle_spread": mean(geometry["angle_spread"]),
        "features_in_polygon": mean(features_in_polygon(results)),
        "features_angle_spread": mean(feature_polygon_spread(results)) if m == 2 else None,
        "truncated_points": int(np.sum(np.where(ok(results), results.train_set["truncated"], 0))),
    }
