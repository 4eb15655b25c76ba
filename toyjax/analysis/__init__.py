"""Analysis of trained toy-model grids (Elhage et al., "Toy Models of Superposition", 2022).

- `metrics` (re-exported from `toyjax.families.toy.metrics`, beside the models): ‖W_i‖, WᵀW, superposition, D*, feature
  dimensionality D_i, interference (§2, §4).
- `aggregate`: best seed per cell, per-axis means, ranges, fractions; diverged and missing models rank last.
- `theory`: the analytic §3 phase model (n=2, m=1 and n=3, m=2): candidate losses, winning phase, margin.
- `phase`: phase classification of trained §3 models, seed policies, agreement with the theory.
- `geometry`: feature graph, tegum factors and their polytopes, canonical 2-D orientation (§4).
- `adversarial`: the §6 analytic L2 attack and vulnerability.
- `neurons`: §7/§8 stack-plot data and mono/polysemantic neurons.
- `dynamics`: §5 D_i and loss trajectories, jump detection.
- `memorization`: finite training sets (Henighan et al. 2023): the double-descent curve and its peak,
  training points and features on polygons.
- `summary`: `summarize(results, names)`, the numbers printed at the end of a run; `SUMMARIES` by name.

Every function accepts NumPy or JAX arrays with any leading grid dimensions. `metrics` and `theory` return
the same kind of array (usable under `jit`/`grad`); the classifiers and summaries return NumPy. This package
imports `toyjax.families.toy.metrics`, `toyjax.families.toy.models` and `toyjax.data`, never the engine.
"""

from toyjax.analysis.adversarial import attack, attack_directions, reference_harm
from toyjax.analysis.dynamics import detect_jumps, jump_events, trajectories
from toyjax.analysis.geometry import (
    GEOMETRIES,
    FeatureGeometry,
    canonical_orientation,
    classify_geometry,
    connected_components,
    feature_adjacency,
    feature_graph,
    geometry_fractions,
)
from toyjax.analysis.memorization import features_in_polygon, point_geometry
from toyjax.analysis.neurons import (
    NEURON_CLASSES,
    classify_neurons,
    monosemanticity,
    neuron_order,
    neuron_weights,
    normalize_abs_mlp,
    stack_plot_data,
)
from toyjax.analysis.phase import (
    POLICIES,
    aggregate_phase,
    agreement,
    classify_phase,
    classify_phase_metrics,
    extra_feature_phase,
    near_boundary,
    phase_metrics,
)
from toyjax.analysis.summary import SUMMARIES, summarize
from toyjax.analysis.theory import (
    CANDIDATES,
    PHASES,
    analytic_phase,
    candidate_losses,
    candidate_params,
)
from toyjax.families.toy import metrics
from toyjax.families.toy.metrics import (
    cosines,
    data_dimensionality,
    dimensions_per_feature,
    feature_dimensionality,
    feature_norms,
    features_per_dimension,
    gram,
    interference,
    superposition,
    unit_features,
)

__all__ = [
    "CANDIDATES",
    "GEOMETRIES",
    "NEURON_CLASSES",
    "PHASES",
    "POLICIES",
    "SUMMARIES",
    "FeatureGeometry",
    "aggregate_phase",
    "agreement",
    "analytic_phase",
    "attack",
    "attack_directions",
    "candidate_losses",
    "candidate_params",
    "canonical_orientation",
    "classify_geometry",
    "classify_neurons",
    "classify_phase",
    "classify_phase_metrics",
    "connected_components",
    "cosines",
    "data_dimensionality",
    "detect_jumps",
    "extra_feature_phase",
    "dimensions_per_feature",
    "feature_adjacency",
    "feature_dimensionality",
    "feature_graph",
    "features_in_polygon",
    "feature_norms",
    "features_per_dimension",
    "geometry_fractions",
    "gram",
    "interference",
    "metrics",
    "jump_events",
    "monosemanticity",
    "near_boundary",
    "neuron_order",
    "neuron_weights",
    "normalize_abs_mlp",
    "phase_metrics",
    "point_geometry",
    "reference_harm",
    "stack_plot_data",
    "summarize",
    "superposition",
    "trajectories",
    "unit_features",
]
