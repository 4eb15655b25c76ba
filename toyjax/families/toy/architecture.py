"""What a toy model is, as data: the `Architecture` a run's ``model:`` section describes, and its shorthands.

Elhage et al., "Toy Models of Superposition" (2022) train four models; researchers vary them (untied
weights, a hidden bias, GeLU or SoLU, an L1 penalty on the hidden activations). Each is one description
here, read by the engine (`toyjax.families.toy.models` implements it) and by analysis, figures and pages, which ask what
a model *is* (`tied`, `privileged`), never what it is called. The toy family also declares here what its runs
read and record: the grid axes every kind reads (`reads`, for `toyjax.axes.check_reads`) and the names of its
arrays' axes (`param_dims`, `array_dims`). This module imports `toyjax.checks` and `toyjax.errors`, and no
JAX, so that the config can check a description before anything is compiled.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from toyjax import checks
from toyjax.errors import ConfigError

ENCODERS = ("tied", "untied")
HIDDEN_ACTIVATIONS = ("none", "relu", "gelu", "solu")
OUTPUT_ACTIVATIONS = ("relu", "none")
TARGETS = ("x", "abs")


@dataclass(frozen=True)
class Architecture:
    """What a toy model is: its encoder, hidden and output activations, hidden bias and target (static)."""

    encoder: str = "tied"  # tied: x' uses Wᵀ; untied: its own W2 (n, m), and W is called W1
    hidden_activation: str = "none"  # none, relu, gelu or solu, applied to W x (+ b_h)
    hidden_bias: bool = False  # a bias b_h (m,) inside the hidden activation
    output_activation: str = "relu"  # relu or none, applied to W_out h + b
    target: str = "x"  # what x' is trained towards: x, or abs (|x|, §8)

    @property
    def tied(self) -> bool:
        """Whether the decoder is Wᵀ, so that WᵀW is the model's feature Gram matrix."""
        return self.encoder == "tied"

    @property
    def privileged(self) -> bool:
        """Whether the hidden units are neurons: an activation acts on each hidden unit (§7)."""
        return self.hidden_activation != "none"

    @property
    def feature_matrix_name(self) -> str:
        """The name of the (m, n) matrix whose columns embed the features: W, or W1 when untied."""
        return "W" if self.tied else "W1"

    def describe(self) -> dict[str, Any]:
        """The description as plain values, as the ``model:`` section spells it."""
        return dataclasses.asdict(self)


RELU_OUTPUT = Architecture()  # the paper's §2-§3 model: tied, no hidden activation or bias, ReLU output, target x
DESCRIBED = "toy"  # the kind whose model its description fields give (model.kind=toy), not a shorthand
SHORTHANDS = {
    "linear": Architecture(output_activation="none"),
    "relu_output": RELU_OUTPUT,
    "relu_hidden": Architecture(hidden_activation="relu"),
    "abs_mlp": Architecture(encoder="untied", hidden_activation="relu", target="abs"),
}
FIELDS = tuple(f.name for f in dataclasses.fields(Architecture))
AXES_READ = ("density", "extra_density", "importance_decay", "extra_importance", "lr", "weight_decay", "init_scale",
             "activation_l1", "dataset_size", "seed")  # the grid axes every toy model reads


def param_dims(model: Architecture | str) -> dict[str, tuple[str, ...]]:
    """The axis names of each parameter of a model, by what they index: W (m, n) is ``hidden × feature``, or
    ``neuron × feature`` where a hidden activation makes the basis privileged; an untied model's W1 the same and
    its W2 (n, m) ``feature × hidden``; b ``feature``, a hidden bias b_hidden ``hidden`` (or ``neuron``)."""
    arch = model if isinstance(model, Architecture) else architecture_of({"kind": model})
    hidden = "neuron" if arch.privileged else "hidden"
    if arch.tied:
        names = {"W": (hidden, "feature"), "b": ("feature",)}
    else:
        names = {"W1": (hidden, "feature"), "W2": ("feature", hidden), "b": ("feature",)}
    return {**names, "b_hidden": (hidden,)} if arch.hidden_bias else names


def array_dims(config: dict) -> dict[str, tuple[str, ...]]:
    """The axes of every array a toy run records, beyond the grid's (`toyjax.engine.family.Family.dims`): its
    params (`param_dims`), the per-feature history and a finite training set's per-point records."""
    names = param_dims(architecture_of(config.get("model", {})))
    hidden = next(iter(names.values()))[0]
    per_point = {f"train_set/{name}": ("point",) for name in ("point_loss", "zero_loss", "dimensionality")}
    return {**{f"params/{name}": axes for name, axes in names.items()}, "history/W_norm": ("feature",),
            "history/dimensionality": ("feature",), "history/data_dimensionality": ("point",),
            "train_set/hidden": ("point", hidden), **per_point}


def reads(cfg: Any) -> tuple[tuple[str, ...], tuple[str, ...], Any]:
    """What a toy run reads, for `toyjax.axes.check_reads`: every kind the same axes (`AXES_READ`)."""
    return AXES_READ, AXES_READ, lambda axis: f"{cfg.model.kind} models do not read it"


def architecture_of(model: Any) -> Architecture:
    """The `Architecture` of a ``model:`` section (a mapping or an object): its shorthand ``kind``, then its
    description fields where set. Runs saved before the description existed name only their kind."""
    get = model.get if isinstance(model, dict) else lambda name, default=None: getattr(model, name, default)
    base = SHORTHANDS.get(get("kind"), Architecture())
    given = {name: get(name) for name in FIELDS if get(name) is not None}
    return dataclasses.replace(base, **given)


def describes_toy(kind: str) -> bool:
    """Whether a ``model.kind`` is a toy model this module describes: a shorthand, or ``toy``."""
    return kind in SHORTHANDS or kind == DESCRIBED


def as_architecture(model: Architecture | str) -> Architecture:
    """An `Architecture`, or the one a shorthand names."""
    return model if isinstance(model, Architecture) else SHORTHANDS[model]


def check_section(m: Any, known: tuple[str, ...]) -> None:
    """A ``model:`` section's description: valid values, none on another family's run, none that contradicts
    a shorthand, and ``options`` only for a family of one's own (a kind not in `known`); raises ConfigError."""
    given = {name: getattr(m, name) for name in FIELDS if getattr(m, name) is not None}
    for name, allowed in (("encoder", ENCODERS), ("hidden_activation", HIDDEN_ACTIVATIONS),
                          ("output_activation", OUTPUT_ACTIVATIONS), ("target", TARGETS)):
        if name in given:
            checks.choice(f"model.{name}", given[name], allowed)
    if "hidden_bias" in given:
        checks.boolean("model.hidden_bias", given["hidden_bias"])
    if m.options and m.kind in known:
        raise ConfigError(f"model.options: settings of a family of one's own (model.kind: package.module), "
                          f"not of model.kind={m.kind}")
    if not describes_toy(m.kind):
        if given:
            raise ConfigError(f"model.{next(iter(given))}: describes a toy model, not a model.kind={m.kind} run")
        return
    fixed = SHORTHANDS.get(m.kind)
    for name, value in given.items():
        if fixed is not None and getattr(fixed, name) != value:
            raise ConfigError(f"model.{name}: model.kind={m.kind} has {name} {getattr(fixed, name)!r}, got "
                              f"{value!r}; describe another model with model.kind=toy")
