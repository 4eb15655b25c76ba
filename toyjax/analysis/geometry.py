"""Feature geometry of Elhage et al. (2022) §4: the feature graph, tegum factors and their polytopes.

The feature graph has one node per feature and an edge where |W_i·W_j| > tol. Features in different tegum
factors are orthogonal, so the graph's connected components are the tegum factors. Each component is named
from its size k, its rank r and its members' dimensionalities: a uniform polytope spreads its r dimensions
evenly, D_i = r/k for every member (digon 1/2, triangle 2/3, tetrahedron 3/4, pentagon 2/5, square antiprism
3/8, k-gon 2/k).

Thresholds:

    EDGE_TOL = 0.1             an edge needs |W_i·W_j| > 0.1 (adjacent pentagon vertices: cos 72° ≈ 0.31;
                               the closest square-antiprism pair: ≈ 0.14)
    NOT_LEARNED_NORM = 0.3     ‖W_i‖ < 0.3: not learned; such features are isolated nodes
    DIMENSIONALITY_RTOL = 0.1  every member needs |D_i − r/k| ≤ 0.1·r/k, else the component is unclassified

Inputs may be NumPy or JAX arrays with any leading grid dimensions; outputs are NumPy.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from toyjax.analysis.aggregate import fractions
from toyjax.families.toy.metrics import _safe_divide, feature_dimensionality, feature_norms, gram

EDGE_TOL = 0.1
NOT_LEARNED_NORM = 0.3
DIMENSIONALITY_RTOL = 0.1

GEOMETRIES = (
    "not_learned",
    "dedicated",
    "digon",
    "triangle",
    "tetrahedron",
    "pentagon",
    "square_antiprism",
    "k_gon",
    "unclassified",
)
(NOT_LEARNED, DEDICATED, DIGON, TRIANGLE, TETRAHEDRON, PENTAGON, SQUARE_ANTIPRISM, K_GON, UNCLASSIFIED) = range(
    len(GEOMETRIES)
)

# (component size k, rank r) of each named polytope; any other k ≥ 4 in a plane is a k-gon.
_NAMED = {
    (1, 1): DEDICATED,
    (2, 1): DIGON,
    (3, 2): TRIANGLE,
    (4, 3): TETRAHEDRON,
    (5, 2): PENTAGON,
    (8, 3): SQUARE_ANTIPRISM,
}


class FeatureGeometry(NamedTuple):
    """Per-feature geometry, every field (..., n): the feature's component and what that component is."""

    component: np.ndarray  # label of the component: its smallest feature index
    size: np.ndarray  # k, number of features in the component
    rank: np.ndarray  # r, the component's effective rank, rounded
    dimensionality: np.ndarray  # D_i computed within the component
    geometry: np.ndarray  # code into GEOMETRIES


def learned(W, threshold: float = NOT_LEARNED_NORM) -> np.ndarray:
    """Which features are learned, ‖W_i‖ ≥ threshold (§4).

    Args:
        W: (..., m, n) weights.

    Returns:
        (..., n) booleans.
    """
    return feature_norms(np.asarray(W)) >= threshold


def feature_adjacency(W, tol: float = EDGE_TOL) -> np.ndarray:
    """Adjacency of the feature graph: |W_i·W_j| > tol between two learned features, i ≠ j (§4).

    Args:
        W: (..., m, n) weights.
        tol: edge threshold on the absolute dot product.

    Returns:
        (..., n, n) symmetric booleans, False on the diagonal.
    """
    W = np.asarray(W)
    on = learned(W)
    edges = np.abs(gram(W)) > tol
    return edges & on[..., :, None] & on[..., None, :] & ~np.eye(W.shape[-1], dtype=bool)


def connected_components(adjacency) -> np.ndarray:
    """Connected components of every graph in a stack, by min-label propagation with pointer jumping.

    Each node repeatedly takes the smallest label among itself and its neighbours, then its label's label;
    this converges in O(log diameter)–O(diameter) vectorised sweeps.

    Args:
        adjacency: (..., n, n) symmetric booleans.

    Returns:
        (..., n) component labels: the smallest node index in each node's component.
    """
    adjacency = np.asarray(adjacency, dtype=bool)
    n = adjacency.shape[-1]
    labels = np.broadcast_to(np.arange(n), adjacency.shape[:-1]).copy()
    while True:
        neighbour_min = np.where(adjacency, labels[..., None, :], n).min(axis=-1)
        new = np.minimum(labels, neighbour_min)
        new = np.take_along_axis(new, new, axis=-1)
        if np.array_equal(new, labels):
            return labels
        labels = new


def _same_component(labels) -> np.ndarray:
    """(..., n, n) booleans: features i and j are in the same component."""
    return labels[..., :, None] == labels[..., None, :]


def component_rank(W, labels) -> np.ndarray:
    """Effective rank of each feature's component: the participation ratio of its frame operator.

    With M = Σ_{j∈c} W_j W_jᵀ, r = (tr M)² / ‖M‖_F² = (Σ_{j∈c} G_jj)² / Σ_{j,k∈c} G_jk², G = WᵀW. It equals the
    rank for the uniform polytopes (tight frames) and needs no SVD; rotation invariant.

    Args:
        W: (..., m, n) weights.
        labels: (..., n) component labels.

    Returns:
        (..., n) effective rank (float) of the component each feature belongs to; 0 for zero features.
    """
    G = gram(np.asarray(W))
    same = _same_component(labels).astype(G.dtype)
    trace = np.sum(same * np.diagonal(G, axis1=-2, axis2=-1)[..., None, :], axis=-1)
    frobenius = np.sum((same @ (G * G)) * same, axis=-1)
    return _safe_divide(trace**2, frobenius, np)


def component_dimensionality(W, labels) -> np.ndarray:
    """D_i = G_ii² / Σ_{j∈c(i)} G_ij², the feature dimensionality counting only its own component (§4).

    Equals the global D_i when tegum factors are exactly orthogonal, and ignores the small overlaps between
    factors of a trained model.

    Args:
        W: (..., m, n) weights.
        labels: (..., n) component labels.
    """
    G = gram(np.asarray(W))
    diag = np.diagonal(G, axis1=-2, axis2=-1)
    return _safe_divide(diag**2, np.sum(np.where(_same_component(labels), G**2, 0), axis=-1), np)


def _name_components(size, rank, dimensionality, labels, on) -> np.ndarray:
    """Geometry code per feature from its component's (k, r) and members' D_i ≈ r/k."""
    code = np.full(size.shape, UNCLASSIFIED)
    code = np.where((rank == 2) & (size >= 4), K_GON, code)
    for (k, r), name in _NAMED.items():
        code = np.where((size == k) & (rank == r), name, code)
    target = _safe_divide(rank, size, np)
    uniform = np.abs(dimensionality - target) <= DIMENSIONALITY_RTOL * target
    all_uniform = np.all(np.where(_same_component(labels), uniform[..., None, :], True), axis=-1)
    code = np.where(all_uniform, code, UNCLASSIFIED)
    return np.where(on, code, NOT_LEARNED)


def classify_geometry(W, tol: float = EDGE_TOL) -> FeatureGeometry:
    """Tegum factors of every model and the polytope each feature sits in (§4).

    Components of the feature graph are named from size k, rank r and members' D_i: dedicated (k=1),
    digon (2, 1), triangle (3, 2), tetrahedron (4, 3), pentagon (5, 2), square antiprism (8, 3), other
    k-gon (k ≥ 4, r = 2), each requiring D_i ≈ r/k for all members; else unclassified. Features with
    ‖W_i‖ < NOT_LEARNED_NORM are not learned. A tegum product (e.g. a triangular bipyramid) splits into its
    factors (a triangle and a digon).

    Args:
        W: (..., m, n) weights.
        tol: edge threshold on |W_i·W_j|.

    Returns:
        FeatureGeometry with (..., n) arrays.
    """
    W = np.asarray(W)
    labels = connected_components(feature_adjacency(W, tol))
    size = np.sum(_same_component(labels), axis=-1)
    rank = np.rint(np.nan_to_num(component_rank(W, labels))).astype(int)  # a diverged model's NaN: rank 0
    dimensionality = component_dimensionality(W, labels)
    code = _name_components(size, rank, dimensionality, labels, learned(W))
    return FeatureGeometry(labels, size, rank, dimensionality, code)


def geometry_fractions(codes) -> dict[str, float]:
    """Fraction of features in each geometry, over all given features (§4, "fraction in each polytope").

    Args:
        codes: (...) geometry codes, e.g. ``classify_geometry(W).geometry``.

    Returns:
        {geometry name: fraction}, summing to 1.
    """
    return fractions(codes, GEOMETRIES)


def canonical_orientation(W, anchor=None) -> np.ndarray:
    """Rotate and flip 2-D solutions into a canonical pose for plotting (§4 non-uniform figure).

    Rotation puts the anchor feature along +x; the flip (a reflection y → −y, harmless since only WᵀW
    matters) makes the next learned feature after the anchor, cyclically by index and not collinear with it,
    point counter-clockwise (y > 0). WᵀW is unchanged.

    Args:
        W: (..., 2, n) weights.
        anchor: (...) or int feature index; default: the first feature with ‖W_i‖ ≥ half the largest norm
            (features are conventionally ordered by decreasing importance).

    Returns:
        (..., 2, n) canonical weights.
    """
    W = np.asarray(W, dtype=np.float64)
    if W.shape[-2] != 2:
        raise ValueError(f"W: canonical orientation needs m=2 hidden dimensions, got shape {W.shape}")
    norms = feature_norms(W)
    on = norms >= 0.5 * norms.max(axis=-1, keepdims=True)
    if anchor is None:
        anchor = np.argmax(on, axis=-1)
    anchor = np.broadcast_to(np.asarray(anchor), W.shape[:-2])[..., None]
    a = np.take_along_axis(W, anchor[..., None, :], axis=-1)[..., 0]
    theta = np.arctan2(a[..., 1], a[..., 0])[..., None]
    x, y = W[..., 0, :], W[..., 1, :]
    x, y = np.cos(theta) * x + np.sin(theta) * y, np.cos(theta) * y - np.sin(theta) * x
    n = W.shape[-1]
    eligible = on & (np.abs(y) > 1e-6 * norms.max(axis=-1, keepdims=True))
    order = np.where(eligible, (np.arange(n) - anchor) % n, n)
    nxt = np.take_along_axis(y, np.argmin(order, axis=-1)[..., None], axis=-1)
    return np.stack([x, np.where(nxt < 0, -y, y)], axis=-2)


def feature_graph(W, tol: float = EDGE_TOL) -> dict[str, list[dict]]:
    """The feature graph of ONE model as plain node and edge lists, for networkx or any other drawer (§4).

    ``networkx.Graph()`` users: ``g.add_nodes_from((d["id"], d) for d in nodes)``,
    ``g.add_edges_from((e["source"], e["target"], e) for e in edges)``.

    Args:
        W: (m, n) weights of a single model (index the grid first).
        tol: edge threshold on |W_i·W_j|.

    Returns:
        {"nodes": [{"id", "norm", "dimensionality", "component", "geometry"}],
         "edges": [{"source", "target", "weight"}]} with weight = W_i·W_j, plain Python numbers.
    """
    W = np.asarray(W)
    if W.ndim != 2:
        raise ValueError(f"W: expected one model's (m, n) weights, got shape {W.shape}")
    geo = classify_geometry(W, tol)
    norms, dims, G = feature_norms(W), feature_dimensionality(W), gram(W)
    nodes = [
        {
            "id": i,
            "norm": float(norms[i]),
            "dimensionality": float(dims[i]),
            "component": int(geo.component[i]),
            "geometry": GEOMETRIES[geo.geometry[i]],
        }
        for i in range(W.shape[-1])
    ]
    i, j = np.nonzero(np.triu(feature_adjacency(W, tol)))
    edges = [{"source": int(a), "target": int(b), "weight": float(G[a, b])} for a, b in zip(i, j)]
    return {"nodes": nodes, "edges": edges}
