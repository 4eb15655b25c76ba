"""Structured features as data: the firing profile, magnitudes, hierarchy and low-rank correlation of a run's data.

Four optional blocks of the ``data`` section, each a YAML mapping checked here with one-line errors naming the
field, before anything is compiled; left out (None), each is the 2022 paper's independent Uniform[0, 1] data:

- ``firing``: the firing-probability profile that shapes the run's density axis, p_i = density_i · profile_i.
  ``{profile: constant}`` is 1; ``{profile: geometric, decay: r}`` is r^i / mean_j r^j (Sharkey, Braun and
  Millidge 2022; the mean stays at the density, as ``sae.density_decay`` has it); ``{profile: zipf, exponent,
  p_max, p_min}`` is SAELens's `zipfian_firing_probabilities` (sae_lens/synthetic/firing_probabilities.py):
  r_i = (i + 1)^−exponent rescaled linearly onto [p_min, p_max], so at density 1 feature i fires with
  SAELens's probability.
- ``magnitude``: a firing feature's value. ``{kind: uniform}`` is Uniform[0, 1] (the paper's), ``{kind:
  constant, value}``, ``{kind: folded_normal, mean, std}`` is |mean + std·z|, z ~ N(0, 1), drawn per firing.
  (SAELens draws ReLU(mean_i + std_i·z), and uses a folded normal for the per-feature means; ours folds each
  draw, so a value is never 0 while its feature fires.)
- ``hierarchy``: ``{parents: [...], mutually_exclusive: false}``, one parent index per feature (−1: a root),
  each parent before its child. A child fires only when its parent does: its own draw (at its density) is
  kept only where the parent fires, so its density is its rate given its parent, as in SAELens's
  `hierarchy_modifier` (after Nabeshima's Matryoshka toy model). With ``mutually_exclusive`` at most one child
  of a parent fires: among those drawn, one chosen uniformly at random (SAELens's rule), level by level.
- ``correlation``: ``{rank, scale, seed}``, SAELens's `generate_random_low_rank_correlation_matrix`: a factor
  F (n, rank) of N(0, scale²) entries drawn by numpy from ``seed`` (scaled down until every 1 − ‖F_i‖² ≥ 0.01),
  and feature i fires where z_i > Φ⁻¹(1 − p_i), z = F g + √(1 − ‖F_i‖²) e with g, e standard normal (a Gaussian
  copula: the firing rates stay p_i, the firings correlate as F Fᵀ says).

The hashable pieces the compiled program reads (`Magnitude`, `Hierarchy`, `Correlation`) are built here from
the plain blocks. This module imports numpy, `toyjax.checks` and `toyjax.errors`.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from toyjax import checks
from toyjax.errors import ConfigError

PROFILES = {"constant": (), "geometric": ("decay",), "zipf": ("exponent", "p_max", "p_min")}
MAGNITUDES = {"uniform": (), "constant": ("value",), "folded_normal": ("mean", "std")}
DEFAULTS = {"decay": 1.0, "exponent": 1.0, "p_max": 0.3, "p_min": 0.01, "value": 1.0, "mean": 1.0, "std": 0.5}
HIERARCHY_KEYS = ("parents", "mutually_exclusive")
CORRELATION_KEYS = ("rank", "scale", "seed")
MIN_DIAG = 0.01  # SAELens's floor of 1 − ‖F_i‖²
BLOCKS = ("firing", "magnitude", "hierarchy", "correlation")  # the ``data`` keys of this module


class Magnitude(NamedTuple):
    """How a firing feature's value is drawn: "uniform", "constant" (`value`) or "folded_normal" (mean, std)."""

    kind: str = "uniform"
    value: float = 1.0
    mean: float = 1.0
    std: float = 0.5


class Hierarchy(NamedTuple):
    """Each feature's parent (−1: a root), and whether a parent's children exclude each other."""

    parents: tuple[int, ...]
    exclusive: bool = False

    def levels(self) -> list[np.ndarray]:
        """The features of each depth 1, 2, ... (children of roots first), as index arrays."""
        depth = np.zeros(len(self.parents), int)
        for i, p in enumerate(self.parents):
            depth[i] = 0 if p < 0 else depth[p] + 1
        return [np.flatnonzero(depth == d) for d in range(1, depth.max(initial=0) + 1)]


class Correlation(NamedTuple):
    """The low-rank Gaussian copula of the firings: factor rank, entry scale, the numpy seed of the factor."""

    rank: int
    scale: float
    seed: int = 0

    def factor(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """F (n, rank) and each feature's own noise scale √(1 − ‖F_i‖²) (n,), float32 (module docstring)."""
        F = np.random.default_rng(self.seed).standard_normal((n, self.rank)) * self.scale
        squares = (F * F).sum(axis=1)
        if squares.max(initial=0.0) > 1 - MIN_DIAG:
            F = F * math.sqrt((1 - MIN_DIAG) / squares.max())
        return F.astype(np.float32), np.sqrt(1 - (F * F).sum(axis=1)).astype(np.float32)


def check(section: Any, n: int) -> None:
    """Check the four blocks of a ``data`` section with `n` features; raise `ConfigError` naming the field."""
    if section.firing is not None:
        _check_block("data.firing", section.firing, "profile", PROFILES)
        _check_profile(section.firing)
    if section.magnitude is not None:
        _check_block("data.magnitude", section.magnitude, "kind", MAGNITUDES)
        _check_magnitude(section.magnitude)
        if section.signed and magnitude_of(section.magnitude).kind != "uniform":
            raise ConfigError("data.signed: signed values are Uniform[-1, 1]; leave data.magnitude unset with them")
    shaped = section.firing is not None and section.firing["profile"] != "constant"
    for name, used in (("firing", shaped), ("hierarchy", section.hierarchy is not None),
                       ("correlation", section.correlation is not None)):
        if used and section.kind != "independent":
            raise ConfigError(f"data.{name}: needs data.kind=independent, got data.kind={section.kind}")
    if section.hierarchy is not None:
        _check_hierarchy(section.hierarchy, n)
    if section.correlation is not None:
        _check_correlation(section.correlation)


def _check_block(name: str, block: Any, selector: str, kinds: dict) -> None:
    """A mapping with a known `selector` and only the keys of its kind."""
    if not isinstance(block, dict):
        raise ConfigError(f"{name}: expected a mapping such as {{{selector}: {next(iter(kinds))}}}, got {block!r}")
    checks.choice(f"{name}.{selector}", block.get(selector), tuple(kinds))
    allowed = (selector, *kinds[block[selector]])
    for key in block:
        if key not in allowed:
            raise ConfigError(f"{name}.{key}: unknown key for {selector} {block[selector]}; allowed: "
                              f"{', '.join(allowed)}")


def _check_profile(block: dict) -> None:
    values = {k: checks.number(f"data.firing.{k}", v) for k, v in block.items() if k != "profile"}
    if "decay" in values and not 0.0 < values["decay"] <= 1.0:
        raise ConfigError(f"data.firing.decay: must be in (0, 1], got {values['decay']}")
    if block["profile"] == "zipf":
        z = {k: values.get(k, DEFAULTS[k]) for k in PROFILES["zipf"]}
        if z["exponent"] <= 0:
            raise ConfigError(f"data.firing.exponent: must be > 0, got {z['exponent']}")
        if not 0.0 < z["p_max"] <= 1.0:
            raise ConfigError(f"data.firing.p_max: must be in (0, 1], got {z['p_max']}")
        if not 0.0 < z["p_min"] < z["p_max"]:
            raise ConfigError(f"data.firing.p_min: must be in (0, data.firing.p_max={z['p_max']}), got {z['p_min']}")


def _check_magnitude(block: dict) -> None:
    values = {k: checks.number(f"data.magnitude.{k}", v) for k, v in block.items() if k != "kind"}
    for key in ("value", "std"):
        if key in values and values[key] <= 0:
            raise ConfigError(f"data.magnitude.{key}: must be > 0, got {values[key]}")


def _check_hierarchy(block: Any, n: int) -> None:
    if not isinstance(block, dict) or "parents" not in block:
        raise ConfigError(f"data.hierarchy: expected a mapping {{parents: [...], mutually_exclusive: false}}, "
                          f"got {block!r}")
    for key in block:
        if key not in HIERARCHY_KEYS:
            raise ConfigError(f"data.hierarchy.{key}: unknown key; allowed: {', '.join(HIERARCHY_KEYS)}")
    parents = block["parents"]
    if not isinstance(parents, list | tuple) or len(parents) != n:
        raise ConfigError(f"data.hierarchy.parents: expected a list of model.n_features={n} parent indices "
                          f"(-1: a root), got {parents!r}")
    for i, p in enumerate(parents):
        if isinstance(p, bool) or not isinstance(p, int) or not -1 <= p < i:
            raise ConfigError(f"data.hierarchy.parents: feature {i}'s parent must be -1 (a root) or a feature "
                              f"before it (0 to {i - 1}), got {p!r}")
    checks.boolean("data.hierarchy.mutually_exclusive", block.get("mutually_exclusive", False))


def _check_correlation(block: Any) -> None:
    if not isinstance(block, dict) or "rank" not in block:
        raise ConfigError(f"data.correlation: expected a mapping {{rank: R, scale: s, seed: 0}}, got {block!r}")
    for key in block:
        if key not in CORRELATION_KEYS:
            raise ConfigError(f"data.correlation.{key}: unknown key; allowed: {', '.join(CORRELATION_KEYS)}")
    checks.integer("data.correlation.rank", block["rank"], low=1)
    checks.integer("data.correlation.seed", block.get("seed", 0), low=0)
    if checks.number("data.correlation.scale", block.get("scale", 0.1)) < 0:
        raise ConfigError(f"data.correlation.scale: must be >= 0, got {block.get('scale')}")


def profile(block: dict | None, n: int) -> np.ndarray | None:
    """The (n,) multipliers of the density that a ``firing`` block gives (None: no block, or constant)."""
    if block is None or block["profile"] == "constant":
        return None
    get = {k: float(block.get(k, DEFAULTS[k])) for k in PROFILES[block["profile"]]}
    if block["profile"] == "geometric":
        shape = np.asarray(get["decay"], np.float64) ** np.arange(n)
        return (shape / shape.mean()).astype(np.float32)
    if n == 1:
        return np.array([get["p_max"]], np.float32)
    r = np.arange(1, n + 1, dtype=np.float64) ** -get["exponent"]
    return (get["p_min"] + (get["p_max"] - get["p_min"]) * (r - r.min()) / (r.max() - r.min())).astype(np.float32)


def shaped(block: dict | None, density: np.ndarray) -> np.ndarray:
    """Per-model densities (M, n) shaped by a ``firing`` block; raises `ConfigError` where one would pass 1."""
    multipliers = profile(block, density.shape[-1])
    if multipliers is None:
        return density
    out = (density * multipliers).astype(np.float32)
    if out.max() > 1:
        i = np.unravel_index(np.argmax(out), out.shape)[-1]
        raise ConfigError(f"data.firing: feature {i} would fire with probability {out.max():.3g} > 1; lower the "
                          "density or flatten the profile")
    return out


def magnitude_of(block: dict | None) -> Magnitude:
    """The `Magnitude` of a ``magnitude`` block (None: uniform)."""
    if block is None:
        return Magnitude()
    return Magnitude(block["kind"], *(float(block.get(k, DEFAULTS[k])) for k in ("value", "mean", "std")))


def hierarchy_of(block: dict | None) -> Hierarchy | None:
    """The `Hierarchy` of a ``hierarchy`` block, or None."""
    if block is None:
        return None
    return Hierarchy(tuple(int(p) for p in block["parents"]), bool(block.get("mutually_exclusive", False)))


def correlation_of(block: dict | None) -> Correlation | None:
    """The `Correlation` of a ``correlation`` block, or None."""
    if block is None:
        return None
    return Correlation(int(block["rank"]), float(block.get("scale", 0.1)), int(block.get("seed", 0)))
