"""How well an SAE's dictionary recovers known features: mean max cosine similarity, recovery, L0, dead latents.

With decoder directions D (d, M) (the columns of W_dec) and true feature directions F (d, N), the cosine
matrix C = F̂ᵀ D̂ (N, M) gives the mean max cosine similarity (MMCS) of Sharkey, Braun and Millidge,
"Taking features out of superposition with sparse autoencoders" (2022), both ways: features → latents
(mean over true features of their best latent: how much of the truth is recovered) and latents → features
(mean over live latents of their best feature: how much of the dictionary is true). A feature counts as
recovered at cos ≥ 0.9 and at ≥ 0.99. `mmcs_firing` takes only the latents that fire on a batch, so that a
dictionary that does not fire does not score: a decoder column keeps its direction after its latent dies.
L0, dead latents, the fraction of variance explained and the shrinkage come from the latent activations of a
batch. Inputs are JAX or NumPy arrays; this module imports only jax.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

RECOVERY_COS = (0.9, 0.99)


def unit_columns(M: jax.Array) -> jax.Array:
    """Columns of M scaled to unit norm (zero columns stay zero)."""
    norm = jnp.linalg.norm(M, axis=0, keepdims=True)
    return jnp.where(norm > 0, M / jnp.where(norm > 0, norm, 1.0), 0.0)


def cosines(features: jax.Array, decoder: jax.Array) -> jax.Array:
    """C = F̂ᵀ D̂ (N, M): the cosine of every true feature (columns of F (d, N)) with every latent (D (d, M))."""
    return unit_columns(features).T @ unit_columns(decoder)


def mmcs(features: jax.Array, decoder: jax.Array, live: jax.Array, known: jax.Array) -> dict[str, jax.Array]:
    """MMCS both ways, over the live latents (`live`, (M,)) and the known features (`known`, (N,)).

    Returns "features_to_latents" (mean over known features of the best live latent's cosine) and
    "latents_to_features" (mean over live latents of the best known feature's cosine), and, for each
    threshold of `RECOVERY_COS`, "recovered_<c>": the fraction of known features whose best cos ≥ c.
    """
    C = cosines(features, decoder)
    best_latent = jnp.max(jnp.where(live[None, :], C, -1.0), axis=1)
    best_feature = jnp.max(jnp.where(known[:, None], C, -1.0), axis=0)
    out = {
        "features_to_latents": _mean(best_latent, known),
        "latents_to_features": _mean(best_feature, live),
    }
    out.update({f"recovered_{c}": _mean((best_latent >= c).astype(C.dtype), known) for c in RECOVERY_COS})
    return out


def mmcs_firing(features: jax.Array, decoder: jax.Array, live: jax.Array, known: jax.Array, fired: jax.Array
                ) -> dict[str, jax.Array]:
    """`mmcs` over the live latents that fire (`fired`, (M,)); every number 0 when none of them does."""
    firing = live & fired
    return {k: jnp.where(jnp.any(firing), v, 0.0) for k, v in mmcs(features, decoder, firing, known).items()}


def _mean(values: jax.Array, where: jax.Array) -> jax.Array:
    return jnp.sum(jnp.where(where, values, 0.0)) / jnp.maximum(jnp.sum(where), 1)


def activity(f: jax.Array, live: jax.Array) -> dict[str, jax.Array]:
    """L0 (mean active latents per sample) and the dead latents (live ones never active) of latents f (M, batch)."""
    fired = jnp.any(f > 0, axis=1)
    return {"l0": jnp.mean(jnp.sum(f > 0, axis=0)), "dead": live & ~fired,
            "fraction_dead": jnp.sum(live & ~fired) / jnp.maximum(jnp.sum(live), 1)}


def reconstruction(x: jax.Array, x_hat: jax.Array) -> dict[str, jax.Array]:
    """Mean squared error E‖x − x̂‖² of columns (d, batch), and the fraction of the variance of x it explains."""
    mse = jnp.mean(jnp.sum((x - x_hat) ** 2, axis=0))
    variance = jnp.sum(jnp.var(x, axis=1))
    return {"mse": mse, "fraction_variance_explained": 1.0 - mse / jnp.maximum(variance, 1e-12)}


def shrinkage(x: jax.Array, x_hat: jax.Array, floor: float = 1e-6) -> jax.Array:
    """The mean ratio ‖x̂‖ / ‖x‖ over the columns (d, batch) with ‖x‖ > `floor` (1: no shrinkage; 0 if none).

    SAELens's shrinkage (``sae_lens.synthetic.evals.ShrinkageCalculator``, sae-lens 6.x): an L1 penalty
    shrinks the latents, so the reconstruction falls short of the input's norm."""
    norm = jnp.linalg.norm(x, axis=0)
    kept = norm > floor
    ratio = jnp.linalg.norm(x_hat, axis=0) / jnp.where(kept, norm, 1.0)
    return jnp.sum(jnp.where(kept, ratio, 0.0)) / jnp.maximum(jnp.sum(kept), 1)
