"""The claims of §9 ("The Strategic Picture", three ways out): models without superposition, their price, the
hybrid margin.

The paper gives no λ, no numbers and no figure; each statement is measured on the best seed of every (λ,
density) cell of ways_out_price (the §7 model) and ways_out_computation (the §8 model, reduced), and on
ways_out_width (the §7 model at widths m′, one run each), with `toyjax.analysis.price`. Superposition S is
Σ_k (e_k − 1)/m over the live neurons, e_k a neuron's effective number of features (0 exactly when no neuron
holds a second feature); loss is the stratified expected loss, the reconstruction loss without the penalty.
Every rule below was fixed before the runs were measured. This module imports numpy, `toyjax.analysis.price`,
`toyjax.plots.common`, `toyjax.plots.price` and `toyjax.reproduce` (registry, figures, runs).
"""

from __future__ import annotations

import numpy as np

from toyjax.analysis import price
from toyjax.plots import common
from toyjax.plots import price as price_plots
from toyjax.reproduce import figures
from toyjax.reproduce.registry import Claim, Finding, mark, status_of, tally
from toyjax.reproduce.runs import WIDTHS

PRICED = ("ways_out_price", "ways_out_computation")
REMOVED = 0.9  # "get rid of superposition": a λ of the grid removes at least 90% of λ = 0's superposition
SUPERPOSED = 1e-3  # a density has superposition to remove when S(0) exceeds this (features per neuron beyond one)
SETUP = ("Paper: no λ, numbers or figure. toyjax: λ‖h‖₁ (`model.activation_l1`) as a grid axis; ways_out_price is "
         "§7's relu_hidden (n=10, m=5, I_i=0.75^i) over λ = 0, 1e-4 … 1 × densities 1, 0.3, 0.1, 0.03 × 8 seeds; "
         "ways_out_computation is §8's abs_mlp at n=20, m=8 (I_i=0.8^i, signed) over λ = 0, 1e-4 … 0.3 × "
         "densities 1, 0.1, 0.01 × 4 seeds; best seed per cell by the stratified expected loss (reconstruction "
         "only). Superposition S = Σ_k (e_k − 1)/m, e_k = Σ_i a_ki²/max_i a_ki² a neuron's effective features.")


def _tables(runs) -> dict[str, dict]:
    return {name: price.cells(runs[name]) for name in PRICED if name in runs}


def superposed(table: dict) -> np.ndarray:
    """The densities (indices) whose λ = 0 model has superposition to remove."""
    return np.flatnonzero(table["superposition"][0] > SUPERPOSED)


def riddance(table: dict, j: int) -> tuple[float | None, float | None, int | None]:
    """(λ, loss cost, features represented) of the smallest λ removing ≥ REMOVED of density j's superposition
    while some feature stays represented; Nones where no λ of the grid does."""
    ok = (table["removed"][:, j] >= REMOVED) & (table["represented"][:, j] > 0)
    if not ok.any():
        return None, None, None
    i = int(np.argmax(ok))
    return float(table["l1"][i]), float(table["cost"][i, j]), int(table["represented"][i, j])


def measure_price(runs) -> Finding:
    words, passed, judged = [], 0, 0
    for name, table in _tables(runs).items():
        for j in superposed(table):
            l1, cost, shown = riddance(table, j)
            ok = l1 is not None and cost > price.MARGINS[0]
            passed, judged = passed + ok, judged + 1
            d = common.fmt(table["density"][j])
            words.append(f"{name} density {d}: " + ("no λ removes 90%" if l1 is None else
                         f"λ = {l1:g} removes {table['removed'][list(table['l1']).index(l1), j]:.0%} of S(0) = "
                         f"{table['superposition'][0, j]:.2f} at {cost:+.1%} loss, {shown} features kept")
                         + f" {mark(ok)}")
    return tally(passed, judged, "; ".join(words),
                 f"at every density whose λ = 0 model has superposition (S > {SUPERPOSED:g}), some λ of the grid "
                 f"removes at least {REMOVED:.0%} of it while a feature stays represented, and the smallest such λ "
                 f"costs more than {price.MARGINS[0]:.0%} loss",
                 "Loss increase over λ = 0 against the share of superposition removed, one curve per density "
                 "(left: §7 model; right: §8 model).")


def kill_cells(table: dict) -> list[tuple[int, int]]:
    """Cells (λ > 0) that represent fewer features than λ = 0 at their density, and at least one."""
    fewer = (table["represented"] < table["represented"][:1]) & (table["represented"] > 0)
    fewer[0] = False
    return [tuple(int(v) for v in ij) for ij in np.argwhere(fewer)]


def measure_kill(runs) -> Finding:
    words, passed, judged = [], 0, 0
    for name, table in _tables(runs).items():
        cells = kill_cells(table)
        ok = [bool(table["prefix"][i, j]) for i, j in cells]
        passed, judged = passed + sum(ok), judged + len(ok)
        rows = [f"λ {table['l1'][i]:g} at {common.fmt(table['density'][j])}: {int(table['represented'][i, j])} kept,"
                f" threshold {table['kill_threshold'][i, j]:.3g} {mark(good)}" for (i, j), good in zip(cells, ok)]
        words.append(f"{name}: " + ("; ".join(rows) or "no λ killed a feature"))
    finding = tally(passed, judged, ". ".join(words),
                    "in every cell (λ > 0) whose best seed represents fewer features than λ = 0's at its density "
                    "(and at least one), the features it keeps are the most important ones (every kept feature "
                    "more important than every lost one)",
                    "Features represented (solid) and the importance of the most important lost feature (dashed, "
                    "right axis) against λ.")
    return finding if judged else Finding(status_of(0, 1), finding.measured, finding.rule, finding.numbers,
                                          finding.caption)


def _width_runs(runs) -> list:
    return [runs[f"ways_out_width_{m}"] for m in WIDTHS]


def width_table(runs) -> dict[str, np.ndarray]:
    """Per density: the m=5 model's loss at λ = 0, each width's best monosemantic loss, k, and the polysemantic
    neurons of the reference; "widths" (n_widths,), "mono" (n_widths, n_density), the rest (n_density,)."""
    return price.width_table(_width_runs(runs))


def measure_width(runs) -> Finding:
    t = width_table(runs)
    judged = np.flatnonzero(t["polysemantic"] > 0)
    bigger = [bool(np.isnan(t["k"][j]) or t["k"][j] > 1) for j in judged]
    most = WIDTHS[-1] / WIDTHS[0]
    words = "; ".join(f"density {common.fmt(d)}: k " + (f"= {k:g}" if np.isfinite(k) else f"> {most:g}")
                      + f" (m=5 loss {r:.5f}, {int(p)} polysemantic)" for d, k, r, p in
                      zip(t["density"], t["k"], t["reference"], t["polysemantic"]))
    rows = ["| density | m=5, λ=0: loss (polysemantic neurons) | " + " | ".join(f"m′={m}" for m in WIDTHS)
            + " | k |", "|---" * (len(WIDTHS) + 3) + "|"]
    for j, d in enumerate(t["density"]):
        cells = " | ".join("—" if not np.isfinite(v) else f"{v:.5f}" for v in t["mono"][:, j])
        k = f"{t['k'][j]:g}" if np.isfinite(t["k"][j]) else f"> {most:g}"
        rows.append(f"| {common.fmt(d)} | {t['reference'][j]:.5f} ({int(t['polysemantic'][j])}) | {cells} | {k} |")
    details = ("Best monosemantic loss of each width (lowest expected loss among its (λ, seed) models with no "
               "polysemantic neuron; — none) against the m=5 superposition model at λ = 0; k = m′/5 of the "
               f"smallest width within {price.MATCH:.0%} of it.\n\n" + "\n".join(rows))
    found = Finding(status_of(sum(bigger), len(judged)) if len(judged) else status_of(0, 1), words,
                    f"at every density where the m=5 model at λ = 0 has a polysemantic neuron, no monosemantic "
                    f"model of width 5 comes within {price.MATCH:.0%} of its loss (k > 1; k is reported, the paper "
                    "gives no value)",
                    {"k": [None if not np.isfinite(k) else float(k) for k in t["k"]],
                     "density": [float(d) for d in t["density"]]},
                    "k = m′/m against density: the smallest monosemantic width matching the m=5 superposition "
                    "model (left); each width's best monosemantic loss over the m=5 model's (right).", details)
    return found


def measure_margin(runs) -> Finding:
    words, checks = [], []
    for name, table in _tables(runs).items():
        found = price.margins(table)
        for j in superposed(table):
            ok = found["l1_0.1%"][j] > 0 and found["removed_0.1%"][j] > 0
            checks.append(bool(ok))
            words.append(f"{name} density {common.fmt(table['density'][j])}: 0.1%: λ = {found['l1_0.1%'][j]:g} "
                         f"removes {found['removed_0.1%'][j]:.1%} {mark(ok)}; 1%: λ = {found['l1_1%'][j]:g} removes "
                         f"{found['removed_1%'][j]:.1%} ({int(found['polysemantic_1%'][j])} polysemantic neurons)")
    return tally(sum(checks), len(checks), "; ".join(words),
                 f"at every density whose λ = 0 model has superposition (S > {SUPERPOSED:g}), the largest λ of the "
                 "grid up to which every loss increase is within 0.1% is above 0 and removes some superposition "
                 "(S below λ = 0's); the 1% margin is reported beside it",
                 "Loss increase over λ = 0 against λ, with the 1% and 0.1% margins dotted.")


def _two_runs(runs, path, panel) -> object:
    tables = _tables(runs)
    fig, axes = figures.panels(len(tables), width=6.0, height=4.2)
    for ax, (name, table) in zip(axes, tables.items()):
        panel(ax, table)
        ax.set_title(name, fontsize=9)
    return figures.save(fig, path)


def width_figure(runs, found, path) -> object:
    t = width_table(runs)
    fig, (left, right) = figures.panels(2)
    price_plots.width_panel(left, t["density"], t["k"], WIDTHS[-1] / WIDTHS[0])
    price_plots.monosemantic_panel(right, t)
    return figures.save(fig, path)


PRICE = Claim(
    "ways_out_price", "§9", "Getting rid of superposition, at the cost of a higher loss",
    "\"It's actually quite easy to get rid of superposition in the toy models … albeit at the cost of a higher "
    "loss. Simply apply an L1 regularization term to the hidden layer activations (i.e. add λ‖h‖₁ to the loss).\"",
    SETUP, PRICED, measure_price, lambda runs, found, path: _two_runs(runs, path, price_plots.cost_panel), ci=True)

KILL = Claim(
    "ways_out_kill", "§9", "Killing features below an importance threshold",
    "\"This actually has a nice interpretation in terms of killing features below a certain importance threshold, "
    "especially if they're not basis aligned.\"",
    SETUP + " A feature is represented when some neuron codes it (the §7 classifier).",
    PRICED, measure_kill, lambda runs, found, path: _two_runs(runs, path, price_plots.kill_panel))

WIDTH = Claim(
    "ways_out_width", "§9", "n neurons in superposition ≈ kn monosemantic neurons",
    "\"A superposition model with n neurons likely has the same performance as a significantly larger "
    "monosemantic model with kn neurons.\" The paper gives no k.",
    "toyjax: ways_out_width, the §7 model (relu_hidden, n=10, I_i=0.75^i) at widths m′ = "
    + ", ".join(map(str, WIDTHS)) + " (one run each: n_hidden is a static shape), λ = 0, 0.01, 0.03, 0.1, 0.3 × "
    "densities 1, 0.3, 0.1, 0.03 × 8 seeds. A model is monosemantic when no neuron codes two features (the §7 "
    "classifier); a width's best monosemantic loss is the lowest over its monosemantic (λ, seed) models; k = m′/5 "
    "of the smallest width within 1% of the m=5 model's loss at λ = 0.",
    tuple(f"ways_out_width_{m}" for m in WIDTHS), measure_width, width_figure)

MARGIN = Claim(
    "ways_out_margin", "§9", "The hybrid margin: less superposition at essentially no cost",
    "\"We should expect to be able to reduce superposition at least a little bit with essentially no effect on "
    "performance, just by doing something like L1 regularization without any architectural changes\" (at the "
    "optimum the loss's derivative with respect to the amount of superposition is zero).",
    SETUP + " Per density, the largest λ up to which every λ's loss increase is within 1% and within 0.1% of "
    "λ = 0's.",
    PRICED, measure_margin, lambda runs, found, path: _two_runs(runs, path, price_plots.l1_panel))
