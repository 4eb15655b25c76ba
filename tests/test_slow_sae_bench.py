"""Slow: SAEs on structured features, each at fewer steps and seeds than its preset. On sae_matryoshka's tree
(4 parents of 4 mutually exclusive children) a Matryoshka BatchTopK SAE absorbs less than a BatchTopK SAE of the
same k and dictionary size (Bussmann et al. 2025; Nabeshima 2024). On sae_synthbench's reduced SynthSAEBench
(Chanin and Garriga-Alonso 2026) MCC peaks at k near the data's own L0 (about 5), precision falls above it and
recall below it."""

from __future__ import annotations

import numpy as np
import pytest

import toyjax
from toyjax.families.sae import numbers

pytestmark = pytest.mark.slow

FEW = ["progress=false", "record.checkpoint_every=0", "record.snapshots=0", "sae.eval_samples=2048"]


def trained(preset: str, overrides: list[str]) -> dict[str, np.ndarray]:
    """The summary numbers of a preset trained with `overrides`, one per model, flat (absorption: the mean over
    the parent → child pairs)."""
    results = toyjax.run(toyjax.compose(preset, FEW + overrides))
    return {name: np.ravel(numbers.number(results, name)) for name in numbers.NUMBERS}


def test_a_matryoshka_sae_absorbs_less_than_a_batchtopk_sae_on_the_same_tree():
    """Every Matryoshka seed absorbs less than the BatchTopK mean, and the means differ by half at least."""
    short = ["train.steps=1500", "grid.axes.seed=2"]
    plain, nested = trained("sae_matryoshka_batchtopk", short), trained("sae_matryoshka", short)
    assert np.all(nested["absorption"] < plain["absorption"].mean())
    assert nested["absorption"].mean() < 0.5 * plain["absorption"].mean()
    assert np.all(np.abs(plain["l0"] - 2) < 0.2) and np.all(np.abs(nested["l0"] - 2) < 0.2)  # the same k = 2


def test_the_reduced_synthsaebench_finds_mcc_highest_near_the_datas_l0():
    """k = 1, 5, 16: MCC is highest at 5; precision at 16 and recall at 1 are below half of theirs at 5."""
    s = trained("sae_synthbench", ["train.steps=1500", "grid.axes.seed=1", "grid.axes.k=[1,5,16]"])
    assert np.argmax(s["mcc"]) == 1
    assert s["precision"][2] < 0.5 * s["precision"][1] and s["recall"][0] < 0.5 * s["recall"][1]
