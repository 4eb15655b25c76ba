"""The analytic §3 phase model: closed forms against Monte Carlo, broadcasting, known phases, symmetry."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from toyjax.analysis import theory
from toyjax.analysis.theory import CANDIDATES, DEDICATED, NOT_REPRESENTED, ORDINARY_ANTIPODAL, SUPERPOSITION
from toyjax.data import DataSpec, sample
from toyjax.families.toy.models import relu_output

POINTS = [(1.0, 0.5), (0.3, 2.0), (0.1, 5.0), (0.03, 0.2)]  # (density, extra importance)
N_SAMPLES = 200_000


def monte_carlo_loss(n: int, phase: int, density: float, r: float, key) -> tuple[float, float]:
    """Mean and standard error of the loss of the hand-built candidate, simulated with relu_output."""
    params = jax.tree.map(jnp.asarray, theory.candidate_params(n, phase, np.float32(density)))
    importance = jnp.asarray([1.0] * (n - 1) + [r])
    x = sample(DataSpec("independent", n), N_SAMPLES, jnp.full((n,), density), key=key)
    per_sample = np.asarray(jnp.sum(importance[:, None] * (x - relu_output(params, x)) ** 2, axis=0), np.float64)
    return per_sample.mean(), per_sample.std() / np.sqrt(N_SAMPLES)


@pytest.mark.parametrize("n", [2, 3])
def test_each_closed_form_matches_monte_carlo(n):
    key = jax.random.PRNGKey(n)
    for p, (density, r) in enumerate(POINTS):
        closed = theory.candidate_losses(n, density, r)
        for c, phase in enumerate(CANDIDATES[n]):
            mean, se = monte_carlo_loss(n, phase, density, r, jax.random.fold_in(key, 10 * p + c))
            assert abs(mean - closed[c]) < 5 * se + 1e-7, (theory.PHASES[phase], density, r, mean, closed[c], se)


def test_closed_forms_at_a_point():
    s, r = 0.2, 3.0
    v = s / 3 - s**2 / 4
    np.testing.assert_allclose(theory.candidate_losses(2, s, r), [r * v, v, (1 + r) * s**2 / 6])
    np.testing.assert_allclose(theory.candidate_losses(3, s, r), [r * v, v, s**2 / 3, (1 + r) * s**2 / 6])


def test_broadcasting_over_a_grid_in_numpy_and_jax():
    s, r = np.geomspace(0.01, 1, 7), np.geomspace(0.1, 10, 5)
    losses = theory.candidate_losses(3, s[:, None], r[None, :])
    assert losses.shape == (7, 5, 4)
    phase, margin = theory.analytic_phase(3, s[:, None], r[None, :])
    assert phase.shape == margin.shape == (7, 5) and np.all(margin >= 0)
    phase_j, margin_j = jax.jit(theory.analytic_phase, static_argnums=0)(3, jnp.asarray(s)[:, None], jnp.asarray(r))
    np.testing.assert_array_equal(phase, np.asarray(phase_j))
    np.testing.assert_allclose(margin, np.asarray(margin_j), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize(
    "n, density, r, expected",
    [
        (2, 1.0, 0.1, NOT_REPRESENTED),
        (2, 1.0, 10.0, DEDICATED),
        (2, 0.01, 1.0, SUPERPOSITION),
        (3, 1.0, 0.1, NOT_REPRESENTED),
        (3, 1.0, 10.0, DEDICATED),
        (3, 0.01, 5.0, ORDINARY_ANTIPODAL),
        (3, 0.01, 0.5, SUPERPOSITION),
    ],
)
def test_known_phases(n, density, r, expected):
    assert theory.analytic_phase(n, density, r)[0] == expected


def test_n2_map_is_symmetric_under_r_to_one_over_r():
    # L(s, 1/r) = L(s, r)/r with "not represented" and "dedicated" swapped: the two features trade places.
    s = np.geomspace(0.01, 1, 40)[:, None]
    r = np.geomspace(0.1, 10, 40)[None, :]  # even count: r = 1 (a tie) is not on the grid
    phase, margin = theory.analytic_phase(2, s, r)
    swap = np.array([0, DEDICATED, NOT_REPRESENTED, ORDINARY_ANTIPODAL, SUPERPOSITION])
    np.testing.assert_array_equal(phase[:, ::-1], swap[phase])
    np.testing.assert_allclose(margin[:, ::-1], margin / r, rtol=1e-6)
    assert {NOT_REPRESENTED, DEDICATED, SUPERPOSITION} == set(np.unique(phase))


def test_n3_superposition_needs_the_extra_feature_to_be_less_important():
    # At low density the extra feature pairs up only when r < 1; otherwise the ordinary ones pair up.
    s = np.geomspace(0.01, 0.05, 5)[:, None]
    r = np.array([0.5, 0.9, 1.1, 2.0])[None, :]
    phase, _ = theory.analytic_phase(3, s, r)
    assert np.all(phase[:, :2] == SUPERPOSITION) and np.all(phase[:, 2:] == ORDINARY_ANTIPODAL)


def test_candidate_params_shapes_and_errors():
    params = theory.candidate_params(3, NOT_REPRESENTED, np.array([0.1, 0.5]))
    assert params["W"].shape == (2, 2, 3) and params["b"].shape == (2, 3)
    np.testing.assert_allclose(params["b"][:, 2], [0.05, 0.25])
    with pytest.raises(ValueError, match="not a candidate"):
        theory.candidate_params(2, ORDINARY_ANTIPODAL, 0.1)
    with pytest.raises(ValueError, match="n=2"):
        theory.candidate_losses(4, 0.1, 1.0)
