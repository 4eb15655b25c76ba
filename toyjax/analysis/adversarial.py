"""The analytic L2 adversarial attack of Elhage et al. (2022) §6, and vulnerability relative to a reference.

For a tied model (its decoder is Wᵀ: linear, relu_output, relu_hidden, or any ``encoder: tied`` description),
the attack on feature i adds the perturbation

    δ_i = λ (WᵀW)_i / ‖(WᵀW)_i‖

to every input: (WᵀW)_i is the direction in input space that moves output i the most per unit L2 norm. The
attack that raises the expected loss most, L' = max_i L(x + δ_i), is kept. The paper allows "a max L2
attack norm of 0.1 of the average input norm". Two readings of the size λ are offered (`ATTACK_SIZES`):

    shared     λ = 0.1 × E‖x‖₂, one size for every input: the paper's words, and the default;
    per_input  λ(x) = 0.1 × ‖x‖₂, each input attacked in proportion to its own norm (same direction).

They agree when every input has several active features (‖x‖ concentrates near its mean). They part when
most inputs are zero (few features × low density): the shared λ is then small beside the negative biases,
which clip it, and the measured vulnerability falls back towards 1 while superposition keeps growing.

The paper leaves the reference unspecified; we use the *orthogonal reference*: the model that represents
the top-m features by importance on orthogonal unit directions (WᵀW = identity on them, 0 elsewhere), with
the optimal bias (0 on represented features, E[x_i] on dropped ones), at the same density, importance and λ.
It is what the linear model learns at any density and what relu_output learns at density 1 (§2), i.e. the
best model with no superposition. Its attack has a closed form: δ_i = λ e_i moves output i alone by λ
(inputs are ≥ 0, so no ReLU clips), so L'₀ − L₀ = E[λ²] · max_i I_i (λ² for the shared size). Hence

    vulnerability = (L' − L) / (L'₀ − L₀) = (L' − L) / (E[λ²] max_i I_i),

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
from toyjax.families.toy.architecture import Architecture, architecture_of, as_architecture
from toyjax.families.toy.metrics import _safe_divide, features_per_dimension, gram
from toyjax.families.toy.models import apply, weighted_error
from toyjax.numerics import at_precision

ATTACK_SCALE = 0.1  # λ = ATTACK_SCALE × mean input norm (§6)
ATTACK_SIZES = ("shared", "per_input")  # module docstring


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
        scale: (...) attack size λ (the root mean square of λ(x) for per-input sizes).
    """
    return scale**2 * np.max(np.asarray(importance), axis=-1)


def _make_attack_one(arch: Architecture, spec: DataSpec, batch: int, key: jax.Array, size: str):
    """The per-model attack: (params, density (n,), importance (n,)) -> (L, L' per feature (n,), rms λ)."""
    feature_chunk = min(spec.n_features, 32)

    def attack_one(params, density, importance):
        x = sample(spec, batch, density, key=key)  # one key for all models: common random numbers
        norms = jnp.linalg.norm(x, axis=0)
        scale = ATTACK_SCALE * (jnp.mean(norms) if size == "shared" else norms)  # () or (batch,)
        clean = jnp.mean(weighted_error(importance, x, apply(arch, params, x)))

        def attacked(direction):
            return jnp.mean(weighted_error(importance, x, apply(arch, params, x + direction[:, None] * scale)))

        harmed = jax.lax.map(attacked, attack_directions(params["W"]), batch_size=feature_chunk)
        return clean, harmed, jnp.sqrt(jnp.mean(scale**2))

    return attack_one


def _attack_grid(arch: Architecture, params, density, importance, spec: DataSpec, key, batch: int, size: str):
    """(L, L' per feature, rms λ) of every model, grid-shaped, from one vmapped, jitted attack."""
    grid = np.shape(params["W"])[:-2]
    flat = {name: jnp.reshape(jnp.asarray(p), (-1,) + p.shape[len(grid) :]) for name, p in params.items()}
    per_feature = (math.prod(grid), spec.n_features)
    density = jnp.broadcast_to(jnp.asarray(density, jnp.float32), grid + (spec.n_features,)).reshape(per_feature)
    attack_all = jax.jit(at_precision("highest", jax.vmap(_make_attack_one(arch, spec, batch, key, size))))
    out = attack_all(flat, density, jnp.asarray(importance.reshape(per_feature)))
    return tuple(np.asarray(a).reshape(grid + a.shape[1:]) for a in out)


def _check(arch: Architecture, size: str) -> None:
    if not arch.tied:
        raise ValueError(f"model: the §6 attack needs a tied encoder (model.encoder: tied), got {arch.encoder}")
    if size not in ATTACK_SIZES:
        raise ValueError(f"size: unknown attack size {size!r}; allowed: {', '.join(ATTACK_SIZES)}")


def attack(model: Architecture | str, params, density, importance, spec: DataSpec, *, key: jax.Array, batch: int = 8192,
           size: str = "shared"):
    """Run the §6 analytic L2 attack on every model of a grid and measure its vulnerability.

    Every model sees the same `batch` inputs drawn from `key` (at its own density), so differences between
    grid points are not sampling noise.

    Args:
        model: the models' `Architecture`, or its shorthand; tied (the attack is defined through WᵀW).
        params: {"W": grid + (m, n), "b": grid + (n,)}.
        density: grid + (n,) per-feature density.
        importance: grid + (n,) per-feature importance.
        spec: the data distribution (unsigned).
        key: PRNG key for the inputs.
        batch: number of sampled inputs per model.
        size: how λ is set, one of ATTACK_SIZES (module docstring).

    Returns:
        dict of NumPy arrays of the grid's shape: "loss" L, "attacked_loss" L', "feature" (the most harmful
        i), "scale" λ (root mean square for per-input sizes), "harm" L' − L, "reference_harm" L'₀ − L₀,
        "vulnerability", "features_per_dimension".
    """
    arch = as_architecture(model)
    _check(arch, size)
    grid = np.shape(params["W"])[:-2]
    importance = np.broadcast_to(np.asarray(importance, np.float32), grid + (spec.n_features,))
    clean, harmed, scale = _attack_grid(arch, params, density, importance, spec, key, batch, size)
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


def attack_results(results, size: str = "shared", batch: int = 4096) -> dict:
    """`attack` of one size on every model of a run, on the same inputs for all; computed once per `Results`
    object and size, so that the run's summary and its figure share one attack."""
    found = _RUNS.setdefault(results, {})
    if size not in found:
        arch = architecture_of(results.config["model"])
        found[size] = attack(arch, results.params, results.density, results.importance, spec_of(results.config),
                             key=jax.random.PRNGKey(0), batch=batch, size=size)
    return found[size]
