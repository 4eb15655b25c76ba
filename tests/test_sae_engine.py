"""SAE grids in the engine: bad input refused before compiling, masked dictionaries, fixed bits, dead latents,
resampling, and sources (synthetic, a saved run, a preset trained in the same job)."""

from __future__ import annotations

import copy

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import toyjax
from toyjax.analysis.summary import summarize
from toyjax.config import to_config
from toyjax.data import structure
from toyjax.engine import runner as runner_lib
from toyjax.engine.runner import Runner
from toyjax.engine.train import model_keys
from toyjax.errors import CheckpointError, ConfigError
from toyjax.families import plan_of
from toyjax.families.sae import models as sae
from toyjax.families.sae import sources
from toyjax.families.sae import train as sae_train
from toyjax.families.sae.sources import plan_run

SAE = {
    "model": {"kind": "sae", "n_features": 6, "n_hidden": 3},
    "data": {"density": 0.3},
    "sae": {"kind": "relu", "width": 8, "l1_coefficient": 0.1},
    "train": {"steps": 80, "batch_size": 64, "lr": 3e-3, "weight_decay": 0.0},
    "record": {"snapshots": 3},
    "grid": {"axes": {}},
    "progress": False,
}


def sae_cfg(axes=None, **sections) -> dict:
    cfg = copy.deepcopy(SAE)
    cfg["grid"]["axes"] = dict(axes or {})
    for name, values in sections.items():
        cfg[name].update(values)
    return cfg


BAD = [
    (sae_cfg(sae={"widht": 8}), r"^sae\.widht: unknown key; allowed: kind, width, "),
    (sae_cfg(sae={"kind": "vanilla"}), r"^sae\.kind: "),
    (sae_cfg({"k": [2, 9]}, sae={"kind": "topk"}), r"^grid\.axes\.k: must be at most the dictionary size, got k=9 "
                                                  r"with a dictionary of 8 latents$"),
    (sae_cfg({"dict_size": [4, 8]}, sae={"kind": "topk", "k": 5}), r"^sae\.k: .* got k=5 with a dictionary of 4 "
                                                                   r"latents \(grid\.axes\.dict_size\)$"),
    (sae_cfg({"k": [1, 3]}, sae={"kind": "topk", "dict_size": 2}), r"^grid\.axes\.k: .* got k=3 with a dictionary of "
                                                                  r"2 latents \(sae\.dict_size\)$"),
    (sae_cfg({"k": [2, 9]}, sae={"kind": "batchtopk"}), r"^grid\.axes\.k: must be at most the dictionary size, "
                                                       r"got k=9 with a dictionary of 8 latents$"),
    (sae_cfg(sae={"kind": "matryoshka"}), r"^sae\.prefixes: a matryoshka SAE needs its nested dictionary sizes"),
    (sae_cfg(sae={"kind": "matryoshka", "prefixes": "2,4"}), r"^sae\.prefixes: expected a list of dictionary sizes"),
    (sae_cfg(sae={"kind": "matryoshka", "prefixes": [0, 4]}), r"^sae\.prefixes: must be >= 1, got 0$"),
    (sae_cfg(sae={"kind": "matryoshka", "prefixes": [4, 2]}), r"^sae\.prefixes: must increase strictly, got \[4, 2\]$"),
    (sae_cfg(sae={"kind": "matryoshka", "prefixes": [2, 12]}), r"^sae\.prefixes: must be at most the dictionary "
                                                               r"size, got 12 with a dictionary of 8 latents$"),
    (sae_cfg({"dict_size": [4, 8]}, sae={"kind": "matryoshka", "k": 2, "prefixes": [2, 6]}),
     r"^sae\.prefixes: .* got 6 with a dictionary of 4 latents \(grid\.axes\.dict_size\)$"),
    (sae_cfg(sae={"kind": "batchtopk", "prefixes": [2]}), r"^sae\.prefixes: only a matryoshka SAE has nested "
                                                          r"prefixes, not a batchtopk SAE \(got \[2\]\)$"),
    (sae_cfg({"l1_coefficient": [0.1, -0.5]}), r"^grid\.axes\.l1_coefficient: must be >= 0, got -0.5$"),
    (sae_cfg(sae={"l1_coefficient": -1.0}), r"^sae\.l1_coefficient: must be >= 0, got -1.0$"),
    (sae_cfg({"dict_size": [4, 12]}), r"^grid\.axes\.dict_size: must be at most sae\.width=8, got 12$"),
    (sae_cfg(sae={"dict_size": 9}), r"^sae\.dict_size: must be at most sae\.width=8, got 9$"),
    (sae_cfg({"source_cell": [0, 1]}), r"^grid\.axes\.source_cell: the source has 1 cell \(0: synthetic features\), "
                                       r"got 1$"),
    (sae_cfg(sae={"source_cell": 2}), r"^sae\.source_cell: the source has 1 cell \(0: synthetic features\), got 2$"),
    (sae_cfg(sae={"eval_samples": 1}), r"^sae\.eval_samples: must be >= 1024, got 1$"),
    (sae_cfg(sae={"tied": "yes"}), r"^sae\.tied: expected true or false, got 'yes'$"),
    (sae_cfg(sae={"resample_steps": "40"}), r"^sae\.resample_steps: expected a step or a list of steps, got '40'$"),
    (sae_cfg(sae={"resample_steps": 500}), r"^sae\.resample_steps: must be between 1 and 80, got 500$"),
    (sae_cfg(data={"dataset_size": 1000}), r"^data\.dataset_size: an SAE trains on a fresh batch of its source's "
                                           r"activations every step; finite training sets are for toy models; "
                                           r"got 1000$"),
    (sae_cfg({"dataset_size": [10, 100]}), r"^grid\.axes\.dataset_size: an SAE trains on a fresh batch"),
    (sae_cfg(sae={"source": "preset:intro", "source_overrides": ["hydra.run.dir=/tmp/x"]}),
     r"^sae\.source_overrides: hydra\.run\.dir=/tmp/x is a Hydra setting, not one of the source's config"),
    (sae_cfg(sae={"source": "preset:intro", "source_overrides": ["++hydra.job.chdir=true"]}),
     r"^sae\.source_overrides: \+\+hydra\.job\.chdir=true is a Hydra setting"),
    (sae_cfg(sae={"source_overrides": ["train.steps=5"]}), r"^sae\.source_overrides: only a preset:NAME source"),
    (sae_cfg(sae={"source": "preset:intro"}, data={"density": 1.0}),
     r"^sae\.source: preset:intro is a toy grid the toyjax command trains"),
    (sae_cfg(sae={"source": "/nowhere"}), r"^sae\.source: expected 'synthetic', 'preset:NAME' or a toy run's"),
    (sae_cfg(sae={"density_decay": 0.5}, data={"density": 0.9}), r"^sae\.density_decay: the first feature's density"),
    (sae_cfg(sae={"density_decay": 0.5}, data={"firing": {"profile": "zipf"}}),
     r"^sae\.density_decay: data\.firing sets the features' profile; give the decay there \(data\.firing: "
     r"\{profile: geometric, decay: 0\.5\}\) and leave sae\.density_decay at 1$"),
    ({"model": {"kind": "relu_output"}, "grid": {"axes": {"l1_coefficient": [0.1]}}},
     r"^grid\.axes\.l1_coefficient: an axis of SAE runs \(model\.kind: sae\), not of relu_output models$"),
]

# An axis a run does not read would train identical models: each family declares the axes each of its kinds
# reads (`toyjax.families.schemas.READS`), and any other is refused, on the grid or (where no kind of the family
# reads it) as a value set away from its default.
UNREAD = [
    (sae_cfg({"l1_coefficient": [0.1, 0.3]}, sae={"kind": "topk"}), "grid.axes.l1_coefficient: a topk SAE does not"),
    (sae_cfg({"k": [1, 2]}), "grid.axes.k: a relu SAE does not read it"),
    (sae_cfg({"k": [1, 2]}, sae={"kind": "relu_unit"}), "grid.axes.k: a relu_unit SAE does not read it"),
    (sae_cfg({"k": [1, 2]}, sae={"kind": "jumprelu"}), "grid.axes.k: a jumprelu SAE does not read it"),
    (sae_cfg({"k": [1, 2]}, sae={"kind": "gated"}), "grid.axes.k: a gated SAE does not read it"),
    (sae_cfg({"l1_coefficient": [0.1, 0.3]}, sae={"kind": "batchtopk"}), "grid.axes.l1_coefficient: a batchtopk SAE"),
    (sae_cfg({"init_scale": [1.0, 2.0]}), "grid.axes.init_scale: an SAE does not read it"),
    (sae_cfg({"importance_decay": [1.0, 0.9]}), "grid.axes.importance_decay: an SAE does not read it"),
    (sae_cfg({"extra_importance": [1.0, 2.0]}), "grid.axes.extra_importance: an SAE does not read it"),
    (sae_cfg({"activation_l1": [0.0, 0.1]}), "grid.axes.activation_l1: an SAE does not read it"),
    (sae_cfg(model={"init_scale": 2.0}), "model.init_scale: an SAE does not read it"),
    (sae_cfg(data={"importance_decay": 0.9}), "data.importance_decay: an SAE does not read it"),
    (sae_cfg(model={"activation_l1": 0.1}), "model.activation_l1: an SAE does not read it"),
]
SAE_KEYS_ON_TOYS = [
    ({"model": {"kind": "relu_output"}, "sae": {"width": 4}}, "sae.width: a key of SAE runs (model.kind: sae), not "
                                                               "of relu_output models (got 4)"),
    ({"model": {"kind": "relu_hidden"}, "sae": {"kind": "topk"}}, "sae.kind: a key of SAE runs"),
    ({"model": {"kind": "linear"}, "sae": {"l1_coefficient": 0.3}}, "sae.l1_coefficient: a key of SAE runs"),
    ({"model": {"kind": "toy"}, "sae": {"source": "preset:intro"}}, "sae.source: a key of SAE runs"),
    ({"model": {"kind": "relu_output"}, "sae": {"resample_steps": [10]}}, "sae.resample_steps: a key of SAE runs"),
]


@pytest.mark.parametrize(("cfg", "message"), UNREAD + SAE_KEYS_ON_TOYS,
                         ids=[m.split(":")[0] + "-" + str(i) for i, (_, m) in enumerate(UNREAD + SAE_KEYS_ON_TOYS)])
def test_an_axis_or_key_the_run_does_not_read_is_refused_in_one_line(cfg, message):
    with pytest.raises(ConfigError) as e:
        to_config(cfg)
    assert str(e.value).startswith(message) and "\n" not in str(e.value), str(e.value)


@pytest.mark.parametrize(("kind", "axes"), [("relu", {"l1_coefficient": [0.1, 0.3], "lr": [1e-3, 3e-3]}),
                                            ("relu_unit", {"l1_coefficient": [0.1], "weight_decay": [0.0, 0.1]}),
                                            ("jumprelu", {"l1_coefficient": [0.1], "density": [0.1, 0.3]}),
                                            ("topk", {"k": [1, 2], "dict_size": [4, 8], "extra_density": [0.1]})])
def test_every_axis_a_kind_reads_is_accepted(kind, axes):
    to_config(sae_cfg({**axes, "seed": 2, "source_cell": [0]}, sae={"kind": kind}))


@pytest.mark.parametrize(("cfg", "message"), BAD, ids=[m.split(":")[0].strip("^\\").replace("\\", "") for _, m in BAD])
def test_bad_input_is_one_line_naming_the_key_before_anything_compiles(cfg, message, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("a runner was built for a bad config")

    monkeypatch.setattr(runner_lib.Runner, "__init__", never)
    with pytest.raises(ConfigError, match=message) as e:
        toyjax.run(cfg)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("kind", ["relu", "topk"])
def test_a_masked_narrower_dictionary_trains_as_a_dictionary_of_that_width(kind):
    """Width 12 with dict_size 8 trains the same SAE as width 8, to float rounding; the wider one is its own."""
    settings = {"kind": kind, "k": 2}
    wide = toyjax.run(sae_cfg({"dict_size": [8, 12]}, sae={**settings, "width": 12}))
    narrow = toyjax.run(sae_cfg(sae={**settings, "width": 8}))
    for name in ("W_dec", "W_enc", "b_enc", "b_dec"):
        got, want = wide.params[name][0], narrow.params[name]
        if name == "W_dec":
            got = got[:, :8]
        elif name in ("W_enc", "b_enc"):
            got = got[:8]
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, err_msg=name)
    for name in ("l0", "fraction_variance_explained", "features_to_latents_all"):
        np.testing.assert_allclose(wide.sae[name][0], narrow.sae[name], rtol=1e-6, err_msg=name)
    np.testing.assert_allclose(wide.loss[0], narrow.loss, rtol=1e-6)
    assert not np.array_equal(wide.params["W_dec"][1][:, :8], narrow.params["W_dec"])  # 12 latents learn otherwise
    start = sae.init_sae(kind, 3, 12, key=model_keys(jnp.uint32(0), jnp.int32(0)).init)
    # masked latents never learn: still at their init (a step of Adam would move them by about lr = 3e-3)
    np.testing.assert_allclose(wide.params["W_enc"][0][8:], start["W_enc"][8:], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(wide.params["W_dec"][0][:, 8:], start["W_dec"][:, 8:], rtol=1e-6, atol=1e-7)


def test_a_sweep_over_k_and_the_prefix_sizes_is_one_program_whose_prefixes_each_reconstruct():
    """A Matryoshka grid over k compiles once; other k and prefix sizes (a list of the same length) reuse it. Its
    evaluation reads the latents at the threshold estimated in training, and each prefix alone explains variance."""
    settings = {"kind": "matryoshka", "eval_samples": 1024}
    first = toyjax.run(sae_cfg({"k": [1, 2]}, sae={**settings, "prefixes": [2, 4]}, train={"steps": 200}))
    again = toyjax.run(sae_cfg({"k": [3, 1]}, sae={**settings, "prefixes": [1, 6]}, train={"steps": 200}))
    assert first.timing["compile_s"] > 0 and again.timing["compile_s"] == 0.0
    assert np.all(first.sae["threshold"] > 0) and np.all(again.sae["threshold"] > 0)
    features = first.sae["features"][1]  # (d, n): k = 2
    x = np.where(np.random.default_rng(0).random((6, 4096)) < 0.3, np.random.default_rng(1).random((6, 4096)), 0)
    h = jnp.asarray(features @ x, jnp.float32)
    params = {name: jnp.asarray(value[1]) for name, value in first.params.items()}
    f = sae.inference_latents("matryoshka", params, h, jnp.ones(8, bool), jnp.int32(2), first.sae["threshold"][1])
    variance = np.sum(np.var(np.asarray(h), axis=1))
    explained = [1 - np.mean(np.sum((h - sae.decode(params, f.at[m:].set(0.0))) ** 2, axis=0)) / variance
                 for m in (2, 4, 8)]
    assert 0.3 < explained[0] < explained[1] < explained[2], explained


def test_a_models_bits_do_not_depend_on_the_grid_or_its_blocks():
    grid = toyjax.run(sae_cfg({"l1_coefficient": [0.03, 0.1, 0.3], "dict_size": [4, 8], "seed": 2},
                              grid={"block_size": 4}))
    alone = toyjax.run(sae_cfg({"l1_coefficient": [0.1], "dict_size": [4], "seed": [1]}, grid={"block_size": 4}))
    for name, value in grid.params.items():
        np.testing.assert_array_equal(value[1, 0, 1], alone.params[name][0, 0, 0], err_msg=name)
    np.testing.assert_array_equal(grid.sae["features_to_latents_all"][1, 0, 1], alone.sae["features_to_latents_all"])
    np.testing.assert_array_equal(grid.history["loss"][1, 0, 1], alone.history["loss"][0, 0, 0])


def engine_of(cfg: dict):
    conf, plan = plan_run(to_config(cfg))
    runner = Runner(plan, conf)
    return plan.static, runner.programs.engine, runner.block(0)


def silenced(state, latent: int):
    """`state` with one latent's encoder bias so low that it can never fire."""
    return state._replace(params={**state.params, "b_enc": state.params["b_enc"].at[:, latent].set(-1e3)})


def test_an_sae_blocks_own_values_are_its_own_and_the_shared_point_has_none():
    _, _, block = engine_of(sae_cfg({"l1_coefficient": [0.0, 0.1]}))
    assert set(block.points.own) == {"source", "learned", "l1_coefficient", "k", "dict_size"}
    np.testing.assert_array_equal(block.points.own["l1_coefficient"][:2], np.float32([0, 0.1]))
    assert block.points.dataset_size is None


def test_an_sae_run_measures_its_dictionary_against_the_truth_and_one_that_does_not_fire_scores_nothing():
    """MCC, the matched latents' precision, recall and F1, shrinkage and MMCS over the firing latents reach
    `Results.sae` and the ``sae`` summary; an L1 so strong that no latent fires leaves MMCS 0, not its
    decoder's leftover directions (those stay in the all-latents number)."""
    results = toyjax.run(sae_cfg({"l1_coefficient": [0.01, 1000.0]}, train={"lr": 0.03}))
    s = results.sae
    assert s["matched"].shape == (2, 6) and sorted(s["matched"][0]) == sorted(set(s["matched"][0]))
    assert s["fraction_dead"][1] == 1.0 and s["features_to_latents_learned"][1] == 0.0
    assert s["features_to_all_latents_learned"][1] > 0.3 and s["f1"][1] == 0.0
    assert s["mcc"][0] > 0.8 and s["recall"][0] > 0.9 and s["precision"][0] > 0 and s["shrinkage"][0] > 0
    summary = summarize(results, ["sae"])["sae"]
    for name in ("mcc", "precision", "recall", "f1", "shrinkage", "mmcs", "mmcs_all_latents"):
        assert summary[name]["max"] is not None, name
    assert summary["mmcs"]["min"] == 0.0 and summary["mmcs_all_latents"]["min"] > 0.3
    assert "absorption" not in s and "hedging" not in s  # no hierarchy in the data: no parent → child pair


def test_the_engine_counts_the_steps_each_latent_goes_without_firing():
    static, engine, block = engine_of(sae_cfg({"l1_coefficient": [0.0, 0.1]}, sae={"dead_window": 30}))
    state = silenced(jax.jit(engine.init)(block), latent=3)
    state = jax.jit(engine.train)(state, block, jnp.int32(0), jnp.int32(50))
    idle = np.asarray(state.extra.idle)
    np.testing.assert_array_equal(idle[:, 3], 50)  # never fired: counted every step
    assert np.all(idle[:, np.arange(8) != 3] < 30)  # the rest fire at least once in 30 steps
    point = jax.tree.map(lambda a: a[0], block.points)
    dead = sae_train.dead(static, point, sae_train.Latents(state.extra.idle[0]))
    np.testing.assert_array_equal(np.asarray(dead), np.arange(8) == 3)
    records = jax.jit(engine.finish)(state, block)
    assert np.asarray(records["sae"]["dead"])[:, 3].all()  # and it is dead on the evaluation batch too
    assert np.asarray(records["sae"]["fraction_dead"]) == pytest.approx(1 / 8)


def test_resampling_revives_dead_latents_on_the_inputs_reconstructed_worst():
    cfg = sae_cfg(sae={"dead_window": 20, "resample_steps": [40]})
    static, engine, block = engine_of(cfg)
    state = silenced(jax.jit(engine.init)(block), latent=5)
    before = jax.jit(engine.train)(state, block, jnp.int32(0), jnp.int32(39))
    assert before.extra.idle[0, 5] == 39 and np.asarray(before.params["b_enc"])[0, 5] == -1e3
    after = jax.jit(engine.train)(before, block, jnp.int32(39), jnp.int32(40))
    W_dec, W_enc = np.asarray(after.params["W_dec"][0]), np.asarray(after.params["W_enc"][0])
    assert np.asarray(after.params["b_enc"])[0, 5] == 0 and after.extra.idle[0, 5] == 0
    assert np.linalg.norm(W_dec[:, 5]) == pytest.approx(1, rel=1e-5)
    cos = W_enc[5] @ W_dec[:, 5] / np.linalg.norm(W_enc[5])
    assert cos == pytest.approx(1, rel=1e-5)  # the encoder row points along its new decoder column
    live = np.linalg.norm(W_enc[np.arange(8) != 5], axis=1).mean()
    assert np.linalg.norm(W_enc[5]) == pytest.approx(0.2 * live, rel=0.05)  # the row norms move a little in a step
    adam = after.opt_state[0]
    for moment in (adam.mu, adam.nu):
        assert not np.any(np.asarray(moment["W_enc"])[0, 5]) and np.asarray(moment["b_enc"])[0, 5] == 0
    trained = jax.jit(engine.train)(after, block, jnp.int32(40), jnp.int32(80))
    assert trained.extra.idle[0, 5] < 20  # it fires again
    assert not np.asarray(jax.jit(engine.finish)(trained, block)["sae"]["dead"])[0, 5]
    _, plain, block = engine_of(sae_cfg(sae={"dead_window": 20}))
    never = jax.jit(plain.train)(silenced(jax.jit(plain.init)(block), 5), block, jnp.int32(0), jnp.int32(80))
    assert never.extra.idle[0, 5] == 80  # without resampling it stays dead


def test_a_dictionary_whose_every_latent_is_dead_is_resampled_to_latents_that_fire():
    """With no live row to take a norm from, the reborn encoder rows take 0.2 × the dead rows' mean norm, not 0."""
    cfg = sae_cfg(sae={"dead_window": 20, "resample_steps": [40], "width": 2})
    _, engine, block = engine_of(cfg)
    state = jax.jit(engine.init)(block)
    state = state._replace(params={**state.params, "b_enc": jnp.full_like(state.params["b_enc"], -1e3)})
    before = jax.jit(engine.train)(state, block, jnp.int32(0), jnp.int32(39))
    rows = np.linalg.norm(np.asarray(before.params["W_enc"][0]), axis=1).mean()
    after = jax.jit(engine.train)(before, block, jnp.int32(39), jnp.int32(40))
    np.testing.assert_allclose(np.linalg.norm(np.asarray(after.params["W_enc"][0]), axis=1), 0.2 * rows, rtol=0.05)
    trained = jax.jit(engine.train)(after, block, jnp.int32(40), jnp.int32(80))
    assert np.all(np.asarray(trained.extra.idle[0]) < 20)  # both fire again


def shapeless(axes=None, **sections) -> dict:
    """`sae_cfg` with no shapes or data of its own (the model section names only the kind), for a trained source."""
    cfg = sae_cfg(axes, **sections)
    cfg["model"], cfg["data"] = {"kind": "sae", **sections.get("model", {})}, dict(sections.get("data", {}))
    return cfg


def on_source(directory, axes=None, **sections) -> dict:
    """`shapeless` on a saved toy run, whose shapes and data it takes."""
    cfg = shapeless(axes, **sections)
    cfg["sae"]["source"] = str(directory)
    return cfg


def test_a_saved_toy_run_is_a_source_of_its_cells(tmp_path, tiny):
    toy = toyjax.run(tiny({"density": [1.0, 0.1], "seed": 2}, model={"n_features": 5, "n_hidden": 2}))
    toy.save(tmp_path / "toy")
    cfg = on_source(tmp_path / "toy", {"source_cell": "all"})
    conf, plan = plan_run(to_config(cfg))
    assert (conf.model.n_features, conf.model.n_hidden, conf.grid.axes["source_cell"]) == (5, 2, [0, 1])
    results = toyjax.run(cfg)
    best = np.argmin(toy.eval_loss, axis=1)
    for cell in range(2):
        np.testing.assert_array_equal(results.sae["features"][cell], toy.params["W"][cell, best[cell]])
        np.testing.assert_array_equal(results.density[cell], toy.density[cell, 0])
    with pytest.raises(ConfigError, match=r"^grid\.axes\.density: an SAE on a trained source reads"):
        toyjax.run(on_source(tmp_path / "toy", {"density": [0.1]}))


@pytest.fixture(scope="module")
def toy_source(tmp_path_factory):
    """A saved toy run (n=6, m=2, correlated pairs) of two cells, lr 1e-3 and 1e9: every seed of the second
    diverges."""
    from tests.conftest import TINY

    cfg = copy.deepcopy(TINY)
    cfg.update(model={"kind": "relu_output", "n_features": 6, "n_hidden": 2}, data={"kind": "correlated"})
    cfg["grid"]["axes"] = {"lr": [1e-3, 1e9], "seed": 2}
    results = toyjax.run(cfg)
    assert results.diverged[1].all() and not results.diverged[0].any()
    return results.save(tmp_path_factory.mktemp("toy") / "run")


@pytest.mark.parametrize(("sections", "message"), [
    ({"data": {"density": 0.5}}, r"^data\.density: an SAE on a trained source reads each source cell's own data; "
                                 r"vary it in the source \(sae\.source_overrides\) and use the source_cell axis; "
                                 r"got 0\.5$"),
    ({"data": {"extra_density": 0.1}}, r"^data\.extra_density: an SAE on a trained source reads"),
    ({"data": {"importance_decay": 0.9}}, r"^data\.importance_decay: an SAE on a trained source reads"),
    ({"data": {"firing": {"profile": "zipf"}}}, r"^data\.firing: an SAE on a trained source reads each source cell's "
                                                r"own densities; set the profile in the source"),
    ({"model": {"n_features": 7}}, r"^model\.n_features: the source fixes it \(6\), got 7; leave it unset: an SAE on a "
                                   r"trained source takes the source's shapes and data$"),
    ({"model": {"n_hidden": 3}}, r"^model\.n_hidden: the source fixes it \(2\), got 3; leave it unset"),
    ({"model": {"n_features": 6}, "data": {"kind": "anticorrelated"}},
     r"^data\.kind: the source fixes it \('correlated'\), got 'anticorrelated'"),
    ({"data": {"set_size": 3}}, r"^data\.set_size: the source fixes it \(2\), got 3"),
])
def test_what_a_trained_source_fixes_is_refused_when_set_otherwise(toy_source, sections, message):
    with pytest.raises(ConfigError, match=message):
        plan_run(to_config(on_source(toy_source, {"source_cell": [0]}, **sections)))


def test_what_a_trained_source_fixes_is_adopted_when_unset_or_equal(toy_source):
    conf, _ = plan_run(to_config(on_source(toy_source, {"source_cell": [0]}, model={"n_features": 6})))
    assert (conf.model.n_features, conf.model.n_hidden, conf.data.kind, conf.data.set_size) == (6, 2, "correlated", 2)


def test_source_cell_all_in_the_sae_section_is_the_axis_of_every_cell(toy_source):
    """``sae.source_cell=all``, as the README documents it, trains an SAE on each cell (the axis first)."""
    cfg = on_source(toy_source, {"l1_coefficient": [0.1, 0.3]}, sae={"source_cell": "all"})
    with pytest.raises(ConfigError, match=r"cell 1 \(lr 1e\+09\)"):
        plan_run(to_config(cfg))
    source = sources.load(to_config(cfg))
    conf, plan = plan_run(to_config(cfg), source._replace(diverged=None))
    assert list(conf.grid.axes) == ["source_cell", "l1_coefficient"] and conf.grid.axes["source_cell"] == [0, 1]
    assert conf.sae.source_cell == 0 and plan.grid_shape == (2, 2)
    conf, plan = plan_run(to_config(sae_cfg({"l1_coefficient": [0.1]}, sae={"source_cell": "all"})))
    assert conf.grid.axes == {"source_cell": [0], "l1_coefficient": [0.1]} and plan.grid_shape == (1, 1)
    conf, _ = plan_run(to_config(on_source(toy_source, {"source_cell": ["all"]})), source._replace(diverged=None))
    assert conf.grid.axes == {"source_cell": [0, 1]}


def test_a_source_cell_with_no_finite_model_is_refused_before_training(toy_source, monkeypatch):
    """Every seed of cell 1 diverged: an SAE on it would diverge too. The other cell trains."""
    def never(*args, **kwargs):
        raise AssertionError("a runner was built for a diverged source")

    with monkeypatch.context() as m:
        m.setattr(runner_lib.Runner, "__init__", never)
        with pytest.raises(ConfigError) as e:
            toyjax.run(on_source(toy_source, {"source_cell": [0, 1]}))
    assert str(e.value) == (f"sae.source: a toy run (relu_output) in {toy_source} has no finite model in cell 1 "
                            "(lr 1e+09): every seed diverged; retrain it (a lower train.lr, say) or leave that cell "
                            "out (grid.axes.source_cell)")
    results = toyjax.run(on_source(toy_source, {"source_cell": [0]}, train={"steps": 5}))
    assert not results.diverged.any()


def test_the_command_lines_short_forms_of_sae_keys():
    """``sae.resample_steps=100`` is one step; ``sae.source_cell=all`` every cell of the source (one, synthetic)."""
    conf, plan = plan_run(to_config(toyjax.compose("sae_frontier_relu", ["sae.resample_steps=100"])))
    assert plan.static.settings.resample_steps == (100,)
    conf, plan = plan_run(to_config(toyjax.compose("sae_frontier_relu", ["sae.source_cell=all"])))
    assert conf.grid.axes["source_cell"] == [0] and plan.dims == ("source_cell", "l1_coefficient", "seed")


def test_a_preset_source_is_planned_from_its_plan_without_training(tiny):
    toy = to_config(tiny({"density": [1.0, 0.3, 0.1], "seed": 4}, model={"kind": "relu_hidden", "n_features": 5}))
    source = sources.from_plan(toy, plan_of(toy))
    assert source.W.shape == (3, 2, 5) and source.labels == ["density 1", "density 0.3", "density 0.1"]
    np.testing.assert_allclose(source.density[:, 0], [1.0, 0.3, 0.1])
    conf, plan = plan_run(to_config(shapeless({"source_cell": "all"})), source)
    assert conf.sae.source_activation == "relu" and plan.grid_shape == (3,)
    assert conf.model.n_features == 5 and plan.points["source"].shape == (3, 2, 5)


def test_a_source_is_read_by_its_architecture(tiny):
    """relu for a ReLU hidden activation, linear for none, whatever the kind is called; anything the SAE family
    cannot read is refused in one line naming sae.source."""
    assert sources.source_activation({"kind": "abs_mlp"}) == "relu"  # a run saved before the description
    assert sources.source_activation({"kind": "linear"}) == sources.source_activation({"kind": "relu_output"}) \
        == "linear"
    toy = to_config(tiny({"density": [1.0, 0.3]}, model={"kind": "toy", "hidden_activation": "relu", "n_features": 5}))
    assert sources.from_plan(toy, plan_of(toy)).settings["activation"] == "relu"
    for fields, got in (({"hidden_activation": "gelu"}, "got hidden_activation gelu"),
                        ({"hidden_activation": "relu", "hidden_bias": True}, "got a hidden bias")):
        toy = to_config(tiny(model={"kind": "toy", **fields}))
        with pytest.raises(ConfigError, match=f"^sae.source: an SAE reads W x or ReLU\\(W x\\) .*; {got}$"):
            sources.from_plan(toy, plan_of(toy))


def test_synthetic_features_draw_their_density_by_the_decay_scheme():
    results = toyjax.run(sae_cfg(sae={"density_decay": 0.8}, data={"density": 0.2}, train={"steps": 4}))
    profile = 0.8 ** np.arange(6)
    np.testing.assert_allclose(results.density, 0.2 * profile / profile.mean(), rtol=1e-6)
    assert results.density.mean() == pytest.approx(0.2)


def test_synthetic_features_take_the_datas_structure():
    """Zipf firing, constant magnitudes, a hierarchy and correlated firings feed a synthetic source; its eval loss,
    a plain batch's as always for an SAE, is said to be Monte Carlo in results.json; the SAE's mean absorption
    rate and hedging over the hierarchy's parent → child pairs reach `Results.sae` and the ``sae`` summary."""
    zipf = {"profile": "zipf", "p_max": 0.5, "p_min": 0.05}
    structured = {"density": 1.0, "firing": zipf, "magnitude": {"kind": "constant", "value": 2.0},
                  "hierarchy": {"parents": [-1, 0, 0, -1, 3, 3], "mutually_exclusive": True},
                  "correlation": {"rank": 2, "scale": 0.3}}
    results = toyjax.run(sae_cfg(data=structured, train={"steps": 4}))
    np.testing.assert_allclose(results.density, structure.profile(zipf, 6), rtol=1e-6)
    assert results.meta["data"]["eval_loss"] == "monte_carlo"
    assert np.isfinite(results.eval_loss).all() and 0 < results.sae["l0"] < 8
    assert np.all((results.sae["absorption"] >= 0) & (results.sae["absorption"] <= 1))
    assert np.isfinite(results.sae["hedging"]).all()
    assert summarize(results, ["sae"])["sae"]["absorption"]["max"] is not None


def test_a_tied_sae_encodes_with_its_decoders_transpose_and_a_hierarchy_records_absorption_and_hedging():
    """``sae.tied``: W_enc = W_decᵀ after training; with ``data.hierarchy`` every parent → child pair gets its
    absorption rate and hedging in `Results.sae`, in the children's order."""
    data = {"hierarchy": {"parents": [-1, 0, 0, -1, 3, -1]}}
    tied = toyjax.run(sae_cfg(data=data, sae={"tied": True}, train={"steps": 20}))
    np.testing.assert_array_equal(tied.params["W_enc"], tied.params["W_dec"].T)
    assert tied.sae["absorption"].shape == (3,) and tied.sae["hedging"].shape == (3,)
    assert np.all((tied.sae["absorption"] >= 0) & (tied.sae["absorption"] <= 1))


def test_an_sae_on_a_trained_source_adopts_its_structure():
    """The source's magnitudes, hierarchy and correlation are how its features fire: the SAE run takes them."""
    blocks = {"magnitude": {"kind": "constant", "value": 2.0}, "hierarchy": {"parents": [-1, 0, 0, -1, 3, 3]},
              "correlation": {"rank": 1, "scale": 0.5, "seed": 0}}
    settings = {"n_features": 6, "n_hidden": 3, "data": {"kind": "independent", **blocks}, "activation": "linear",
                "name": "a toy run"}
    source = sources.Source(np.zeros((1, 3, 6)), np.ones((1, 6), bool), np.full((1, 6), 0.3), np.ones((1, 6)),
                            ["model"], settings)
    cfg = sources.adopt(to_config(sae_cfg()), source)
    assert (cfg.data.magnitude, cfg.data.hierarchy, cfg.data.correlation) == tuple(blocks.values())


def test_a_killed_sae_run_resumes_bit_identically(tmp_path, killed_after_states):
    """Killed after its second saved state (mid-block, dead-latent counters and a resampling step ahead), the run
    continues from its checkpoint to the bits of an uninterrupted one."""
    cfg = sae_cfg({"l1_coefficient": [0.03, 0.3], "dict_size": [4, 8]}, sae={"dead_window": 10, "resample_steps": [50]},
                  record={"snapshots": 3, "checkpoint_every": 20}, grid={"block_size": 2})
    reference = toyjax.run(cfg)
    saves = killed_after_states(2)
    with pytest.raises(KeyboardInterrupt):
        toyjax.run(cfg, checkpoint_dir=tmp_path)
    killed_after_states(None)
    resumed = toyjax.run(cfg, checkpoint_dir=tmp_path)
    assert saves == [20, 40]
    for part in ("params", "history", "sae"):
        jax.tree.map(np.testing.assert_array_equal, getattr(reference, part), getattr(resumed, part))
    np.testing.assert_array_equal(reference.loss, resumed.loss)


@pytest.mark.parametrize("replaced_by", ["another_toy_run", "one_bit_of_one_weight"])
def test_a_resume_on_a_source_whose_arrays_changed_is_refused(tmp_path, tiny, killed_after_states, replaced_by):
    """A saved source directory whose contents are replaced between a kill and the rerun: the SAE run's config is
    the same (it names the directory), but the source's arrays are not, so the checkpoint is refused."""
    toy = tiny({"density": [1.0, 0.1]}, model={"n_features": 6, "n_hidden": 3})
    toyjax.run(toy).save(tmp_path / "toy")
    cfg = sae_cfg({"l1_coefficient": [0.03, 0.3]}, sae={"source": str(tmp_path / "toy")},
                  record={"snapshots": 3, "checkpoint_every": 20}, grid={"block_size": 2})
    del cfg["data"], cfg["model"]["n_features"], cfg["model"]["n_hidden"]  # the source's own
    killed_after_states(1)
    with pytest.raises(KeyboardInterrupt):
        toyjax.run(cfg, checkpoint_dir=tmp_path / "sae")
    killed_after_states(None)
    if replaced_by == "another_toy_run":
        toy["train"]["base_seed"] = 1
        replacement = toyjax.run(toy)
    else:
        replacement = toyjax.load(tmp_path / "toy")
        W = replacement.params["W"]
        W[0, 0, 0] = np.nextafter(W[0, 0, 0], np.float32(np.inf))
    replacement.save(tmp_path / "toy")
    with pytest.raises(CheckpointError, match="checkpoint of a different run"):
        toyjax.run(cfg, checkpoint_dir=tmp_path / "sae")
    assert (tmp_path / "sae" / "checkpoint" / "progress.json").is_file()  # refused, nothing changed
