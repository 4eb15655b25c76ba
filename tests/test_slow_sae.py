"""Slow: SAEs recover known features. Planted synthetic features at MMCS ≥ 0.99 (ReLU and TopK), the §1
pentagon's five directions at cos ≥ 0.99 through the ``toyjax`` command with its source trained in the same
job, TopK against ReLU at equal L0 (Gao et al. 2024), and dictionary size against MMCS (Sharkey et al. 2022)."""

from __future__ import annotations

import numpy as np
import pytest

import toyjax
from tests.test_cli import toyjax_cmd

pytestmark = pytest.mark.slow

# 64 random unit features in 32 dimensions, 5 active on average (Sharkey et al.'s 2 features per dimension),
# 10,000 steps of 256 inputs: the settings of sae_frontier_relu and sae_frontier_topk.
PLANTED = {
    "model": {"kind": "sae", "n_features": 64, "n_hidden": 32}, "data": {"density": 5 / 64},
    "train": {"steps": 10_000, "batch_size": 256, "lr": 3e-3, "schedule": "cosine", "weight_decay": 0.0},
    "progress": False,
}


def planted(sae: dict, axes: dict) -> toyjax.Results:
    return toyjax.run({**PLANTED, "sae": {"width": 128, **sae}, "grid": {"axes": axes}})


@pytest.fixture(scope="module")
def relu():
    """ReLU SAEs of 128 latents with the decoder-norm L1 penalty, λ = 0.5, two seeds."""
    return planted({"kind": "relu", "l1_coefficient": 0.5}, {"seed": 2})


def best_cosines(features: np.ndarray, W_dec: np.ndarray) -> np.ndarray:
    """Each true feature's best cosine with a decoder direction, computed here from the arrays alone."""
    F = features / np.linalg.norm(features, axis=0, keepdims=True)
    D = W_dec / np.linalg.norm(W_dec, axis=0, keepdims=True)
    return (F.T @ D).max(axis=1)


def test_an_sae_recovers_planted_synthetic_features(relu):
    assert np.all(relu.sae["features_to_latents_all"] >= 0.99), relu.sae["features_to_latents_all"]
    for seed in range(2):
        cos = best_cosines(relu.sae["features"][seed], relu.params["W_dec"][seed])
        assert cos.mean() >= 0.99 and np.mean(cos >= 0.9) >= 0.95, np.sort(cos)[:8]
        assert cos.mean() == pytest.approx(relu.sae["features_to_all_latents_learned"][seed], abs=1e-5)  # every latent


def test_topk_recovers_every_planted_feature_and_reconstructs_better_than_relu_at_equal_l0(relu):
    """TopK with k = 5, the data's own L0: every feature within cos 0.99 of a latent; and at an L0 no larger than
    the ReLU SAE's, it leaves less than half its unexplained variance (Gao et al.: no L1 shrinkage)."""
    topk = planted({"kind": "topk", "k": 5}, {"seed": 2})
    assert np.all(topk.sae["features_to_latents_all"] >= 0.99), topk.sae["features_to_latents_all"]
    assert np.all(topk.sae["recovered_0.99_all"] == 1.0), topk.sae["recovered_0.99_all"]
    assert np.all(topk.sae["l0"] <= 5) and np.all(relu.sae["l0"] >= 5)
    fvu_topk, fvu_relu = 1 - topk.sae["fraction_variance_explained"], 1 - relu.sae["fraction_variance_explained"]
    assert np.all(fvu_topk < 0.5 * fvu_relu), (fvu_topk, fvu_relu)


def test_a_dictionary_smaller_than_the_features_cannot_hold_them(tmp_path):
    """Sharkey et al.'s finding on sae_sharkey's data (unit-norm ReLU, λ = 0.3): half as many latents as features
    leave MMCS far below a dictionary of twice the features, trained in the same compiled grid."""
    results = toyjax.run({**PLANTED, "sae": {"kind": "relu_unit", "width": 128, "l1_coefficient": 0.3,
                                             "density_decay": 0.9227},
                          "grid": {"axes": {"dict_size": [32, 128]}}})
    small, large = results.sae["features_to_latents_all"]
    assert large >= 0.95 and small <= 0.8, (small, large)


def test_the_intro_pentagons_five_directions_come_back_out(tmp_path):
    """`sae_intro` at λ = 0.3: the intro model at density 0.05 stores five features as a pentagon in 2-D; every
    seed's ReLU SAE has a decoder direction within cos 0.99 of each of the five."""
    run_dir = tmp_path / "run"
    out = toyjax_cmd("sweep=sae_intro", "grid.axes.l1_coefficient=[0.3]", "grid.axes.seed=3", "progress=false",
                     "report.html=false", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    source, results = toyjax.load(run_dir / "source"), toyjax.load(run_dir)
    best = int(np.argmin(source.eval_loss[0]))
    pentagon = source.params["W"][0, best]
    assert np.all(np.linalg.norm(pentagon, axis=0) > 0.9)  # the source stores all five features
    for seed in range(3):
        np.testing.assert_array_equal(results.sae["features"][0, seed], pentagon)
        cos = best_cosines(pentagon, results.params["W_dec"][0, seed])
        assert np.all(cos >= 0.99), (seed, cos)
    assert results.summary["sae"]["recovered_0.99"]["min"] == 1.0
    assert (run_dir / "sae_directions.png").is_file() and (run_dir / "source" / "intro.png").is_file()
