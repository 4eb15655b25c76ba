"""The device's own limits, measured in the same run: float32 matmul FLOP/s (at the engine's precision) and copy
bandwidth."""

from __future__ import annotations

from toyjax.bench.timing import repeat
from toyjax.numerics import at_precision


def matmul(size: int = 4096, repeats: int = 5, precision: str = "highest") -> dict:
    """FLOP/s of a (size, size) @ (size, size) float32 product (2·size³ FLOPs), jitted, at the engine's precision
    (at the backend's default a GPU runs TensorFloat-32, a roofline no float32 program reaches)."""
    import jax
    import jax.numpy as jnp

    a = jax.random.normal(jax.random.key(0), (size, size), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (size, size), jnp.float32)
    f = product(precision)
    stats = repeat(lambda: jax.block_until_ready(f(a, b)), repeats)
    flops = 2.0 * size**3
    return {"size": size, "flops": flops, "time_s": stats.to_dict(), "flops_per_s": stats.rate(flops)}


def product(precision: str):
    """The timed product: `jnp.matmul` jitted, with its dot at `precision`."""
    import jax
    import jax.numpy as jnp

    return jax.jit(at_precision(precision, jnp.matmul))


def copy(n_bytes: int = 2**28, repeats: int = 5) -> dict:
    """Bytes/s of an out-of-place float32 copy of `n_bytes` (read + write = 2·n_bytes moved), jitted."""
    import jax
    import jax.numpy as jnp

    x = jnp.ones((n_bytes // 4,), jnp.float32)
    f = jax.jit(lambda x: x * 1.0001)  # an elementwise op: a copy XLA cannot elide
    stats = repeat(lambda: jax.block_until_ready(f(x)), repeats)
    moved = 2.0 * n_bytes
    return {"n_bytes": n_bytes, "bytes_moved": moved, "time_s": stats.to_dict(), "bytes_per_s": stats.rate(moved)}
