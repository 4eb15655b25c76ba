"""The analytic L2 adversarial attack of Elhage et al. (2022) §6, and vulnerability relative to a reference.

For a tied model (linear, relu_output, relu_hidden), the attack on feature i adds the fixed perturbation

    δ_i = λ (WᵀW)_i / ‖(WᵀW)_i‖,    λ = 0.1 × E‖x‖₂,

to every input: (WᵀW)_i is the direction in input space that moves output i the most per unit L2 norm. The
attack that raises the expected loss most, L' = max_i L(x + δ_i), is kept. The paper leaves the reference
unspecified; we use the *orthogonal reference*: the model that represents the top-m features by importance
on orthogonal unit directions (WᵀW = identity on them, 0 elsewhere), with the optimal bias (0 on represented
features, E[x_i] on dropped ones), at the same density, importance and λ. It is what the linear model learns
at any density and what relu_output learns at density 1 (§2), i.e. the best model with no superposition.
Its attack has a closed form: δ_i = λ e_i moves output i alone by λ (inputs are ≥ 0, so no ReLU clips), so
L'₀ − L₀ = λ² · max_i I_i. Hence

    vulnerability = (L' − L) / (L'₀ − L₀) = (L' − L) / (λ² max_i I_i),

which is 1 for a model without superposition and rises as superposition forms (the paper: by more than 3×,
tracking features per dimension, returned beside it).
"""

from __future__ import annotations

import math
import weakref

import jax
import jax.numpy as jnp
import numpy as np

from toyjax.data import DataSpec, sample, spec_of
from toyjax.metrics import _safe_divide, features_per_dimension, gram
from toyjax.models import APPLY, weighted_error

ATTACK_SCALE = 0.1  # λ = ATTACK_SCALE × mean input norm (§6)
TIED_KINDS = ("linear", "relu_output", "relu_hidden")


def attack_directions(W):
    """Unit attack directions (WᵀW)_i / ‖(WᵀW)_i‖ of every feature, as rows (§6).

    Args:
        W: (..., m, n) weights (NumPy or JAX).

    Returns:
        (..., n, n) directions; row i is zero when feature i is not represented.
    """
    G = gram(W)
    xp = jnp if isinstance(G, jax.Array) else np
    row_norm = xp.sqrt(xp.sum(G * G, axis=-1, keepdims=True))
    return _safe_divide(G, row_norm, xp)


def reference_harm(importance, scale):
    """L'₀ − L₀ = λ² max_i I_i: the attack's damage to the orthogonal reference model (module docstring).

    Args:
        importance: (..., n) feature importances.
        scale: (...) attack size λ.
    """
    return scale**2 * np.max(np.asarray(importance), axis=-1)


def _make_attack_one(kind: str, spec: DataSpec, batch: int, key: jax.Array):
    """The per-model attack: (params, density (n,), importance (n,)) -> (L, L' per feature (n,), λ)."""
    apply = APPLY[kind]
    feature_chunk = min(spec.n_features, 32)

    def attack_one(params, density, importance):
        x = sample(spec, batch, density, key=key)  # one key for all models: common random numbers
        scale = ATTACK_SCALE * jnp.mean(jnp.linalg.norm(x, axis=0))
        clean = jnp.mean(weighted_error(importance, x, apply(params, x)))

        def attacked(direction):
            return jnp.mean(weighted_error(importance, x, apply(params, x + scale * direction[:, None])))

        harmed = jax.lax.map(attacked, attack_directions(params["W"]), batch_size=feature_chunk)
        return clean, harmed, scale

    return attack_one


def _attack_grid(kind: str, params, density, importance, spec: DataSpec, key, batch: int):
    """(L, L' per feature, λ) of every model, grid-shaped, from one vmapped, jitted attack."""
    grid = np.shape(params["W"])[:-2]
    flat = {name: jnp.reshape(jnp.asarray(p), (-1,) + p.shape[len(grid) :]) for name, p in params.items()}
    per_feature = (math.prod(grid), spec.n_features)
    density = jnp.broadcast_to(jnp.asarray(density, jnp.float32), grid + (spec.n_features,)).reshape(per_feature)
    attack_all = jax.jit(jax.vmap(_make_attack_one(kind, spec, batch, key)))
    out = attack_all(flat, density, jnp.asarray(importance.reshape(per_feature)))
    return tuple(np.asarray(a).reshape(grid + a.shape[1:]) for a in out)


def attack(kind: str, params, density, importance, spec: DataSpec, *, key: jax.Array, batch: int = 8192):
    """Run the §6 analytic L2 attack on every model of a grid and measure its vulnerability.

    Every model sees the same `batch` inputs drawn from `key` (at its own density), so differences between
    grid points are not sampling noise.

    Args:
        kind: model kind, one of TIED_KINDS (the attack is defined through the tied WᵀW).
        params: {"W": grid + (m, n), "b": grid + (n,)}.
        density: grid + (n,) per-feature density.
        importance: grid + (n,) per-feature importance.
        spec: the data distribution (unsigned).
        key: PRNG key for the inputs.
        batch: number of sampled inputs per model.

    Returns:
        dict of NumPy arrays of the grid's shape: "loss" L, "attacked_loss" L', "feature" (the most harmful
        i), "scale" λ, "harm" L' − L, "reference_harm" L'₀ − L₀, "vulnerability", "features_per_dimension".
    """
    if kind not in TIED_KINDS:
        raise ValueError(f"kind: the §6 attack needs a tied model, one of {TIED_KINDS}; got {kind!r}")
    grid = np.shape(params["W"])[:-2]
    importance = np.broadcast_to(np.asarray(importance, np.float32), grid + (spec.n_features,))
    clean, harmed, scale = _attack_grid(kind, params, density, importance, spec, key, batch)
    harm = harmed.max(axis=-1) - clean
    ref = reference_harm(importance, scale)
    return {
        "loss": clean,
        "attacked_loss": harmed.max(axis=-1),
        "feature": harmed.argmax(axis=-1),
        "scale": scale,
        "harm": harm,
        "reference_harm": ref,
        "vulnerability": _safe_divide(harm, ref, np),
        "features_per_dimension": np.asarray(features_per_dimension(np.asarray(params["W"]))),
    }


_RUNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def attack_results(results, batch: int = 4096) -> dict:
    """`attack` on every model of a run, on the same inputs for all; computed once per `Results` object,
    so that the run's summary and its figure share one attack."""
    if results not in _RUNS:
        kind = str(results.config["model"]["kind"])
        _RUNS[results] = attack(kind, results.params, results.density, results.importance, spec_of(results.config),
                                key=jax.random.PRNGKey(0), batch=batch)
    return _RUNS[results]
