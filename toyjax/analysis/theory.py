"""Analytic phase model of the superposition phase change, Elhage et al. (2022) §3.

For relu_output models with n=2, m=1 or n=3, m=2, ordinary features of importance 1, an extra (last) feature of
importance r, and every feature of density s (values Uniform[0, 1]), each candidate configuration has a
closed-form expected loss per sample:

    extra not represented (bias s/2 on it):                       L = r (s/3 − s²/4)
    extra dedicated, an ordinary feature dropped (bias s/2):      L = s/3 − s²/4
    extra dedicated, ordinary features antipodal (n=3 only):      L = s²/3
    extra antipodal with an ordinary feature (superposition):     L = (1 + r) s²/6

A dropped feature costs I·Var(x_i) = I (s/3 − s²/4) with the optimal bias b = E[x_i] = s/2; an antipodal pair
errs only when both are active, by the smaller value, so E[min(u, v)²] = 1/6 per unit of importance. The
analytic phase is the argmin (joint superposition of all three features, n=3, is excluded, as in the paper).
Phases are small integer codes indexing `PHASES`; code 0 is "unclear" and never an analytic answer.
"""

from __future__ import annotations

from toyjax.families.toy.metrics import _namespace

PHASES = ("unclear", "not_represented", "dedicated", "ordinary_antipodal", "superposition")
UNCLEAR, NOT_REPRESENTED, DEDICATED, ORDINARY_ANTIPODAL, SUPERPOSITION = range(len(PHASES))

# The candidate configurations of each phase model, in the order of `candidate_losses`' last axis.
CANDIDATES = {
    2: (NOT_REPRESENTED, DEDICATED, SUPERPOSITION),
    3: (NOT_REPRESENTED, DEDICATED, ORDINARY_ANTIPODAL, SUPERPOSITION),
}

# Hand-built W (m, n) of every candidate, and the feature it drops (which gets bias s/2), if any.
_CONFIGURATIONS = {
    (2, NOT_REPRESENTED): ([[1, 0]], 1),
    (2, DEDICATED): ([[0, 1]], 0),
    (2, SUPERPOSITION): ([[1, -1]], None),
    (3, NOT_REPRESENTED): ([[1, 0, 0], [0, 1, 0]], 2),
    (3, DEDICATED): ([[1, 0, 0], [0, 0, 1]], 1),
    (3, ORDINARY_ANTIPODAL): ([[1, -1, 0], [0, 0, 1]], None),
    (3, SUPERPOSITION): ([[1, 0, -1], [0, 1, 0]], None),
}


def _check_n(n: int) -> None:
    if n not in CANDIDATES:
        raise ValueError(f"n_features: the analytic phase model exists for n=2 (m=1) and n=3 (m=2), got {n}")


def dropped_feature_loss(density, importance):
    """Expected loss I·(s/3 − s²/4) of a feature with no dimension and the optimal bias s/2 (§3).

    Args:
        density: (...) density s of the feature.
        importance: (...) its importance I; broadcasts with `density`.
    """
    return importance * (density / 3 - density**2 / 4)


def antipodal_pair_loss(density, importance_a, importance_b):
    """Expected loss (I_a + I_b)·s²/6 of two features sharing a dimension as an antipodal pair, bias 0 (§3).

    Args:
        density: (...) density s of both features.
        importance_a, importance_b: (...) their importances; all three broadcast.
    """
    return (importance_a + importance_b) * density**2 / 6


def candidate_losses(n: int, density, extra_importance):
    """Closed-form expected loss of each candidate configuration of the §3 phase model.

    Args:
        n: 2 (m=1) or 3 (m=2).
        density: (...) density s of every feature.
        extra_importance: (...) importance r of the extra feature; broadcasts with `density`, so
            ``candidate_losses(2, s[:, None], r[None, :])`` gives a whole (density × r) diagram.

    Returns:
        (..., k) losses, last axis in the order of ``CANDIDATES[n]``.
    """
    _check_n(n)
    xp = _namespace(density, extra_importance)
    s, r = xp.broadcast_arrays(xp.asarray(density), xp.asarray(extra_importance))
    losses = {
        NOT_REPRESENTED: dropped_feature_loss(s, r),
        DEDICATED: dropped_feature_loss(s, 1.0),
        ORDINARY_ANTIPODAL: antipodal_pair_loss(s, 1.0, 1.0),
        SUPERPOSITION: antipodal_pair_loss(s, 1.0, r),
    }
    return xp.stack([losses[c] for c in CANDIDATES[n]], axis=-1)


def analytic_phase(n: int, density, extra_importance):
    """Winning phase (argmin of `candidate_losses`) and its margin over the runner-up (§3).

    Args:
        n: 2 (m=1) or 3 (m=2).
        density: (...) density s.
        extra_importance: (...) extra feature's importance r; broadcasts with `density`.

    Returns:
        phase: (...) integer codes into `PHASES` (never UNCLEAR).
        margin: (...) second-lowest minus lowest expected loss (≥ 0; 0 on a boundary).
    """
    xp = _namespace(density, extra_importance)
    losses = candidate_losses(n, density, extra_importance)
    codes = xp.asarray(CANDIDATES[n])
    ordered = xp.sort(losses, axis=-1)
    return codes[xp.argmin(losses, axis=-1)], ordered[..., 1] - ordered[..., 0]


def candidate_params(n: int, phase: int, density):
    """Hand-built relu_output params {"W": (..., m, n), "b": (..., n)} of one candidate configuration (§3).

    Unit-norm features; a dropped feature gets the optimal bias s/2, all others 0. Simulating these params
    on sampled data reproduces `candidate_losses` (the tests check it).

    Args:
        n: 2 (m=1) or 3 (m=2).
        phase: a code from ``CANDIDATES[n]``.
        density: (...) density s (sets the dropped feature's bias).
    """
    _check_n(n)
    if phase not in CANDIDATES[n]:
        raise ValueError(f"phase: {PHASES[phase]!r} is not a candidate for n={n}; allowed: {CANDIDATES[n]}")
    xp = _namespace(density)
    W_rows, dropped = _CONFIGURATIONS[(n, phase)]
    s = xp.asarray(density, dtype=xp.float32)
    W = xp.broadcast_to(xp.asarray(W_rows, dtype=xp.float32), s.shape + (n - 1, n))
    onehot = xp.zeros(n, dtype=xp.float32) if dropped is None else xp.eye(n, dtype=xp.float32)[dropped]
    return {"W": W, "b": s[..., None] / 2 * onehot}
