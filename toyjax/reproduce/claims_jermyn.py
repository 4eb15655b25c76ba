"""§9's second anchor: Jermyn, Schiefer and Hubinger (2022), "Engineering Monosemanticity in Toy Models".

Their headline, at a size this CPU trains in minutes: a moderately negative bias at init (−1, with their bias
decay) finds minima with more monosemantic neurons than a zero bias, at no cost in loss. Two runs of the
example family ``examples/engineering_monosemanticity/jermyn.py`` (their model, init, optimiser and
definitions; its module docstring says where each was checked), the same seeds and steps, differing only in
``bias_init`` and ``bias_decay``. A neuron is monosemantic as they count it: its largest activation on a
single feature over the sum of them exceeds 0.999 (the family's history, at the last snapshot). This module
imports matplotlib, numpy and `toyjax.reproduce` (registry, figures).
"""

from __future__ import annotations

import numpy as np

from toyjax.reproduce import figures
from toyjax.reproduce.registry import Claim, Finding, mark, status_of

LOSS_MARGIN = 0.05  # "no loss cost": the negative-bias models' mean loss within 5% (relative) of the zero-bias ones'
LOOSE = 0.9  # a looser share, reported beside theirs (named as such), never judged
RUNS = ("jermyn_no_bias", "jermyn_negative_bias")
LABELS = {"jermyn_no_bias": "no bias (b = 0)", "jermyn_negative_bias": "negative bias (b = −1, bias decay)"}


def per_seed(results) -> dict[str, np.ndarray]:
    """Per model (flattened grid): expected loss, monosemantic neurons and mean bias at the last snapshot; the
    most monosemantic neurons of any snapshot, the mean bias then, and the neurons of share > `LOOSE` at the end."""
    h = results.history
    count = np.asarray(h["monosemantic_neurons"], float).reshape(-1, len(h["step"]))
    bias = np.asarray(h["mean_bias"], float).reshape(count.shape)
    share = np.asarray(h["monosemanticity"], float)[..., -1, :]
    at = np.argmax(count, axis=1)
    return {"loss": np.asarray(results.eval_loss, float).ravel(), "mono": count[:, -1], "bias": bias[:, -1],
            "peak": count.max(axis=1), "peak_bias": bias[np.arange(len(at)), at],
            "peak_step": np.asarray(h["step"])[at], "loose": (share > LOOSE).sum(-1).ravel(),
            "ok": ~np.asarray(results.diverged, bool).ravel()}


def compare(runs) -> dict:
    """The two runs' numbers and the checks of `measure` (loss within the margin, more monosemantic neurons)."""
    zero, neg = per_seed(runs[RUNS[0]]), per_seed(runs[RUNS[1]])
    loss0, loss1 = zero["loss"][zero["ok"]].mean(), neg["loss"][neg["ok"]].mean()
    mono0, mono1 = zero["mono"][zero["ok"]], neg["mono"][neg["ok"]]
    checks = [bool(zero["ok"].all() and neg["ok"].all()), bool(loss1 <= loss0 * (1 + LOSS_MARGIN)),
              bool(mono1.mean() > mono0.mean()), bool(mono1.min() > mono0.max())]
    return {"zero": zero, "neg": neg, "loss0": float(loss0), "loss1": float(loss1), "checks": checks,
            "mono0": float(mono0.mean()), "mono1": float(mono1.mean())}


def measure(runs) -> Finding:
    c = compare(runs)
    neurons = int(runs[RUNS[0]].params["b_in"].shape[-1])
    z, n, ok = c["zero"], c["neg"], c["checks"]
    words = (f"{len(z['loss'])} seeds each, {neurons} neurons: expected loss {c['loss0']:.4g} (no bias) against "
             f"{c['loss1']:.4g} (negative bias), {c['loss1'] / c['loss0'] - 1:+.1%} {mark(ok[1])}; monosemantic "
             f"neurons {c['mono0']:.1f} against {c['mono1']:.1f} on average {mark(ok[2])}, per seed "
             f"{z['mono'].astype(int).tolist()} against {n['mono'].astype(int).tolist()} {mark(ok[3])}; mean bias "
             f"{z['bias'].mean():+.2f} against {n['bias'].mean():+.2f}; no model diverged {mark(ok[0])}")
    rule = (f"no model diverged; the negative-bias models' mean expected loss at most {1 + LOSS_MARGIN:g}× the "
            "zero-bias models'; more monosemantic neurons (share > 0.999) on average, and in every negative-bias "
            "seed than in any zero-bias seed")
    details = (f"Per seed, no bias against negative bias: the most monosemantic neurons at any snapshot "
               f"{z['peak'].astype(int).tolist()} against {n['peak'].astype(int).tolist()} (at steps "
               f"{z['peak_step'].tolist()} against {n['peak_step'].tolist()}, mean bias then "
               f"{np.round(z['peak_bias'], 2).tolist()} against {np.round(n['peak_bias'], 2).tolist()}); at the end, "
               f"neurons whose share exceeds {LOOSE:g} (a looser count than theirs, not judged) "
               f"{z['loose'].astype(int).tolist()} against {n['loose'].astype(int).tolist()}; expected loss "
               f"{np.round(z['loss'], 5).tolist()} against {np.round(n['loss'], 5).tolist()}.")
    return Finding(status_of(sum(ok), len(ok)), words, rule,
                   {"loss_no_bias": c["loss0"], "loss_negative_bias": c["loss1"], "mono_no_bias": c["mono0"],
                    "mono_negative_bias": c["mono1"], "peak_no_bias": float(z["peak"].mean()),
                    "peak_negative_bias": float(n["peak"].mean()), "passed": sum(ok), "checks": len(ok)},
                   "Training curves as their training_plot draws them: loss, monosemantic neurons per feature and "
                   "mean bias against log₂ steps, one line per seed; grey: no bias, red: negative bias with bias "
                   "decay. Where the red count ends at 0 (its neurons turn polysemantic as the bias decays to 0), "
                   "the figure disagrees with their engineered models.",
                   details)


def figure(runs, found: Finding, path):
    """Loss, monosemantic neurons / features and mean bias over training, one line per seed and run."""
    fig, axes = figures.panels(3, width=4.2, height=3.2)
    for name, colour in zip(RUNS, ("0.5", "tab:red")):
        r = runs[name]
        steps, n = np.log2(np.asarray(r.history["step"], float)), r.params["W_out"].shape[-2]
        rows = {"loss": r.history["loss"], "mono": r.history["monosemantic_neurons"] / n,
                "bias": r.history["mean_bias"]}
        for ax, key in zip(axes, rows):
            lines = np.asarray(rows[key], float).reshape(-1, len(steps))
            for k, line in enumerate(lines):
                ax.plot(steps, line, color=colour, lw=1, label=LABELS[name] if k == 0 else None)
    for ax, label in zip(axes, ("loss (training batch)", "monosemantic neurons / features", "mean bias")):
        ax.set_xlabel("log₂ training steps")
        ax.set_ylabel(label)
    axes[0].set_yscale("log")
    axes[1].legend(fontsize=8)
    return figures.save(fig, path)


JERMYN = Claim(
    "jermyn_monosemanticity", "§9", "Engineering monosemanticity: negative biases at no loss cost",
    "Jermyn, Schiefer and Hubinger (2022), a follow-up that engineers §9's first way out: \"models can be made "
    "more monosemantic without increasing the loss by just changing which local minimum the training process "
    "finds. More monosemantic loss minima have moderate negative biases\". Their feature decoder: N=512 "
    "features, m=64, k=1024 ReLU neurons, density 1/64, batch 8192, 2¹⁷ steps of LAMB; \"no bias\" against an "
    "initial bias of −1 with bias decay 0.03.",
    "Their code (github.com/adamjermyn/toy_model_interpretability, model3.py and model_helper.py): a fixed "
    "random projection, torch's default init plus the bias offset, LAMB with cosine annealing of period 1024 "
    "steps, b ← b(1 − 0.03 lr) each step of the first half, monosemantic when the largest single-feature "
    "activation over their sum exceeds 0.999. toyjax runs the example family with their definitions at a reduced "
    "size (N, m, k, batch and steps in the preset's header; the bias decay scaled so that b decays by their "
    "factor over the shorter first half), the same seeds for both inits.",
    RUNS, measure, figure)
