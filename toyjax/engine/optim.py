"""The optimiser of one toy model: AdamW with the companion notebook's settings and a per-model learning rate.

Elhage et al., "Toy Models of Superposition" (2022), companion notebook: AdamW, lr 1e-3, betas (0.9, 0.999),
eps 1e-8, weight decay 0.01 on W and b. The schedule's shape (constant, linear decay, cosine, warm-up then
cosine) is static per run; each model scales it by its own traced `lr`, so a grid of learning rates shares
one compiled program. This module imports optax and `toyjax.engine.plan`.
"""

from __future__ import annotations

import optax

from toyjax.axes import Point
from toyjax.engine.plan import Static


def unit_schedule(static: Static) -> optax.Schedule:
    """The learning-rate schedule at peak 1; each model scales it by its own lr."""
    if static.schedule == "constant":
        return optax.constant_schedule(1.0)
    if static.schedule == "linear":
        return optax.linear_schedule(1.0, 0.0, static.steps)
    if static.schedule == "cosine":
        return optax.cosine_decay_schedule(1.0, static.steps)
    return optax.warmup_cosine_decay_schedule(0.0, 1.0, static.warmup_steps, static.steps)


def adamw(static: Static, point: Point) -> optax.GradientTransformation:
    """AdamW with the notebook's betas and eps, this model's lr and weight decay (applied to W and b).

    optax's own default weight decay is 1e-4; the notebook's 0.01 comes from `point.weight_decay`.
    """
    unit = unit_schedule(static)
    return optax.adamw(
        lambda count: point.lr * unit(count), b1=0.9, b2=0.999, eps=1e-8, weight_decay=point.weight_decay
    )
