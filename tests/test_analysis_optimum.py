"""The numerical optimum of the §3 configurations: it recovers the closed forms where they are optimal and finds
the shrunken, biased antipodal pairs where they are not."""

import numpy as np
import pytest

from toyjax.analysis import optimum, theory


def test_configuration_vectors_round_trip():
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(2, 3)), rng.normal(size=3)
    back_W, back_b = optimum.to_params(optimum.from_params(W, b), 3, 2)
    np.testing.assert_allclose(np.asarray(back_W).T @ np.asarray(back_W), W.T @ W, atol=1e-5)  # up to a rotation
    np.testing.assert_allclose(back_b, b, atol=1e-6)
    W1 = rng.normal(size=(1, 2))
    np.testing.assert_allclose(optimum.to_params(optimum.from_params(W1, b[:2]), 2, 1)[0], W1, atol=1e-6)


def test_the_optimum_is_a_closed_form_at_low_density_and_beats_them_at_high_density():
    s = np.array([0.02, 0.6])
    importance = np.array([[1.0, 1.0, 3.0], [1.0, 1.0, 2.0]])
    found = optimum.numerical_optimum(3, 2, s, importance, restarts=2, steps=600)
    closed = np.asarray(theory.candidate_losses(3, s, importance[:, -1])).min(axis=-1)
    assert found["loss"][0] == pytest.approx(closed[0], rel=1e-3)
    assert found["phase"][0] == theory.analytic_phase(3, 0.02, 3.0)[0]
    assert found["loss"][1] < closed[1] - 0.005  # 0.0989 against 0.11 (shrunken, biased antipodal pair)
    assert found["phase"][1] == theory.ORDINARY_ANTIPODAL
    assert np.all(found["b"][1, :2] > 0.1)


def test_only_one_or_two_hidden_dimensions():
    with pytest.raises(ValueError, match="m = 1 or 2"):
        optimum.numerical_optimum(4, 3, [0.5], np.ones((1, 4)))
