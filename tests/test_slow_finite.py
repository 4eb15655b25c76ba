"""Henighan et al. 2023, "Superposition, Memorization, and Double Descent", trained for real at the reduced size.

The preset double_descent_small (n=500, m=2, density 0.02, ||x|| = 1, 5,000 full-batch steps) at 8 of its 16 dataset
sizes and 3 of its 4 seeds; the paper used n=10,000, density 0.001 and 50,000 steps (sweeps/double_descent.yaml).
The claims, each the paper's:
- small T: the training points' hidden vectors form a T-gon (every D_t near m/T, evenly spread in angle), each a
  point of its own, and the features form no polygon (a lone feature can line up with one point's own direction);
- large T: five features form a regular pentagon, and the points that are represented lie along those features;
- in between, the mean test loss rises above both ends and falls again.
Each test prints what it measured (``pytest -m slow -s``); 1.7 min of CPU time on 2 cores (2.2 to 3 min wall on a
busy machine).
"""

from __future__ import annotations

import numpy as np
import pytest

import toyjax
from toyjax.analysis import memorization

pytestmark = pytest.mark.slow

SIZES = [5, 7, 11, 105, 153, 224, 701, 1500]  # values of the preset's log:5:1500:16 (T_max 1,500 kept)


@pytest.fixture(scope="module")
def run() -> toyjax.Results:
    overrides = [f"grid.axes.dataset_size={SIZES}".replace(" ", ""), "grid.axes.seed=3", "progress=false"]
    return toyjax.run(toyjax.compose("double_descent_small", overrides))


def _at(results, T: int, values) -> np.ndarray:
    """`values` (dataset_size, seed) of every seed at dataset size T."""
    return np.asarray(values)[list(results.coords["dataset_size"]).index(T)]


def test_small_datasets_are_memorised_as_polygons_of_data_points(run):
    geometry = memorization.point_geometry(run)
    features = memorization.features_in_polygon(run)
    for T in (5, 7, 11):
        on, spread, polygon = _at(run, T, geometry["represented"]), _at(run, T, geometry["angle_spread"]), \
            _at(run, T, features)
        print(f"T={T}: represented {on}, angle spread {np.round(spread, 3)}, features in a polygon {polygon}")
        assert np.all(on >= 0.8)  # (nearly) every training point is a vertex of the T-gon
        assert np.all(_at(run, T, geometry["through_features"]) <= 0.2)  # as a point of its own, not a feature's
        assert np.all(polygon <= 2)  # while no three features with D_i >= 0.2 make a polygon
    assert np.all(_at(run, 5, geometry["angle_spread"]) < 0.15)  # the 5 points: a regular pentagon
    D = run.train_set["dimensionality"][0, :, :5]
    print(f"T=5: D_t {np.round(D, 3)} (m/T = 0.4)")
    np.testing.assert_allclose(D, 2 / 5, atol=0.05)


def test_large_datasets_learn_a_pentagon_of_features(run):
    geometry = memorization.point_geometry(run)
    count = _at(run, 1500, memorization.features_in_polygon(run))
    spread = _at(run, 1500, memorization.feature_polygon_spread(run))
    along = _at(run, 1500, geometry["through_features"])
    on = _at(run, 1500, geometry["represented"])
    print(f"T=1500: features with D_i >= 0.2 {count}, their angle spread {np.round(spread, 3)}; points represented "
          f"{np.round(on, 2)}, of which along a feature {np.round(along, 2)}")
    assert np.all(count == 5) and np.all(spread < 0.1)  # five features, evenly spaced: a pentagon
    assert np.all(along >= 0.5)  # the represented points are represented through those features
    assert np.all(on <= 0.4)  # and most points are not represented at all


def test_the_test_loss_peaks_between_the_two_regimes(run):
    p = memorization.peak(run)
    c = memorization.curve(run)
    print(f"mean test loss by T {dict(zip(SIZES, np.round(c['test_mean'], 4)))}; peak {p}")
    assert 11 < p["dataset_size"] < 701
    assert p["rise"] > 0.05  # above both the memorising and the generalising end
    assert c["test_mean"][-1] < c["test_mean"][0]  # and the generalising end is the lowest
