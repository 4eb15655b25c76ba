"""Can a step on a sparse training set gather its active features instead of densifying? Measured, not assumed.

A finite training set (Henighan et al. 2023; `toyjax.data.datasets`) stores each point's K non-zero features.
The engine densifies every pass of P points into x (n, P) and runs the models' dense loss
(`toyjax.families.toy.finite.weighted_loss`). The alternative gathers: h = W x as Σ_k W[:, idx_k] v_k (K columns instead
of n), and the loss Σ_i (y_i − x'_i)² as Σ_i x'_i² plus a correction at the K active features. Only the
input side shrinks: every feature's output x'_i = ReLU(W_iᵀ h + b_i) still enters the loss of every point,
so the (n, P) output and its gradient stay dense, and the gradient of the gather is a scatter-add into W.

    python -m toyjax.bench.sparse --n 500,1000,10000 --points 1024 --active 40 --models 4

prints the median time of one value-and-gradient of a block of models both ways, in ns per input (models
× P × n). Measured on the 2-core CPU of docs/benchmarks.md (see there), the gather was slower in every run,
1.1–2.8x at n = 500 to 10,000 (the scatter-add of its gradient into W, and the take of the K outputs), so
the engine densifies. On an accelerator the gather could at best remove the input side's share of the
memory traffic, about half of a step's; no accelerator was available to measure it.

This module imports jax, `toyjax.bench.timing`, `toyjax.data.datasets` and `toyjax.families.toy.models`.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp

from toyjax.bench.timing import repeat
from toyjax.data import datasets
from toyjax.families.toy import models


def dense_loss(params: models.Params, points: datasets.Dataset, n: int) -> jax.Array:
    """The engine's way: densify the P stored points into x (n, P), then the ReLU-output model's loss."""
    x = datasets.densify(n, points)
    return jnp.mean(models.sample_loss("relu_output", params, x, jnp.ones((n,))))


def gather_loss(params: models.Params, points: datasets.Dataset, n: int) -> jax.Array:
    """The same loss from the K stored features of each point: a gather in, a correction at the K out."""
    W = params["W"]
    h = jnp.sum(W[:, points.index] * points.value, axis=-1)  # (m, P)
    out = jax.nn.relu(W.T @ h + params["b"][:, None])  # (n, P): every feature's output is in the loss
    at = jnp.take_along_axis(out.T, points.index, axis=1)  # (P, K)
    per_point = jnp.sum(out * out, axis=0) + jnp.sum((points.value - at) ** 2 - at**2, axis=-1)
    return jnp.mean(per_point)


def block(n: int, points: int, active: int, count: int, *, key: jax.Array):
    """Params (count models, m = 2) and `points` stored points of `active` distinct features each."""
    k_w, k_i, k_v = jax.random.split(key, 3)
    index = jnp.argsort(jax.random.uniform(k_i, (count, points, n)), axis=-1)[..., :active].astype(jnp.int32)
    value = jax.random.uniform(k_v, (count, points, active))
    params = {"W": 0.1 * jax.random.normal(k_w, (count, 2, n)), "b": jnp.zeros((count, n))}
    return params, datasets.Dataset(index, value)


def measure(n: int, points: int, active: int, count: int, repeats: int = 5) -> dict[str, float]:
    """ns per input of one value-and-gradient of `count` models both ways, and the largest difference."""
    params, stored = block(n, points, active, count, key=jax.random.key(0))
    out, results = {}, {}
    for name, loss in (("dense", dense_loss), ("gather", gather_loss)):
        step = jax.jit(jax.vmap(jax.value_and_grad(lambda p, s, f=loss: f(p, s, n))))
        results[name] = step(params, stored)
        stats = repeat(lambda s=step: jax.block_until_ready(s(params, stored)), repeats)
        out[f"{name}_ns_per_input"] = stats.median / (count * points * n) * 1e9
    out["gather_over_dense"] = out["gather_ns_per_input"] / out["dense_ns_per_input"]
    out["largest_loss_difference"] = float(jnp.max(jnp.abs(results["dense"][0] - results["gather"][0])))
    return out


def main(argv: list[str] | None = None) -> None:
    """``python -m toyjax.bench.sparse``: densify against gather, one line per n."""
    p = argparse.ArgumentParser(prog="python -m toyjax.bench.sparse", description=main.__doc__)
    p.add_argument("--n", default="500,1000,10000", help="numbers of features, comma-separated")
    p.add_argument("--points", type=int, default=1024, help="points per pass (P)")
    p.add_argument("--active", type=int, default=40, help="stored features per point (K)")
    p.add_argument("--models", type=int, default=4, help="models in the block")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    print(f"device: {jax.devices()[0].device_kind}; P={args.points} points, K={args.active}, {args.models} models")
    for n in (int(v) for v in args.n.split(",")):
        r = measure(n, args.points, args.active, args.models, args.repeats)
        print(f"n={n:6d}: dense {r['dense_ns_per_input']:.2f} ns/input, gather {r['gather_ns_per_input']:.2f} "
              f"ns/input, gather/dense {r['gather_over_dense']:.2f} (losses agree to "
              f"{r['largest_loss_difference']:.1e})", flush=True)


if __name__ == "__main__":
    main()
