"""The numerics every backend runs with: the precision of every matrix product, and XLA's deterministic ops.

Float32 products are not float32 everywhere by default. Since Ampere, NVIDIA GPUs may run a float32 `dot_general`
at default precision in TensorFloat-32 (a 10-bit mantissa), and TPUs in passes of bfloat16. toyjax's science
rests on small loss differences (the §3 solutions differ by O(density²), seeds are chosen by expected loss), so
every program runs at the precision of ``train.matmul_precision``, ``highest`` (full float32) unless a faster one
is asked for. JAX writes it into every `dot_general` it traces (``precision = [HIGHEST, HIGHEST]``), gradients
included; CPUs compute float32 products in float32 whatever it says, so CPU results do not change by a bit.

On GPUs some XLA reductions and scatter-adds use atomics, whose order varies between runs, and autotuning may
pick different algorithms from run to run; ``--xla_gpu_deterministic_ops=true`` turns both off. XLA reads its
flags once, when the backend starts, so `use_deterministic_ops` must run before the first device is touched
(the CLI and `toyjax-bench` call it first thing). See JAX's "GPU performance tips" and XLA's flags guide.

This module imports jax and nothing of toyjax, so the engine and analysis alike can use it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import jax
from jax._src import xla_bridge

DETERMINISTIC_FLAG = "--xla_gpu_deterministic_ops=true"
_FLAGS_AT_START: list[str] = []  # XLA_FLAGS as the backend found them, once toyjax set them


def at_precision(precision: str, fn: Callable) -> Callable:
    """`fn`, with every matrix product it traces at `precision` (``highest``, ``tensorfloat32`` or ``bfloat16``)."""

    @functools.wraps(fn)
    def traced_at_precision(*args, **kwargs):
        with jax.default_matmul_precision(precision):
            return fn(*args, **kwargs)

    return traced_at_precision


def use_deterministic_ops() -> None:
    """Ask XLA for deterministic GPU ops, unless ``XLA_FLAGS`` already says either way (read as the backend starts).

    Too late once JAX's backend has started in this process (a notebook that used the GPU before toyjax):
    then `numerics` says so rather than claim the flag.
    """
    if _backend_started():
        return
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_gpu_deterministic_ops" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {DETERMINISTIC_FLAG}".strip()
    _FLAGS_AT_START[:] = [os.environ["XLA_FLAGS"]]


def numerics(devices, precision: str) -> dict[str, Any]:
    """What a run's numbers rest on, for ``results.json``: the products' precision, and deterministic ops."""
    if devices[0].platform != "gpu":
        return {"matmul_precision": precision, "deterministic_ops": "not needed"}
    ops = DETERMINISTIC_FLAG in _FLAGS_AT_START[0] if _FLAGS_AT_START else "unknown: the backend started first"
    return {"matmul_precision": precision, "deterministic_ops": ops}


def _backend_started() -> bool:
    """Whether JAX's backend has started in this process (JAX has no public call for it; assume not)."""
    return bool(getattr(xla_bridge, "backends_are_initialized", lambda: False)())
