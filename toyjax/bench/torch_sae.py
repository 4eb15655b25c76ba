"""Baseline for the ``sae`` workload: a stack of ReLU SAEs in PyTorch, trained as the usual single-run scripts do.

One `torch.nn.Module` holds `instances` SAEs with stacked parameters W_enc (instances, M, d), b_enc
(instances, M), W_dec (instances, d, M), b_dec (instances, d), the ARENA exercises' instance axis. Each step
draws a fresh batch of toy-model activations h = W x from one fixed toy model per instance (x: 0 with
probability 1 − density, else Uniform[0, 1]), encodes f = ReLU(W_enc (h − b_dec) + b_enc), decodes
ĥ = W_dec f + b_dec, and takes an Adam step on Σ over instances of the batch mean of
‖h − ĥ‖² + λ Σ_i f_i ‖W_dec,i‖ (the ``relu`` kind of `toyjax.families.sae.models`). Only imported when torch is
installed.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from toyjax.bench.timing import Stats
from toyjax.bench.torch_baseline import usable_cores


class StackedSAE(nn.Module):
    """`instances` ReLU SAEs of width `width` on activations of `d` dimensions, each on its own toy model."""

    def __init__(self, instances: int, d: int, width: int, toy_W: np.ndarray, density: float, l1: float):
        super().__init__()
        columns = torch.randn(instances, d, width)
        W_dec = 0.1 * columns / columns.norm(dim=1, keepdim=True)
        self.W_dec = nn.Parameter(W_dec)
        self.W_enc = nn.Parameter(W_dec.transpose(1, 2).clone())
        self.b_enc = nn.Parameter(torch.zeros(instances, width))
        self.b_dec = nn.Parameter(torch.zeros(instances, d))
        self.register_buffer("toy_W", torch.as_tensor(toy_W, dtype=torch.float32))  # (instances, d, n)
        self.density, self.l1 = density, l1

    def batch(self, size: int) -> torch.Tensor:
        """Toy activations h (batch, instances, d) from fresh sparse features."""
        n = self.toy_W.shape[-1]
        shape = (size, self.toy_W.shape[0], n)
        x = torch.where(torch.rand(shape) < self.density, torch.rand(shape), torch.zeros(()))
        return torch.einsum("bin,idn->bid", x, self.toy_W)

    def loss(self, h: torch.Tensor) -> torch.Tensor:
        f = torch.relu(torch.einsum("bid,imd->bim", h - self.b_dec, self.W_enc) + self.b_enc)
        h_hat = torch.einsum("bim,idm->bid", f, self.W_dec) + self.b_dec
        penalty = (f * self.W_dec.norm(dim=1)).sum(-1)
        return (((h - h_hat) ** 2).sum(-1) + self.l1 * penalty).mean(0).sum()


def measure(workload, n_models: int, steps: int, repeats: int, batch_size: int = 1024, threads=()) -> dict:
    """Model-steps/s of `n_models` stacked SAEs over `repeats` timed runs of `steps` Adam steps."""
    d, n, width = workload.n_hidden, workload.n_features, workload.width
    toy_W = np.random.default_rng(0).normal(size=(n_models, d, n)) / np.sqrt(d)
    runs = {}
    for n_threads in threads or (usable_cores(),):
        torch.set_num_threads(n_threads)
        torch.manual_seed(0)
        model = StackedSAE(n_models, d, width, toy_W, workload.density, 1e-3)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        samples = []
        for rep in range(repeats + 1):  # the first run warms up
            start = time.perf_counter()
            for _ in range(steps if rep else min(steps, 10)):
                opt.zero_grad(set_to_none=True)
                model.loss(model.batch(batch_size)).backward()
                opt.step()
            if rep:
                samples.append(time.perf_counter() - start)
        runs[n_threads] = Stats.of(samples)
    best = min(runs, key=lambda k: runs[k].median)
    torch.set_num_threads(usable_cores())
    return {"torch": torch.__version__, "threads": best, "time_s": runs[best].to_dict(),
            "model_steps_per_s": runs[best].rate(n_models * steps)}
