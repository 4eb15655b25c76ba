"""Slow: what holds of feature absorption and hedging on Chanin et al.'s toy (sweeps/sae_absorption.yaml), reduced:
one latent hedges the child into the parent; two latents absorb the parent into the child's latent at λ = 0.01 and
not at λ = 0.001; tying the encoder to the decoder removes it at λ = 0.01."""

from __future__ import annotations

import pytest

import toyjax

pytestmark = pytest.mark.slow

# The preset at seed 0 and two coefficients, in a block of its 4 models (the preset's block holds 64).
REDUCED = ["grid.axes.seed=1", "grid.axes.l1_coefficient=[0.001,0.01]", "grid.block_size=4", "progress=false"]


@pytest.fixture(scope="module")
def untied():
    return toyjax.run(toyjax.compose("sae_absorption", REDUCED))


def test_one_latent_hedges_the_child_into_the_parent(untied):
    """Dictionary size 1: the latent stands for the parent (cos ≥ 0.95) and leans to the child (hedging ≥ 0.15;
    the preset's full run: 0.22 to 0.25 at every λ ≥ 0.001)."""
    assert untied.dims == ("dict_size", "l1_coefficient", "seed")
    hedging = untied.sae["hedging"][0, :, 0, 0]
    assert (hedging >= 0.15).all() and (hedging <= 0.35).all(), hedging
    assert (untied.sae["matched"][0, :, 0, 0] == 0).all()  # the parent's latent is the one latent


def test_two_latents_absorb_the_parent_at_a_strong_penalty_and_not_at_a_weak_one(untied):
    """Dictionary size 2: every input with parent and child on is absorbed at λ = 0.01, none at λ = 0.001."""
    rate = untied.sae["absorption"][1, :, 0, 0]
    assert rate[1] >= 0.95 and rate[0] <= 0.05, rate


def test_a_tied_encoder_does_not_absorb():
    tied = toyjax.run(toyjax.compose("sae_absorption", ["grid.axes.seed=1", "grid.axes.l1_coefficient=[0.01]",
                                                        "grid.axes.dict_size=[2]", "grid.block_size=2",
                                                        "progress=false", "sae.tied=true"]))
    assert tied.sae["absorption"][0, 0, 0, 0] <= 0.05, tied.sae["absorption"]
