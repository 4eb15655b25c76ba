"""Sparse autoencoders (SAEs) as pure functions: the dictionaries trained on toy models' hidden activations.

An SAE of width M on d-dimensional activations x (columns, (d, batch)) has params W_enc (M, d), b_enc (M,),
W_dec (d, M) and b_dec (d,). The decoder bias is also the pre-encoder bias, subtracted before encoding,
as in Bricken et al., "Towards Monosemanticity" (2023) and Gao et al., "Scaling and evaluating sparse
autoencoders" (2024):

    pre = W_enc (x − b_dec) + b_enc,    f = σ(pre),    x̂ = W_dec f + b_dec,

with σ per kind (`SAE_KINDS`):

- ``relu``: σ = ReLU; loss ‖x − x̂‖² + λ Σ_i f_i ‖W_dec,i‖, the L1 penalty weighted by each latent's decoder
  norm, decoder columns free (Anthropic, "Circuits Updates — April 2024", training SAEs). Decoder columns
  start at norm 0.1, as there.
- ``relu_unit``: σ = ReLU; loss ‖x − x̂‖² + λ ‖f‖₁ with unit-norm decoder columns, renormalised after every
  step and their gradients' parallel part removed (Bricken et al. 2023).
- ``topk``: σ keeps the k largest pre-activations, then ReLU (Gao et al. 2024); loss ‖x − x̂‖² + α ‖e − ê‖²,
  the auxiliary loss in which the k_aux largest pre-activations of the dead latents reconstruct the
  error e = x − x̂ (α = 1/32, k_aux = d/2, Gao et al. §2.4); unit-norm decoder columns.
- ``jumprelu``: σ(z) = z·H(z − θ) with a learned threshold θ_i = exp(log_threshold_i) per latent; loss
  ‖x − x̂‖² + λ Σ_i H(pre_i − θ_i), trained through straight-through estimators with a rectangle kernel of
  bandwidth ε (Rajamanoharan et al., "Jumping ahead: improving reconstruction fidelity with JumpReLU
  sparse autoencoders", 2024); decoder columns free.
- ``batchtopk``: σ keeps the k × batch largest ReLU pre-activations over the whole batch, so a sample may use
  more or fewer than k latents (Bussmann, Leask and Nanda, "BatchTopK sparse autoencoders", arXiv 2412.06410,
  §3); loss and decoder as ``topk`` (AuxK, unit-norm columns). At inference the batch is gone: the paper
  replaces σ by a JumpReLU with one global threshold θ, the average over training batches of the smallest
  activation kept. toyjax keeps θ as SAELens's BatchTopK does, an exponential moving average θ ← (1 − r)θ + r·min
  over the training steps with r = 0.01 (`THRESHOLD_RATE`; `updated_threshold`), and every evaluation number
  reads f = pre·H(pre − θ) (`inference_latents`).
- ``matryoshka``: BatchTopK latents; loss Σ_m ‖x − (W_dec[:, :m] f[:m] + b_dec)‖² + α ‖e − ê‖² over the nested
  prefixes m of the dictionary (``sae.prefixes``) and the whole dictionary, each prefix reconstructing the
  input on its own (Bussmann, Nabeshima, Karvonen and Nanda, "Learning multi-level features with Matryoshka
  sparse autoencoders", arXiv 2503.17547, §3; after Nabeshima's Matryoshka SAE, 2024); the prefix sizes are a
  traced (P,) array, so a new list of the same length is the same program. Inference as ``batchtopk``.
- ``gated``: a gate and a magnitude path sharing W_enc (Rajamanoharan et al., "Improving dictionary learning
  with Gated sparse autoencoders", arXiv 2404.16014, §3.2): π_gate = W_enc (x − b_dec) + b_enc, f_gate =
  H(π_gate), f_mag = ReLU(exp(r_mag) ⊙ W_enc (x − b_dec) + b_mag), f = f_gate ⊙ f_mag; loss ‖x − x̂‖² +
  λ ‖ReLU(π_gate)‖₁ + ‖x − x̂_frozen(ReLU(π_gate))‖², the last through stopped-gradient copies of W_dec and
  b_dec; unit-norm decoder columns, as the paper's L1 needs.

**Tied** (``sae.tied``, any kind): the encoder is the decoder's transpose, W_enc = W_decᵀ, trained through the
decoder alone (`tie`; Chanin et al., "Toy models of feature absorption in SAEs", LessWrong 2024: tying removes
absorption in their toy models).

The dictionary size is a traced per-model value: params have the static maximum width M, and `mask` (M,)
switches off the latents beyond a model's own width, which never activate and so get no gradient. Every
latent's initial weights come from its own key (`fold_in(key, i)`), so a model's first M' latents start
the same whatever M is. This module imports only jax.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

Params = dict[str, jax.Array]
SAE_KINDS = ("relu", "relu_unit", "topk", "jumprelu", "batchtopk", "matryoshka", "gated")
UNIT_DECODER = ("relu_unit", "topk", "batchtopk", "matryoshka", "gated")  # decoder columns kept at unit norm
AUXK_KINDS = ("topk", "batchtopk", "matryoshka")  # kinds trained with the AuxK loss of dead latents
BATCH_KINDS = ("batchtopk", "matryoshka")  # select over the batch in training, by a threshold at inference
AUX_SCALE = 1 / 32  # α of the TopK auxiliary loss (Gao et al. 2024)
THRESHOLD_RATE = 0.01  # r of the batch kinds' threshold average (SAELens's BatchTopK topk_threshold_lr)
JUMP_BANDWIDTH = 1e-3  # ε of the JumpReLU straight-through estimators (Rajamanoharan et al. 2024)
JUMP_THRESHOLD = 1e-3  # the thresholds' initial value


def init_sae(kind: str, d: int, width: int, *, key: jax.Array) -> Params:
    """Params of an SAE of (maximum) width `width` on d-dimensional inputs.

    Decoder columns are random directions (norm 0.1 for ``relu``, 1 otherwise), the encoder is their
    transpose, biases are zero. Latent i is drawn from ``fold_in(key, i)`` alone.
    """
    columns = jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(key, i), (d,), jnp.float32))(jnp.arange(width))
    W_dec = (columns / jnp.linalg.norm(columns, axis=-1, keepdims=True)).T * (0.1 if kind == "relu" else 1.0)
    params = {"W_enc": W_dec.T, "b_enc": jnp.zeros((width,)), "W_dec": W_dec, "b_dec": jnp.zeros((d,))}
    if kind == "jumprelu":
        params["log_threshold"] = jnp.full((width,), jnp.log(JUMP_THRESHOLD))
    if kind == "gated":
        params.update(r_mag=jnp.zeros((width,)), b_mag=jnp.zeros((width,)))
    return params


def pre_activations(params: Params, x: jax.Array) -> jax.Array:
    """pre = W_enc (x − b_dec) + b_enc for columns x (d, batch); returns (M, batch)."""
    return params["W_enc"] @ (x - params["b_dec"][:, None]) + params["b_enc"][:, None]


def top_k(pre: jax.Array, mask: jax.Array, k: jax.Array) -> jax.Array:
    """ReLU of the k largest pre-activations of each column among the live latents (`mask`), zeros elsewhere.

    `k` may be traced, so one program serves every k: the k-th largest value of each column is found by
    bisection over the floats' order (`kth_largest`), exactly, without a sort.
    """
    live = order_keys(jnp.where(mask[:, None], pre, -jnp.inf))
    return jnp.where(mask[:, None] & (live >= kth_largest(live, k)[None, :]), jax.nn.relu(pre), 0.0)


def batch_top_k(pre: jax.Array, mask: jax.Array, k: jax.Array) -> jax.Array:
    """ReLU of the k × batch largest pre-activations of the whole batch among the live latents, zeros elsewhere.

    BatchTopK (Bussmann et al. 2024): the batch's (M, batch) values are one list, its k·batch-th largest found
    by the same exact bisection as `top_k`, so `k` may be traced.
    """
    live = order_keys(jnp.where(mask[:, None], pre, -jnp.inf))
    flat = live.reshape(-1, 1)
    return jnp.where(mask[:, None] & (live >= kth_largest(flat, k * pre.shape[1])[0]), jax.nn.relu(pre), 0.0)


def order_keys(values: jax.Array) -> jax.Array:
    """uint32 keys in the order of the float32 `values` (x < y exactly when key(x) < key(y); no NaN)."""
    bits = jax.lax.bitcast_convert_type(values.astype(jnp.float32), jnp.uint32)
    return jnp.where(bits >> 31 == 1, ~bits, bits | jnp.uint32(0x80000000))


def kth_largest(keys: jax.Array, k: jax.Array) -> jax.Array:
    """The k-th largest of each column of uint32 `keys` (M, batch): 32 halvings of [0, 2³² − 1], each keeping
    the upper half while at least k keys lie in it. O(32·M) per column, where a sort on CPU costs far more."""

    def halve(_, bounds):
        low, high = bounds
        gap = high - low
        middle = low + gap // 2 + (gap & 1)
        enough = jnp.sum(keys >= middle[None, :], axis=0) >= k
        return jnp.where(enough, middle, low), jnp.where(enough, high, middle - 1)

    n = keys.shape[1]
    start = (jnp.zeros(n, jnp.uint32), jnp.full(n, 0xFFFFFFFF, jnp.uint32))
    return jax.lax.fori_loop(0, 32, halve, start)[0]


@jax.custom_jvp
def _step(z: jax.Array, threshold: jax.Array) -> jax.Array:
    """H(z − θ), whose derivative in θ is −K((z − θ)/ε)/ε (rectangle kernel K); none in z."""
    return (z > threshold).astype(z.dtype)


@_step.defjvp
def _step_jvp(primals, tangents):
    z, threshold = primals
    _, d_threshold = tangents
    kernel = (jnp.abs(z - threshold) < JUMP_BANDWIDTH / 2) / JUMP_BANDWIDTH
    return _step(z, threshold), -kernel * d_threshold


@jax.custom_jvp
def _jump(z: jax.Array, threshold: jax.Array) -> jax.Array:
    """z·H(z − θ), with derivative H(z − θ) in z and −θ K((z − θ)/ε)/ε in θ."""
    return z * (z > threshold)


@_jump.defjvp
def _jump_jvp(primals, tangents):
    z, threshold = primals
    d_z, d_threshold = tangents
    kernel = (jnp.abs(z - threshold) < JUMP_BANDWIDTH / 2) / JUMP_BANDWIDTH
    return _jump(z, threshold), (z > threshold) * d_z - threshold * kernel * d_threshold


def gated_latents(params: Params, x: jax.Array, mask: jax.Array) -> tuple[jax.Array, jax.Array]:
    """A Gated SAE's latents f = H(π_gate) ⊙ ReLU(exp(r_mag) ⊙ W_enc (x − b_dec) + b_mag) (M, batch), and π_gate."""
    projected = params["W_enc"] @ (x - params["b_dec"][:, None])
    gate = projected + params["b_enc"][:, None]
    magnitude = jnp.exp(params["r_mag"])[:, None] * projected + params["b_mag"][:, None]
    return jnp.where(mask[:, None] & (gate > 0), jax.nn.relu(magnitude), 0.0), gate


def latents(kind: str, params: Params, x: jax.Array, mask: jax.Array, k: jax.Array) -> jax.Array:
    """The latent activations f (M, batch) of columns x (d, batch) in training; latents outside `mask` are zero."""
    if kind == "gated":
        return gated_latents(params, x, mask)[0]
    pre = pre_activations(params, x)
    if kind == "topk":
        return top_k(pre, mask, k)
    if kind in BATCH_KINDS:
        return batch_top_k(pre, mask, k)
    if kind == "jumprelu":
        threshold = jnp.exp(params["log_threshold"])[:, None]
        return jnp.where(mask[:, None], _jump(pre, threshold), 0.0)
    return jnp.where(mask[:, None], jax.nn.relu(pre), 0.0)


def inference_latents(kind: str, params: Params, x: jax.Array, mask: jax.Array, k: jax.Array,
                      threshold: jax.Array | None) -> jax.Array:
    """The latents every evaluation number reads: a batch kind's f = pre·H(pre − θ) at its global threshold θ
    (no sample depends on the others), any other kind's as in training."""
    if kind in BATCH_KINDS:
        pre = pre_activations(params, x)
        return jnp.where(mask[:, None] & (pre > threshold), pre, 0.0)
    return latents(kind, params, x, mask, k)


def updated_threshold(threshold: jax.Array, f: jax.Array) -> jax.Array:
    """θ moved a step r towards the smallest positive activation of the training latents f; unchanged if none fired."""
    fired = f > 0
    smallest = jnp.min(jnp.where(fired, f, jnp.inf))
    return jnp.where(jnp.any(fired), (1 - THRESHOLD_RATE) * threshold + THRESHOLD_RATE * smallest, threshold)


def decode(params: Params, f: jax.Array) -> jax.Array:
    """x̂ = W_dec f + b_dec for latents f (M, batch); returns (d, batch)."""
    return params["W_dec"] @ f + params["b_dec"][:, None]


def sparsity_penalty(kind: str, params: Params, x: jax.Array, f: jax.Array, mask: jax.Array) -> jax.Array:
    """Per-sample penalty (batch,) before its coefficient λ: Σ f_i ‖W_dec,i‖, ‖f‖₁, or the JumpReLU L0."""
    if kind == "relu":
        return jnp.sum(f * jnp.linalg.norm(params["W_dec"], axis=0)[:, None], axis=0)
    if kind == "jumprelu":
        threshold = jnp.exp(params["log_threshold"])[:, None]
        return jnp.sum(jnp.where(mask[:, None], _step(pre_activations(params, x), threshold), 0.0), axis=0)
    return jnp.sum(f, axis=0)


def aux_loss(params: Params, x: jax.Array, x_hat: jax.Array, pre: jax.Array, dead: jax.Array) -> jax.Array:
    """Per-sample TopK auxiliary loss (batch,): the k_aux = d/2 largest dead pre-activations reconstructing
    the error e = x − x̂ through the decoder, ‖e − W_dec f_aux‖² (Gao et al. 2024, §2.4); 0 with no dead latent."""
    k_aux = max(x.shape[0] // 2, 1)
    f_aux = top_k(pre, dead, jnp.minimum(k_aux, jnp.maximum(jnp.sum(dead), 1)))
    error = jax.lax.stop_gradient(x - x_hat)
    return jnp.where(jnp.any(dead), jnp.sum((error - params["W_dec"] @ f_aux) ** 2, axis=0), 0.0)


def prefix_errors(params: Params, x: jax.Array, f: jax.Array, mask: jax.Array, prefixes: jax.Array) -> jax.Array:
    """Per-sample Σ_m ‖x − (W_dec[:, :m] f[:m] + b_dec)‖² (batch,) over the prefix sizes m (P,) below the
    dictionary's own size (one equal to it is the whole dictionary, counted once by the caller)."""

    def error(m):
        x_m = decode(params, jnp.where(jnp.arange(f.shape[0])[:, None] < m, f, 0.0))
        return jnp.where(m < jnp.sum(mask), jnp.sum((x - x_m) ** 2, axis=0), 0.0)

    return jnp.sum(jax.vmap(error)(prefixes), axis=0)


def gated_aux(params: Params, x: jax.Array, mask: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Per-sample Gated terms (batch,) before λ: (‖ReLU(π_gate)‖₁, ‖x − x̂_frozen(ReLU(π_gate))‖²), the second
    through stopped-gradient copies of W_dec and b_dec."""
    gate = jnp.where(mask[:, None], jax.nn.relu(gated_latents(params, x, mask)[1]), 0.0)
    frozen = jax.lax.stop_gradient(params["W_dec"]) @ gate + jax.lax.stop_gradient(params["b_dec"])[:, None]
    return jnp.sum(gate, axis=0), jnp.sum((x - frozen) ** 2, axis=0)


def sae_loss(kind: str, params: Params, x: jax.Array, mask: jax.Array, k: jax.Array, l1: jax.Array,
             dead: jax.Array, prefixes: jax.Array | None = None) -> jax.Array:
    """The training loss of one batch x (d, batch), averaged over it: reconstruction + λ·penalty (+ α·aux).

    Args:
        mask: (M,) the model's own latents. k: () TopK's k. l1: () λ. dead: (M,) latents dead so far (TopK's
            auxiliary loss reconstructs with these). prefixes: (P,) a Matryoshka SAE's prefix sizes.
    """
    return loss_and_latents(kind, params, x, mask, k, l1, dead, prefixes)[0]


def loss_and_latents(kind: str, params: Params, x: jax.Array, mask: jax.Array, k: jax.Array, l1: jax.Array,
                     dead: jax.Array, prefixes: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
    """`sae_loss`, and the latents f (M, batch) it reconstructed the batch from."""
    f = latents(kind, params, x, mask, k)
    x_hat = decode(params, f)
    loss = jnp.sum((x - x_hat) ** 2, axis=0)
    if kind == "matryoshka":
        loss = loss + prefix_errors(params, x, f, mask, prefixes)
    if kind in AUXK_KINDS:
        aux = aux_loss(params, x, x_hat, pre_activations(params, x), dead & mask)
        return jnp.mean(loss + AUX_SCALE * aux), f
    if kind == "gated":
        penalty, frozen = gated_aux(params, x, mask)
        return jnp.mean(loss + l1 * penalty + frozen), f
    return jnp.mean(loss + l1 * sparsity_penalty(kind, params, x, f, mask)), f


def tie(params: Params) -> Params:
    """The params of a tied SAE: W_enc set to W_decᵀ, so that gradients reach the encoder through the decoder."""
    return {**params, "W_enc": params["W_dec"].T}


def unit_decoder(params: Params) -> Params:
    """Decoder columns rescaled to unit norm (the unit-norm kinds, after every step)."""
    W = params["W_dec"]
    return {**params, "W_dec": W / jnp.maximum(jnp.linalg.norm(W, axis=0, keepdims=True), 1e-12)}


def parallel_free(params: Params, grads: Params) -> Params:
    """Gradients with the part of each decoder column's gradient parallel to that column removed."""
    W, g = params["W_dec"], grads["W_dec"]
    return {**grads, "W_dec": g - W * jnp.sum(W * g, axis=0, keepdims=True)}
