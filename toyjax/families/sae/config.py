"""The ``sae`` section of a run: sparse autoencoders trained on a toy model's hidden activations.

A run with ``model.kind: sae`` trains a grid of SAEs (`toyjax.families.sae.models`) in the same engine as the toy
models. Each SAE reads the activations of one *source*: a cell of a saved toy run (``sae.source: RUN_DIR``; its best
seed), or ``synthetic`` ground truth (Sharkey, Braun and Millidge 2022): `model.n_features` random unit
directions in `model.n_hidden` dimensions, features drawn as the toy data are (``data.density``, scaled
per feature by ``sae.density_decay``^i), or ``preset:NAME``, a toy grid the ``toyjax`` command trains in
the same job (with ``sae.source_overrides``). Per-model
values, each also a grid axis: ``l1_coefficient``, ``k``, ``dict_size`` (a mask inside the static
``width``), ``source_cell``, and the usual ``lr`` and ``seed``.

`check_run` is the family's part of a run's validation (`toyjax.families.schemas`). This module imports
`toyjax.axes`, `toyjax.checks` and `toyjax.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toyjax import checks
from toyjax.axes import AXES, axis_values, get_field
from toyjax.errors import ConfigError

SAE_KINDS = ("relu", "relu_unit", "topk", "jumprelu")
SYNTHETIC = "synthetic"
PRESET = "preset:"  # a source trained in the same job: "preset:NAME" (`toyjax.cli`)
SAE_AXES = ("l1_coefficient", "k", "dict_size", "source_cell")  # axes only an SAE run reads
ACTIVATIONS = ("linear", "relu")  # h = W x for tied toy models, ReLU(W x) for relu_hidden and abs_mlp (W1)


@dataclass
class SAEConfig:
    """The dictionaries of an SAE run (``model.kind: sae``); ignored by every other run."""

    kind: str = "relu"  # relu (decoder-norm L1), relu_unit (unit-norm decoder), topk, jumprelu
    width: int = 16  # latents of the widest dictionary: the static shape of every model
    dict_size: Any = None  # a model's own dictionary size (the dict_size axis); None: the whole width
    l1_coefficient: float = 1e-3  # λ of the sparsity penalty (relu, relu_unit, jumprelu)
    k: int = 4  # active latents of a TopK SAE
    source: str = SYNTHETIC  # "synthetic", the directory of a trained toy run, or "preset:NAME" (toyjax command)
    source_overrides: list[str] = field(default_factory=list)  # overrides of a preset:NAME source's preset
    source_cell: Any = 0  # the source's cell (its best seed); on the source_cell axis, "all" takes every cell
    features_seed: int = 0  # the random directions of synthetic ground truth
    density_decay: float = 1.0  # synthetic features' densities ∝ decay^i, their mean the run's density
    source_activation: str = "linear"  # set from a source run: relu for relu_hidden and abs_mlp
    source_name: str = ""  # set from a source run: its preset and model kind, for figures
    resample_steps: list[int] = field(default_factory=list)  # steps that resample dead latents (Bricken et al.)
    dead_window: int = 1000  # steps without firing after which a latent counts as dead
    eval_samples: int = 8192  # activations of the final evaluation


def validate_sae(sae: SAEConfig, steps: int) -> None:
    """Check the static settings of the ``sae`` section; raise `ConfigError` naming the first bad field."""
    checks.choice("sae.kind", sae.kind, SAE_KINDS)
    checks.choice("sae.source_activation", sae.source_activation, ACTIVATIONS)
    for name, value in (("sae.width", sae.width), ("sae.dead_window", sae.dead_window),
                        ("sae.eval_samples", sae.eval_samples)):
        checks.integer(name, value, low=1)
    checks.integer("sae.features_seed", sae.features_seed, low=0)
    if not isinstance(sae.resample_steps, list | tuple):
        raise ConfigError(f"sae.resample_steps: expected a list of steps, got {sae.resample_steps!r}")
    for step in sae.resample_steps:
        checks.integer("sae.resample_steps", step, low=1, high=steps)
    if not 0.0 < checks.number("sae.density_decay", sae.density_decay) <= 1.0:
        raise ConfigError(f"sae.density_decay: must be in (0, 1], got {sae.density_decay}")
    _validate_source(sae)


def _validate_source(sae: SAEConfig) -> None:
    """The source is "synthetic", "preset:NAME" (its overrides a list of strings), or a saved run's directory."""
    preset = str(sae.source).startswith(PRESET)
    if preset and not str(sae.source)[len(PRESET):]:
        raise ConfigError("sae.source: preset: needs a preset's name, e.g. preset:intro")
    if not isinstance(sae.source_overrides, list | tuple) or not all(isinstance(o, str) for o in sae.source_overrides):
        raise ConfigError(f"sae.source_overrides: expected a list of KEY=VALUE strings, got {sae.source_overrides!r}")
    if sae.source_overrides and not preset:
        raise ConfigError("sae.source_overrides: only a preset:NAME source takes overrides")
    if not preset and sae.source != SYNTHETIC and not (Path(str(sae.source)) / "results.json").is_file():
        raise ConfigError(f"sae.source: expected 'synthetic', 'preset:NAME' or a toy run's directory, got "
                          f"{sae.source!r} (no results.json there)")


def check_combinations(kind: str, width: int, k_values: list, sizes: list) -> None:
    """Every dictionary size fits the width, and a TopK SAE's k fits each of its dictionaries."""
    for size in sizes:
        if size is not None and size > width:
            raise ConfigError(f"sae.dict_size: must be at most sae.width={width}, got {size}")
    smallest = min((s if s is not None else width) for s in sizes)
    if kind == "topk" and max(k_values) > smallest:
        raise ConfigError(f"sae.k: must be at most the dictionary size, got k={max(k_values)} with a dictionary "
                          f"of {smallest} latents")


@dataclass(frozen=True)
class SAEStatic:
    """What is fixed per compiled program of an SAE run (part of `toyjax.engine.plan.Static`)."""

    kind: str
    width: int
    relu_source: bool  # h = ReLU(W x) rather than W x
    resample_steps: tuple[int, ...]
    dead_window: int
    eval_samples: int

    @classmethod
    def of(cls, sae: SAEConfig) -> SAEStatic:
        return cls(sae.kind, sae.width, sae.source_activation == "relu", tuple(sorted(sae.resample_steps)),
                   sae.dead_window, sae.eval_samples)


def check_run(cfg: Any, sae_run: bool) -> None:
    """An SAE run's section and its grid (every k fits every dictionary); any other run has no SAE axis."""
    if not sae_run:
        used = [a for a in SAE_AXES if a in cfg.grid.axes]
        if used:
            raise ConfigError(f"grid.axes.{used[0]}: an axis of SAE runs (model.kind: sae), not of "
                              f"{cfg.model.kind} models")
        return
    validate_sae(cfg.sae, cfg.train.steps)
    values = {a: axis_values(cfg, a) if a in cfg.grid.axes else [get_field(cfg, AXES[a].default)]
              for a in ("k", "dict_size")}
    check_combinations(cfg.sae.kind, cfg.sae.width, values["k"], values["dict_size"])
