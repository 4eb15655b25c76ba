"""``toyjax-export``: SAEs of a run in SAELens's on-disk format, the safetensors files it writes, its one-line
errors, and (where sae-lens is installed, ``pip install 'toyjax[saelens]'``) SAELens loading one back."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import toyjax
from tests.test_plots import synthetic
from toyjax import export, tensorfiles
from toyjax.families.sae import models as sae
from toyjax.families.sae import saelens

SAELENS_KEYS = {"architecture", "d_in", "d_sae", "dtype", "device", "apply_b_dec_to_input", "normalize_activations",
                "reshape_activations", "metadata"}


def test_every_selected_sae_is_written_as_saelens_saves_one(tmp_path):
    results = synthetic("sae_sharkey")  # l1_coefficient × dict_size [4, 8, 16] × seed, width 16
    run = results.save(tmp_path / "run")
    written = export.export(run, "saelens", tmp_path / "out", where=["seed=0"])
    assert [p.name for p in written] == [f"model_{i}" for i in range(0, 18, 2)]
    for path in written:
        index = np.unravel_index(int(path.name.split("_")[1]), results.grid_shape)
        size = int(results.coords["dict_size"][index[1]])
        cfg = json.loads((path / saelens.CFG).read_text())
        weights, _ = tensorfiles.read(path / saelens.WEIGHTS)
        assert set(cfg) == SAELENS_KEYS and cfg["architecture"] == "standard" and cfg["apply_b_dec_to_input"]
        assert (cfg["d_in"], cfg["d_sae"], cfg["normalize_activations"]) == (4, size, "none")
        assert cfg["metadata"]["sae_lens_version"] >= "6" and cfg["metadata"]["toyjax"]["coords"]["seed"] == 0
        p = {k: v[index].astype(np.float32) for k, v in results.params.items()}
        expected = {"W_enc": p["W_enc"][:size].T, "b_enc": p["b_enc"][:size], "W_dec": p["W_dec"][:, :size].T,
                    "b_dec": p["b_dec"]}
        assert set(weights) == set(expected)
        assert all(np.array_equal(weights[k], v) and weights[k].dtype == np.float32 for k, v in expected.items())


def saelens_forward(path, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(f, x̂) of rows x (batch, d_in) by SAELens 6's inference formulas, read from its sources: StandardSAE.encode
    (ReLU of (x − b_dec) @ W_enc + b_enc), TopK (ReLU of the k largest), JumpReLUSAE (ReLU · [pre > threshold]),
    GatedSAE ([(x − b_dec) @ W_enc + b_gate > 0] · ReLU((x − b_dec) @ (W_enc · exp(r_mag)) + b_mag))."""
    cfg = json.loads((path / saelens.CFG).read_text())
    w, _ = tensorfiles.read(path / saelens.WEIGHTS)
    if cfg["architecture"] == "gated":
        centred = x - w["b_dec"]
        f = (centred @ w["W_enc"] + w["b_gate"] > 0) * np.maximum(centred @ (w["W_enc"] * np.exp(w["r_mag"]))
                                                                  + w["b_mag"], 0)
        return f, f @ w["W_dec"] + w["b_dec"]
    pre = (x - w["b_dec"]) @ w["W_enc"] + w["b_enc"]
    f = np.maximum(pre, 0)
    if cfg["architecture"] == "topk":
        f = np.where(pre >= np.sort(pre, axis=1)[:, -cfg["k"]][:, None], f, 0)
    if cfg["architecture"] == "jumprelu":
        f = f * (pre > w["threshold"])
    return f, f @ w["W_dec"] + w["b_dec"]


def with_kind(preset: str, kind: str):
    """A synthetic SAE run (`synthetic`) of `kind`, with random values of the kind's own params and records."""
    results = synthetic(preset)
    results.config["sae"]["kind"] = kind
    rng = np.random.default_rng(1)
    latents = results.params["b_enc"].shape
    if kind == "jumprelu":
        results.params["log_threshold"] = np.log(rng.uniform(0.1, 1, latents))
    if kind in sae.BATCH_KINDS:
        results.sae["threshold"] = rng.uniform(0, 1, results.grid_shape).astype(np.float32)
    if kind == "matryoshka":
        results.config["sae"]["prefixes"] = [2, 4]
    if kind == "gated":
        results.params.update(r_mag=rng.normal(scale=0.5, size=latents), b_mag=rng.normal(size=latents))
    return results


@pytest.mark.parametrize("preset, kind", [("sae_sharkey", "relu"), ("sae_frontier_topk", "topk"),
                                          ("sae_sharkey", "jumprelu"), ("sae_frontier_topk", "batchtopk"),
                                          ("sae_sharkey", "matryoshka"), ("sae_sharkey", "gated")])
def test_saelens_formulas_on_the_exported_files_give_toyjaxs_latents_and_reconstruction(tmp_path, preset, kind):
    results = with_kind(preset, kind)
    x = np.random.default_rng(2).normal(size=(64, 4)).astype(np.float32)
    for i, index in enumerate(np.ndindex(results.grid_shape)):
        path = saelens.write(results, index, tmp_path / f"model_{i}")
        assert json.loads((path / saelens.CFG).read_text())["architecture"] == saelens.ARCHITECTURES[kind]
        f, x_hat = saelens_forward(path, x)
        p = {k: jnp.asarray(v[index], jnp.float32) for k, v in results.params.items()}
        size = f.shape[1]
        k = jnp.int32(saelens.own_value(results, index, "k"))
        threshold = jnp.float32(results.sae["threshold"][index]) if kind in sae.BATCH_KINDS else None
        ours = jax.jit(sae.inference_latents, static_argnums=0)(kind, p, jnp.asarray(x.T), jnp.arange(16) < size, k,
                                                                threshold)
        assert (f > 0).any() and (f == 0).any()
        np.testing.assert_allclose(f, np.asarray(ours[:size]).T, atol=2e-5)
        np.testing.assert_allclose(x_hat, np.asarray(jax.jit(sae.decode)(p, ours)).T, atol=2e-5)


def test_batch_kinds_record_their_training_architecture_k_and_matryoshka_widths(tmp_path):
    for kind, details in (("batchtopk", [{"k": 4}] * 3), ("matryoshka", [{"k": 4, "matryoshka_widths": [2, 4]},
                                                                       {"k": 4, "matryoshka_widths": [2, 4, 8]},
                                                                       {"k": 4, "matryoshka_widths": [2, 4, 16]}])):
        results = with_kind("sae_sharkey", kind)
        for size, index, expected in zip((4, 8, 16), ((0, 0, 0), (0, 1, 0), (0, 2, 0)), details, strict=True):
            cfg = json.loads((saelens.write(results, index, tmp_path / kind / str(size)) / saelens.CFG).read_text())
            assert (cfg["architecture"], cfg["d_sae"]) == ("jumprelu", size)
            assert cfg["metadata"]["training_architecture"] == saelens.TRAINING[kind]
            assert cfg["metadata"]["training_architecture_details"] == expected


def bad_copy(tmp_path, change) -> str:
    """A saved SAE run (`synthetic`), changed by `change(results)` first; returns its directory."""
    results = synthetic("sae_sharkey")
    change(results)
    return str(results.save(tmp_path / "run"))


BAD = [
    (lambda r: r.config["model"].update(kind="relu_output"), [],
     "{run}: not an SAE run (model.kind: relu_output); --format saelens writes sparse autoencoders"),
    (lambda r: r.config["sae"].update(kind="matching_pursuit"), [],
     "{run}: sae.kind matching_pursuit has no SAELens architecture here (supported: relu, relu_unit, topk, jumprelu, "
     "batchtopk, matryoshka, gated)"),
    (lambda r: None, ["--model", "18"], "--model 18: out of range; the run has 18 models (0..17)"),
    (lambda r: None, [], "model 17: diverged (its weights are not finite); select others with --model or --where"),
    (lambda r: None, ["--where", "width=4"], "--where width=4: expected AXIS=VALUE with AXIS one of the run's axes "
                                             "(l1_coefficient, dict_size, seed)"),
    (lambda r: None, ["--where", "dict_size=5"], "--where dict_size=5: dict_size has no such value (its values: "
                                                 "4.0, 8.0, 16.0)"),
    (lambda r: None, ["--model", "0", "--where", "seed=1"], "--where seed=1: no model of the selection is there"),
]


@pytest.mark.parametrize("change, args, line", BAD, ids=["toy run", "kind", "index", "diverged", "axis", "value",
                                                          "empty"])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, change, args, line):
    run = bad_copy(tmp_path, change)
    with pytest.raises(SystemExit) as e:
        export.main([run, "--format", "saelens", "--out", str(tmp_path / "out"), *args])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err == f"toyjax-export: error: {line.format(run=run)}\n"
    assert not (tmp_path / "out").exists()


TRAINED = {"model": {"kind": "sae", "n_features": 6, "n_hidden": 3}, "data": {"density": 0.3},
           "train": {"steps": 60, "batch_size": 64, "lr": 3e-3, "weight_decay": 0.0},
           "record": {"snapshots": 2}, "progress": False}
KINDS = {"relu": {"l1_coefficient": [0.03, 0.3]}, "relu_unit": {"l1_coefficient": [0.1]}, "topk": {"k": [1, 3]},
         "jumprelu": {"l1_coefficient": [0.01]}, "batchtopk": {"k": [1, 3]}, "matryoshka": {"k": [2]},
         "gated": {"l1_coefficient": [0.01, 0.1]}}
PREFIXES = {"matryoshka": [2, 4]}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_sae_lens_loads_an_exported_sae_and_encodes_and_decodes_as_toyjax(tmp_path, kind):
    """Where sae-lens is installed: `SAE.load_from_disk` of each exported SAE gives toyjax's latents and
    reconstruction on the source's activations (the largest difference is printed with ``-s``)."""
    sae_lens = pytest.importorskip("sae_lens")
    torch = pytest.importorskip("torch")
    cfg = dict(TRAINED, sae={"kind": kind, "width": 8, "eval_samples": 1024, "prefixes": PREFIXES.get(kind, [])},
               grid={"axes": {**KINDS[kind], "dict_size": [5, 8]}})
    results = toyjax.run(cfg)
    run = results.save(tmp_path / "run")
    rng = np.random.default_rng(0)
    x = (rng.uniform(size=(6, 256)) * (rng.uniform(size=(6, 256)) < 0.3)).astype(np.float32)
    worst = 0.0
    for path in export.export(run, "saelens", tmp_path / "out"):
        index = np.unravel_index(int(path.name.split("_")[1]), results.grid_shape)
        loaded = sae_lens.SAE.load_from_disk(path)
        assert loaded.cfg.architecture() == saelens.ARCHITECTURES[kind]
        assert loaded.cfg.metadata.training_architecture == saelens.TRAINING[kind]
        h = results.sae["features"][index] @ x  # (d, batch): the source's activations
        p = {k: jnp.asarray(v[index]) for k, v in results.params.items()}
        size = loaded.cfg.d_sae
        k = jnp.int32(saelens.own_value(results, index, "k"))
        threshold = results.sae["threshold"][index] if kind in sae.BATCH_KINDS else None
        ours = sae.inference_latents(kind, p, jnp.asarray(h), jnp.arange(8) < size, k, threshold)
        with torch.no_grad():
            f = loaded.encode(torch.from_numpy(h.T.copy())).numpy()
            x_hat = loaded.decode(torch.from_numpy(f)).numpy()
        assert f.shape == (256, size) and (f > 0).any()
        worst = max(worst, np.abs(f - np.asarray(ours[:size]).T).max(),
                    np.abs(x_hat - np.asarray(sae.decode(p, ours)).T).max())
    print(f"{kind}: max |SAELens − toyjax| = {worst:.3g}")
    assert worst < 1e-5
