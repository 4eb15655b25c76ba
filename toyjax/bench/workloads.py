"""Named benchmark workloads: the shapes of the paper's experiments, at any grid size.

Each workload reproduces a preset's shapes (model kind, n, m, data, importance); the grid is a density
axis log-spaced from 0.01 to 1 with one value per model, so the grid size is free while the compiled
program is exactly the one the preset would run. The ``sae`` workload is a grid of ReLU SAEs
(`toyjax.families.sae.models`, decoder-norm L1) of `width` latents on synthetic features at `density`, its axis the L1
coefficient log-spaced from 0.01 to 1; its PyTorch baseline is `toyjax.bench.torch_sae`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Workload:
    """One benchmark workload: a preset's static shapes."""

    name: str
    preset: str
    model: str
    n_features: int
    n_hidden: int
    signed: bool = False
    importance_decay: float = 1.0
    width: int = 0  # an SAE's latents (model "sae")
    density: float = 1.0  # an SAE's feature density (model "sae")

    def config(self, n_models: int, steps: int, batch_size: int = 1024, block_size: int | None = None) -> dict:
        """A run config (plain dict for `toyjax.run`) training `n_models` models for `steps` steps."""
        if self.model == "sae":
            return self.sae_config(n_models, steps, batch_size, block_size)
        return {
            "model": {"kind": self.model, "n_features": self.n_features, "n_hidden": self.n_hidden},
            "data": {"kind": "independent", "signed": self.signed, "importance_decay": self.importance_decay},
            "train": {"steps": steps, "batch_size": batch_size},
            "grid": {"axes": {"density": f"log:0.01:1:{n_models}"}, "block_size": block_size},
            "record": {"eval_samples": 16, "snapshots": min(16, steps)},
            "progress": False,
        }

    def sae_config(self, n_models: int, steps: int, batch_size: int, block_size: int | None) -> dict:
        """The ``sae`` workload's run config: ReLU SAEs on synthetic features, one L1 coefficient per model."""
        return {
            "model": {"kind": "sae", "n_features": self.n_features, "n_hidden": self.n_hidden},
            "data": {"density": self.density},
            "sae": {"kind": "relu", "width": self.width, "eval_samples": 1024},
            "train": {"steps": steps, "batch_size": batch_size, "weight_decay": 0.0},
            "grid": {"axes": {"l1_coefficient": f"log:0.01:1:{n_models}"}, "block_size": block_size},
            "record": {"snapshots": min(16, steps)},
            "progress": False,
        }

    def describe(self) -> dict[str, Any]:
        """The workload's shapes, for reports."""
        return {
            "preset": self.preset,
            "model": self.model,
            "n_features": self.n_features,
            "n_hidden": self.n_hidden,
            "signed": self.signed,
            **({"width": self.width, "density": self.density} if self.model == "sae" else {}),
        }


WORKLOADS = {
    w.name: w
    for w in (
        Workload("phase_n2m1", "phase_n2m1", "relu_output", 2, 1),
        Workload("intro", "intro", "relu_output", 5, 2, importance_decay=0.9),
        Workload("uniform_geometry", "uniform_geometry", "relu_output", 400, 30),
        Workload("abs_computation", "abs_computation", "abs_mlp", 100, 40, signed=True, importance_decay=0.8),
        Workload("sae", "sae_frontier_relu", "sae", 64, 32, width=128, density=5 / 64),
    )
}


def get(name: str) -> Workload:
    """The workload called `name`; raises ValueError listing the known ones."""
    if name not in WORKLOADS:
        raise ValueError(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}")
    return WORKLOADS[name]
