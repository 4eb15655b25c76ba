"""Every preset in sweeps/ composes, validates, matches what its header claims (n, m, model, data, axes), and
declares a figure and summaries that exist and fit it (and its preset:NAME source's grid, for a figure reading it)."""

from __future__ import annotations

import re

import pytest

import toyjax
from toyjax import cli, presets, publish
from toyjax.axes import axis_values
from toyjax.config import run_info, to_config
from toyjax.errors import ToyjaxDeprecationWarning

NAMES = presets.preset_names()
PAPER_PRESETS = {
    "intro", "demonstrating_superposition", "demonstrating_superposition_n80", "phase_n2m1", "phase_n3m2",
    "uniform_geometry",
    "nonuniform_pentagon", "correlated", "anticorrelated", "collapse", "dynamics", "adversarial",
    "privileged_basis", "abs_small", "abs_computation",
    "double_descent", "double_descent_small",  # Henighan et al. 2023, the follow-up on finite datasets
}


def header(name: str) -> list[str]:
    text = (presets.sweeps_dir() / f"{name}.yaml").read_text()
    return [line for line in text.splitlines() if line.startswith("#")]


def claims(name: str) -> dict[str, str]:
    """The ``# expect: n=.. m=.. model=.. data=.. axes=a,b [steps=..] [batch=..]`` line of a preset's header."""
    (line,) = [line for line in header(name) if line.startswith("# expect:")]
    return dict(item.split("=", 1) for item in line.removeprefix("# expect:").split())


def test_every_paper_experiment_has_a_preset():
    assert PAPER_PRESETS.issubset(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_header(name):
    lines = header(name)
    assert lines[0] == "# @package _global_"
    assert lines[1].startswith(f"# {name} — ")
    assert any(mark in lines[1] + lines[2] for mark in ("§", "et al.")), "header names what it reproduces"
    (time_line,) = [line for line in lines if line.startswith("# time:")]
    assert re.search(r"\d", time_line) and "CPU" in time_line


@pytest.mark.parametrize("name", NAMES)
def test_preset_matches_its_header(name):
    cfg = toyjax.compose(name)
    expect = claims(name)
    assert cfg.sweep.name == name
    assert cfg.model.n_features == int(expect["n"])
    assert cfg.model.n_hidden == int(expect["m"])
    assert cfg.model.kind == expect["model"]
    assert cfg.data.kind == expect["data"]
    assert list(cfg.grid.axes) == expect["axes"].split(",")
    conf = to_config(cfg)
    assert conf.train.steps == int(expect.get("steps", 5000 if name == "phase_n2m1_quick" else 10_000))
    assert conf.train.batch_size == int(expect.get("batch", 1024))
    info = run_info(cfg)
    assert info.preset == name and info.title and info.report.figure
    source = cli.source_job(cfg)  # a preset:NAME source: its grid's axes, as the command gives them to the check
    axes = None if source is None else {a: axis_values(to_config(source), a) for a in source.grid.axes}
    publish.check_report(info.report, conf, axes)  # the figure and summaries exist and fit the preset (and source)


def test_old_preset_names_compose_with_a_warning():
    with pytest.warns(ToyjaxDeprecationWarning, match="sweep=demo_sparsity_n80 is deprecated"):
        cfg = toyjax.compose("demo_sparsity_n80")
    assert cfg.sweep.name == "demonstrating_superposition_n80"


def test_default_is_the_quick_phase_diagram():
    cfg = toyjax.compose()
    assert cfg.sweep.name == "phase_n2m1_quick"
    assert (cfg.model.n_features, cfg.model.n_hidden) == (2, 1)


def test_overrides_and_new_axes():
    overrides = ["train.steps=100", "record.snapshots=10", "grid.axes.density=log:0.01:1:5", "grid.axes.seed=3"]
    cfg = toyjax.compose("dynamics", overrides)
    conf = to_config(cfg)
    assert conf.train.steps == 100
    assert conf.grid.axes == {"seed": 3, "density": "log:0.01:1:5"}


def test_compose_then_run():
    cfg = toyjax.compose("intro", ["train.steps=20", "train.batch_size=32", "grid.axes.seed=1",
                                   "record.snapshots=2", "record.eval_samples=16", "progress=false"])
    results = toyjax.run(cfg)
    assert results.dims == ("density", "seed")
    assert results.grid_shape == (3, 1)


def test_overrides_may_be_one_command_line_string():
    cfg = toyjax.compose("sae_intro", "train.steps=30 grid.axes.seed=2 'sae.source_overrides=[\"train.steps=20\"]'")
    assert (cfg.train.steps, cfg.grid.axes.seed, list(cfg.sae.source_overrides)) == (30, 2, ["train.steps=20"])


@pytest.mark.parametrize("overrides, message", [
    (5, r"^overrides: expected a list of KEY=VALUE strings, got 5$"),
    ([3], r"^overrides: expected a list of KEY=VALUE strings, got \[3\]$"),
    ('train.steps="3', r"^overrides: cannot split 'train.steps=\"3' as a command line: No closing quotation$"),
])
def test_overrides_of_another_type_are_refused_in_one_line(overrides, message):
    with pytest.raises(toyjax.ConfigError, match=message):
        toyjax.compose("intro", overrides)


@pytest.mark.parametrize("snapshots", [0, 1])
def test_a_figure_drawn_from_snapshots_needs_them_before_anything_is_compiled(snapshots):
    cfg = toyjax.compose("dynamics", [f"record.snapshots={snapshots}"])
    with pytest.raises(toyjax.ConfigError, match=rf"^record.snapshots: the dynamics figure is drawn from the snapshots "
                                                 rf"of training and needs at least 2, got {snapshots}$"):
        publish.check_report(run_info(cfg).report, to_config(cfg))
    cfg = toyjax.compose("dynamics", [f"record.snapshots={snapshots}", "report.figure=null"])
    with pytest.raises(toyjax.ConfigError, match=r"^record.snapshots: the dynamics summary is drawn from the "):
        publish.check_report(run_info(cfg).report, to_config(cfg))
    publish.check_report(run_info(cfg).report, to_config(toyjax.compose("dynamics", ["record.snapshots=2"])))


@pytest.mark.parametrize("preset, overrides, message", [
    ("intro", ["data.density=0.5"], r"^data.density: grid.axes.density sets it for every model, so data.density=0.5 "
                                    r"would be ignored; override the axis instead \(grid.axes.density=\[0.5\]\) or "
                                    r"remove it \(~grid.axes.density\)$"),
    ("sae_frontier_topk", ["sae.k=3"], r"^sae.k: grid.axes.k sets it for every model, .*\(grid.axes.k=\[3\]\)"),
    ("intro", ["grid.axes.importance_decay=[0.9,0.8]", "data.importance_decay=0.7"],
     r"^data.importance_decay: grid.axes.importance_decay sets it for every model"),
    ("phase_n2m1", ["++data.extra_importance=2"], r"^data.extra_importance: grid.axes.extra_importance sets it"),
    ("intro", ["train.seed_index=3"], r"^train.seed_index: grid.axes.seed sets it .*\(grid.axes.seed=\[3\]\)"),
])
def test_a_value_a_grid_axis_sets_for_every_model_is_not_overridden_silently(preset, overrides, message):
    with pytest.raises(toyjax.ConfigError, match=message):
        toyjax.compose(preset, overrides)


@pytest.mark.parametrize("preset, overrides", [
    ("dynamics", ["data.density=0.5"]),  # no density axis: the value is every model's
    ("intro", ["~grid.axes.density", "data.density=0.5"]),
    ("intro", ["grid.axes.density=[0.5]"]),
])
def test_a_value_no_axis_sets_is_overridden(preset, overrides):
    assert to_config(toyjax.compose(preset, overrides)).grid.axes.get("density") in (None, [0.5])
