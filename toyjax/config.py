"""Run configuration: the typed sections of a run, what a run declares about itself, and validation.

A run is one `Config`: the shapes and step counts fixed per run (`model`, the `data` kinds, `train.steps`, ...)
and the defaults of the per-model values a grid may vary (`toyjax.axes`). The sections double as Hydra structured
configs (`toyjax.presets`); the engine only ever sees the plain dataclasses returned by `to_config`, which checks
every field before anything is compiled. What a run says about itself for people (its preset, title, figure and
summaries) is a `RunInfo`, kept apart from the engine's config. Density = 1 - S is the probability that a feature
is non-zero, never "sparsity". This module imports `toyjax.axes`, `toyjax.checks`, `toyjax.errors`, `toyjax._moved`
(old key spellings), `toyjax.data.structure` and `toyjax.families.schemas` (the families' kinds, sections, checks).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from toyjax import checks
from toyjax._moved import rename_deprecated
from toyjax.axes import check_axes, largest
from toyjax.data import structure
from toyjax.errors import ConfigError
from toyjax.families import schemas

MODEL_KINDS = tuple(schemas.KINDS)  # a built-in family's kinds; else the import path of a family of one's own
IMPORT_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")
DATA_KINDS = ("independent", "correlated", "anticorrelated")
SCHEDULES = ("constant", "linear", "cosine", "warmup_cosine")
MATMUL_PRECISIONS = ("highest", "tensorfloat32", "bfloat16")  # of every matrix product (`toyjax.numerics`)


@dataclass
class ModelConfig:
    """Architecture (static per run), the init scale and the §9 activation penalty (per model).

    ``kind: toy`` describes a toy model by the fields from `encoder` to `target` (`toyjax.families.toy.architecture`); a
    shorthand kind fixes them (None: the kind's). A family of one's own (``kind: package.module``) reads
    `options` and checks them itself (`toyjax.engine.family.Family.check`). `activation_l1` is λ of λ‖h‖₁ (§9).
    """

    kind: str = schemas.DEFAULT_KIND
    n_features: int = 5
    n_hidden: int = 2
    init_scale: float = 1.0
    encoder: str | None = None
    hidden_activation: str | None = None
    hidden_bias: bool | None = None
    output_activation: str | None = None
    target: str | None = None
    activation_l1: float = 0.0
    options: dict[str, Any] = field(default_factory=dict)  # a family of one's own's static settings


@dataclass
class DataConfig:
    """Synthetic feature distribution and importance (paper §2), and the training set it is drawn into.

    `dataset_size` is T, the number of points of a finite training set drawn once from each model's own
    key (Henighan et al. 2023); None draws a fresh batch every step (T = ∞, the 2022 paper). `normalize`
    rescales every input to ‖x‖ = 1, as the 2023 follow-up does. `firing`, `magnitude`, `hierarchy` and
    `correlation` are the optional blocks of structured features (`toyjax.data.structure`); None: the paper's.
    """

    kind: str = "independent"
    set_size: int = 2
    signed: bool = False
    normalize: bool = False
    dataset_size: Any = None
    density: Any = 1.0
    extra_density: Any = None
    importance: Any = None
    importance_decay: float = 1.0
    extra_importance: Any = None
    firing: Any = None
    magnitude: Any = None
    hierarchy: Any = None
    correlation: Any = None


@dataclass
class TrainConfig:
    """Optimiser and loop settings; defaults are the companion notebook's.

    `base_seed` is the run's seed, from which every model's keys derive; `seed_index` is a model's own seed
    (the ``seed`` grid axis) when the grid does not vary it. With a finite training set, `full_batch` takes
    every step on all T points (in passes of `chunk_size` points; None: one pass), else on a minibatch of
    `batch_size` points drawn from them. `matmul_precision` is that of every matrix product on every backend:
    ``highest`` is full float32; ``tensorfloat32`` and ``bfloat16`` are faster on GPUs and TPUs, and change
    nothing on CPUs.
    """

    steps: int = 10_000
    batch_size: int = 1024
    lr: float = 1e-3
    weight_decay: float = 0.01
    schedule: str = "constant"
    warmup_steps: int = 0
    base_seed: int = 0
    seed_index: int = 0
    full_batch: bool = False
    chunk_size: int | None = None
    matmul_precision: str = "highest"


@dataclass
class GridConfig:
    """Grid axes (axis name -> values, in order) and how the flat grid is executed."""

    axes: dict[str, Any] = field(default_factory=dict)
    block_size: int | None = None
    shard: int = 0
    num_shards: int = 1
    compilation_cache: str | None = "~/.cache/toyjax/xla"


@dataclass
class RecordConfig:
    """What is recorded during and after training."""

    snapshots: int = 16  # log-spaced snapshots of loss, ‖W_i‖, D_i (and params); 0 records none
    snapshot_params: bool = True
    eval_samples: int = 256  # per stratum of the expected loss; more where there are few strata
    eval_seed: int = 1
    eval_tail: float = 0.0  # leave out the strata of most active units that hold less probability than this
    checkpoint_every: int = 2000  # steps between checkpoints of a run with a directory; 0 never checkpoints


@dataclass
class RunConfig:
    """The sections every run has; `Config` adds the families' own (`toyjax.families.schemas.SECTIONS`)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    grid: GridConfig = field(default_factory=GridConfig)
    record: RecordConfig = field(default_factory=RecordConfig)
    progress: bool = True


Config = dataclasses.make_dataclass(
    "Config", [(key, section, field(default_factory=section)) for key, section in schemas.SECTIONS.items()],
    bases=(RunConfig,), namespace={"__doc__": "A whole run: its sections and the families' own (one compiled grid).",
                                   "__module__": __name__})


_SECTIONS = {f.name: f.default_factory for f in dataclasses.fields(Config) if f.name != "progress"}


@dataclass
class SweepInfo:
    """Which preset a run came from (``sweep.name``) and the paper figure it reproduces, in words."""

    name: str = "custom"
    title: str = ""


@dataclass
class ReportConfig:
    """What a run declares it reports: a figure from `toyjax.plots.FIGURES` (None: none), summaries from
    `toyjax.analysis.SUMMARIES` (beside its basic numbers), and whether it writes ``report.html`` (`toyjax.report`)."""

    figure: str | None = None
    summaries: list[str] = field(default_factory=list)
    html: bool = True


@dataclass
class RunInfo:
    """What a run says about itself for people, kept out of the engine's config."""

    preset: str | None = None
    title: str = ""
    report: ReportConfig | None = field(default_factory=ReportConfig)  # None: not declared (a format-1 file)
    command: list[str] = field(default_factory=list)


def to_config(raw: Any) -> Config:
    """Convert a `Config`, dict or OmegaConf node into a validated `Config`.

    Raises:
        ConfigError: naming the first bad field.
    """
    raw = _plain(raw)
    raw = {k: v for k, v in raw.items() if k not in ("hydra", "sweep", "report")}
    cfg = _build(Config, rename_deprecated(raw), "")
    validate(cfg)
    return cfg


def run_info(raw: Any, command: list[str] | None = None) -> RunInfo:
    """The `RunInfo` of a composed config: its ``sweep`` and ``report`` nodes, when it has them."""
    raw = _plain(raw)
    sweep = _build(SweepInfo, raw.get("sweep") or {}, "sweep.")
    report = _build(ReportConfig, raw.get("report") or {}, "report.")
    report.summaries = list(report.summaries)
    preset = sweep.name if "sweep" in raw else None
    return RunInfo(preset=preset, title=sweep.title, report=report, command=list(command or []))


def _plain(raw: Any) -> dict:
    """A config as a plain dict; anything that is not a config is refused, saying what a run takes."""
    if isinstance(raw, Config | dict):
        return dataclasses.asdict(raw) if isinstance(raw, Config) else raw
    from omegaconf import DictConfig, OmegaConf

    if not isinstance(raw, DictConfig):
        hint = f"; for the preset, toyjax.run(toyjax.compose({raw!r}))" if isinstance(raw, str) else ""
        raise ConfigError(f"config: expected a dict, a toyjax.Config or toyjax.compose(PRESET, [OVERRIDES]), "
                          f"got {type(raw).__name__} {repr(raw)[:80]}{hint}")
    return OmegaConf.to_container(raw, resolve=True)


def _build(cls: type, raw: Any, prefix: str) -> Any:
    """Build dataclass `cls` from a dict, rejecting unknown keys."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {raw!r}")
    fields = [f.name for f in dataclasses.fields(cls)]  # declared order, for the message
    kwargs = {}
    for key, value in raw.items():
        if key not in fields:
            raise ConfigError(f"{prefix}{key}: unknown key; allowed: {', '.join(fields)}")
        sub = _SECTIONS.get(key) if cls is Config else None
        kwargs[key] = _build(sub, value, f"{key}.") if sub else value
    return cls(**kwargs)


def validate(cfg: Config) -> None:
    """Check every field of `cfg`; raise `ConfigError` naming the first bad one."""
    m, d, t, r = cfg.model, cfg.data, cfg.train, cfg.record
    if not IMPORT_PATH.fullmatch(str(m.kind)):
        checks.choice("model.kind", m.kind, MODEL_KINDS)
    checks.choice("data.kind", d.kind, DATA_KINDS)
    checks.choice("train.schedule", t.schedule, SCHEDULES)
    checks.choice("train.matmul_precision", t.matmul_precision, MATMUL_PRECISIONS)
    for name in ("model.n_features", "model.n_hidden", "train.steps", "train.batch_size", "data.set_size",
                 "record.eval_samples"):
        section, key = name.split(".")
        checks.integer(name, getattr(getattr(cfg, section), key), low=1)
    for name, value in (("train.base_seed", t.base_seed), ("record.eval_seed", r.eval_seed),
                        ("record.checkpoint_every", r.checkpoint_every)):
        checks.integer(name, value, low=0)
    checks.integer("record.snapshots", r.snapshots, low=0, high=t.steps, bound="train.steps")
    _validate_warmup(t)
    for name, value in (("data.signed", d.signed), ("data.normalize", d.normalize), ("train.full_batch", t.full_batch),
                        ("record.snapshot_params", r.snapshot_params), ("progress", cfg.progress)):
        checks.boolean(name, value)
    if not 0.0 <= checks.number("record.eval_tail", r.eval_tail) < 1.0:
        raise ConfigError(f"record.eval_tail: must be in [0, 1), got {r.eval_tail}")
    schemas.check_model(m)
    _validate_data(cfg)
    _validate_grid(cfg.grid)
    check_axes(cfg)
    _validate_training_set(cfg)
    schemas.check_run(cfg)


def _validate_warmup(t: TrainConfig) -> None:
    """A warm-up only with the schedule that has one, and steps of its cosine decay after it."""
    checks.integer("train.warmup_steps", t.warmup_steps, low=0)
    if t.schedule != "warmup_cosine" and t.warmup_steps:
        raise ConfigError(f"train.warmup_steps: only train.schedule=warmup_cosine warms up, got {t.warmup_steps} "
                          f"with train.schedule={t.schedule}; set train.warmup_steps=0 or train.schedule=warmup_cosine")
    if t.warmup_steps >= t.steps:
        raise ConfigError(f"train.warmup_steps: must be below train.steps ({t.steps}), got {t.warmup_steps}; "
                          "the cosine decay needs steps after the warm-up")


def _validate_data(cfg: Config) -> None:
    d, n = cfg.data, cfg.model.n_features
    if d.kind != "independent" and n % d.set_size:
        raise ConfigError(f"data.set_size: must divide model.n_features={n}, got {d.set_size}")
    if d.importance is not None:
        checks.vector("data.importance", d.importance, n, low=0.0)
    if (d.extra_density is not None or d.extra_importance is not None) and n < 2:
        raise ConfigError("model.n_features: an extra feature needs n_features >= 2")
    structure.check(d, n)


def _validate_training_set(cfg: Config) -> None:
    """Full batches need a finite training set; a minibatch or a pass holds at most its largest T points."""
    t, size = cfg.train, largest(cfg, "dataset_size")
    if size is None:
        if t.full_batch:
            raise ConfigError("train.full_batch: needs a finite training set "
                              "(data.dataset_size or grid.axes.dataset_size)")
    elif not t.full_batch and t.batch_size > size:
        raise ConfigError(f"train.batch_size: a minibatch of the training set must be at most its largest size "
                          f"T={size}, got {t.batch_size}")
    if t.chunk_size is not None:
        if not t.full_batch:
            raise ConfigError("train.chunk_size: needs train.full_batch (it cuts a full batch into passes)")
        checks.integer("train.chunk_size", t.chunk_size, low=1)


def _validate_grid(g: GridConfig) -> None:
    checks.integer("grid.num_shards", g.num_shards, low=1)
    checks.integer("grid.shard", g.shard, low=0, high=g.num_shards - 1)
    if g.block_size is not None:
        checks.integer("grid.block_size", g.block_size, low=1)
