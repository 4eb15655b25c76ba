"""The ``sae`` section of a run: sparse autoencoders trained on a toy model's hidden activations.

A run with ``model.kind: sae`` trains a grid of SAEs (`toyjax.families.sae.models`) in the same engine as the toy
models. Each SAE reads the activations of one *source*: a cell of a saved toy run (``sae.source: RUN_DIR``; its best
seed), or ``synthetic`` ground truth (Sharkey, Braun and Millidge 2022): `model.n_features` random unit
directions in `model.n_hidden` dimensions, features drawn as the toy data are (``data.density``, scaled
per feature by ``sae.density_decay``^i or shaped by ``data.firing``), or ``preset:NAME``, a toy grid the
``toyjax`` command trains in the same job (with ``sae.source_overrides``). Per-model
values, each also a grid axis: ``l1_coefficient``, ``k``, ``dict_size`` (a mask inside the static
``width``), ``source_cell``, and the usual ``lr``, ``weight_decay`` and ``seed``; a Matryoshka SAE's
``prefixes`` are per-model values too (one list for the run, traced). Which axes a run reads is
declared here (`axes_read`: ``l1_coefficient`` for the penalised kinds, ``k`` for TopK, a synthetic
source's densities); `reads` gives them to the rule that refuses any other (`toyjax.axes.check_reads`).

`check_run` is the family's part of a run's validation (`toyjax.families.schemas`). This module imports
`toyjax.axes`, `toyjax.checks` and `toyjax.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from toyjax import checks
from toyjax.axes import AXES, axis_values, get_field
from toyjax.errors import ConfigError

NAME = "sae"  # the family's name: its model.kind, its section of a run's config and the key of its records
JOB_LABELS = {"kind": "{} SAE", "width": "{} latents"}  # keys of its section that label a job, and their formats
SYNTHETIC = "synthetic"
PRESET = "preset:"  # a source trained in the same job: "preset:NAME" (`toyjax.cli`)
SAE_AXES = ("l1_coefficient", "k", "dict_size", "source_cell")  # axes only an SAE run reads
SHARED_AXES = ("lr", "weight_decay", "seed", "dict_size", "source_cell")  # axes every SAE kind reads
KIND_AXES = {"relu": ("l1_coefficient",), "relu_unit": ("l1_coefficient",), "topk": ("k",),
             "jumprelu": ("l1_coefficient",), "batchtopk": ("k",), "matryoshka": ("k",),
             "gated": ("l1_coefficient",)}  # the axes of each kind's own activation and loss
NESTED = "matryoshka"  # the kind whose dictionary holds nested prefixes (``sae.prefixes``)
SAE_KINDS = tuple(KIND_AXES)
DATA_AXES = ("density", "extra_density", "importance_decay", "extra_importance")  # a trained source fixes these
DRAWN_AXES = ("density", "extra_density")  # a synthetic source draws its features at the run's densities
MIN_EVAL_SAMPLES = 1024  # the variance explained is that of the evaluation batch: one of a few points is noise
ACTIVATIONS = ("linear", "relu")  # h = W x for tied toy models, ReLU(W x) for relu_hidden and abs_mlp (W1)


@dataclass
class SAEConfig:
    """The dictionaries of an SAE run (``model.kind: sae``); ignored by every other run."""

    kind: str = "relu"  # relu (decoder-norm L1), relu_unit (unit-norm decoder), topk, jumprelu, batchtopk,
    # matryoshka (BatchTopK with nested prefixes), gated
    width: int = 16  # latents of the widest dictionary: the static shape of every model
    dict_size: Any = None  # a model's own dictionary size (the dict_size axis); None: the whole width
    l1_coefficient: float = 1e-3  # λ of the sparsity penalty (relu, relu_unit, jumprelu, gated)
    k: int = 4  # active latents of a TopK SAE (per sample on average for batchtopk and matryoshka)
    source: str = SYNTHETIC  # "synthetic", the directory of a trained toy run, or "preset:NAME" (toyjax command)
    source_overrides: list[str] = field(default_factory=list)  # overrides of a preset:NAME source's preset
    source_cell: Any = 0  # the source's cell (its best seed); on the source_cell axis, "all" takes every cell
    features_seed: int = 0  # the random directions of synthetic ground truth
    density_decay: float = 1.0  # synthetic features' densities ∝ decay^i, their mean the run's density
    source_activation: str = "linear"  # set from a source run: relu for relu_hidden and abs_mlp
    source_name: str = ""  # set from a source run: its preset and model kind, for figures
    resample_steps: Any = field(default_factory=list)  # steps that resample dead latents (Bricken et al.); one step
    dead_window: int = 1000  # steps without firing after which a latent counts as dead
    eval_samples: int = 8192  # activations of the final evaluation
    prefixes: Any = field(default_factory=list)  # a matryoshka SAE's nested dictionary sizes, increasing


def validate_sae(sae: SAEConfig, steps: int) -> None:
    """Check the static settings of the ``sae`` section; raise `ConfigError` naming the first bad field."""
    checks.choice("sae.kind", sae.kind, SAE_KINDS)
    checks.choice("sae.source_activation", sae.source_activation, ACTIVATIONS)
    for name, value in (("sae.width", sae.width), ("sae.dead_window", sae.dead_window)):
        checks.integer(name, value, low=1)
    checks.integer("sae.eval_samples", sae.eval_samples, low=MIN_EVAL_SAMPLES)
    checks.integer("sae.features_seed", sae.features_seed, low=0)
    if not isinstance(sae.resample_steps, int | list | tuple) or isinstance(sae.resample_steps, bool):
        raise ConfigError(f"sae.resample_steps: expected a step or a list of steps, got {sae.resample_steps!r}")
    for step in resample_list(sae.resample_steps):
        checks.integer("sae.resample_steps", step, low=1, high=steps)
    if not 0.0 < checks.number("sae.density_decay", sae.density_decay) <= 1.0:
        raise ConfigError(f"sae.density_decay: must be in (0, 1], got {sae.density_decay}")
    _validate_prefixes(sae)
    _validate_source(sae)


def _validate_prefixes(sae: SAEConfig) -> None:
    """A matryoshka SAE's ``sae.prefixes``: a non-empty, strictly increasing list of sizes ≥ 1; no other kind's."""
    prefixes = sae.prefixes
    if not isinstance(prefixes, list | tuple):
        raise ConfigError(f"sae.prefixes: expected a list of dictionary sizes, e.g. [2, 8], got {prefixes!r}")
    if prefixes and sae.kind != NESTED:
        raise ConfigError(f"sae.prefixes: only a {NESTED} SAE has nested prefixes, not a {sae.kind} SAE "
                          f"(got {list(prefixes)})")
    if not prefixes and sae.kind == NESTED:
        raise ConfigError(f"sae.prefixes: a {NESTED} SAE needs its nested dictionary sizes, e.g. [2, 8]")
    for size in prefixes:
        checks.integer("sae.prefixes", size, low=1)
    if any(b <= a for a, b in zip(prefixes, prefixes[1:])):
        raise ConfigError(f"sae.prefixes: must increase strictly, got {list(prefixes)}")


def resample_list(steps: Any) -> tuple:
    """``sae.resample_steps`` as a sorted tuple: a list of steps, or one step."""
    return tuple(sorted(steps)) if isinstance(steps, list | tuple) else (steps,)


def _validate_source(sae: SAEConfig) -> None:
    """The source is "synthetic", "preset:NAME" (its overrides a list of strings), or a saved run's directory."""
    preset = str(sae.source).startswith(PRESET)
    if preset and not str(sae.source)[len(PRESET):]:
        raise ConfigError("sae.source: preset: needs a preset's name, e.g. preset:intro")
    if not isinstance(sae.source_overrides, list | tuple) or not all(isinstance(o, str) for o in sae.source_overrides):
        raise ConfigError(f"sae.source_overrides: expected a list of KEY=VALUE strings, got {sae.source_overrides!r}")
    if sae.source_overrides and not preset:
        raise ConfigError("sae.source_overrides: only a preset:NAME source takes overrides")
    hydra = next((o for o in sae.source_overrides if o.lstrip("+~").split("=")[0].split(".")[0] == "hydra"), None)
    if hydra:
        raise ConfigError(f"sae.source_overrides: {hydra} is a Hydra setting, not one of the source's config; "
                          "the source trains into the run's directory, under source/")
    if not preset and sae.source != SYNTHETIC and not (Path(str(sae.source)) / "results.json").is_file():
        raise ConfigError(f"sae.source: expected 'synthetic', 'preset:NAME' or a toy run's directory, got "
                          f"{sae.source!r} (no results.json there)")


def check_combinations(cfg: Any) -> None:
    """Every dictionary size fits the width, and a k or prefix size fits each of its dictionaries; the message
    names the field each value comes from (``grid.axes.k`` or ``sae.k``)."""
    (k_field, k_values), (size_field, sizes) = (_values(cfg, a) for a in ("k", "dict_size"))
    width = cfg.sae.width
    for size in sizes:
        if size is not None and size > width:
            raise ConfigError(f"{size_field}: must be at most sae.width={width}, got {size}")
    smallest = min((s if s is not None else width) for s in sizes)
    where = f" ({size_field})" if smallest < width else ""
    if "k" in KIND_AXES[cfg.sae.kind] and max(k_values) > smallest:
        raise ConfigError(f"{k_field}: must be at most the dictionary size, got k={max(k_values)} with a dictionary "
                          f"of {smallest} latents{where}")
    if cfg.sae.prefixes and max(cfg.sae.prefixes) > smallest:
        raise ConfigError(f"sae.prefixes: must be at most the dictionary size, got {max(cfg.sae.prefixes)} with a "
                          f"dictionary of {smallest} latents{where}")


def _values(cfg: Any, axis: str) -> tuple[str, list]:
    """(the field that gives `axis` its values, the values): the grid's axis, else its default field."""
    if axis in cfg.grid.axes:
        return f"grid.axes.{axis}", axis_values(cfg, axis)
    return AXES[axis].default, [get_field(cfg, AXES[axis].default)]


def axes_read(sae: SAEConfig, kinds: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The grid axes an SAE of this section reads (or one of `kinds` on its source): the shared ones, its kind's,
    a synthetic source's densities."""
    own = sum((KIND_AXES.get(kind, ()) for kind in (kinds or (sae.kind,))), ())
    return SHARED_AXES + own + (DRAWN_AXES if sae.source == SYNTHETIC else ())


def unread(sae: SAEConfig, axis: str) -> str:
    """Why an SAE of this section does not read `axis` (`axes_read`)."""
    if axis in DATA_AXES and sae.source != SYNTHETIC:
        return ("an SAE on a trained source reads each source cell's own data; vary it in the source "
                "(sae.source_overrides) and use the source_cell axis")
    if axis == "dataset_size":
        return ("an SAE trains on a fresh batch of its source's activations every step; finite training sets are "
                "for toy models")
    what = f"a {sae.kind} SAE does not" if axis in axes_read(sae, SAE_KINDS) else "an SAE does not"
    return f"{what} read it (a {sae.kind} SAE's axes here: {', '.join(axes_read(sae))})"


def reads(cfg: Any) -> tuple[tuple[str, ...], tuple[str, ...], Any]:
    """What an SAE run reads, for `toyjax.axes.check_reads`: its axes, those of any SAE kind on its source, and
    why not another."""
    return axes_read(cfg.sae), axes_read(cfg.sae, SAE_KINDS), lambda axis: unread(cfg.sae, axis)


def array_dims(config: dict) -> dict[str, tuple[str, ...]]:
    """The axes of every array an SAE run records, beyond the grid's (`toyjax.engine.family.Family.dims`): the
    latents, the source's activation space (``neuron`` after a ReLU, else ``hidden``) and its features."""
    hidden = "neuron" if config.get("sae", {}).get("source_activation") == "relu" else "hidden"
    return {"params/W_enc": ("latent", hidden), "params/W_dec": (hidden, "latent"), "params/b_enc": ("latent",),
            "params/b_dec": (hidden,), "params/log_threshold": ("latent",), "params/r_mag": ("latent",),
            "params/b_mag": ("latent",), "sae/dead": ("latent",),
            "sae/features": (hidden, "feature"), "sae/learned": ("feature",),
            "sae/matched": ("feature",)}


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
        return cls(sae.kind, sae.width, sae.source_activation == "relu", resample_list(sae.resample_steps),
                   sae.dead_window, sae.eval_samples)


def check_run(cfg: Any, sae_run: bool) -> None:
    """An SAE run's section and its grid (every k fits every dictionary); any other run has no SAE axis or key."""
    if not sae_run:
        _no_sae_keys(cfg)
        return
    validate_sae(cfg.sae, cfg.train.steps)
    check_combinations(cfg)
    _check_profile(cfg)


def _check_profile(cfg: Any) -> None:
    """A firing profile (``data.firing``) only on synthetic features, and never beside ``sae.density_decay``."""
    if cfg.data.firing is None:
        return
    if cfg.sae.source != SYNTHETIC:
        raise ConfigError("data.firing: an SAE on a trained source reads each source cell's own densities; set the "
                          "profile in the source (sae.source_overrides)")
    if cfg.sae.density_decay != 1.0:
        raise ConfigError(f"sae.density_decay: data.firing sets the features' profile; give the decay there "
                          f"(data.firing: {{profile: geometric, decay: {cfg.sae.density_decay}}}) and leave "
                          "sae.density_decay at 1")


def _no_sae_keys(cfg: Any) -> None:
    """Refuse an SAE axis, or an ``sae`` key away from its default, on a run of another kind."""
    used = [a for a in SAE_AXES if a in cfg.grid.axes]
    if used:
        raise ConfigError(f"grid.axes.{used[0]}: an axis of SAE runs (model.kind: sae), not of "
                          f"{cfg.model.kind} models")
    default = SAEConfig()
    changed = [f.name for f in fields(SAEConfig) if getattr(cfg.sae, f.name) != getattr(default, f.name)]
    if changed:
        raise ConfigError(f"sae.{changed[0]}: a key of SAE runs (model.kind: sae), not of {cfg.model.kind} models "
                          f"(got {getattr(cfg.sae, changed[0])!r})")
