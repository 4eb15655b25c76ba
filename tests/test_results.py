"""The result store: round trip, atomic files, and clear errors for damaged ones."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import toyjax
from toyjax.results import ResultsError


@pytest.fixture(scope="module")
def results():
    from tests.conftest import TINY

    cfg = dict(TINY, grid={"axes": {"density": [1.0, 0.1], "seed": 2}})
    return toyjax.run(cfg)


def test_round_trip(tmp_path, results):
    results.save(tmp_path)
    back = toyjax.load(tmp_path)
    assert back.dims == results.dims and back.grid_shape == results.grid_shape
    for name in results.params:
        np.testing.assert_array_equal(back.params[name], results.params[name])
    np.testing.assert_array_equal(back.history["params"]["W"], results.history["params"]["W"])
    np.testing.assert_array_equal(back.history["step"], results.history["step"])
    np.testing.assert_array_equal(back.coords["density"], results.coords["density"])
    assert back.config == results.config
    header = json.loads((tmp_path / "results.json").read_text())
    assert header["meta"]["device_count"] >= 1 and header["meta"]["versions"]["jax"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_npz_has_no_pickles(tmp_path, results):
    results.save(tmp_path)
    with np.load(tmp_path / "results.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)


@pytest.mark.parametrize("damage", ["truncate_npz", "garbage_json", "missing_npz", "shape_mismatch"])
def test_damaged_results_fail_clearly(tmp_path, results, damage):
    results.save(tmp_path)
    npz, js = tmp_path / "results.npz", tmp_path / "results.json"
    if damage == "truncate_npz":
        npz.write_bytes(npz.read_bytes()[:200])
    elif damage == "garbage_json":
        js.write_text('{"dims": [')
    elif damage == "missing_npz":
        npz.unlink()
    else:
        header = json.loads(js.read_text())
        header["shapes"]["loss"] = [99]
        js.write_text(json.dumps(header))
    with pytest.raises(ResultsError, match="results"):
        toyjax.load(tmp_path)


def test_to_xarray_when_installed(results):
    xr = pytest.importorskip("xarray")
    ds = results.to_xarray()
    assert isinstance(ds, xr.Dataset)
    assert ds["loss"].sel(density=0.1).shape == (2,)


def test_results_files_get_the_umasks_permissions(tmp_path, results):
    """Collaborators on a shared filesystem read results as they read everything else (mkstemp is 0600)."""
    import os

    old = os.umask(0o022)
    try:
        results.save(tmp_path)
    finally:
        os.umask(old)
    for name in ("results.npz", "results.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name


def test_to_xarray_names_every_axis(results):
    pytest.importorskip("xarray")
    ds = results.to_xarray()
    assert ds["W"].dims == ("density", "seed", "hidden", "feature")
    assert ds["b"].dims == ("density", "seed", "feature")
    assert ds["history_loss"].dims == ("density", "seed", "snapshot_step")
    assert ds["history_W"].dims == ("density", "seed", "snapshot_step", "hidden", "feature")
    np.testing.assert_array_equal(ds["snapshot_step"], results.history["step"])
    assert ds["history_dimensionality"].sel(snapshot_step=int(results.history["step"][-1])).shape == (2, 2, 3)


def test_neurons_are_named_neurons():
    from toyjax.families.toy.architecture import param_dims

    assert param_dims("relu_hidden")["W"] == ("neuron", "feature")
    assert param_dims("abs_mlp") == {"W1": ("neuron", "feature"), "W2": ("feature", "neuron"), "b": ("feature",)}


def test_parameter_axes_come_from_the_architecture():
    from toyjax.families.toy.architecture import Architecture, architecture_of, param_dims

    untied = Architecture(encoder="untied", hidden_bias=True, output_activation="none")
    assert param_dims(untied) == {"W1": ("hidden", "feature"), "W2": ("feature", "hidden"), "b": ("feature",),
                                  "b_hidden": ("hidden",)}
    gelu = architecture_of({"kind": "toy", "encoder": "untied", "hidden_activation": "gelu", "hidden_bias": True})
    assert param_dims(gelu) == {"W1": ("neuron", "feature"), "W2": ("feature", "neuron"), "b": ("feature",),
                                "b_hidden": ("neuron",)}
    assert param_dims(architecture_of({"kind": "toy", "hidden_activation": "relu"})) == param_dims("relu_hidden")
    assert param_dims("linear") == param_dims("relu_output") == {"W": ("hidden", "feature"), "b": ("feature",)}


def test_to_xarray_names_a_described_model_by_its_architecture(tiny):
    pytest.importorskip("xarray")
    model = {"kind": "toy", "encoder": "untied", "hidden_activation": "relu", "hidden_bias": True}
    results = toyjax.run(tiny({"density": [1.0, 0.3]}, model=model, train={"steps": 20}, record={"snapshots": 2}))
    ds = results.to_xarray()
    assert ds["W1"].dims == ("density", "neuron", "feature") and ds["W2"].dims == ("density", "feature", "neuron")
    assert ds["b_hidden"].dims == ("density", "neuron") and ds["b"].dims == ("density", "feature")


SAE = {"model": {"kind": "sae", "n_features": 4, "n_hidden": 2}, "data": {"density": 0.3},
       "train": {"steps": 10, "batch_size": 32}, "record": {"snapshots": 2}, "progress": False}


def generic(ds) -> dict:
    """The variables of `ds` with an axis no family declared (``<name>_dim0``...)."""
    return {name: ds[name].dims for name in ds.data_vars if any("_dim" in d for d in ds[name].dims)}


UNTIED = {"kind": "toy", "encoder": "untied", "hidden_activation": "relu", "hidden_bias": True}
RUNS = {  # a run of each family and data source, from the `tiny` fixture
    "toy": lambda tiny: tiny({"density": [1.0, 0.1], "seed": 2}),
    "toy_untied_finite": lambda tiny: tiny({"dataset_size": [3, 10]}, model=UNTIED, train={"full_batch": True}),
    **{f"sae_{kind}": lambda tiny, kind=kind: {**SAE, "sae": {"kind": kind, "width": 6}, "grid": {"axes": {"lr": [
        1e-3, 3e-3]}}} for kind in ("relu", "relu_unit", "topk", "jumprelu")},
}


@pytest.mark.parametrize("run", RUNS)
def test_to_xarray_labels_every_array_of_every_family(run, tmp_path, tiny):
    """Every family declares its arrays' axes (`Family.dims`); they survive a save and load."""
    pytest.importorskip("xarray")
    results = toyjax.run(RUNS[run](tiny))
    for ds in (results.to_xarray(), toyjax.load(results.save(tmp_path)).to_xarray()):
        assert not generic(ds), generic(ds)


def test_an_sae_runs_arrays_are_named_by_latent_hidden_and_feature(tmp_path):
    pytest.importorskip("xarray")
    results = toyjax.run({**SAE, "sae": {"kind": "jumprelu", "width": 6}, "grid": {"axes": {"l1_coefficient": [0.1]}}})
    ds = results.to_xarray()
    assert ds["W_dec"].dims == ("l1_coefficient", "hidden", "latent")
    assert ds["W_enc"].dims == ("l1_coefficient", "latent", "hidden") and ds["log_threshold"].dims[-1] == "latent"
    assert ds["history_W_dec"].dims == ("l1_coefficient", "snapshot_step", "hidden", "latent")
    assert ds["sae_dead"].dims == ("l1_coefficient", "latent") and ds["sae_l0"].dims == ("l1_coefficient",)
    assert ds["sae_features"].dims == ("l1_coefficient", "hidden", "feature")
    assert ds.sizes == {"l1_coefficient": 1, "hidden": 2, "latent": 6, "feature": 4, "snapshot_step": 2}


def test_arrays_no_family_declares_get_generic_axes_and_old_files_their_familys(tmp_path, results):
    pytest.importorskip("xarray")
    ds = dataclasses.replace(results, array_dims={}).to_xarray()
    assert ds["W"].dims == ("density", "seed", "W_dim0", "W_dim1")
    assert ds["history_W_norm"].dims == ("density", "seed", "snapshot_step", "W_norm_dim0")
    results.save(tmp_path)
    header = json.loads((tmp_path / "results.json").read_text())
    del header["array_dims"]  # a file saved before families declared their axes
    (tmp_path / "results.json").write_text(json.dumps(header))
    assert toyjax.load(tmp_path).to_xarray()["W"].dims == ("density", "seed", "hidden", "feature")


def test_a_familys_own_records_are_saved_and_loaded_by_name(tmp_path, results):
    own = {"monosemantic": np.arange(np.prod(results.grid_shape), dtype=np.float32).reshape(results.grid_shape)}
    back = toyjax.load(dataclasses.replace(results, records={**results.records, "mine": own}).save(tmp_path / "run"))
    np.testing.assert_array_equal(back.records["mine"]["monosemantic"], own["monosemantic"])
    assert back.sae is None and back.train_set is None
