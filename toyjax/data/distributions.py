"""Synthetic feature distributions of Elhage et al., "Toy Models of Superposition" (2022), §2 and §4.3.

- independent:     x_i = 0 with probability 1 - density_i, else Uniform[0, 1].
- correlated:      features come in sets of `set_size`; one on/off draw per set, independent values.
- anticorrelated:  a set is all-zero with probability 1 - density, else exactly one member, chosen
                   uniformly, is Uniform[0, 1] (the paper's convention).
- signed:          values are Uniform[-1, 1] instead (the absolute-value task, §8).
- normalize:       every input is rescaled to ‖x‖ = 1 (Henighan et al., "Superposition, Memorization, and
                   Double Descent", 2023); an input with no active feature stays 0.
- structure:       magnitudes other than Uniform[0, 1], a hierarchy and low-rank correlated firings
                   (`toyjax.data.structure`, drawn by `toyjax.data.gates`). With a hierarchy or a correlation
                   the units do not fire independently (`DataSpec.independent_units` is False): a batch then
                   draws values, gates and sibling priorities from separate streams.

Sampling is split in two so that models sharing a seed can share one random draw (common random
numbers): `draw` makes the uniform noise from a key, `realize` turns it into a batch for one model's
densities. With u ~ Uniform[0, 1), ``u < d`` has probability d and, given that, ``u / d`` is again
Uniform[0, 1), so one uniform per entry gives an exact sample for any density.

A batch is a matrix of columns, x of shape (n, batch), as in the paper's x' = WᵀWx + b: the batch is the
long, contiguous axis, which lets XLA vectorise the elementwise work of tiny models (n = 2 or 5) over it.

The on/off pattern is described by *units*: features for independent data, sets otherwise. The
stratified expected loss (`toyjax.families.toy.stratified`) enumerates unit patterns and calls `conditional`;
`count_bound` says how many units are on at most, but for a given tail of probability (a Poisson-binomial
count, computed exactly). This module imports jax, numpy, `toyjax.data.gates`, `toyjax.data.structure` and
`toyjax.sums`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from toyjax.data import gates, structure
from toyjax.data.structure import Correlation, Hierarchy, Magnitude
from toyjax.sums import pairwise_sum


@dataclass(frozen=True)
class DataSpec:
    """Static description of a feature distribution."""

    kind: str = "independent"
    n_features: int = 5
    set_size: int = 2
    signed: bool = False
    normalize: bool = False
    magnitude: Magnitude = Magnitude()
    hierarchy: Hierarchy | None = None
    correlation: Correlation | None = None

    @property
    def n_units(self) -> int:
        """Number of independent on/off units: features, or sets of features."""
        return self.n_features if self.kind == "independent" else self.n_features // self.set_size

    @property
    def independent_units(self) -> bool:
        """Whether the units fire independently, each at its density (no hierarchy, no correlation)."""
        return self.hierarchy is None and self.correlation is None


def metadata(spec: DataSpec) -> dict:
    """What a run's results.json says of its data beyond the config: nothing, or that its units are dependent."""
    if spec.independent_units:
        return {}
    why = " and ".join(name for name, block in (("a hierarchy", spec.hierarchy), ("correlated firings",
                                                                                  spec.correlation)) if block)
    return {"data": {"independent_units": False, "eval_loss": "monte_carlo",
                     "why": f"with {why} the units do not fire independently, so a stratified expected loss "
                            "cannot be exact: eval_loss is a plain Monte Carlo mean, its standard error in the "
                            "records' eval/loss_se where the family records one"}}


def spec_of(config: dict) -> DataSpec:
    """The `DataSpec` of a run from its config as a plain dict (``Results.config``, or `asdict` of a `Config`)."""
    model, data = config["model"], config.get("data", {})
    return DataSpec(data.get("kind", "independent"), int(model["n_features"]), int(data.get("set_size", 2)),
                    bool(data.get("signed", False)), bool(data.get("normalize", False)),
                    structure.magnitude_of(data.get("magnitude")), structure.hierarchy_of(data.get("hierarchy")),
                    structure.correlation_of(data.get("correlation")))


def unit_density(spec: DataSpec, density: jax.Array) -> jax.Array:
    """Probability (n_units,) that each unit is on, from per-feature density (n,)."""
    return density if spec.kind == "independent" else density[:: spec.set_size]


def draw(spec: DataSpec, batch: int, *, key: jax.Array) -> tuple[jax.Array, ...]:
    """Uniform noise for one batch: values (n, batch) and unit gates (n_units, batch); structured data also
    sibling priorities (n, batch), and its gates are correlated (`toyjax.data.gates.copula`) when it says so."""
    if not spec.independent_units:
        return _draw_structured(spec, batch, key=key)
    if spec.kind == "independent":
        u = uniform(key, (spec.n_features, batch))
        return u, u
    k_val, k_gate = jax.random.split(key)
    values = uniform(k_val, (spec.n_features, batch))
    return values, uniform(k_gate, (spec.n_units, batch))


def _draw_structured(spec: DataSpec, batch: int, *, key: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Values, gates and priorities (each (n, batch)) from three streams of `key`."""
    k_val, k_gate, k_priority, k_factor = jax.random.split(key, 4)
    n = spec.n_features
    gate = uniform(k_gate, (n, batch))
    if spec.correlation is not None:
        gate = gates.copula(spec.correlation, uniform(k_factor, (spec.correlation.rank, batch)), gate)
    priority = uniform(k_priority, (n, batch)) if spec.hierarchy is not None and spec.hierarchy.exclusive else gate
    return uniform(k_val, (n, batch)), gate, priority


def uniform(key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    """Uniform[0, 1) float32 noise, bit for bit ``jax.random.uniform(key, shape)`` (threefry, partitionable).

    JAX lowers Threefry-2x32 on the CPU as a 5-iteration loop that writes its state to memory on every
    pass; written out here, XLA fuses the whole hash into one loop, which makes the draw about 4x faster
    on the CPU. Same counters (iota, high word 0), same 20 rounds, same mantissa trick, so the stream is
    JAX's own (`tests/test_data.py` checks it bit for bit), whatever ``jax_threefry_partitionable`` says.
    """
    k1, k2 = jax.random.key_data(key)
    count = jax.lax.iota(jnp.uint32, math.prod(shape)).reshape(shape)
    b1, b2 = _threefry2x32(k1, k2, jnp.zeros_like(count), count)
    mantissa = jax.lax.shift_right_logical(b1 ^ b2, jnp.uint32(32 - 23)) | jnp.uint32(0x3F800000)
    return jax.lax.bitcast_convert_type(mantissa, jnp.float32) - 1.0


def _threefry2x32(k1: jax.Array, k2: jax.Array, x1: jax.Array, x2: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The Threefry-2x32 block cipher, 20 rounds (Salmon et al., "Random123", SC 2011), unrolled."""
    keys = (k1, k2, k1 ^ k2 ^ jnp.uint32(0x1BD11BDA))
    x1, x2 = x1 + keys[0], x2 + keys[1]
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x1 = x1 + x2
            x2 = x1 ^ ((x2 << jnp.uint32(r)) | jax.lax.shift_right_logical(x2, jnp.uint32(32 - r)))
        x1 = x1 + keys[(i + 1) % 3]
        x2 = x2 + keys[(i + 2) % 3] + jnp.uint32(i + 1)
    return x1, x2


_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def realize(spec: DataSpec, noise: tuple[jax.Array, ...], density: jax.Array) -> jax.Array:
    """One model's batch x (n, batch) from shared noise and that model's per-feature density (n,)."""
    x = _realize(spec, noise, density) if spec.independent_units else _realize_structured(spec, noise, density)
    return normalized(x) if spec.normalize else x


def normalized(x: jax.Array) -> jax.Array:
    """Every column of x (n, batch) rescaled to unit length; a column of zeros stays zero.

    The sum of squares is added pairwise in a fixed order (`toyjax.sums`), and x is multiplied by 1/‖x‖
    rather than divided by ‖x‖ (which XLA rewrites as a multiply by rsqrt): XLA:CPU otherwise reorders the
    reduction, or approximates rsqrt, differently in different programs (a sharded one, say), and a
    point's bits would depend on the devices.
    """
    norm = jnp.sqrt(pairwise_sum(x * x, axis=0))[None, :]
    inv = 1.0 / jnp.where(norm > 0, norm, 1.0)
    return jnp.where(norm > 0, x * inv, 0.0)


def _realize(spec: DataSpec, noise: tuple[jax.Array, jax.Array], density: jax.Array) -> jax.Array:
    values, gates = noise
    density = density[:, None]
    if spec.kind == "independent":
        scaled = values / density
        return jnp.where(values < density, _values(spec, scaled), 0.0)
    d_unit = unit_density(spec, density)
    on = gates < d_unit
    if spec.kind == "correlated":
        active = jnp.repeat(on, spec.set_size, axis=0)
    else:
        member = jnp.minimum(jnp.floor(gates / d_unit * spec.set_size), spec.set_size - 1)
        active = jnp.repeat(on, spec.set_size, axis=0) & (jnp.repeat(member, spec.set_size, axis=0) == _slots(spec))
    return jnp.where(active, _values(spec, values), 0.0)


def _realize_structured(spec: DataSpec, noise: tuple[jax.Array, ...], density: jax.Array) -> jax.Array:
    """Independent-kind features whose gates fire at `density`, masked by the hierarchy when there is one."""
    values, gate, priority = noise
    on = gate < density[:, None]
    if spec.hierarchy is not None:
        on = gates.hierarchy_mask(spec.hierarchy, on, priority)
    return jnp.where(on, _values(spec, values), 0.0)


def conditional(spec: DataSpec, on: jax.Array, *, key: jax.Array) -> jax.Array:
    """Samples x (n, batch) given which units are on (n_units, batch), values drawn fresh from `key`."""
    k_val, k_member = jax.random.split(key)
    values = _values(spec, jax.random.uniform(k_val, (spec.n_features, on.shape[1])))
    active = jnp.repeat(on, spec.set_size, axis=0) if spec.kind != "independent" else on
    if spec.kind == "anticorrelated":
        member = jax.random.randint(k_member, on.shape, 0, spec.set_size)
        active = active & (jnp.repeat(member, spec.set_size, axis=0) == _slots(spec))
    x = jnp.where(active, values, 0.0)
    return normalized(x) if spec.normalize else x


def sample(spec: DataSpec, batch: int, density: jax.Array, *, key: jax.Array) -> jax.Array:
    """A batch x (n, batch) for one model: `draw` followed by `realize`."""
    return realize(spec, draw(spec, batch, key=key), density)


def _slots(spec: DataSpec) -> jax.Array:
    """Each feature's position within its set, as a column (n, 1)."""
    return jnp.tile(jnp.arange(spec.set_size), spec.n_units)[:, None]


def _values(spec: DataSpec, u: jax.Array) -> jax.Array:
    """Map Uniform[0, 1) to the feature values: itself, Uniform[-1, 1) when signed, or the run's magnitudes."""
    m = spec.magnitude
    if m.kind == "constant":
        return jnp.full_like(u, m.value)
    if m.kind == "folded_normal":
        return jnp.abs(m.mean + m.std * gates.normal(u))
    return (u - 0.5) * 2.0 if spec.signed else u  # no multiply-add to fuse, so rounding never depends on fusion


def count_bound(unit_density: np.ndarray, tail: float) -> int:
    """The smallest k such that P(more than k units on) <= `tail`, for every row of `unit_density` (M, U).

    The count of a row is a sum of independent Bernoulli(d_u), computed exactly as a convolution of one
    binomial per distinct density. With `tail` 0 it is U (no bound).
    """
    rows = np.unique(np.atleast_2d(np.asarray(unit_density, np.float64)), axis=0)
    units = rows.shape[1]
    if tail <= 0:
        return units
    bound = 0
    for row in rows:
        pmf = np.ones(1)
        for d, count in zip(*np.unique(row, return_counts=True)):
            pmf = np.convolve(pmf, _binomial_pmf(int(count), float(d)))
        above = np.cumsum(pmf[::-1])[::-1][1:]  # above[k] = P(count > k), summed from the far tail
        bound = max(bound, int(np.argmax(np.append(above, 0.0) <= tail)))
    return bound


def _binomial_pmf(count: int, d: float) -> np.ndarray:
    """P(k of `count` units on), k = 0..count, each on with probability d."""
    k = np.arange(count + 1)
    if d >= 1.0 or d <= 0.0:
        return (k == (count if d >= 1.0 else 0)).astype(np.float64)
    log_choose = np.array([math.lgamma(count + 1) - math.lgamma(j + 1) - math.lgamma(count - j + 1) for j in k])
    return np.exp(log_choose + k * math.log(d) + (count - k) * math.log1p(-d))
