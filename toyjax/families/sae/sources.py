"""Where an SAE run's activations come from: the cells of a trained toy run, or synthetic ground truth.

A toy run's source cells are its grid without the seed axis, each cell its best seed by stratified expected
loss (`toyjax.analysis.aggregate`): the SAE of cell c reads h = W_c x (no hidden activation) or ReLU(W_c x)
(a ReLU hidden activation, as relu_hidden; W_c is W1 of an untied model, as abs_mlp), x drawn from that cell's
own densities, and its ground truth is the columns of W_c (after the ReLU where there is one); the source's
`Architecture` says which (`source_activation`), and a source the SAE family cannot read (another hidden
activation, or a hidden bias) is refused; the features the toy model learned are those with
‖W_i‖ ≥ 0.3 (`toyjax.analysis.geometry.NOT_LEARNED_NORM`). Synthetic ground truth (Sharkey, Braun and
Millidge 2022) is one cell of `model.n_features` random unit directions in `model.n_hidden` dimensions,
drawn from ``sae.features_seed``; its data are the config's own, each feature's density scaled by their
feature-probability scheme: p_i ∝ ``sae.density_decay``^i, with the mean over features kept at the run's
density (`decay_profile`, the geometric profile of `toyjax.data.structure`). Its data may have every structure
of a toy run's (``data.firing`` in place of ``sae.density_decay``, ``data.magnitude``, ``data.hierarchy``,
``data.correlation``); an SAE on a trained source adopts the source's magnitudes, hierarchy and correlation.

A source ``preset:NAME`` (with ``sae.source_overrides``) is a toy grid trained in the same job: the
``toyjax`` command trains and publishes it first (`toyjax.cli`), then the SAEs on its directory. Before
anything trains, `from_plan` gives the cells of such a source from its plan alone (shapes, data, labels;
directions zero), which is all that validating the SAE run needs; either way a trained source's grid axes are
known (`Source.axes`) before the SAEs compile, for a figure that reads them (`toyjax.plots.registry.SOURCE_FIT`).

`adopt` writes what the source fixes (shapes, data kind, activation, the cells of ``source_cell: all``)
into the run's config, so the saved config says what was trained; a shape or data kind the run sets
otherwise is refused. A cell whose every seed diverged is marked (`Source.diverged`): an SAE on it is
refused. This module imports numpy, `toyjax.analysis`, `toyjax.axes`, `toyjax.config`, `toyjax.engine.plan`,
`toyjax.errors`, `toyjax.data.structure`, `toyjax.families` (`plan_of`, `schemas`, the toy family's
`architecture` and `models`, the SAE's `config`) and `toyjax.results`.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from toyjax.analysis.aggregate import best_seed, ranking_loss, take_seed
from toyjax.analysis.geometry import NOT_LEARNED_NORM
from toyjax.axes import field_default, grid_axes
from toyjax.config import Config, to_config
from toyjax.data import structure
from toyjax.engine.plan import Plan
from toyjax.errors import ConfigError, ResultsError
from toyjax.families import plan_of
from toyjax.families.sae.config import PRESET, SYNTHETIC
from toyjax.families.schemas import KINDS
from toyjax.families.toy.architecture import architecture_of
from toyjax.families.toy.models import feature_matrix
from toyjax.results import Results
from toyjax.results import load as load_run

NOT_TOY = "the source must be a toy model's run, not an SAE run"
ADOPTED = ("model.n_features", "model.n_hidden", "data.kind", "data.set_size", "data.signed", "data.normalize",
           "data.magnitude", "data.hierarchy", "data.correlation")
ALL = "all"  # ``source_cell: all``: every cell of the source


class Source(NamedTuple):
    """Host arrays of every source cell (C cells, d dimensions, n features)."""

    W: np.ndarray  # (C, d, n) feature directions in the activation space
    learned: np.ndarray  # (C, n) bool, the features the source model learned
    density: np.ndarray | None  # (C, n) its data's densities; None: the SAE run's own (synthetic)
    importance: np.ndarray | None  # (C, n)
    labels: list[str]  # a name per cell, e.g. "density 0.1"
    settings: dict  # model.n_features, model.n_hidden, the data section, sae.source_activation
    density_scale: np.ndarray | None = None  # (n,) multiplies the run's own densities (synthetic features)
    diverged: np.ndarray | None = None  # (C,) bool, the cell's model diverged (every seed of it); None: none did
    axes: dict | None = None  # the source grid's axes and their values, seed included; None: synthetic features


def synthetic(cfg: Config) -> Source:
    """`model.n_features` random unit directions (d = `model.n_hidden`) from ``sae.features_seed``: one cell."""
    n, d = cfg.model.n_features, cfg.model.n_hidden
    W = np.random.default_rng(cfg.sae.features_seed).normal(size=(d, n))
    W /= np.linalg.norm(W, axis=0, keepdims=True)
    return Source(W[None], np.ones((1, n), bool), None, None, ["synthetic features"], {},
                  decay_profile(n, cfg.sae.density_decay))


def decay_profile(n: int, decay: float) -> np.ndarray:
    """(n,) multipliers of a run's density: p_i = density · decay^i / mean_j decay^j (mean p = density).

    Sharkey, Braun and Millidge (2022) draw feature i with a probability that decays as 0.99^i, scaled so
    that a fixed number of features is active on average; decay 1 gives every feature the same density.
    """
    return structure.profile({"profile": "geometric", "decay": decay}, n)


def source_activation(model) -> str:
    """What an SAE reads of a toy model (a ``model:`` section): "relu" for ReLU(W x), "linear" for W x.

    Raises:
        ConfigError: ``sae.source: ...``, one line, for any other hidden activation or a hidden bias.
    """
    arch = architecture_of(model)
    if arch.hidden_activation not in ("none", "relu") or arch.hidden_bias:
        got = "a hidden bias" if arch.hidden_bias else f"hidden_activation {arch.hidden_activation}"
        raise ConfigError(f"sae.source: an SAE reads W x or ReLU(W x) of a source with no hidden bias; got {got}")
    return "relu" if arch.hidden_activation == "relu" else "linear"


def from_run(results: Results) -> Source:
    """Every cell of a trained toy run: its best seed's directions, learned features and data."""
    kind = results.config["model"]["kind"]
    if reads_a_source(kind):
        raise ConfigError(f"sae.source: {NOT_TOY}")
    W, density, importance = feature_matrix(results.params), results.density, results.importance
    diverged = np.asarray(results.diverged, bool)
    if "seed" in results.dims:
        axis = results.dims.index("seed")
        best = best_seed(ranking_loss(results.eval_loss, results.diverged), axis)
        W, density, importance, diverged = (take_seed(a, best, axis) for a in (W, density, importance, diverged))
    d, n = W.shape[-2:]
    W, density, importance = W.reshape(-1, d, n), density.reshape(-1, n), importance.reshape(-1, n)
    diverged = diverged.reshape(-1) | ~np.isfinite(W).all(axis=(1, 2))
    activation = source_activation(results.config["model"])
    directions = np.maximum(W, 0) if activation == "relu" else W
    learned = np.linalg.norm(directions, axis=-2) >= NOT_LEARNED_NORM
    settings = {"n_features": n, "n_hidden": d, "data": results.config.get("data", {}), "activation": activation,
                "name": f"{results.run_info.preset or 'a toy run'} ({kind})"}
    return Source(W, learned, density, importance, _labels(results), settings, diverged=diverged,
                  axes=grid_axes(results.dims, results.coords))


def _labels(results: Results) -> list[str]:
    return cell_labels(results.dims, results.coords)


def cell_labels(dims: tuple[str, ...], coords: dict) -> list[str]:
    """A label per cell of a grid (its axes but the seed's), in C order: "density 0.1"."""
    dims = [d for d in dims if d != "seed"]
    shape = [len(coords[d]) for d in dims]
    return [", ".join(f"{d} {float(np.ravel(coords[d][i])[0]):.3g}" for d, i in zip(dims, index)) or "model"
            for index in np.ndindex(*shape)]


def reads_a_source(kind: str) -> bool:
    """Whether a run of ``model.kind`` `kind` reads a source: an SAE run, whose ``sae.source`` may be a preset."""
    return KINDS.get(kind) == "sae"


def from_plan(cfg: Config, plan: Plan) -> Source:
    """The cells of a toy grid not trained yet, from its plan: shapes, densities, importances and labels,
    every direction zero and every feature counted as learned (enough to validate an SAE run on it)."""
    if reads_a_source(cfg.model.kind):
        raise ConfigError(f"sae.source: {NOT_TOY}")

    def cells(a: np.ndarray) -> np.ndarray:  # (models, ...) -> (cells, ...), the first seed of each cell
        grid = a.reshape(plan.grid_shape + a.shape[1:])
        if "seed" in plan.dims:
            grid = np.take(grid, 0, axis=plan.dims.index("seed"))
        return grid.reshape((-1,) + a.shape[1:])

    density, importance = cells(plan.points["density"]), cells(plan.points["importance"])
    n, d = cfg.model.n_features, cfg.model.n_hidden
    settings = {"n_features": n, "n_hidden": d, "data": dataclasses.asdict(cfg.data),
                "activation": source_activation(cfg.model), "name": f"a toy grid ({cfg.model.kind})"}
    return Source(np.zeros((len(density), d, n), np.float32), np.ones((len(density), n), bool), density,
                  importance, cell_labels(plan.dims, plan.coords), settings,
                  axes=grid_axes(plan.dims, plan.coords))


def load(cfg: Config) -> Source:
    """The source of an SAE run's config: synthetic directions, or a saved toy run's cells."""
    if cfg.sae.source == SYNTHETIC:
        return synthetic(cfg)
    if str(cfg.sae.source).startswith(PRESET):
        raise ConfigError(f"sae.source: {cfg.sae.source} is a toy grid the toyjax command trains before the SAEs; "
                          "from Python, train it with toyjax.run, save it and pass its directory")
    try:
        return from_run(load_run(cfg.sae.source))
    except ResultsError as e:
        raise ConfigError(f"sae.source: {e}") from None


def adopt(cfg: Config, source: Source) -> Config:
    """`cfg` with what its source fixes: shapes, the data section, the activation, and every cell for "all".

    Raises:
        ConfigError: a shape or data setting of `cfg` other than the source's (and not left at its default).
    """
    raw = dataclasses.asdict(cfg)
    every_cell(raw, len(source.W))
    if source.settings:
        adopted = {"model.n_features": source.settings["n_features"], "model.n_hidden": source.settings["n_hidden"],
                   **{f"data.{k}": v for k, v in source.settings["data"].items()}}
        for dotted in ADOPTED:
            section, key = dotted.split(".")
            given, default = raw[section][key], field_default(cfg, dotted)
            if dotted in adopted and given not in (adopted[dotted], default):
                raise ConfigError(f"{dotted}: the source fixes it ({adopted[dotted]!r}), got {given!r}; leave it "
                                  "unset: an SAE on a trained source takes the source's shapes and data")
            raw[section][key] = adopted.get(dotted, given)
        raw["sae"].update(source_activation=source.settings["activation"], source_name=source.settings["name"])
    return to_config(raw)


def every_cell(raw: dict, cells: int) -> None:
    """``source_cell: all``, on the grid or in ``sae.source_cell``, as the axis of every cell (a config's dict)."""
    axes = raw["grid"]["axes"]
    if axes.get("source_cell") in (ALL, [ALL]):
        axes["source_cell"] = list(range(cells))
    elif raw["sae"]["source_cell"] == ALL and "source_cell" not in axes:
        raw["grid"]["axes"] = {"source_cell": list(range(cells)), **axes}
    if raw["sae"]["source_cell"] == ALL:
        raw["sae"]["source_cell"] = 0


def plan_run(cfg: Config, source: Source | None = None) -> tuple[Config, Plan]:
    """The plan of a validated config, and the config it trains: an SAE run's source (`source`, else
    `load`'s) first adopted (`adopt`), every other run as it is."""
    if not reads_a_source(cfg.model.kind):
        return cfg, plan_of(cfg)
    source = load(cfg) if source is None else source
    cfg = adopt(cfg, source)
    return cfg, plan_of(cfg, source)
