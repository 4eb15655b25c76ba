"""§5 learning dynamics: D_i trajectories and jump detection aligned with loss drops."""

import numpy as np
import pytest

from toyjax.analysis import dynamics


@pytest.fixture
def trajectory():
    """One model, 6 snapshots, 2 features: feature 0 drops 1 → 1/2 at snapshot 3 while the loss falls."""
    step = np.array([0, 10, 100, 1000, 3000, 10000])
    D = np.array([[1.0, 0.3], [1.0, 0.32], [1.0, 0.35], [0.5, 0.36], [0.5, 0.38], [0.52, 0.6]])
    loss = np.array([1.0, 0.9, 0.85, 0.5, 0.49, 0.3])
    return step, D, loss


def test_detect_jumps_aligns_each_jump_with_its_loss_drop(trajectory):
    _, D, loss = trajectory
    found = dynamics.detect_jumps(D, loss)
    np.testing.assert_array_equal(np.argwhere(found["jump"]), [[3, 0], [5, 1]])
    np.testing.assert_allclose(found["loss_drop"][[3, 5]], [0.35, 0.19])
    assert found["jump_loss_drop"][3, 0] == pytest.approx(0.35) and np.isnan(found["jump_loss_drop"][3, 1])
    grid = dynamics.detect_jumps(np.stack([D, D[::-1]]), np.stack([loss, loss[::-1]]))
    assert grid["jump"].shape == (2, 6, 2) and grid["loss_drop"].shape == (2, 6)


def test_jump_events(trajectory):
    step, D, loss = trajectory
    events = dynamics.jump_events(step, D, loss)
    assert [(e["step"], e["feature"]) for e in events] == [(1000, 0), (10000, 1)]
    assert events[0]["from"] == 1.0 and events[0]["to"] == 0.5
    assert events[0]["relative_loss_drop"] == pytest.approx(0.35 / 0.85)
    assert dynamics.jump_events(step, D, loss, threshold=0.3) == [events[0]]


def test_trajectories_from_recorded_or_computed_dimensionality():
    W = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, -1.0], [0.0, 0.0]]])  # 2 snapshots: dedicated → digon
    history = {"step": np.array([0, 5]), "loss": np.array([0.2, 0.1]), "params": {"W": W}}
    traj = dynamics.trajectories(history)
    np.testing.assert_allclose(traj["dimensionality"], [[1, 1], [0.5, 0.5]])
    recorded = dynamics.trajectories({**history, "dimensionality": np.ones((2, 2))})
    np.testing.assert_allclose(recorded["dimensionality"], 1.0)
