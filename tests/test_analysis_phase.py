"""Phase classification of hand-built §3 models, seed policies, and agreement with the analytic diagram."""

import numpy as np
import pytest

from toyjax.analysis import phase, theory
from toyjax.analysis.theory import (
    CANDIDATES,
    DEDICATED,
    NOT_REPRESENTED,
    SUPERPOSITION,
    UNCLEAR,
)

CASES = [(n, code) for n in CANDIDATES for code in CANDIDATES[n]]


def rotation(m: int, seed: int) -> np.ndarray:
    return np.linalg.qr(np.random.default_rng(seed).normal(size=(m, m)))[0]


def trained_like(n: int, code: int, seed: int = 0) -> np.ndarray:
    """A candidate's W, rotated, shrunk a little and perturbed, as training with weight decay leaves it."""
    W = theory.candidate_params(n, code, 0.1)["W"]
    rng = np.random.default_rng(seed)
    return rotation(n - 1, seed) @ (0.95 * W + rng.normal(scale=0.03, size=W.shape))


@pytest.mark.parametrize("n, code", CASES)
def test_each_phase_is_recognised_with_w_and_minus_w(n, code):
    for seed in range(3):
        W = trained_like(n, code, seed)
        assert phase.classify_phase(W) == code
        assert phase.classify_phase(-W) == code


def test_ordinary_features_are_interchangeable():
    W = theory.candidate_params(3, DEDICATED, 0.1)["W"][:, [1, 0, 2]]  # drop feature 0 instead of 1
    assert phase.classify_phase(W) == DEDICATED
    W = theory.candidate_params(3, SUPERPOSITION, 0.1)["W"][:, [1, 0, 2]]  # extra paired with feature 1
    assert phase.classify_phase(W) == SUPERPOSITION


@pytest.mark.parametrize(
    "W",
    [
        np.array([[1.0, 0.45]]),  # extra feature half-represented
        np.array([[0.0, 0.0]]),  # nothing learned
        np.array([[1.0, -0.5, -0.5], [0.0, 0.87, -0.87]]),  # all three in a triangle: excluded by the theory
        np.array([[1.0, 0.0, 0.7], [0.0, 1.0, 0.7]]),  # extra at 45°: neither orthogonal nor paired
        np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]]),  # ordinary pair with the extra dropped: wastes a dimension
        np.array([[np.nan, 1.0]]),  # diverged
    ],
)
def test_ambiguous_models_are_unclear(W):
    assert phase.classify_phase(W) == UNCLEAR


def test_a_whole_grid_at_once_matches_the_analytic_map():
    # Hand-build every cell's analytic configuration: the classifier must recover the analytic map exactly.
    s, r = np.geomspace(0.01, 1, 12), np.geomspace(0.1, 10, 12)
    for n in CANDIDATES:
        analytic, _ = theory.analytic_phase(n, s[:, None], r[None, :])
        W = np.zeros((12, 12, n - 1, n))
        for code in CANDIDATES[n]:
            W = np.where((analytic == code)[..., None, None], theory.candidate_params(n, code, 0.1)["W"], W)
        W = rotation(n - 1, 0) @ W
        np.testing.assert_array_equal(phase.classify_phase(W), analytic)
        np.testing.assert_array_equal(phase.classify_phase(-W), analytic)
        assert phase.agreement(phase.classify_phase(W), analytic) == {
            "all": 1.0,
            "away_from_boundary": 1.0,
            "n_cells": 144,
            "n_away": int((~phase.near_boundary(analytic)).sum()),
        }


@pytest.fixture
def seeds():
    """Two grid points × 4 seeds of n=2 models, with their losses (seed axis = 1)."""
    sup, ded, nr = (trained_like(2, c, seed=1) for c in (SUPERPOSITION, DEDICATED, NOT_REPRESENTED))
    W = np.stack([[sup, sup, ded, nr], [ded, nr, nr, sup]])  # (2, 4, 1, 2)
    loss = np.array([[0.3, 0.2, 0.1, 0.9], [0.5, np.nan, 0.4, 0.1]])
    return W, loss


def test_best_policy_takes_the_lowest_loss_seed(seeds):
    W, loss = seeds
    np.testing.assert_array_equal(phase.phase_best(W, loss, axis=1), [DEDICATED, SUPERPOSITION])
    np.testing.assert_array_equal(phase.phase_best(W, loss, axis=-1), [DEDICATED, SUPERPOSITION])


def test_vote_policy(seeds):
    W, loss = seeds
    np.testing.assert_array_equal(phase.phase_vote(W, None, axis=1), [SUPERPOSITION, NOT_REPRESENTED])
    tie = np.stack([W[0, 0], W[0, 2]])[None]  # one superposition, one dedicated
    assert phase.phase_vote(tie, None, axis=1)[0] == UNCLEAR


def test_paper_policy_discards_the_worst_seed_and_averages_invariant_metrics():
    a = trained_like(3, SUPERPOSITION, seed=0)
    b = -rotation(2, 5) @ a  # the same solution, rotated and negated: averaging W would cancel it
    bad = trained_like(3, NOT_REPRESENTED, seed=0)
    W = np.stack([a, b, bad])[None]  # (1, 3, 2, 3)
    assert phase.phase_paper(W, np.array([[0.1, 0.2, 0.9]]), axis=1)[0] == SUPERPOSITION
    # the worst seed is discarded even when it holds the majority view
    assert phase.phase_paper(np.stack([a, bad, bad])[None], np.array([[0.2, 0.1, 0.9]]), axis=1)[0] == UNCLEAR
    assert phase.phase_paper(np.stack([a, bad])[None], np.array([[0.1, np.nan]]), axis=1)[0] == SUPERPOSITION
    assert phase.phase_paper(a[None, None], np.array([[0.1]]), axis=1)[0] == SUPERPOSITION


def test_aggregate_phase_by_axis_name(seeds):
    W, loss = seeds
    W, loss = np.swapaxes(W, 0, 1), loss.T  # seed axis first
    codes, dims = phase.aggregate_phase(W, loss, ("seed", "density"), "best")
    assert dims == ("density",)
    np.testing.assert_array_equal(codes, [DEDICATED, SUPERPOSITION])
    with pytest.raises(ValueError, match="policy"):
        phase.aggregate_phase(W, loss, ("seed", "density"), "median")
    codes, dims = phase.aggregate_phase(W[0], loss[0], ("density",), "vote")
    assert dims == ("density",) and codes.shape == (2,)


def test_near_boundary_and_agreement():
    analytic = np.array([[1, 1, 1, 1, 2, 2], [1, 1, 1, 1, 2, 2], [1, 1, 1, 1, 2, 2]])
    near = phase.near_boundary(analytic)
    np.testing.assert_array_equal(near[0], [False, False, False, True, True, False])
    empirical = analytic.copy()
    empirical[:, 3] = 2  # wrong next to the boundary only
    result = phase.agreement(empirical, analytic)
    assert result["all"] == pytest.approx(15 / 18)
    assert result["away_from_boundary"] == 1.0 and result["n_away"] == 12
    diagonal = np.array([[1, 1, 1], [1, 1, 1], [1, 1, 2]])  # corner neighbours count (8-neighbourhood)
    assert phase.near_boundary(diagonal)[1, 1]
    assert not phase.near_boundary(diagonal, axes=(0,))[1, 1]


def test_paper_policy_is_blind_to_which_ordinary_feature_is_used():
    a = trained_like(3, SUPERPOSITION, seed=0)  # extra paired with feature 0
    b = trained_like(3, SUPERPOSITION, seed=1)[:, [1, 0, 2]]  # extra paired with feature 1
    c = trained_like(3, DEDICATED, seed=2)[:, [1, 0, 2]]
    d = trained_like(3, DEDICATED, seed=3)
    W = np.stack([np.stack([a, b, a]), np.stack([c, d, d])])  # (2, 3, 2, 3)
    loss = np.array([[0.1, 0.2, 0.9], [0.1, 0.2, 0.9]])
    np.testing.assert_array_equal(phase.phase_paper(W, loss, axis=1), [SUPERPOSITION, DEDICATED])


def test_classify_rejects_sizes_without_a_theory():
    with pytest.raises(ValueError, match="n=2"):
        phase.classify_phase(np.zeros((3, 4)))
