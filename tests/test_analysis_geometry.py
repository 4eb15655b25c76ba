"""Exact polytopes built in code: their D_i (§4) and the geometry classifier's names for them."""

import jax.numpy as jnp
import numpy as np
import pytest

from toyjax.analysis import geometry, metrics
from toyjax.analysis.geometry import GEOMETRIES


def polygon(k: int) -> np.ndarray:
    """Regular k-gon of unit vectors in 2-D, shape (2, k)."""
    angle = 2 * np.pi * np.arange(k) / k
    return np.stack([np.cos(angle), np.sin(angle)])


def embed(W: np.ndarray, m: int) -> np.ndarray:
    """Pad W (d, k) with zero rows up to m hidden dimensions."""
    return np.concatenate([W, np.zeros((m - W.shape[0], W.shape[1]))])


def tegum(*factors: np.ndarray) -> np.ndarray:
    """Tegum product: factors in mutually orthogonal subspaces (block diagonal)."""
    rows = sum(f.shape[0] for f in factors)
    out, r = [], 0
    for f in factors:
        out.append(np.concatenate([np.zeros((r, f.shape[1])), f, np.zeros((rows - r - f.shape[0], f.shape[1]))]))
        r += f.shape[0]
    return np.concatenate(out, axis=1)


def square_antiprism() -> np.ndarray:
    """8 unit vectors in 3-D: two squares turned 45°, at heights ±1/√3 (a tight frame, so D = 3/8)."""
    angle = np.pi / 2 * np.arange(8) + np.where(np.arange(8) < 4, 0, np.pi / 4)
    rho, h = np.sqrt(2 / 3), np.sqrt(1 / 3)
    return np.stack([rho * np.cos(angle), rho * np.sin(angle), np.where(np.arange(8) < 4, h, -h)])


DIGON = np.array([[1.0, -1.0]])
TETRAHEDRON = np.array([[1, 1, -1, -1], [1, -1, 1, -1], [1, -1, -1, 1]]) / np.sqrt(3)

# name -> (W, expected D_i, expected geometry name per feature)
POLYTOPES = {
    "digon": (DIGON, [1 / 2] * 2, ["digon"] * 2),
    "triangle": (polygon(3), [2 / 3] * 3, ["triangle"] * 3),
    "tetrahedron": (TETRAHEDRON, [3 / 4] * 4, ["tetrahedron"] * 4),
    "pentagon": (polygon(5), [2 / 5] * 5, ["pentagon"] * 5),
    "square_antiprism": (square_antiprism(), [3 / 8] * 8, ["square_antiprism"] * 8),
    "triangular_bipyramid": (tegum(polygon(3), DIGON), [2 / 3] * 3 + [1 / 2] * 2, ["triangle"] * 3 + ["digon"] * 2),
    "pentagonal_bipyramid": (tegum(polygon(5), DIGON), [2 / 5] * 5 + [1 / 2] * 2, ["pentagon"] * 5 + ["digon"] * 2),
    "octahedron": (tegum(DIGON, DIGON, DIGON), [1 / 2] * 6, ["digon"] * 6),
    "hexagon": (polygon(6), [1 / 3] * 6, ["k_gon"] * 6),
    "dedicated_and_zero": (
        np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
        [1, 1, 0],
        ["dedicated"] * 2 + ["not_learned"],
    ),
}


def rotated(W: np.ndarray, m: int = 5, seed: int = 0) -> np.ndarray:
    """W embedded in m dimensions and rotated by a random orthogonal matrix."""
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(m, m)))
    return Q @ embed(W, m)


@pytest.mark.parametrize("name", POLYTOPES)
def test_exact_polytopes_have_the_known_dimensionality(name):
    W, expected, _ = POLYTOPES[name]
    np.testing.assert_allclose(metrics.feature_dimensionality(W), expected, atol=1e-12)
    np.testing.assert_allclose(metrics.feature_dimensionality(rotated(W)), expected, atol=1e-12)


@pytest.mark.parametrize("name", POLYTOPES)
def test_classifier_names_each_polytope(name):
    W, _, names = POLYTOPES[name]
    for version in (W, rotated(W), -rotated(W, seed=3)):
        geo = geometry.classify_geometry(version)
        assert [GEOMETRIES[c] for c in geo.geometry] == names


def test_tegum_product_splits_into_orthogonal_components():
    W, _, _ = POLYTOPES["pentagonal_bipyramid"]
    geo = geometry.classify_geometry(rotated(W))
    np.testing.assert_array_equal(geo.component, [0, 0, 0, 0, 0, 5, 5])
    np.testing.assert_array_equal(geo.size, [5] * 5 + [2] * 2)
    np.testing.assert_array_equal(geo.rank, [2] * 5 + [1] * 2)


def test_grid_of_models_is_classified_at_once_in_numpy_or_jax():
    W, _, names = POLYTOPES["triangular_bipyramid"]
    grid = np.stack([np.stack([rotated(W, seed=s), -rotated(W, seed=s)]) for s in range(3)])  # (3, 2, 5, 5)
    for version in (grid, jnp.asarray(grid)):
        geo = geometry.classify_geometry(version)
        assert geo.geometry.shape == (3, 2, 5)
        assert all([GEOMETRIES[c] for c in row] == names for row in geo.geometry.reshape(-1, 5))


def test_noise_and_unequal_norms():
    W = polygon(5) + np.random.default_rng(0).normal(scale=0.01, size=(2, 5))
    assert set(geometry.classify_geometry(W).geometry) == {geometry.PENTAGON}
    lopsided = np.array([[1.0, -0.5]])  # a pair with unequal norms is not a uniform digon
    assert set(geometry.classify_geometry(lopsided).geometry) == {geometry.UNCLASSIFIED}


def test_connected_components_of_a_path_and_isolated_nodes():
    A = np.zeros((6, 6), dtype=bool)
    for i, j in [(5, 4), (4, 2), (2, 1)]:
        A[i, j] = A[j, i] = True
    np.testing.assert_array_equal(geometry.connected_components(A), [0, 1, 1, 3, 1, 1])


def test_geometry_fractions_sum_to_one():
    geo = geometry.classify_geometry(POLYTOPES["triangular_bipyramid"][0])
    fractions = geometry.geometry_fractions(geo.geometry)
    assert fractions["triangle"] == pytest.approx(0.6) and fractions["digon"] == pytest.approx(0.4)
    assert sum(fractions.values()) == pytest.approx(1.0)


def test_feature_graph_export():
    graph = geometry.feature_graph(POLYTOPES["triangular_bipyramid"][0])
    assert [n["geometry"] for n in graph["nodes"]] == ["triangle"] * 3 + ["digon"] * 2
    pairs = {(e["source"], e["target"]) for e in graph["edges"]}
    assert pairs == {(0, 1), (0, 2), (1, 2), (3, 4)}
    assert all(isinstance(e["weight"], float) for e in graph["edges"])
    with pytest.raises(ValueError, match="one model"):
        geometry.feature_graph(np.zeros((2, 2, 3)))


def test_canonical_orientation_undoes_rotation_and_reflection():
    W = polygon(5) * np.array([1.0, 0.9, 1.0, 0.8, 1.0])
    canon = geometry.canonical_orientation(W)
    np.testing.assert_allclose(canon[:, 0], [1, 0], atol=1e-12)  # anchor along +x
    assert canon[1, 1] > 0  # next feature counter-clockwise
    angle = np.linspace(0, 2 * np.pi, 7)
    rotations = np.stack([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]).transpose(2, 0, 1)
    flip = np.diag([1.0, -1.0])
    versions = np.concatenate([rotations @ W, rotations @ flip @ W])  # a (14, 2, 5) grid
    out = geometry.canonical_orientation(versions)
    np.testing.assert_allclose(out, np.broadcast_to(canon, out.shape), atol=1e-12)
    np.testing.assert_allclose(metrics.gram(out), metrics.gram(versions), atol=1e-12)


def test_canonical_orientation_skips_unlearned_and_collinear_features():
    W = np.array([[0.0, 1.0, -1.0, 0.01], [0.0, 0.0, 0.0, -0.01]])  # 0 not learned; 2 antipodal to 1
    W = np.concatenate([W, [[0.0], [-1.0]]], axis=1)  # feature 4 along −y
    out = geometry.canonical_orientation(W)
    np.testing.assert_allclose(out[:, 1], [1, 0], atol=1e-12)
    assert out[1, 4] > 0
