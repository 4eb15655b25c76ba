"""Double descent over T (Henighan et al. 2023): the curve and its peak, points and features on polygons, from
hand-built records whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from toyjax.analysis import SUMMARIES, memorization
from toyjax.results import Results

SIZES = np.array([5, 50, 500])


def polygon(k: int, radius: float = 1.0, phase: float = 0.0) -> np.ndarray:
    """The k vertices (k, 2) of a regular k-gon."""
    angles = phase + 2 * np.pi * np.arange(k) / k
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)


def results(test: np.ndarray, train: np.ndarray, n: int = 40) -> Results:
    """A (dataset_size, seed) grid whose training points of T = 5 form a pentagon of their own, and whose
    features at T = 500 form a pentagon that the represented points lie along."""
    S, seeds, largest = len(SIZES), test.shape[1], int(SIZES.max())
    rng = np.random.default_rng(0)
    W = np.broadcast_to(0.1 * polygon(n).T, (S, seeds, 2, n)).copy()  # an n-gon of features: D_i = 2/n each
    W[2, :, :, :5] = polygon(5).T  # the generalising pentagon at the largest T
    hidden = np.full((S, seeds, largest, 2), np.nan)
    hidden[0, :, :5] = polygon(5, phase=0.3)  # a T-gon of data points, away from every feature
    hidden[1, :, :50] = polygon(50)
    hidden[2, :, :500] = 1e-3 * rng.normal(size=(seeds, 500, 2))
    hidden[2, :, :50] = np.repeat(polygon(5), 10, axis=0)  # 50 of 500 points, along the 5 features
    size = np.broadcast_to(SIZES[:, None], (S, seeds)).astype(np.float32)
    real = np.arange(largest) < size[..., None]
    D = np.where(real, 0.0, np.nan)
    D[0, :, :5], D[1, :, :50] = 2 / 5, 2 / 50
    D[2, :, :50] = 2 / 50
    train_set = {"size": size, "loss": train, "hidden": hidden, "dimensionality": D,
                 "point_loss": np.where(real, 0.5, np.nan), "zero_loss": np.where(real, 1.0, np.nan),
                 "truncated": np.zeros((S, seeds), np.int32)}
    grid = (S, seeds)
    return Results(("dataset_size", "seed"), {"dataset_size": SIZES, "seed": np.arange(seeds)},
                   {"W": W, "b": np.zeros(grid + (n,))}, train, test, {}, np.zeros(grid, bool),
                   np.full(grid + (n,), 0.01), np.ones(grid + (n,)),
                   config={"model": {"kind": "relu_output", "n_features": n, "n_hidden": 2}},
                   records={"train_set": train_set})


def test_the_peak_is_where_the_mean_test_loss_is_highest_and_says_where_it_sits():
    test = np.array([[1.0, 1.02], [1.3, 1.1], [0.97, 0.99]])
    r = results(test, np.array([[0.0, 0.1], [0.8, 0.9], [0.95, 0.96]]))
    p = memorization.peak(r)
    assert p["dataset_size"] == 50 and p["test_loss"] == pytest.approx(1.2)
    assert p["T_over_n"] == pytest.approx(50 / 40) and p["T_over_nm"] == pytest.approx(50 / 80)
    assert p["T_times_density"] == pytest.approx(0.5)
    assert p["rise"] == pytest.approx(1.2 - 1.01)
    np.testing.assert_allclose(memorization.curve(r)["train_mean"], [0.05, 0.85, 0.955])
    np.testing.assert_array_equal(memorization.best_by_training_loss(r), [0, 0, 0])


def test_diverged_models_leave_the_curve_and_lose_the_pick():
    r = results(np.array([[1.0, 5.0], [1.3, 1.1], [0.97, 0.99]]), np.array([[0.3, 0.1], [0.8, 0.9], [0.95, 0.9]]))
    r.diverged[0, 1] = True
    assert memorization.curve(r)["test_mean"][0] == pytest.approx(1.0)
    np.testing.assert_array_equal(memorization.best_by_training_loss(r), [0, 0, 1])


def test_a_T_gon_of_data_points_and_a_pentagon_of_features_are_recognised():
    r = results(np.ones((3, 2)), np.ones((3, 2)))
    g = memorization.point_geometry(r)
    np.testing.assert_allclose(g["represented"], [[1, 1], [1, 1], [0.1, 0.1]])
    np.testing.assert_allclose(g["angle_spread"][:2], 0, atol=1e-9)  # regular polygons
    np.testing.assert_array_equal(g["through_features"][0], 0)  # the small set: points of their own
    np.testing.assert_array_equal(g["through_features"][2], 1)  # the large one: along the pentagon's features
    np.testing.assert_allclose(g["recovered"], 0.5)
    np.testing.assert_array_equal(memorization.features_in_polygon(r), [[0, 0], [0, 0], [5, 5]])
    np.testing.assert_allclose(memorization.feature_polygon_spread(r)[2], 0, atol=1e-6)


def test_the_summary_fits_only_a_grid_over_T_and_seeds():
    unfit = SUMMARIES["memorization"].unfit
    assert unfit({}, ("density", "seed")) == "needs the grid axis dataset_size (a finite training set per model)"
    assert "weight_decay" in unfit({}, ("dataset_size", "weight_decay", "seed"))
    assert unfit({}, ("dataset_size", "seed")) is None
    s = memorization.summary(results(np.ones((3, 2)), np.ones((3, 2))))
    assert s["features_in_polygon"] == [0, 0, 5] and s["points_represented"] == pytest.approx([1, 1, 0.1])
