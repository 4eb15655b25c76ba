"""Baseline (b): the companion notebook's formulation in PyTorch, written here from its description.

One `torch.nn.Module` whose parameters carry a stacked instance axis, built from the model's `Architecture`
(a workload's shorthand): W (instances, n, m) and b (instances, n) for the tied models, W1 (instances, n, m),
W2 (instances, m, n) for untied ones (abs_mlp), b_hidden (instances, m) with a hidden bias. A fresh batch
(batch, instances, n) every step from ``torch.rand`` gated by ``torch.where(rand < density)``; the loss is
the importance-weighted squared error averaged over batch and features and summed over instances (the
notebook's); AdamW with lr 1e-3 and weight decay 0.01; ``torch.set_num_threads`` = the usable cores.

Unlike every stacked replication of the paper, the Xavier-normal std here is each model's own,
sqrt(2 / (n + m)): `torch.nn.init.xavier_normal_` on a stacked (instances, n, m) tensor would count the
instance axis as fan and shrink the init as the stack grows (paper-facts: the init-scale trap).

PyTorch is an optional extra (``pip install 'toyjax[torch]'``); import this module only when it is present.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
import torch
from torch import nn

from toyjax.bench.timing import Stats
from toyjax.families.toy.architecture import Architecture, as_architecture


def usable_cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def xavier_per_instance(instances: int, fan_in: int, fan_out: int, shape: tuple[int, int]) -> torch.Tensor:
    """(instances, *shape) Xavier-normal weights with each model's own std sqrt(2/(fan_in+fan_out))."""
    return torch.randn(instances, *shape) * math.sqrt(2.0 / (fan_in + fan_out))


def hidden_activation(name: str, h: torch.Tensor) -> torch.Tensor:
    """The hidden activation `name` of h (batch, instances, m), as `toyjax.families.toy.models.activation` (SoLU over
    m)."""
    if name == "relu":
        return torch.relu(h)
    if name == "gelu":
        return torch.nn.functional.gelu(h)
    if name == "solu":
        return h * torch.softmax(h, dim=-1)
    return h


class StackedToyModel(nn.Module):
    """`instances` toy models of one architecture in one module; density and importance are (instances, n)."""

    def __init__(self, model: Architecture | str, instances: int, n: int, m: int, density, importance,
                 signed: bool = False):
        super().__init__()
        self.arch, self.signed = as_architecture(model), signed
        if self.arch.tied:
            self.W = nn.Parameter(xavier_per_instance(instances, n, m, (n, m)))
        else:
            self.W1 = nn.Parameter(xavier_per_instance(instances, n, m, (n, m)))
            self.W2 = nn.Parameter(xavier_per_instance(instances, n, m, (m, n)))
        self.b = nn.Parameter(torch.zeros(instances, n))
        if self.arch.hidden_bias:
            self.b_hidden = nn.Parameter(torch.zeros(instances, m))
        self.register_buffer("density", torch.as_tensor(np.asarray(density), dtype=torch.float32))
        self.register_buffer("importance", torch.as_tensor(np.asarray(importance), dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x' for a batch x of shape (batch, instances, n)."""
        h = torch.einsum("bin,inm->bim", x, self.W if self.arch.tied else self.W1)
        if self.arch.hidden_bias:
            h = h + self.b_hidden
        h = hidden_activation(self.arch.hidden_activation, h)
        if self.arch.tied:
            out = torch.einsum("bim,inm->bin", h, self.W) + self.b
        else:
            out = torch.einsum("bim,imn->bin", h, self.W2) + self.b
        return torch.relu(out) if self.arch.output_activation == "relu" else out

    def batch(self, batch_size: int) -> torch.Tensor:
        """A fresh batch (batch, instances, n): 0 w.p. 1 − density, else Uniform[0, 1] (or [−1, 1] signed)."""
        shape = (batch_size, *self.density.shape)
        values = torch.rand(shape)
        if self.signed:
            values = 2.0 * values - 1.0
        return torch.where(torch.rand(shape) < self.density, values, torch.zeros(()))

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Σ over instances of the mean over batch and features of I_i (y_i − x'_i)²; y = |x| with target abs."""
        target = x.abs() if self.arch.target == "abs" else x
        error = self.importance * (target - self(x)) ** 2
        return error.mean(dim=(0, 2)).sum()


def train_steps(model: StackedToyModel, opt: torch.optim.Optimizer, steps: int, batch_size: int) -> float:
    """`steps` AdamW steps on fresh batches; returns the last loss."""
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = model.loss(model.batch(batch_size))
        loss.backward()
        opt.step()
    return loss.item()


def build(model: Architecture | str, instances: int, n: int, m: int, density, importance, signed: bool, seed: int = 0):
    """The stacked model and its AdamW (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01)."""
    torch.manual_seed(seed)
    stacked = StackedToyModel(model, instances, n, m, density, importance, signed)
    opt = torch.optim.AdamW(stacked.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    return stacked, opt


def measure(workload, n_models: int, steps: int, repeats: int, batch_size: int = 1024,
            threads: tuple[int, ...] = ()) -> dict:
    """Model-steps/s of the stacked module over `n_models` instances: `repeats` timed runs of `steps` steps.

    Runs once per thread count in `threads` (default: the usable cores) and reports the fastest, so a
    loaded machine's OpenMP oversubscription does not make the baseline look slower than it is.
    """
    from toyjax import config as config_lib
    from toyjax.families import plan_of

    cfg = config_lib.to_config(workload.config(n_models, steps, batch_size))
    plan = plan_of(cfg)
    runs = {}
    for n_threads in threads or (usable_cores(),):
        torch.set_num_threads(n_threads)
        model, opt = build(workload.model, n_models, workload.n_features, workload.n_hidden,
                           plan.points["density"], plan.points["importance"], workload.signed)
        train_steps(model, opt, min(steps, 10), batch_size)  # warm-up
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            train_steps(model, opt, steps, batch_size)
            samples.append(time.perf_counter() - start)
        runs[n_threads] = Stats.of(samples)
    best = min(runs, key=lambda k: runs[k].median)
    torch.set_num_threads(usable_cores())
    return {
        "torch": torch.__version__,
        "threads": best,
        "time_s": runs[best].to_dict(),
        "model_steps_per_s": runs[best].rate(n_models * steps),
        "by_threads": {str(k): v.rate(n_models * steps)["median"] for k, v in runs.items()},
    }
