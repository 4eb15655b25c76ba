"""The per-model schema: axis specs, ranges, checks, and the `Point` fields of each grid point."""

from __future__ import annotations

import numpy as np
import pytest

from toyjax import axes
from toyjax.axes import AXES, Point, axis_values, point_arrays
from toyjax.config import to_config
from toyjax.families.sae.config import SAE_AXES


def test_range_specs(tiny):
    cfg = to_config(tiny({"density": "log:0.01:1:3", "lr": "lin:1:3:3", "seed": 4}))
    assert axis_values(cfg, "density") == pytest.approx([0.01, 0.1, 1.0])
    assert axis_values(cfg, "lr") == pytest.approx([1.0, 2.0, 3.0])
    assert axis_values(cfg, "seed") == [0, 1, 2, 3]


def test_dataset_size_is_an_integer_axis_a_range_is_rounded_and_one_value_is_not_a_count(tiny):
    cfg = to_config(tiny({"dataset_size": "log:3:300:5"}, train={"full_batch": True}))
    assert axis_values(cfg, "dataset_size") == [3, 9, 30, 95, 300]
    assert axes.largest(cfg, "dataset_size") == 300
    assert axis_values(to_config(tiny({"dataset_size": 40}, train={"full_batch": True})), "dataset_size") == [40]


def test_importance_and_density_vectors():
    np.testing.assert_allclose(axes.importance_vector(3, 0.9), [1.0, 0.9, 0.81], rtol=1e-6)
    np.testing.assert_allclose(axes.importance_vector(3, 1.0, extra=4.0), [1, 1, 4])
    np.testing.assert_allclose(axes.importance_vector(3, 0.5, explicit=[3, 2, 1]), [3, 2, 1])
    np.testing.assert_allclose(axes.density_vector(3, 0.05, extra=0.01), [0.05, 0.05, 0.01])


def test_every_point_field_comes_from_the_schema(tiny):
    cfg = to_config(tiny(model={"n_features": 3}, train={"lr": 0.02}, data={"extra_importance": 4.0}))
    arrays = point_arrays(cfg, {"density": 0.5, "init_scale": 2.0, "seed": 7})
    assert set(arrays) == set(Point._fields) - set(axes.OPTIONAL) - {"own"} | {"seed"}  # no training set: no T
    # each scalar Point field is an axis of that name
    assert set(axes.SCALARS) | set(axes.OPTIONAL) <= set(AXES)
    finite = point_arrays(cfg, {"dataset_size": 30, "seed": 7})
    # the SAE's values and the toy's λ of the §9 penalty come from their family (`Family.values`), in `own`
    assert set(finite) == set(Point._fields) - {"own"} | {"seed"}
    assert not set(finite) & (set(SAE_AXES) | {"activation_l1"})
    assert finite["dataset_size"] == np.float32(30)
    np.testing.assert_allclose(arrays["density"], [0.5, 0.5, 0.5])
    np.testing.assert_allclose(arrays["importance"], [1, 1, 4])
    assert (arrays["lr"], arrays["init_scale"], arrays["seed"]) == (np.float32(0.02), np.float32(2.0), 7)


def test_a_point_holds_the_shared_fields_and_the_familys_own_values_apart():
    """No family's field is a `Point` field: the arrays a family adds go to `own`, the seed to neither."""
    assert Point._fields == ("density", "importance", "lr", "weight_decay", "init_scale", "dataset_size", "own")
    shared = {"density": np.ones((2, 3)), "importance": np.ones((2, 3)), "lr": np.ones(2), "weight_decay": np.ones(2),
              "init_scale": np.ones(2)}
    point = axes.to_point({**shared, "k": np.int32([2, 3]), "seed": np.int32([0, 1])})
    assert point.own.keys() == {"k"} and point.dataset_size is None
    assert axes.to_point(shared).own == {}


def test_every_axis_default_is_a_config_field(tiny):
    cfg = to_config(tiny())
    for axis in AXES.values():
        axes.get_field(cfg, axis.default)  # raises AttributeError for a stale field name
