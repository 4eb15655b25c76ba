"""Latents matched one to one to the true features, and how well each matched latent stands for its feature.

**Matching.** With C = F̂ᵀ D̂ (N, M) the cosines of the true feature directions with the decoder's columns
(`toyjax.families.sae.metrics.cosines`), the features and latents are paired one to one so that the sum of
|C| over the pairs is largest: the Hungarian algorithm, `scipy.optimize.linear_sum_assignment` on the cost
1 − |C|, over the known features and the SAE's own latents (its first ``dict_size``; dead ones too, as
SAELens matches every latent). min(features, latents) pairs form; a feature left over has no latent (−1).

**MCC**, the mean correlation coefficient, is the mean |cos| of the matched pairs: SAELens's
``sae_lens.synthetic.evals.mean_correlation_coefficient`` (sae-lens 6.x, the metric of SynthSAEBench, after
O'Neill et al., "Position: Mechanistic interpretability should prioritize feature consistency in SAEs",
arXiv:2505.20254). 1 when every feature has a latent of its own along (or against) its direction.

**Detection.** Each matched latent is scored as a detector of its feature on a batch: it fires (f > 0)
against the feature being on (x ≠ 0). Precision TP / (TP + FP), recall TP / (TP + FN), F1 their harmonic
mean, each 0 where undefined (a latent that never fires has precision 0), as SAELens's
``ClassificationMetricsCalculator``. SAELens pairs each latent with its best feature by |cos| and averages
over every latent; here the pairs are the Hungarian ones, and the means are over the matched pairs.

`assign` runs on the host (NumPy and SciPy); `match` calls it from a traced program through
`jax.pure_callback`, so the final records of a compiled block can hold it (never the training step). This
module imports jax, numpy, scipy and `toyjax.families.sae.metrics`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import linear_sum_assignment

from toyjax.families.sae.metrics import cosines


def assign(C: np.ndarray, known: np.ndarray, own: np.ndarray) -> np.ndarray:
    """(N,) int32: the latent matched to each known feature (rows of C (N, M)) among the `own` latents, −1 for none."""
    rows, cols = np.flatnonzero(known), np.flatnonzero(own)
    out = np.full(C.shape[0], -1, np.int32)
    if rows.size and cols.size:
        r, c = linear_sum_assignment(1.0 - np.abs(np.asarray(C, np.float64)[np.ix_(rows, cols)]))
        out[rows[r]] = cols[c]
    return out


def match(features: jax.Array, decoder: jax.Array, known: jax.Array, own: jax.Array) -> jax.Array:
    """(N,) int32: `assign` on the cosines of the features (d, N) with the decoder's columns (d, M), traceable."""
    C = cosines(features, decoder)
    shape = jax.ShapeDtypeStruct(C.shape[:1], jnp.int32)
    return jax.pure_callback(assign, shape, C, known, own, vmap_method="sequential")


def mcc(C: jax.Array, matched: jax.Array) -> jax.Array:
    """The mean |cos| of the matched pairs (`matched` (N,), −1 for none); 0 when there is no pair."""
    paired = matched >= 0
    cos = jnp.abs(jnp.take_along_axis(C, jnp.maximum(matched, 0)[:, None], axis=1)[:, 0])
    return jnp.sum(jnp.where(paired, cos, 0.0)) / jnp.maximum(jnp.sum(paired), 1)


def detection(x: jax.Array, f: jax.Array, matched: jax.Array) -> dict[str, jax.Array]:
    """Each feature's matched latent as a detector of it, on features x (N, batch) and latents f (M, batch).

    Returns (N,) "precision", "recall" and "f1" (0 where undefined, and for a feature with no latent)."""
    on = x != 0
    fires = f[jnp.maximum(matched, 0)] > 0
    tp = jnp.sum(on & fires, axis=1)
    precision = _ratio(tp, jnp.sum(fires, axis=1))
    recall = _ratio(tp, jnp.sum(on, axis=1))
    f1 = _ratio(2 * precision * recall, precision + recall)
    paired = matched >= 0
    return {k: jnp.where(paired, v, 0.0) for k, v in (("precision", precision), ("recall", recall), ("f1", f1))}


def matched_means(per_feature: dict[str, jax.Array], matched: jax.Array) -> dict[str, jax.Array]:
    """The mean of each per-feature number over the matched pairs (0 when there is none)."""
    paired = matched >= 0
    return {k: jnp.sum(jnp.where(paired, v, 0.0)) / jnp.maximum(jnp.sum(paired), 1) for k, v in per_feature.items()}


def _ratio(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.where(b > 0, a / jnp.where(b > 0, b, 1), 0.0)
