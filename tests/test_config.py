"""Bad input fails early, with a one-line message naming the field; old spellings still work, with a warning."""

from __future__ import annotations

import warnings

import pytest

import toyjax
from toyjax.config import run_info, to_config
from toyjax.engine.runner import Runner
from toyjax.errors import ConfigError, ToyjaxDeprecationWarning


@pytest.mark.parametrize(
    "change, field",
    [
        ({"data": {"density": 1.5}}, "data.density"),
        ({"data": {"density": 0.0}}, "data.density"),
        ({"model": {"n_features": 0}}, "model.n_features"),
        ({"model": {"n_hidden": -1}}, "model.n_hidden"),
        ({"train": {"steps": 0}}, "train.steps"),
        ({"model": {"kind": "mlp"}}, "model.kind"),
        ({"data": {"importance": [1.0, 2.0]}}, "data.importance"),
        ({"grid": {"axes": {"density": [0.5, 2.0]}}}, "grid.axes.density"),
        ({"grid": {"axes": {"density": [[0.5, 0.5]]}}}, "grid.axes.density"),
        ({"grid": {"axes": {"sparsity": [0.5]}}}, "grid.axes.sparsity"),
        ({"grid": {"axes": {"lr": [-1.0]}}}, "grid.axes.lr"),
        ({"grid": {"axes": {"seed": [0, 0]}}}, "grid.axes.seed"),
        ({"grid": {"axes": {"density": [0.1, 0.3, 0.1]}}}, "grid.axes.density"),
        ({"train": {"stepz": 10}}, "train.stepz"),
        ({"model": {"n_features": "five"}}, "model.n_features"),
        ({"data": {"kind": "correlated", "set_size": 2}, "model": {"n_features": 3}}, "data.set_size"),
        ({"grid": {"axes": {"density": "log:0:1:5"}}}, "grid.axes.density"),
        ({"record": {"snapshots": -1}}, "record.snapshots"),
        ({"record": {"checkpoint_every": -5}}, "record.checkpoint_every"),
        # finite training sets (Henighan et al. 2023)
        ({"data": {"dataset_size": 0}}, "data.dataset_size"),
        ({"data": {"dataset_size": 2.5}}, "data.dataset_size"),
        ({"grid": {"axes": {"dataset_size": [10, 0]}}}, "grid.axes.dataset_size"),
        ({"grid": {"axes": {"dataset_size": [10, None]}}}, "grid.axes.dataset_size"),
        ({"grid": {"axes": {"dataset_size": "log:3:3:4"}}}, "grid.axes.dataset_size"),  # 3 four times
        ({"train": {"full_batch": True}}, "train.full_batch"),
        ({"data": {"dataset_size": 10}, "train": {"batch_size": 11}}, "train.batch_size"),
        ({"data": {"dataset_size": 10}, "train": {"batch_size": 8, "chunk_size": 4}}, "train.chunk_size"),
        ({"data": {"dataset_size": 10}, "train": {"full_batch": True, "chunk_size": 0}}, "train.chunk_size"),
        ({"data": {"normalize": "yes"}}, "data.normalize"),
        ({"record": {"eval_tail": 1.0}}, "record.eval_tail"),
        # structured features (toyjax.data.structure)
        ({"data": {"firing": {"profile": "pareto"}}}, "data.firing.profile"),
        ({"data": {"firing": {"profile": "constant", "decay": 0.5}}}, "data.firing.decay"),
        ({"data": {"firing": {"profile": "geometric", "decay": 1.5}}}, "data.firing.decay"),
        ({"data": {"firing": {"profile": "zipf", "exponent": 0}}}, "data.firing.exponent"),
        ({"data": {"firing": {"profile": "zipf", "p_max": 0.3, "p_min": 0.5}}}, "data.firing.p_min"),
        ({"data": {"magnitude": {"kind": "gamma"}}}, "data.magnitude.kind"),
        ({"data": {"magnitude": {"kind": "folded_normal", "std": 0}}}, "data.magnitude.std"),
        ({"data": {"magnitude": {"kind": "constant", "value": "big"}}}, "data.magnitude.value"),
        ({"data": {"magnitude": {"kind": "constant"}, "signed": True}}, "data.signed"),
        ({"data": {"hierarchy": {"parents": [-1, 0]}}}, "data.hierarchy.parents"),
        ({"data": {"hierarchy": {"parents": [-1, 2, 0]}}}, "data.hierarchy.parents"),
        ({"data": {"hierarchy": {"parents": [-1, 0, 0], "exclusive": True}}}, "data.hierarchy.exclusive"),
        ({"data": {"hierarchy": {"parents": [-1, 0, 0], "mutually_exclusive": "yes"}}},
         "data.hierarchy.mutually_exclusive"),
        ({"data": {"correlation": {"rank": 0}}}, "data.correlation.rank"),
        ({"data": {"correlation": {"rank": 1, "scale": -1.0}}}, "data.correlation.scale"),
        ({"data": {"correlation": {"rank": 1, "strength": 0.5}}}, "data.correlation.strength"),
    ],
)
def test_bad_values_name_their_field(tiny, change, field):
    cfg = tiny()
    for section, values in change.items():
        cfg.setdefault(section, {}).update(values)
    with pytest.raises(ConfigError) as err:
        toyjax.run(cfg)
    assert str(err.value).startswith(field + ":")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("data, message", [
    ({"firing": "zipf"}, r"^data\.firing: expected a mapping such as \{profile: constant\}, got 'zipf'$"),
    ({"kind": "correlated", "set_size": 3, "firing": {"profile": "zipf"}},
     r"^data\.firing: needs data\.kind=independent, got data\.kind=correlated$"),
    ({"kind": "anticorrelated", "set_size": 3, "hierarchy": {"parents": [-1, 0, 0]}},
     r"^data\.hierarchy: needs data\.kind=independent, got data\.kind=anticorrelated$"),
    ({"firing": {"profile": "geometric", "decay": 0.5}},  # r^i / mean r^j at density 1: 1/(1.75/3) = 1.71
     r"^data\.firing: feature 0 would fire with probability 1\.71 > 1; lower the density or flatten the profile$"),
])
def test_a_data_block_is_refused_in_one_line_before_anything_compiles(tiny, data, message, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("a runner was built for a bad config")

    monkeypatch.setattr(Runner, "__init__", never)
    with pytest.raises(ConfigError, match=message):
        toyjax.run(tiny(data=data))


def test_unknown_axis_lists_the_allowed_ones(tiny):
    with pytest.raises(ConfigError, match=r"^grid.axes.foo: unknown axis; allowed: density, extra_density, .*seed, "
                                          r"l1_coefficient, k, dict_size, source_cell$"):
        to_config(tiny({"foo": [1, 2]}))


def test_repeated_values_are_named(tiny):
    with pytest.raises(ConfigError, match=r"^grid.axes.seed: values must not repeat, got 0 twice$"):
        to_config(tiny({"seed": [0, 0]}))


def test_old_base_seed_spelling_still_works_and_warns(tiny):
    with pytest.warns(ToyjaxDeprecationWarning, match="train.seed is deprecated; use train.base_seed"):
        cfg = to_config(tiny(train={"seed": 3}))
    assert cfg.train.base_seed == 3


def test_run_info_comes_from_the_sweep_and_report_nodes():
    raw = {"sweep": {"name": "mine", "title": "my figure"}, "report": {"figure": "phase", "summaries": ["geometry"]},
           "model": {"n_features": 3}}
    info = run_info(raw, ["toyjax", "sweep=mine"])
    assert (info.preset, info.title, info.report.figure, info.report.summaries) == ("mine", "my figure", "phase",
                                                                                     ["geometry"])
    assert run_info({"model": {}}).preset is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert to_config(raw).model.n_features == 3  # the engine never sees sweep or report


def test_unequal_density_within_correlated_sets_is_refused(tiny):
    cfg = tiny({"density": [[0.1, 0.2, 0.1, 0.1]]}, model={"n_features": 4}, data={"kind": "correlated"})
    with pytest.raises(ConfigError, match="^data.density:"):
        toyjax.run(cfg)


@pytest.mark.parametrize("train, message", [
    ({"schedule": "warmup_cosine", "warmup_steps": 60},
     r"^train.warmup_steps: must be below train.steps \(60\), got 60; the cosine decay needs steps after the warm-up$"),
    ({"schedule": "warmup_cosine", "warmup_steps": 100},
     r"^train.warmup_steps: must be below train.steps \(60\), got 100"),
    ({"warmup_steps": 10}, r"^train.warmup_steps: only train.schedule=warmup_cosine warms up, got 10 with "
                           r"train.schedule=constant; set train.warmup_steps=0 or train.schedule=warmup_cosine$"),
    ({"schedule": "cosine", "warmup_steps": 1}, r"^train.warmup_steps: only train.schedule=warmup_cosine warms up"),
])
def test_a_warm_up_needs_its_schedule_and_steps_after_it(tiny, train, message):
    with pytest.raises(ConfigError, match=message):
        toyjax.run(tiny(train=train))


def test_a_preset_shortened_to_its_warm_up_is_refused_before_anything_runs():
    with pytest.raises(ConfigError, match=r"^train.warmup_steps: must be below train.steps \(250\), got 250;"):
        to_config(toyjax.compose("double_descent_small", ["train.steps=250"]))
    assert to_config(toyjax.compose("double_descent_small", ["train.steps=251"])).train.warmup_steps == 250


def test_too_few_steps_for_the_snapshots_says_to_lower_them(tiny):
    with pytest.raises(ConfigError, match=r"^record.snapshots: must be at most train.steps \(10\), got 16; "
                                          r"lower record.snapshots or raise train.steps$"):
        to_config({"train": {"steps": 10}})


def test_a_bounded_integer_says_between():
    with pytest.raises(ConfigError, match=r"^data.dataset_size: must be between 1 and 16777216, got 16777217$"):
        to_config({"data": {"dataset_size": 2**24 + 1}})


@pytest.mark.parametrize("raw, hint", [(None, ""), (3, ""),
                                       ("intro", r"; for the preset, toyjax.run\(toyjax.compose\('intro'\)\)")])
def test_run_says_what_it_takes(raw, hint):
    with pytest.raises(ConfigError, match=r"^config: expected a dict, a toyjax.Config or toyjax.compose\(PRESET, "
                                          rf"\[OVERRIDES\]\), got \w+ .*{hint}$"):
        toyjax.run(raw)
