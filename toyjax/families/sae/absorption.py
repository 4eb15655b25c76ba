"""Two failure modes of SAEs on hierarchical features: absorption and hedging, per parent → child pair.

In a hierarchy a child feature fires only when its parent does. Each function takes the pairs as (P, 2)
integer indices (parent, child) into the true features, the features' directions F (d, N), the SAE's
decoder D (d, M), and `matched` (N,): the latent that stands for each feature (`toyjax.families.sae.matching`,
−1 for none). Inputs are JAX or NumPy arrays; this module imports jax and `toyjax.families.sae.metrics`.

**Absorption** (Chanin et al., "A is for Absorption: Studying feature splitting and absorption in sparse
autoencoders", 2024): the parent's latent stops firing when the child fires, and a latent that does fire
carries the parent's direction. With a probe along the parent's true direction u = F_p / ‖F_p‖, the probe
reads u·h of an input h = F x, and latent j contributes f_j cos(D_j, u) to it. An input on which parent and
child are both on is *fully absorbed* when the parent's latent does not fire, and the latent (other than
it) contributing most to the probe has cos(D_j, u) ≥ 0.025 and contributes ≥ 0.4 of u·h > 0: the criteria
and thresholds of SAEBench's ``FeatureAbsorptionCalculator`` (its full absorption), with the true parent
direction as the probe. The absorption rate of a pair is the fraction of the inputs where both are on that
are fully absorbed (0 when there is none).

**Hedging** (Chanin, Dulka and Garriga-Alonso, "Feature hedging: correlated features break narrow sparse
autoencoders", 2025): a latent too few mixes the child into the parent's latent, in encoder and decoder
alike. Measured on the decoder: hedging of a pair is cos(D_ℓ, F_c) − cos(F_p, F_c), with ℓ the parent's
latent: how far its decoder leans to the child beyond the parent's own overlap with it (0 for a latent
along the parent; with orthogonal features, the cosine of the parent's latent with the child). 0 when the
parent has no latent.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from toyjax.families.sae.metrics import cosines, unit_columns

ABSORBING_COS = 0.025  # the absorbing latent's least cosine with the probe (SAEBench, full absorption)
ABSORBED_SHARE = 0.4  # its least share of the probe's reading (SAEBench's probe_projection_proportion_threshold)


def absorption(x: jax.Array, pairs: jax.Array, f: jax.Array, decoder: jax.Array, features: jax.Array,
               matched: jax.Array) -> jax.Array:
    """(P,) the absorption rate of each pair (module docstring) on true features x (N, batch), latents f (M, batch)."""
    return jax.vmap(lambda pair: _absorbed(x, pair, f, decoder, features, matched))(jnp.asarray(pairs))


def _absorbed(x, pair, f, decoder, features, matched) -> jax.Array:
    """The absorption rate of one (parent, child) pair."""
    parent, child = pair[0], pair[1]
    u = unit_columns(features)[:, parent]
    probe = (u @ features) @ x  # (batch,) u·h of h = F x
    cos = cosines(u[:, None], decoder)[0]  # (M,)
    main = matched[parent]
    share = jnp.where(jnp.arange(f.shape[0])[:, None] == main, -jnp.inf, f * cos[:, None])  # (M, batch)
    top = jnp.argmax(share, axis=0)
    main_fires = (main >= 0) & (f[jnp.maximum(main, 0)] > 0)
    both = (x[parent] != 0) & (x[child] != 0)
    absorbed = both & ~main_fires & (cos[top] >= ABSORBING_COS) & (probe > 0) & (
        jnp.max(share, axis=0) >= ABSORBED_SHARE * probe)
    return jnp.sum(absorbed) / jnp.maximum(jnp.sum(both), 1)


def hedging(pairs: jax.Array, decoder: jax.Array, features: jax.Array, matched: jax.Array) -> jax.Array:
    """(P,) the hedging of each pair: cos(D_ℓ, F_c) − cos(F_p, F_c) for the parent's latent ℓ (module docstring)."""
    pairs = jnp.asarray(pairs)
    parent, child = pairs[:, 0], pairs[:, 1]
    latent = matched[parent]
    toward_child = cosines(features[:, child], decoder)  # (P, M)
    lean = jnp.take_along_axis(toward_child, jnp.maximum(latent, 0)[:, None], axis=1)[:, 0]
    own = jnp.sum(unit_columns(features[:, parent]) * unit_columns(features[:, child]), axis=0)
    return jnp.where(latent >= 0, lean - own, 0.0)
