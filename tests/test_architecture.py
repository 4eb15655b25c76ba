"""Toy models described as data: the description's forms, its checks, and the §9 activation penalty as an axis."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import toyjax
from toyjax.config import to_config
from toyjax.engine import blocks
from toyjax.errors import ConfigError
from toyjax.families import plan_of
from toyjax.families.toy import models
from toyjax.families.toy.architecture import SHORTHANDS, Architecture, architecture_of

DESCRIPTIONS = {
    "untied gelu with a hidden bias": {"encoder": "untied", "hidden_activation": "gelu", "hidden_bias": True},
    "solu, linear output": {"hidden_activation": "solu", "output_activation": "none"},
    "relu hidden on |x|": {"hidden_activation": "relu", "target": "abs"},
}


def test_a_shorthand_is_its_description():
    for name, arch in SHORTHANDS.items():
        assert architecture_of({"kind": name}) == arch
        assert architecture_of({"kind": "toy", **arch.describe()}) == arch
    assert architecture_of({"kind": "toy"}) == SHORTHANDS["relu_output"]
    assert SHORTHANDS["relu_hidden"].privileged and not SHORTHANDS["relu_output"].privileged
    assert not SHORTHANDS["abs_mlp"].tied and SHORTHANDS["abs_mlp"].feature_matrix_name == "W1"


def test_the_description_computes_what_it_says(key):
    arch = Architecture(encoder="untied", hidden_activation="solu", hidden_bias=True, output_activation="none",
                        target="abs")
    params = models.init(arch, 4, 3, 1.0, key=key)
    assert sorted(params) == ["W1", "W2", "b", "b_hidden"] and params["b_hidden"].shape == (3,)
    params = {**params, "b": jnp.array([0.1, -0.2, 0.3, -0.4]), "b_hidden": jnp.array([0.5, -0.5, 0.2])}
    x = jax.random.uniform(key, (4, 6)) * 2 - 1
    pre = params["W1"] @ x + params["b_hidden"][:, None]
    h = pre * np.exp(pre) / np.exp(pre).sum(axis=0)  # SoLU: x · softmax(x) over the hidden units
    np.testing.assert_allclose(models.hidden(arch, params, x), h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(models.apply(arch, params, x), params["W2"] @ h + params["b"][:, None], rtol=1e-5,
                               atol=1e-6)
    loss = models.penalized_loss(arch, params, x, jnp.ones(4), jnp.float32(0.3))
    error = np.sum((np.abs(x) - models.apply(arch, params, x)) ** 2, axis=0)
    np.testing.assert_allclose(loss, error + 0.3 * np.abs(h).sum(axis=0), rtol=1e-5)


@pytest.mark.parametrize("name", DESCRIPTIONS)
def test_a_described_model_trains_in_the_grid(name, tiny):
    described = DESCRIPTIONS[name]
    results = toyjax.run(tiny({"density": [1.0, 0.3]}, model={"kind": "toy", **described}))
    assert not results.diverged.any() and np.isfinite(results.eval_loss).all()
    assert ("W1" in results.params) == (described.get("encoder") == "untied")
    assert ("b_hidden" in results.params) == bool(described.get("hidden_bias"))
    assert results.config["model"]["hidden_activation"] == described["hidden_activation"]


def test_a_larger_activation_l1_leaves_sparser_hidden_activations(tiny):
    cfg = tiny({"activation_l1": [0.0, 0.03, 0.3]}, model={"kind": "relu_hidden", "n_features": 6, "n_hidden": 3},
               train={"steps": 400})
    results = toyjax.run(cfg)
    x = jax.random.uniform(jax.random.key(3), (6, 2048))
    l1 = [float(jnp.mean(jnp.abs(models.hidden("relu_hidden", {k: jnp.asarray(v[i]) for k, v in
                                                                results.params.items()}, x)).sum(axis=0)))
          for i in range(3)]
    assert l1[0] > l1[1] > l1[2], l1
    assert results.eval_loss[0] < results.eval_loss[2]  # the penalty costs reconstruction (eval_loss has none)


def test_no_penalty_leaves_the_program_without_it(tiny):
    assert not plan_of(to_config(tiny())).static.settings.activation_l1
    assert plan_of(to_config(tiny({"activation_l1": [0.0, 0.1]}))).static.settings.activation_l1
    assert plan_of(to_config(tiny(model={"activation_l1": 0.1}))).static.settings.activation_l1


def test_a_toy_blocks_own_values_are_the_penalty_and_only_when_the_run_has_it(tiny):
    """λ reaches a block in `Point.own`; without a penalty the block carries no array for it (no argument)."""
    def own(cfg):
        plan = plan_of(to_config(cfg))
        return blocks.block_arrays(plan, blocks.layout(plan, 2), 0, 0, 0).points.own

    assert own(tiny()) == {}
    np.testing.assert_array_equal(own(tiny({"activation_l1": [0.0, 0.1]}))["activation_l1"], np.float32([0, 0.1]))


@pytest.mark.parametrize("model, message", [
    ({"kind": "relu_hidden", "hidden_activation": "gelu"},
     "model.hidden_activation: model.kind=relu_hidden has hidden_activation 'relu', got 'gelu'; describe another "
     "model with model.kind=toy"),
    ({"kind": "toy", "encoder": "shared"}, "model.encoder: unknown value 'shared'; allowed: tied, untied"),
    ({"kind": "toy", "hidden_bias": "yes"}, "model.hidden_bias"),
    ({"kind": "sae", "encoder": "untied"}, "model.encoder: describes a toy model, not a model.kind=sae run"),
    ({"kind": "relu_output", "options": {"neurons": 3}}, "model.options: settings of a family of one's own"),
    ({"kind": "toy", "activation_l1": -0.1}, "model.activation_l1: must be >= 0, got -0.1"),
    ({"kind": "relu"}, "model.kind: unknown value 'relu'; allowed: linear, relu_output, relu_hidden, abs_mlp, toy"),
])
def test_a_bad_description_is_one_line_naming_the_field(tiny, model, message):
    with pytest.raises(ConfigError) as error:
        to_config(tiny(model=model))
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_a_family_that_cannot_be_imported_is_one_line(tiny):
    with pytest.raises(ConfigError, match=r"^model.kind: cannot import no_such_package.family \(No module"):
        plan_of(to_config(tiny(model={"kind": "no_such_package.family"})))
    with pytest.raises(ConfigError, match=r"^model.kind: json.decoder has no FAMILY"):
        plan_of(to_config(tiny(model={"kind": "json.decoder"})))


def test_a_variant_is_a_yaml_file():
    path = Path(__file__).resolve().parent.parent / "examples" / "untied_gelu.yaml"
    cfg = toyjax.compose(str(path), ["train.steps=40", "grid.axes.seed=1", "grid.axes.density=[0.1]",
                                     "record.eval_samples=16", "progress=false"])
    results = toyjax.run(cfg)
    assert results.dims == ("activation_l1", "density", "seed")
    assert set(results.params) == {"W1", "W2", "b", "b_hidden"} and not results.diverged.any()
