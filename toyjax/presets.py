"""Presets: one YAML per experiment of Elhage et al. (2022) in ``sweeps/``, composed over the Hydra schema.

The run schema is `toyjax.config.Config` plus two nodes the engine never sees: ``sweep`` (the preset's
name and title) and ``report`` (the figure and summaries it declares). It is registered in Hydra's
ConfigStore as ``toyjax_schema``, and every ``sweeps/*.yaml`` as an option of the group ``sweep`` (package
``_global_``), so ``toyjax sweep=phase_n3m2`` and ``toyjax.compose("phase_n3m2")`` read the same files. An
experiment of one's own is a YAML file anywhere: ``toyjax sweep=path/to/my_experiment.yaml``.
``conf/`` and ``sweeps/`` ship inside the wheel as ``toyjax/conf`` and ``toyjax/sweeps``.

Composition errors become one `ConfigError` line naming the key (`describe_error`), in Python as on the
command line, and so does an override of a value that a grid axis sets for every model (`check_axis_overrides`).
This module imports omegaconf (Hydra only when composing), `toyjax._moved`, `toyjax.axes` and `toyjax.config`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shlex
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from toyjax._moved import RENAMED_KEYS
from toyjax.axes import AXES
from toyjax.config import Config, ReportConfig, SweepInfo
from toyjax.errors import ConfigError, ToyjaxDeprecationWarning

SCHEMA = "toyjax_schema"
GROUP = "sweep"
RENAMED_PRESETS = {"demo_sparsity": "demonstrating_superposition",
                   "demo_sparsity_n80": "demonstrating_superposition_n80"}  # old name -> new, for one release
_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    """``toyjax/<name>`` in an installed wheel, else ``<repo>/<name>`` in an editable checkout."""
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def config_dir() -> Path:
    """The Hydra config root (holds ``config.yaml``)."""
    return _data_dir("conf")


def sweeps_dir() -> Path:
    """The directory of preset YAML files, one per experiment."""
    return _data_dir("sweeps")


def preset_names() -> list[str]:
    """Names of every preset, sorted."""
    return sorted(p.stem for p in sweeps_dir().glob("*.yaml"))


@dataclass
class AppConfig(Config):
    """`Config` plus the ``sweep`` and ``report`` nodes that describe the run for people."""

    sweep: SweepInfo = field(default_factory=SweepInfo)
    report: ReportConfig = field(default_factory=ReportConfig)


_registered: set[str] = set()


def register(extra: dict[str, Path] | None = None) -> None:
    """Store the schema, every preset and the files of `extra` (option -> path) in Hydra's ConfigStore, once."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    if SCHEMA not in _registered:
        cs.store(name=SCHEMA, node=AppConfig)
        _registered.add(SCHEMA)
    files = {p.stem: p for p in sorted(sweeps_dir().glob("*.yaml"))}
    files.update({old: files[new] for old, new in RENAMED_PRESETS.items()})
    files.update(extra or {})
    for option, path in files.items():
        if option not in _registered:
            cs.store(group=GROUP, name=option, node=OmegaConf.load(path), package="_global_")
            _registered.add(option)


def register_config_dir(directory: str | Path | None) -> None:
    """Make the experiments of a ``--config-dir`` (its ``sweep/*.yaml``) known before Hydra starts."""
    if directory:
        register({p.stem: p for p in sorted(Path(directory).glob(f"{GROUP}/*.yaml"))})


def _file_option(path: Path) -> str:
    """The ConfigStore option of an experiment file given by its path: its name and a hash of where it is."""
    where = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:8]
    return f"{Path(path).stem}_{where}"


def declared_report(preset: str | None) -> ReportConfig | None:
    """The report a preset's YAML declares (for result files older than declared reports)."""
    path = sweeps_dir() / f"{RENAMED_PRESETS.get(preset, preset)}.yaml"
    if not preset or not path.is_file():
        return None
    report = OmegaConf.to_container(OmegaConf.load(path)).get("report") or {}
    return ReportConfig(report.get("figure"), list(report.get("summaries", [])), bool(report.get("html", True)))


def normalize_overrides(overrides: Sequence[str]) -> list[str]:
    """Command-line overrides in the form Hydra needs, with old spellings renamed (and a warning each).

    - ``grid.axes.NAME=...`` adds an axis the preset lacks (``grid.axes`` is a dict, and Hydra would demand
      ``++``); unknown names reach the validator, which lists the allowed axes.
    - ``sweep=path/to/file.yaml`` trains an experiment file from anywhere.
    - ``sweep=demo_sparsity`` and ``train.seed=...`` are renamed (`RENAMED_PRESETS`, `RENAMED_KEYS`).
    """
    out = []
    for o in overrides:
        o = re.sub(r"^(grid\.axes\.[A-Za-z_][\w]*)=", r"++\1=", o)
        for old, new in RENAMED_KEYS.items():
            if re.match(rf"^[+~]*{re.escape(old)}=", o):
                warnings.warn(f"{old} is deprecated; use {new}", ToyjaxDeprecationWarning, stacklevel=2)
                o = o.replace(old, new, 1)
        out.append(_normalize_sweep(o))
    return out


def _normalize_sweep(override: str) -> str:
    if not override.startswith(f"{GROUP}="):
        return override
    names = []
    for name in override.split("=", 1)[1].split(","):
        if name.endswith((".yaml", ".yml")) and Path(name).is_file():
            option = _file_option(Path(name))
            register({option: Path(name)})
            name = option
        elif name in RENAMED_PRESETS:
            warnings.warn(f"sweep={name} is deprecated; use sweep={RENAMED_PRESETS[name]}",
                          ToyjaxDeprecationWarning, stacklevel=3)
            name = RENAMED_PRESETS[name]
        names.append(name)
    return f"{GROUP}={','.join(names)}"


def compose(preset: str | None = None, overrides: Sequence[str] | str = ()) -> DictConfig:
    """A run config from a preset in ``sweeps/`` (or a YAML path) plus command-line style overrides.

    `overrides` is a list of ``KEY=VALUE`` strings, or one string split as a shell splits a command line.

    >>> cfg = compose("intro", ["train.steps=100"])  # doctest: +SKIP
    >>> cfg = compose("intro", "train.steps=100 grid.axes.seed=4")  # doctest: +SKIP
    >>> results = toyjax.run(cfg)  # doctest: +SKIP

    Raises:
        ConfigError: one line naming the bad key, as the ``toyjax`` command prints it.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register()
    args = normalize_overrides(([f"{GROUP}={preset}"] if preset else []) + override_list(overrides))
    try:
        if GlobalHydra.instance().is_initialized():
            composed = hydra_compose("config", overrides=args)
        else:
            with initialize_config_dir(str(config_dir()), version_base="1.3", job_name="toyjax"):
                composed = hydra_compose("config", overrides=args)
    except Exception as e:  # Hydra and OmegaConf errors, whatever their type
        raise ConfigError(describe_error(e)) from None
    check_axis_overrides(composed, args)
    return composed


def check_axis_overrides(composed: DictConfig, overrides: Sequence[str]) -> None:
    """Refuse an override of a per-model value that a grid axis of `composed` sets for every model.

    ``sweep=intro data.density=0.5`` would train the preset's density axis and ignore 0.5; the axis is what
    to override (``grid.axes.density=[0.5]``), or remove (``~grid.axes.density``).

    Raises:
        ConfigError: ``data.density: grid.axes.density sets it for every model ...``, one line.
    """
    axes = OmegaConf.select(composed, "grid.axes", default=None) or {}
    by_field = {AXES[axis].default: axis for axis in axes if axis in AXES}
    for override in overrides:
        found = re.match(r"^\+{0,2}([A-Za-z_][\w.]*)=(.*)$", override)
        axis = by_field.get(found.group(1)) if found else None
        if axis is not None:
            key, value = found.groups()
            raise ConfigError(f"{key}: grid.axes.{axis} sets it for every model, so {key}={value} would be "
                              f"ignored; override the axis instead (grid.axes.{axis}=[{value}]) or remove it "
                              f"(~grid.axes.{axis})")


def override_list(overrides: Sequence[str] | str) -> list[str]:
    """`overrides` as a list of strings: a list as it is, one string split as a shell would split it.

    Raises:
        ConfigError: ``overrides: ...`` for anything else, or a list holding something other than strings.
    """
    if isinstance(overrides, str):
        try:
            return shlex.split(overrides)
        except ValueError as e:
            raise ConfigError(f"overrides: cannot split {overrides!r} as a command line: {e}") from None
    if not isinstance(overrides, Sequence) or not all(isinstance(o, str) for o in overrides):
        raise ConfigError(f"overrides: expected a list of KEY=VALUE strings, got {overrides!r}")
    return list(overrides)


def describe_error(exc: BaseException) -> str:
    """One line for a Hydra or OmegaConf error, starting with the dotted key it concerns."""
    from hydra.errors import MissingConfigException
    from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

    chain, e = [], exc
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    for e in chain:
        if isinstance(e, MissingConfigException) and f"{GROUP}/" in str(e):
            name = str(e).split(f"'{GROUP}/", 1)[-1].split("'", 1)[0]
            return f"{GROUP}: unknown preset {name!r}; allowed: {', '.join(preset_names())} or a .yaml path"
    for e in chain:
        key = getattr(e, "full_key", None)
        if isinstance(e, OmegaConfBaseException) and key:
            if isinstance(e, ConfigKeyError | AttributeError) and "not in" in str(e):
                return f"{key}: unknown key; allowed: {', '.join(allowed_keys(key))}"
            return f"{key}: {_first_line(getattr(e, 'msg', None) or str(e))}"
    return _first_line(str(exc)) or type(exc).__name__


def allowed_keys(dotted: str) -> list[str]:
    """Field names of the schema section that holds `dotted` (e.g. ``model.foo`` -> ModelConfig's)."""
    cls: Any = AppConfig
    for part in dotted.split(".")[:-1]:
        fields = {f.name: f for f in dataclasses.fields(cls)}
        sub = fields[part].default_factory if part in fields else None
        if not (callable(sub) and dataclasses.is_dataclass(sub)):
            return []
        cls = sub
    return [f.name for f in dataclasses.fields(cls)]


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""
