"""Repeat-and-median timing: every figure the benchmark reports comes with its repeats and spread."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Stats:
    """Seconds of `repeats` timed runs: median, min, max, quartiles and every sample."""

    median: float
    min: float
    max: float
    q1: float
    q3: float
    repeats: int
    samples: tuple[float, ...]

    @classmethod
    def of(cls, samples: list[float]) -> Stats:
        s = np.asarray(samples, dtype=float)
        q1, med, q3 = np.percentile(s, [25, 50, 75])
        return cls(float(med), float(s.min()), float(s.max()), float(q1), float(q3), len(s), tuple(map(float, s)))

    def rate(self, work: float) -> dict[str, float]:
        """`work` per second at the median, and its range over the repeats (min at the slowest run)."""
        return {"median": work / self.median, "min": work / self.max, "max": work / self.min}

    def to_dict(self) -> dict:
        return asdict(self)


def repeat(fn: Callable[[], object], repeats: int, warmup: int = 1) -> Stats:
    """Time `fn()` `repeats` times after `warmup` untimed calls; `fn` must block until its work is done."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return Stats.of(samples)
