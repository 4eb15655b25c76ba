"""§9 the price of monosemanticity (`toyjax.analysis.price`) on hand-made weights and losses."""

from __future__ import annotations

import numpy as np
import pytest

from toyjax.analysis import price

# neuron 0 codes feature 0 alone, neuron 1 features 1 and 2 equally, neuron 2 nothing (dead); 4 features
W = np.array([[1.0, 0.0, 0.0, 0.0],
              [0.0, 0.8, 0.8, -2.0],
              [0.0, 0.0, 0.0, 0.0]])


def test_effective_features_count_each_neurons_features_and_ignore_silencing_weights():
    assert price.effective_features(W, signed=False) == pytest.approx([1.0, 2.0, 0.0])
    assert price.effective_features(W, signed=True)[1] == pytest.approx((0.64 * 2 + 4) / 4)
    assert price.features_per_dimension(W, signed=False) == pytest.approx(1.0)
    assert price.superposition(W, signed=False) == pytest.approx(1 / 3)
    assert price.superposition(W[:1], signed=False) == pytest.approx(0.0)


def test_represented_features_and_the_kill_threshold():
    importance = 0.5 ** np.arange(4)
    shown = price.represented(W, signed=False)
    assert shown.tolist() == [True, True, True, False]
    assert price.kill_threshold(shown, importance) == pytest.approx(0.125)
    assert bool(price.importance_prefix(shown, importance))
    assert not price.importance_prefix(np.array([True, False, True, False]), importance)
    assert np.isnan(price.kill_threshold(np.ones(4, bool), importance))


def test_loss_cost_margins_and_superposition_removed():
    l1 = np.array([0.0, 0.001, 0.01, 0.1])
    loss = np.array([[1.0, 2.0], [1.0005, 2.01], [1.005, 2.3], [1.5, 2.001]])  # (n_l1, n_density)
    cost = price.loss_cost(loss, l1)
    assert cost[:, 0] == pytest.approx([0, 0.0005, 0.005, 0.5])
    assert price.margin(l1, cost, 0.01).tolist() == [0.01, 0.001]  # the first λ beyond ends it (not λ = 0.1)
    assert price.margin(l1, cost, 0.001).tolist() == [0.001, 0.0]
    amount = np.array([[2.0, 0.0], [1.5, 0.0], [1.0, 0.0], [0.0, 0.0]])
    removed = price.superposition_removed(amount, l1)
    assert removed[:, 0] == pytest.approx([0, 0.25, 0.5, 1])
    assert np.isnan(removed[:, 1]).all()  # no superposition to remove
    assert price.at_margin(l1, cost, removed, 0.01)[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="activation_l1: needs ascending values starting at 0"):
        price.loss_cost(loss, np.array([0.001, 0.0, 0.01, 0.1]))


def test_width_factor_is_the_smallest_monosemantic_width_within_one_percent():
    loss = np.array([[[3.0, 1.0], [2.0, 0.5]], [[0.9, 0.4], [0.1, 0.1]]])  # (n_l1, n_density, n_seed)
    poly = np.array([[[1, 0], [2, 0]], [[0, 1], [1, 1]]])
    assert price.best_monosemantic(loss, poly).tolist() == [0.9, 0.5]
    mono = np.array([[1.2, 0.5], [1.005, 0.3], [0.5, 0.2]])  # widths 5, 6, 8
    k = price.width_factor([5, 6, 8], mono, reference=np.array([1.0, 0.1]), m=5)
    assert k[0] == pytest.approx(1.2) and np.isnan(k[1])
