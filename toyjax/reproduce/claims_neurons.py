"""The claims of §7 (superposition in a privileged basis) and §8 (computation in superposition).

A neuron codes a feature when |w_ki| > 0.25 × its largest weight and > 0.1 (`toyjax.analysis.neurons`); a
model's configuration counts its monosemantic neurons and the features its polysemantic neurons share. This
module imports numpy, `toyjax.analysis` (aggregate, neurons, summary), `toyjax.plots.common` and
`toyjax.reproduce` (registry, figures).
"""

from __future__ import annotations

import math

import numpy as np

from toyjax.analysis import neurons
from toyjax.analysis.aggregate import best_seed, ranking_loss
from toyjax.analysis.summary import valid
from toyjax.plots import common
from toyjax.reproduce import figures
from toyjax.reproduce.registry import NOT_REPRODUCED, REPRODUCED, Claim, Finding, mark, status_of

# (lowest density, highest density, (monosemantic, shared features, polysemantic neurons), the paper's words)
REGIMES = (
    (0.5, 1.0, (5, 0, 0), "all monosemantic"),
    (0.2, 0.5, (3, 3, 2), "3 dedicated + 3 features in 2 neurons"),
    (0.15, 0.15, (2, 5, 3), "2 dedicated + 5 features in 3 neurons"),
    (0.12, 0.12, (1, 6, 4), "1 dedicated + 6 features in 4 neurons"),
    (0.05, 0.08, (0, 8, 5), "8 features in 5 neurons"),
    (0.0, 0.04, (0, 10, 5), "each feature a pair of neurons"),
)
MISS = 0.01  # seeds are enough when a run misses the best configuration with probability < 1%


def _signature(config: dict, index) -> tuple[int, int, int, bool]:
    """(monosemantic, shared, polysemantic, every coded feature on at most two neurons) of one model."""
    found = tuple(int(np.asarray(config[k])[index]) for k in ("monosemantic", "shared", "polysemantic"))
    return (*found, int(np.asarray(config["max_neurons_per_feature"])[index]) <= 2)


def _matches(signature, regime) -> bool:
    pairs = regime[3] == "each feature a pair of neurons"
    return signature[:3] == regime[2] and (signature[3] or not pairs)


def seeds_needed(frequency: float) -> int:
    """Seeds for a run to contain a configuration of this frequency with probability ≥ 1 − MISS."""
    return 1 if frequency >= 1 else math.ceil(math.log(MISS) / math.log1p(-frequency))


def regimes_by_density(results, signed: bool = False) -> list[dict]:
    """Per density: the best seed's configuration, the paper's regime there, how often the best recurs, and the
    lowest expected loss of a seed in the paper's configuration."""
    W = np.asarray(results.params["W"])
    config = neurons.configuration(W, signed)
    loss = ranking_loss(results.eval_loss, ~valid(results))
    axis = results.dims.index("seed")
    best = best_seed(loss, axis)
    rows = []
    for k, d in enumerate(np.asarray(results.coords["density"], float)):
        every = [_signature(config, (k, s)) for s in range(W.shape[axis])]
        signature = every[int(best[k])]
        paper = [r for r in REGIMES if r[0] - 1e-9 <= d <= r[1] + 1e-9]
        in_paper = [s for s, sig in enumerate(every) if any(_matches(sig, r) for r in paper)]
        rows.append({"density": float(d), "found": neurons.describe_configuration(config, (k, int(best[k]))),
                     "paper": " or ".join(r[3] for r in paper) or "—",
                     "match": any(_matches(signature, r) for r in paper) if paper else None,
                     "frequency": every.count(signature) / len(every), "loss": float(loss[k, best[k]]),
                     "paper_loss": float(min(loss[k, s] for s in in_paper)) if in_paper else None,
                     "paper_frequency": len(in_paper) / len(every)})
        rows[-1]["seeds_needed"] = seeds_needed(rows[-1]["frequency"])
    return rows


def _table(rows: list[dict], other: list[dict]) -> str:
    head = ["| density | best seed | the paper | share of seeds like the best | seeds for 99% | expected loss: best "
            "/ best in the paper's configuration (share of seeds) | with \\|w\\| coding |",
            "|---|---|---|---|---|---|---|"]
    for r, o in zip(rows, other):
        paper = "—" if r["paper_loss"] is None else f"{r['paper_loss']:.5f} ({r['paper_frequency']:.1%})"
        head.append(f"| {common.fmt(r['density'])} | {r['found']} {'' if r['match'] is None else mark(r['match'])} | "
                    f"{r['paper']} | {r['frequency']:.1%} | {r['seeds_needed']} | {r['loss']:.5f} / {paper} | "
                    f"{o['found']} {'' if o['match'] is None else mark(o['match'])} |")
    return "\n".join(head)


def measure_privileged(runs) -> Finding:
    results = runs["privileged_basis"]
    rows, other = regimes_by_density(results), regimes_by_density(results, signed=True)
    judged = [r for r in rows if r["match"] is not None]
    passed = sum(r["match"] for r in judged)
    seeds = int(results.grid_shape[results.dims.index("seed")])
    words = "; ".join(f"{common.fmt(r['density'])}: {r['found']}"
                      + ("" if r["match"] is None else f" {mark(r['match'])}") for r in rows)
    missed = [r for r in judged if not r["match"]]
    why = "" if not missed else (" Where the best seed differs, seeds in the paper's configuration exist but have a "
                                 "higher expected loss (penultimate column), or none was found (—).")
    details = (f"Best of {seeds} seeds per density. Inputs are non-negative, so a neuron codes the features with a "
               "positive weight above 0.25 × its largest and 0.1 (a negative weight only silences it); the last "
               "column counts |w| instead, as the issue's first measurement did. \"Seeds for 99%\" is how many seeds a "
               "run needs to contain the best seed's configuration with probability 99%, from how often it appears."
               f"{why}\n\n" + _table(rows, other))
    return Finding(status_of(passed, len(judged)), words,
                   "the best seed's configuration equals the paper's regime at every density the paper names "
                   "(counts of monosemantic neurons, shared features and polysemantic neurons; for the pairs regime "
                   "every feature on at most two neurons)",
                   {"densities_matching": passed, "densities_judged": len(judged),
                    "most_seeds_needed": max(r["seeds_needed"] for r in rows)},
                   "Stack plots of each density's best seed: neurons as columns, blocks of height |w| coloured by "
                   "feature; M: monosemantic, a number: how many features a polysemantic neuron codes.", details)


PRIVILEGED = Claim(
    "privileged_basis", "§7", "Neurons from monosemantic to polysemantic",
    "ReLU hidden layer, n=10, m=5, I_i=0.75^i, best of 1000 models per density: all neurons monosemantic "
    "(density ≳ 0.5); three dedicated neurons and three features coded on two neurons (0.2–0.5); five features "
    "in three neurons beside two monosemantic (0.15); six in four beside one (0.12); eight in five, all "
    "polysemantic (0.05–0.08); each feature a pair of neurons (≲ 0.04).",
    "Paper: \"for each model shown, we trained 1000 models and visualized the one with the lowest loss\"; "
    "neurons are \"monosemantic or polysemantic depending on whether they store more than one feature\". "
    "toyjax: 1000 seeds × 10,000 steps per density, lowest stratified expected loss; a neuron stores a feature "
    "when its positive weight is > 0.25 × its largest and > 0.1.",
    ("privileged_basis",), measure_privileged, lambda runs, found, path: figures.declared(runs["privileged_basis"],
                                                                                       path), ci=True)


# --------------------------------------------------------------------------- §8


def _best_params(results) -> tuple[np.ndarray, dict]:
    cells = common.best_cells(results)
    return np.asarray(cells.coords["density"], float), {k: np.asarray(v) for k, v in cells.params.items()}


def measure_abs_small(runs) -> Finding:
    density, params = _best_params(runs["abs_small"])
    W1 = neurons.normalize_abs_mlp(params)["W1"]
    lines, passed = [], 0
    for d, w in zip(density, W1):
        codes = neurons.coded_features(w, signed=True)
        mono = codes.sum(-1) == 1
        sides = {(int(np.argmax(codes[k])), int(np.sign(w[k, np.argmax(codes[k])]))) for k in np.flatnonzero(mono)}
        ok = sides == {(i, s) for i in range(w.shape[-1]) for s in (-1, 1)}
        passed += ok
        lines.append(f"density {common.fmt(d)}: {len(sides)} of {2 * w.shape[-1]} (feature, side) neurons {mark(ok)}")
    return Finding(status_of(passed, len(density)), "; ".join(lines),
                   "at every density the best seed has a monosemantic positive-side and negative-side neuron for "
                   "each feature", {"densities_matching": passed, "densities": len(density)},
                   "Stack plots of normalised W1 (each neuron's largest weight 1): one positive and one negative "
                   "neuron per feature.")


def _importance_ranks(results) -> list[tuple[float, float, float, float | None, float | None]]:
    """Per density: (density, share monosemantic, mean top-feature rank of mono neurons, of poly neurons)."""
    density, params = _best_params(results)
    W1 = neurons.normalize_abs_mlp(params)["W1"]
    classes = neurons.classify_neurons(W1, params["W1"], signed=True)
    top = np.argmax(np.abs(W1), axis=-1)
    rows = []
    for d, c, t in zip(density, classes, top):
        live = c != neurons.DEAD
        mono, poly = t[c == neurons.MONOSEMANTIC], t[c == neurons.POLYSEMANTIC]
        rows.append((float(d), float((c == neurons.MONOSEMANTIC).sum() / max(live.sum(), 1)),
                     float(mono.mean()) if mono.size else None, float(poly.mean()) if poly.size else None))
    return rows


def measure_abs_computation(runs) -> Finding:
    rows = _importance_ranks(runs["abs_computation"])
    shares = [r[1] for r in rows]
    mixed = [r for r in rows if r[2] is not None and r[3] is not None]
    checks = [shares[0] >= 0.9, shares[-1] <= 0.25, all(b <= a + 0.05 for a, b in zip(shares, shares[1:])),
              bool(mixed) and all(r[2] < r[3] for r in mixed)]
    words = (f"share of monosemantic neurons by density {', '.join(f'{common.fmt(r[0])}: {r[1]:.2f}' for r in rows)}"
             f": ≥ 0.9 when dense {mark(checks[0])}, ≤ 0.25 at the sparsest {mark(checks[1])}, falling with density "
             f"{mark(checks[2])}; where both kinds exist, monosemantic neurons code more important features (mean "
             f"rank of their feature {', '.join(f'{r[2]:.0f} vs {r[3]:.0f}' for r in mixed)}) {mark(checks[3])}")
    return Finding(status_of(sum(checks), 4), words,
                   "monosemantic share ≥ 0.9 at density 1 and ≤ 0.25 at 0.001, never rising by more than 0.05 as "
                   "density falls, and the monosemantic neurons' features more important on average than the "
                   "polysemantic neurons' largest ones at every density with both",
                   {"monosemantic_dense": shares[0], "monosemantic_sparse": shares[-1]},
                   "Stack plots of normalised W1, neurons sorted by their largest feature's importance.")


ABS_SMALL = Claim(
    "abs_small", "§8", "Absolute value: two neurons per feature",
    "abs_mlp, n=3 features, m=6 neurons computing y = |x|: for each feature the model builds a positive-side "
    "neuron ReLU(x_i) and a negative-side neuron ReLU(−x_i).",
    "Paper: n=3, m=6, values Uniform[−1, 1] when non-zero; density not stated. toyjax: densities 1, .3, .1, best "
    "of 4 seeds, 10,000 steps.",
    ("abs_small",), measure_abs_small, lambda runs, found, path: figures.declared(runs["abs_small"], path), ci=True)

ABS_COMPUTATION = Claim(
    "abs_computation", "§8", "Computation in superposition",
    "abs_mlp, n=100, m=40, I_i=0.8^i, densities 1 … 0.001: in the dense regime all neurons are monosemantic; as "
    "density falls, polysemantic neurons appear and grow more polysemantic until all are; the neurons of the "
    "most important features stay monosemantic longest.",
    "Paper: n=100, m=40, I_i=0.8^i, densities 1, .3, .1, .03, .01, .003, .001; neurons judged \"by eye\" and "
    "normalised to a largest |W1| weight of 1. toyjax: one model per density, 10,000 steps; the §7 coding rule.",
    ("abs_computation",), measure_abs_computation,
    lambda runs, found, path: figures.declared(runs["abs_computation"], path))


ASYMMETRY = 2.0  # the motif's neuron takes one feature at ≥ 2× the other's input weight, and repays it in W2


def asymmetric_motifs(params: dict) -> int:
    """How many (neuron, inhibitor) pairs of one abs_mlp model show §8's asymmetric superposition motif.

    On normalised weights (each neuron's largest |W1| weight 1): neuron k codes exactly two features, i with
    the larger and j with an input weight ≤ 1/ASYMMETRY of it, and reciprocal output weights (W2[j, k] ≥
    ASYMMETRY × W2[i, k] > 0), so feature i interferes heavily with output j; another neuron driven by the
    same side of feature i has a negative output weight into j (the inhibition).
    """
    norm = neurons.normalize_abs_mlp(params)
    W1, W2 = norm["W1"], norm["W2"]
    codes = neurons.coded_features(W1, signed=True)
    found = 0
    for k in np.flatnonzero(codes.sum(-1) == 2):
        i, j = sorted(np.flatnonzero(codes[k]), key=lambda f: -abs(W1[k, f]))
        if abs(W1[k, j]) > abs(W1[k, i]) / ASYMMETRY or not W2[j, k] >= ASYMMETRY * W2[i, k] > 0:
            continue
        same_side = codes[:, i] & (np.sign(W1[:, i]) == np.sign(W1[k, i])) & (np.arange(len(W1)) != k)
        found += int(np.any(same_side & (W2[j] < 0)))
    return found


def measure_motif(runs) -> Finding:
    density, params = _best_params(runs["abs_computation"])
    counts = [asymmetric_motifs({k: v[c] for k, v in params.items()}) for c in range(len(density))]
    words = "instances in the best model per density: " + ", ".join(
        f"{common.fmt(d)}: {c}" for d, c in zip(density, counts))
    return Finding(REPRODUCED if any(counts) else NOT_REPRODUCED, words,
                   f"at least one instance in some density's model: a neuron coding two features with input "
                   f"weights ≥ {ASYMMETRY:g}× apart and reciprocal output weights, and an inhibiting neuron on the "
                   "same side of the heavier feature with a negative output weight into the lighter one",
                   {"instances": int(sum(counts))},
                   "Stack plots of normalised W1 (as for computation in superposition); the motif's neurons take "
                   "two features with unequal weights.")


MOTIF = Claim(
    "asymmetric_motif", "§8", "The asymmetric superposition motif",
    "In the absolute-value models, some neurons implement asymmetric superposition: two features stored with "
    "different magnitudes (e.g. W1 = [2, −1/2]) and reciprocal output weights (W2 = [1/2, 2]), so one feature "
    "interferes heavily with the other's output, while another neuron inhibits that output when the first "
    "feature is on.",
    "Paper: one model of the n=100, m=40 family, \"(mostly) worked through\"; which density is not stated. "
    "toyjax counts the motif in the best model of each density of the computation-in-superposition run.",
    ("abs_computation",), measure_motif,
    lambda runs, found, path: figures.declared(runs["abs_computation"], path))
