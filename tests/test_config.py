"""Bad input fails early, with a one-line message naming the field."""

from __future__ import annotations

import pytest

import toyjax
from toyjax.config import ConfigError, axis_values, to_config


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
        ({"train": {"stepz": 10}}, "train.stepz"),
        ({"model": {"n_features": "five"}}, "model.n_features"),
        ({"data": {"kind": "correlated", "set_size": 2}, "model": {"n_features": 3}}, "data.set_size"),
        ({"grid": {"axes": {"density": "log:0:1:5"}}}, "grid.axes.density"),
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


def test_range_specs(tiny):
    cfg = to_config(tiny({"density": "log:0.01:1:3", "lr": "lin:1:3:3", "seed": 4}))
    assert axis_values(cfg, "density") == pytest.approx([0.01, 0.1, 1.0])
    assert axis_values(cfg, "lr") == pytest.approx([1.0, 2.0, 3.0])
    assert axis_values(cfg, "seed") == [0, 1, 2, 3]


def test_unequal_density_within_correlated_sets_is_refused(tiny):
    cfg = tiny({"density": [[0.1, 0.2, 0.1, 0.1]]}, model={"n_features": 4}, data={"kind": "correlated"})
    with pytest.raises(ConfigError, match="^data.density:"):
        toyjax.run(cfg)
