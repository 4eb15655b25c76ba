"""SAE maths: gradients against finite differences, TopK's exact k, masked widths, the decoder conventions, metrics
(MMCS, matching and MCC, detection, shrinkage, absorption and hedging) on arrays with known answers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from toyjax.families.sae import absorption, matching
from toyjax.families.sae import metrics as sae_metrics
from toyjax.families.sae import models as sae

D, WIDTH, BATCH = 6, 12, 64
KINDS = ["relu", "relu_unit", "topk", "jumprelu", "matryoshka", "gated"]  # matryoshka's loss runs BatchTopK's
PREFIXES = {"matryoshka": jnp.int32([2, 5])}  # a kind's own arrays beyond k and λ
FROZEN = {"gated": ("W_dec", "b_dec")}  # params the loss also reads through a stopped gradient


def batch(key, d=D):
    """Sparse non-negative activations (d, batch), as a toy model's hidden layer gives them."""
    k1, k2 = jax.random.split(key)
    on = jax.random.uniform(k1, (d, BATCH)) < 0.3
    return jnp.where(on, jax.random.uniform(k2, (d, BATCH)), 0.0)


def perturbed(kind, key, dtype=jnp.float32):
    """Init params moved off their symmetric start, so that every latent is somewhere generic."""
    params = sae.init_sae(kind, D, WIDTH, key=key)
    noise = jax.tree.map(lambda p: 0.05 * jax.random.normal(jax.random.fold_in(key, p.size), p.shape), params)
    return jax.tree.map(lambda p, e: (p + e).astype(dtype), params, noise)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_finite_differences(kind, key):
    with jax.enable_x64(True):
        params = perturbed(kind, key, jnp.float64)
        x = batch(jax.random.key(1)).astype(jnp.float64)
        mask = jnp.arange(WIDTH) < 10
        dead = jnp.zeros(WIDTH, bool)  # the auxiliary loss stops its error's gradient: tested on its own below

        @jax.jit
        def loss(p):
            return sae.sae_loss(kind, p, x, mask, jnp.int32(3), jnp.float64(0.1), dead, PREFIXES.get(kind))

        grads = jax.grad(loss)(params)
        checked = {k: v for k, v in params.items() if k != "log_threshold"  # its gradient is a straight-through
                   and k not in FROZEN.get(kind, ())}  # estimate, not a derivative; a frozen copy's: by hand below
        for trial in range(6):  # the rest: directional derivatives along random tangents
            tangent = {k: jax.random.normal(jax.random.fold_in(key, 10 * trial + j), v.shape, jnp.float64)
                       for j, (k, v) in enumerate(checked.items())}
            shifted = [dict(params, **{k: checked[k] + sign * 1e-7 * tangent[k] for k in checked}) for sign in (1, -1)]
            numeric = (loss(shifted[0]) - loss(shifted[1])) / 2e-7
            analytic = sum(jnp.vdot(grads[k], tangent[k]) for k in checked)
            np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8, err_msg=f"{kind}, tangent {trial}")
        for name in checked:  # and every parameter on its own, along one random tangent of its own
            tangent = jax.random.normal(jax.random.fold_in(key, 99), checked[name].shape, jnp.float64)
            shifted = [dict(params, **{name: checked[name] + sign * 1e-7 * tangent}) for sign in (1, -1)]
            numeric = (loss(shifted[0]) - loss(shifted[1])) / 2e-7
            np.testing.assert_allclose(jnp.vdot(grads[name], tangent), numeric, rtol=1e-5, atol=1e-8,
                                       err_msg=f"{kind} {name}")


def test_topk_dead_latents_learn_from_the_auxiliary_loss(key):
    params = perturbed("topk", key)
    x = batch(jax.random.key(5))
    mask, dead = jnp.ones(WIDTH, bool), jnp.arange(WIDTH) >= 9

    def loss(p, d):
        return sae.sae_loss("topk", p, x, mask, jnp.int32(2), jnp.float32(0.0), d)

    assert loss(params, dead) > loss(params, jnp.zeros(WIDTH, bool))
    g = jax.grad(loss)(params, dead)["W_enc"]
    quiet = jax.grad(loss)(params, jnp.zeros(WIDTH, bool))["W_enc"]
    assert np.abs(np.asarray(g[9:])).sum() > np.abs(np.asarray(quiet[9:])).sum()  # the dead now get a gradient


def test_the_jumprelu_threshold_learns_through_its_straight_through_estimate(key):
    params = perturbed("jumprelu", key)
    x = batch(jax.random.key(2))
    mask = jnp.ones(WIDTH, bool)
    grads = jax.grad(lambda p: sae.sae_loss("jumprelu", p, x, mask, jnp.int32(1), jnp.float32(1.0), ~mask))(params)
    assert jnp.any(grads["log_threshold"] != 0) and jnp.all(jnp.isfinite(grads["log_threshold"]))


@pytest.mark.parametrize("k", [1, 3, 7])
def test_topk_keeps_exactly_k_latents(k):
    pre = jax.random.uniform(jax.random.key(3), (WIDTH, BATCH)) + 0.01  # positive: ReLU keeps each chosen one
    mask = jnp.arange(WIDTH) < 9
    f = sae.top_k(pre, mask, jnp.int32(k))
    np.testing.assert_array_equal(np.sum(np.asarray(f) > 0, axis=0), k)
    assert not np.any(np.asarray(f)[9:])  # never a latent beyond the model's width
    chosen = np.asarray(f) > 0
    smallest_kept = np.where(chosen, pre, np.inf).min(axis=0)
    largest_left = np.where(~chosen & np.asarray(mask)[:, None], pre, -np.inf).max(axis=0)
    assert np.all(smallest_kept > largest_left)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_batchtopk_keeps_exactly_k_times_the_batch_over_the_whole_batch(k):
    pre = jax.random.uniform(jax.random.key(3), (WIDTH, BATCH)) ** 4 + 0.01  # skewed: samples differ in size
    mask = jnp.arange(WIDTH) < 9
    f = np.asarray(sae.batch_top_k(pre, mask, jnp.int32(k)))
    assert np.sum(f > 0) == k * BATCH
    assert len(set(np.sum(f > 0, axis=0))) > 1  # per sample, more or fewer than k
    assert not np.any(f[9:])
    kept = f > 0
    assert np.where(kept, pre, np.inf).min() > np.where(~kept & np.asarray(mask)[:, None], pre, -np.inf).max()
    np.testing.assert_array_equal(f[kept], np.asarray(pre)[kept])


def identity(d: int, **extra) -> sae.Params:
    """An SAE whose encoder and decoder are the identity on d dimensions, biases zero."""
    return {"W_enc": jnp.eye(d), "b_enc": jnp.zeros(d), "W_dec": jnp.eye(d), "b_dec": jnp.zeros(d), **extra}


def test_the_batch_kinds_forward_pass_by_hand():
    """BatchTopK with k=1 on two samples keeps the batch's two largest, both of the first sample; at inference the
    threshold θ, the running average of the smallest activation kept, replaces the batch."""
    x = jnp.array([[3.0, 1.0], [2.5, 0.5], [-1.0, 0.2]])  # columns are samples
    mask = jnp.ones(3, bool)
    f = jax.jit(sae.latents, static_argnums=0)("batchtopk", identity(3), x, mask, jnp.int32(1))
    np.testing.assert_array_equal(f, [[3.0, 0.0], [2.5, 0.0], [0.0, 0.0]])
    at = jax.jit(sae.inference_latents, static_argnums=0)("batchtopk", identity(3), x, mask, jnp.int32(1), 0.9)
    np.testing.assert_array_equal(at, [[3.0, 1.0], [2.5, 0.0], [0.0, 0.0]])
    update = jax.jit(sae.updated_threshold)
    assert update(jnp.float32(1.0), jnp.array([[0.0, 2.5], [3.0, 0.0]])) == pytest.approx(0.99 * 1.0 + 0.01 * 2.5)
    assert update(jnp.float32(1.0), jnp.zeros((2, 2))) == 1.0  # nothing fired: unchanged


def test_matryoshka_prefixes_each_reconstruct_the_input_by_hand():
    """The loss is Σ over the prefixes and the whole dictionary of ‖x − x̂ from the first m latents‖²; a prefix
    as large as the dictionary is the whole dictionary, counted once."""
    x = jnp.array([[3.0], [2.0], [1.0]])
    params = identity(3)
    mask, none = jnp.ones(3, bool), jnp.zeros(3, bool)

    @jax.jit
    def loss(m, k, prefixes):
        return sae.sae_loss("matryoshka", params, x, m, k, jnp.float32(0.0), none, prefixes)

    whole, first, two = 0.0, 2.0**2 + 1.0**2, 1.0**2  # errors with all three latents, the first one, the first two
    assert loss(mask, jnp.int32(3), jnp.int32([1, 2])) == pytest.approx(whole + first + two)  # k = 3 keeps f = x
    assert loss(mask, jnp.int32(3), jnp.int32([1, 3])) == pytest.approx(whole + first)
    narrow = jnp.arange(3) < 2  # a dictionary of two: its prefix of 2 is itself
    assert loss(narrow, jnp.int32(2), jnp.int32([1, 2])) == pytest.approx(two + first)
    grads = jax.jit(jax.grad(lambda p: sae.prefix_errors(p, x, x, mask, jnp.int32([1])).sum()))(params)
    assert np.any(grads["W_dec"][:, 0]) and not np.any(grads["W_dec"][:, 1:])  # a prefix trains only its latents


def test_the_gated_forward_pass_and_losses_by_hand():
    """π_gate = [0.5, −0.5] opens the first gate only; its magnitude is exp(r_mag)·1 = 2, so f = [2, 0]. Loss:
    ‖x − x̂‖² = 1 + 0.25, λ‖ReLU(π_gate)‖₁ = 0.05, and ‖x − W_dec ReLU(π_gate)‖² = 0.5 through a frozen decoder."""
    params = identity(2, r_mag=jnp.array([jnp.log(2.0), 0.0]), b_mag=jnp.zeros(2))
    params["b_enc"] = jnp.array([-0.5, -1.0])
    x, mask = jnp.array([[1.0], [0.5]]), jnp.ones(2, bool)
    np.testing.assert_allclose(jax.jit(sae.gated_latents)(params, x, mask)[0], [[2.0], [0.0]], rtol=1e-6)
    loss = jax.jit(sae.sae_loss, static_argnums=0)("gated", params, x, mask, jnp.int32(1), jnp.float32(0.1), ~mask)
    assert loss == pytest.approx(1.25 + 0.05 + 0.5)
    frozen = jax.jit(jax.grad(lambda p: sae.gated_aux(p, x, mask)[1].sum()))(params)
    assert not np.any(frozen["W_dec"]) and np.any(frozen["W_enc"])
    np.testing.assert_allclose(frozen["b_dec"], [1.0, 0.0])  # only through x − b_dec in the gate, not the decoder
    init = sae.init_sae("gated", D, WIDTH, key=jax.random.key(0))
    assert not np.any(init["r_mag"]) and not np.any(init["b_mag"])  # the magnitude path starts as the gate's


@pytest.mark.parametrize("kind", KINDS)
def test_a_masked_narrower_dictionary_is_the_narrow_dictionary(kind, key):
    """Width 12 with latents 8..11 masked off matches a width-8 SAE from the same key to float rounding."""
    wide, narrow = sae.init_sae(kind, D, WIDTH, key=key), sae.init_sae(kind, D, 8, key=key)
    np.testing.assert_allclose(wide["W_dec"][:, :8], narrow["W_dec"], rtol=1e-6, atol=1e-8)
    x = batch(jax.random.key(4))
    args = (jnp.int32(3), jnp.float32(0.1))
    mask, full = jnp.arange(WIDTH) < 8, jnp.ones(8, bool)

    def loss(kind_params, m):
        return sae.sae_loss(kind, kind_params, x, m, *args, ~m, PREFIXES.get(kind))

    value_and_grad = jax.jit(jax.value_and_grad(loss))  # one program per width, where eager ops take seconds
    (l_wide, g_wide), (l_narrow, g_narrow) = value_and_grad(wide, mask), value_and_grad(narrow, full)
    np.testing.assert_allclose(l_wide, l_narrow, rtol=1e-6)
    np.testing.assert_allclose(g_wide["W_dec"][:, :8], g_narrow["W_dec"], rtol=1e-5, atol=1e-7)
    assert not np.any(np.asarray(g_wide["W_enc"][8:]))  # the masked latents learn nothing


def test_unit_norm_conventions(key):
    params = perturbed("relu_unit", key)
    unit = sae.unit_decoder(params)
    np.testing.assert_allclose(np.linalg.norm(unit["W_dec"], axis=0), 1.0, rtol=1e-6)
    grads = jax.tree.map(jnp.ones_like, params)
    free = sae.parallel_free(unit, grads)
    np.testing.assert_allclose(np.sum(free["W_dec"] * unit["W_dec"], axis=0), 0.0, atol=1e-6)
    relu = sae.init_sae("relu", D, WIDTH, key=key)
    np.testing.assert_allclose(np.linalg.norm(relu["W_dec"], axis=0), 0.1, rtol=1e-6)  # April 2024 update
    np.testing.assert_array_equal(relu["W_enc"], relu["W_dec"].T)


def test_the_decoder_norm_penalty_weights_each_latent_by_its_column():
    params = {"W_enc": jnp.eye(2), "b_enc": jnp.zeros(2), "W_dec": jnp.array([[2.0, 0.0], [0.0, 0.5]]),
              "b_dec": jnp.zeros(2)}
    f = jnp.array([[1.0], [4.0]])
    assert sae.sparsity_penalty("relu", params, None, f, jnp.ones(2, bool))[0] == pytest.approx(2 * 1 + 0.5 * 4)
    assert sae.sparsity_penalty("relu_unit", params, None, f, jnp.ones(2, bool))[0] == pytest.approx(5.0)


def test_mmcs_both_ways_and_recovery():
    F = jnp.eye(3)  # three true features
    decoder = jnp.array([[1.0, 0.0, 0.6, 0.0], [0.0, 0.0, 0.8, 0.0], [0.0, 0.0, 0.0, 1.0]])  # latent 1 is zero
    out = sae_metrics.mmcs(F, decoder, live=jnp.array([True, False, True, True]), known=jnp.ones(3, bool))
    assert out["features_to_latents"] == pytest.approx((1.0 + 0.8 + 1.0) / 3)
    assert out["latents_to_features"] == pytest.approx((1.0 + 0.8 + 1.0) / 3)
    assert out["recovered_0.9"] == pytest.approx(2 / 3) and out["recovered_0.99"] == pytest.approx(2 / 3)
    partial = sae_metrics.mmcs(F, decoder, live=jnp.ones(4, bool), known=jnp.array([True, False, False]))
    assert partial["features_to_latents"] == pytest.approx(1.0)


def test_dead_latents_and_l0():
    f = jnp.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [2.0, 3.0, 0.5], [0.0, 0.0, 0.0]])
    out = sae_metrics.activity(f, live=jnp.array([True, True, True, False]))
    assert out["l0"] == pytest.approx(4 / 3)
    np.testing.assert_array_equal(out["dead"], [False, True, False, False])  # latent 3 is not the model's
    assert out["fraction_dead"] == pytest.approx(1 / 3)


def test_fraction_of_variance_explained():
    x = jnp.array([[0.0, 2.0, 4.0], [1.0, 1.0, 1.0]])
    exact = sae_metrics.reconstruction(x, x)
    assert exact["mse"] == 0 and exact["fraction_variance_explained"] == 1
    mean = sae_metrics.reconstruction(x, jnp.broadcast_to(x.mean(axis=1, keepdims=True), x.shape))
    assert mean["fraction_variance_explained"] == pytest.approx(0.0, abs=1e-6)


def test_the_hybrid_reads_each_source_cell_s_best_seed_and_its_loss_margins(tmp_path):
    """§9 hybrid: per source cell the best seed's loss and its rise over λ = 0 at the same density, whatever the
    order of the source's axes; the margin is the largest λ up to which every λ is within the tolerance (the toy
    runs' rule, `toyjax.analysis.price.margin`), 0 where the first λ > 0 is not."""
    from tests.test_plots import synthetic
    from toyjax.families.sae import hybrid

    source = synthetic("ways_out_hybrid_source")  # (activation_l1 [0, 0.01, 0.1], density [0.3, 0.03], seed 2)
    best = np.array([[1.0, 2.0], [1.005, 2.01], [1.2, 2.0005]])
    source.eval_loss = np.stack([best + 1, best], axis=-1)
    source.diverged[...] = False
    source.eval_loss[0, 1, 0], source.diverged[0, 1, 0] = 0.5, True  # a diverged seed is never the best
    cells = hybrid.source_cells(source)
    np.testing.assert_allclose(cells.loss, best)
    np.testing.assert_allclose(cells.rise, best / best[0] - 1)
    np.testing.assert_array_equal(hybrid.margin(cells, 0.01), [0.01, 0.1])
    # At density 0.03, λ = 0.1 rises by 0.025% only, but λ = 0.01 before it by 0.5%: the 0.1% margin ends at 0.
    np.testing.assert_array_equal(hybrid.margin(cells, 0.001), [0.0, 0.0])
    np.testing.assert_array_equal(hybrid.margin(cells, 0.006), [0.01, 0.1])  # both within 0.6%: it goes on
    source.dims = ("density", "activation_l1", "seed")  # the same grid with its first two axes swapped
    source.eval_loss, source.diverged = (np.swapaxes(a, 0, 1) for a in (source.eval_loss, source.diverged))
    source.params = {k: np.swapaxes(v, 0, 1) for k, v in source.params.items()}
    np.testing.assert_allclose(hybrid.source_cells(source).loss, best)


# Eager calls compile every op of a metric; one jit of each compiles once (the fast suite runs on 2 busy cores).
MMCS_FIRING, DETECTION, SHRINKAGE = (jax.jit(f) for f in (sae_metrics.mmcs_firing, matching.detection,
                                                          sae_metrics.shrinkage))
MCC, ABSORPTION, HEDGING = (jax.jit(f) for f in (matching.mcc, absorption.absorption, absorption.hedging))
ASSIGN = jax.jit(matching.assign)


def test_mmcs_over_firing_latents_gives_a_dictionary_that_does_not_fire_nothing():
    F = jnp.eye(3)
    decoder = jnp.array([[1.0, 0.0, 0.6], [0.0, 1.0, 0.8], [0.0, 0.0, 0.0]])  # latents along features 0, 1 and between
    live, known = jnp.ones(3, bool), jnp.ones(3, bool)
    silent = MMCS_FIRING(F, decoder, live, known, fired=jnp.zeros(3, bool))
    assert all(float(v) == 0.0 for v in silent.values())
    assert sae_metrics.mmcs(F, decoder, live, known)["features_to_latents"] == pytest.approx(2 / 3)  # every latent
    some = MMCS_FIRING(F, decoder, live, known, fired=jnp.array([False, False, True]))
    assert some["features_to_latents"] == pytest.approx((0.6 + 0.8 + 0.0) / 3)
    assert some["latents_to_features"] == pytest.approx(0.8)


def test_a_permuted_signed_identity_dictionary_has_mcc_one():
    F = jnp.eye(4)
    order = np.array([2, 0, 3, 1])
    decoder = jnp.zeros((4, 6)).at[:, order].set(jnp.diag(jnp.array([1.0, -2.0, 0.5, 3.0])))  # 2 spare zero latents
    batched = jax.jit(jax.vmap(matching.match, in_axes=(None, 0, None, None)))(
        F, jnp.stack([decoder, decoder[:, ::-1]]), jnp.ones(4, bool), jnp.ones(6, bool))
    np.testing.assert_array_equal(batched, [order, 5 - order])
    assert MCC(sae_metrics.cosines(F, decoder), batched[0]) == pytest.approx(1.0)


def test_the_matching_reaches_scipys_least_cost_on_random_cosines_and_masks():
    rng = np.random.default_rng(0)
    C = rng.uniform(-1, 1, (24, 7, 9)).astype(np.float32)
    C[::3] = np.round(C[::3], 1)  # ties
    known, own = rng.uniform(size=(24, 7)) < 0.7, rng.uniform(size=(24, 9)) < 0.6  # either side may be the fewer
    known[0], own[1] = False, False  # no feature, no latent: no pair
    got = np.asarray(jax.jit(jax.vmap(matching.assign))(C, known, own))
    for c, k, o, m in zip(C, known, own, got):
        rows, cols = np.flatnonzero(k), np.flatnonzero(o)
        r, j = linear_sum_assignment(1 - np.abs(c[np.ix_(rows, cols)])) if rows.size and cols.size else ([], [])
        pairs = [(i, m[i]) for i in range(7) if m[i] >= 0]
        assert len(pairs) == len(r) and all(k[i] and o[a] for i, a in pairs) and len({a for _, a in pairs}) == len(r)
        assert sum(abs(c[i, a]) for i, a in pairs) == pytest.approx(np.abs(c[rows[r], cols[j]]).sum(), abs=1e-5)


def test_matching_is_one_to_one_optimal_and_keeps_to_the_known_features_and_own_latents():
    C = np.array([[0.9, 0.8, 0.0], [0.85, 0.1, 0.0], [0.0, 0.0, 0.7]])  # greedy would pair 0-0 and leave 1 with 0.1
    np.testing.assert_array_equal(ASSIGN(C, np.ones(3, bool), np.ones(3, bool)), [1, 0, 2])
    np.testing.assert_array_equal(ASSIGN(C, np.array([True, True, False]), np.ones(3, bool)), [1, 0, -1])
    np.testing.assert_array_equal(ASSIGN(C, np.ones(3, bool), np.array([True, False, False])), [0, -1, -1])
    assert MCC(jnp.asarray(C), jnp.array([0, -1, -1])) == pytest.approx(0.9)  # over the one pair


def test_each_matched_latent_detects_its_feature_with_known_precision_recall_and_f1():
    x = jnp.array([[1.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.5, 0.0]])  # feature 0 on twice, feature 1 on twice
    f = jnp.array([[0.0, 0.0, 0.0, 0.0], [2.0, 1.0, 1.0, 0.0], [0.0, 0.0, 3.0, 3.0]])  # latent 0 never fires
    per = DETECTION(x, f, matched=jnp.array([1, 2]))
    np.testing.assert_allclose(per["precision"], [2 / 3, 1 / 2])
    np.testing.assert_allclose(per["recall"], [1.0, 1 / 2])
    np.testing.assert_allclose(per["f1"], [0.8, 0.5])
    dead = DETECTION(x, f, matched=jnp.array([0, -1]))  # a dead latent and a feature with none score 0
    assert all(np.all(np.asarray(v) == 0) for v in dead.values())
    means = matching.matched_means(per, jnp.array([1, -1]))
    assert means["f1"] == pytest.approx(0.8)


def test_shrinkage_is_the_mean_norm_ratio_over_inputs_that_are_not_zero():
    x = jnp.array([[3.0, 0.0, 1.0], [4.0, 0.0, 0.0]])
    x_hat = jnp.array([[1.5, 7.0, 1.0], [2.0, 0.0, 0.0]])  # half of the first, the zero input ignored, all of the last
    assert SHRINKAGE(x, x_hat) == pytest.approx((0.5 + 1.0) / 2)
    assert SHRINKAGE(jnp.zeros((2, 3)), x_hat) == 0.0


def test_absorption_counts_inputs_where_the_parents_latent_is_silent_and_another_carries_its_direction():
    F = jnp.eye(3)  # parent 0, child 1, feature 2 apart
    decoder = jnp.array([[1.0, 0.6, 0.0], [0.0, 0.8, 0.0], [0.0, 0.0, 1.0]])  # parent's, child's (absorbing), other
    x = jnp.array([[1.0, 1.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0, 1.0]])
    f = jnp.array([[1.0, 1.0, 0.0, 0.0, 0.0],  # the parent's latent: silent on inputs 2 and 3
                   [0.0, 1.0, 1.5, 0.5, 1.0],  # the child's: 0.6 × 1.5 ≥ 0.4 on input 2; 0.6 × 0.5 < 0.4 on 3
                   [0.0, 0.0, 0.0, 0.0, 1.0]])
    pairs = jnp.array([[0, 1]])
    rate = ABSORPTION(x, pairs, f, decoder, F, matched=jnp.array([0, 1, 2]))
    np.testing.assert_allclose(rate, [1 / 3])  # of inputs 1, 2, 3 (parent and child on), input 2 is absorbed
    along = jnp.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # the child's latent without the parent
    np.testing.assert_allclose(ABSORPTION(x, pairs, f, along, F, jnp.array([0, 1, 2])), [0.0])


def test_hedging_is_how_far_the_parents_latent_leans_to_the_child():
    F = jnp.eye(3)
    decoder = jnp.array([[1.0, 1.0], [0.0, 0.5], [0.0, 0.0]])  # latent 0 along the parent, latent 1 hedges
    pairs = jnp.array([[0, 1], [0, 2]])
    np.testing.assert_allclose(HEDGING(pairs, decoder, F, jnp.array([1, 0, -1])),
                               [0.5 / np.sqrt(1.25), 0.0], rtol=1e-6)
    np.testing.assert_allclose(HEDGING(pairs, decoder, F, jnp.array([0, 1, -1])), [0.0, 0.0], atol=1e-7)
    skew = jnp.array([[1.0, 0.6], [0.0, 0.8]])  # non-orthogonal features: a latent along the parent does not hedge
    np.testing.assert_allclose(HEDGING(jnp.array([[0, 1]]), skew[:, :1], skew, jnp.array([0, -1])), [0.0],
                               atol=1e-7)
    assert HEDGING(pairs[:1], decoder, F, jnp.array([-1, 0, 1]))[0] == 0.0  # the parent has no latent
