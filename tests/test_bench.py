"""toyjax-bench: a --quick run writes bench.json / bench.md / bench.png with the documented fields, and the
optional stacked-PyTorch baseline inits each model at its own Xavier scale and learns."""

from __future__ import annotations

import json

import numpy as np
import pytest

from toyjax.bench import cli, report, roofline

ROW_FIELDS = (
    "workload", "n_models", "n_features", "n_hidden", "steps", "batch_size", "block_size", "compile_s", "train_s",
    "model_steps_per_s", "samples_per_s", "flops_per_model_step", "achieved_flops_per_s", "matmul_fraction",
    "bandwidth_fraction", "peak_memory_bytes", "peak_memory_source", "baselines", "vs_per_model", "vs_torch",
)
DEVICE_FIELDS = ("platform", "device_kind", "device_count", "cpu_model", "cpu_cores", "versions")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    argv = ["--quick", "--workloads", "phase_n2m1", "--models", "1,2", "--steps", "8", "--repeats", "2",
            "--no-torch", "--matmul-size", "256", "--out", str(out)]
    assert cli.main(argv) == 0
    return out


def test_quick_run_writes_json_with_documented_fields(quick_run):
    bench = json.loads((quick_run / "bench.json").read_text())
    assert all(f in bench["device"] for f in DEVICE_FIELDS)
    assert bench["device"]["versions"]["jax"]
    assert bench["roofline"]["matmul"]["flops_per_s"]["median"] > 0
    assert bench["roofline"]["copy"]["bytes_per_s"]["median"] > 0
    assert [r["n_models"] for r in bench["results"]] == [1, 2]
    for row in bench["results"]:
        assert all(f in row for f in ROW_FIELDS), set(ROW_FIELDS) - set(row)
        t = row["train_s"]
        assert t["repeats"] == 2 and t["min"] <= t["median"] <= t["max"]
        assert row["samples_per_s"]["median"] == pytest.approx(1024 * row["model_steps_per_s"]["median"])
        assert row["flops_per_model_step"] > 0
        assert row["baselines"]["per_model_jit"]["model_steps_per_s"]["median"] > 0
        assert row["vs_torch"] is None
    assert len(bench["targets"]) == 5


def test_quick_run_writes_markdown_and_plot(quick_run):
    md = (quick_run / "bench.md").read_text()
    assert report.COLUMNS in md and "phase_n2m1 (n=2, m=1)" in md and "## Targets (issue 5)" in md
    assert (quick_run / "bench.png").stat().st_size > 1000


def test_a_share_of_copy_bandwidth_past_100_percent_is_named_cache_resident(quick_run):
    row = json.loads((quick_run / "bench.json").read_text())["results"][0]
    cells = lambda r: [c.strip() for c in report.table_row(r).split("|")]  # noqa: E731
    column = [c.strip() for c in report.COLUMNS.split("|")].index("% copy bandwidth")
    assert cells(dict(row, bandwidth_fraction=9.13))[column] == "cache-resident"
    assert cells(dict(row, bandwidth_fraction=0.42))[column] == "42.0"


def test_the_matmul_roofline_runs_at_the_engines_precision():
    """At the backend's default a GPU multiplies float32 in TensorFloat-32: a roofline no toyjax program reaches."""
    text = roofline.product("highest").lower(np.ones((4, 4), np.float32), np.ones((4, 4), np.float32)).as_text()
    assert "precision = [HIGHEST, HIGHEST]" in text


def test_unknown_workload_is_an_error(capsys):
    assert cli.main(["--workloads", "nope"]) == 2
    assert "unknown workload 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--steps", "--repeats", "--per-model-sample", "--matmul-size"])
def test_a_count_below_one_is_one_line_before_anything_is_measured(capsys, flag):
    assert cli.main(["--workloads", "intro", flag, "0"]) == 2
    assert capsys.readouterr().err == f"toyjax-bench: error: {flag}: must be >= 1, got 0\n"


def test_targets_report_ratios():
    def row(workload, n_models, rate, torch=None, compile_s=1.0):
        return {"workload": workload, "n_models": n_models, "model_steps_per_s": {"median": rate},
                "vs_torch": torch, "compile_s": compile_s, "matmul_fraction": 0.6}

    rows = [row("intro", 256, 1.0, torch=6.0), row("phase_n2m1", 256, 100.0), row("phase_n2m1", 65536, 70.0)]
    assert [t["met"] for t in report.targets(rows)] == [True, None, None, False, True]


# --------------------------------------------------------------------------- the optional torch baseline


def _torch_baseline():
    pytest.importorskip("torch")
    from toyjax.bench import torch_baseline

    return torch_baseline


def test_torch_init_std_does_not_depend_on_instances():
    tb = _torch_baseline()
    n, m = 400, 30
    expected = np.sqrt(2.0 / (n + m))
    for instances in (1, 64):
        model, _ = tb.build("relu_output", instances, n, m, np.ones((instances, n)), np.ones((instances, n)), False)
        std = model.W.detach().std(dim=(1, 2)).numpy()
        np.testing.assert_allclose(std, expected, rtol=0.05)
    model, _ = tb.build("abs_mlp", 16, 100, 40, np.ones((16, 100)), np.ones((16, 100)), True)
    np.testing.assert_allclose(model.W2.detach().std(dim=(1, 2)).numpy(), np.sqrt(2.0 / 140), rtol=0.1)


def test_torch_loss_decreases():
    tb = _torch_baseline()
    tb.torch.set_num_threads(1)
    importance = np.tile(0.9 ** np.arange(5), (4, 1))
    model, opt = tb.build("relu_output", 4, 5, 2, np.full((4, 5), 0.3), importance, False)
    tb.torch.manual_seed(1)
    before = model.loss(model.batch(4096)).item()
    tb.train_steps(model, opt, 300, 256)
    tb.torch.manual_seed(1)
    assert model.loss(model.batch(4096)).item() < 0.8 * before


def test_the_sae_workload_trains_an_sae_grid_of_one_l1_coefficient_per_model():
    import toyjax
    from toyjax.bench import workloads

    w = workloads.get("sae")
    results = toyjax.run(w.config(3, 5, batch_size=64))
    assert results.dims == ("l1_coefficient",) and results.params["W_dec"].shape == (3, w.n_hidden, w.width)
    np.testing.assert_allclose(results.coords["l1_coefficient"], [0.01, 0.1, 1.0])


def test_the_torch_sae_baseline_is_the_engines_relu_sae():
    """Same init convention and the same loss, instance by instance, as `toyjax.families.sae.models` kind ``relu``."""
    torch_sae = pytest.importorskip("toyjax.bench.torch_sae")
    import jax.numpy as jnp

    from toyjax.families.sae import models as sae

    torch_sae.torch.manual_seed(0)
    model = torch_sae.StackedSAE(3, 4, 6, np.random.default_rng(0).normal(size=(3, 4, 5)), 0.3, 1e-2)
    with torch_sae.torch.no_grad():
        for p in (model.b_enc, model.b_dec, model.W_enc):
            p.add_(0.05 * torch_sae.torch.randn_like(p))
    np.testing.assert_allclose(model.W_dec.detach().norm(dim=1).numpy(), 0.1, rtol=1e-5)  # 0.1 at init, as ours
    h = model.batch(128)
    ours = 0.0
    for i in range(3):
        params = {name: jnp.asarray(getattr(model, name)[i].detach().numpy()) for name in ("W_enc", "b_enc", "W_dec",
                                                                                           "b_dec")}
        ours += sae.sae_loss("relu", params, jnp.asarray(h[:, i].numpy().T), jnp.ones(6, bool), jnp.int32(1),
                             jnp.float32(1e-2), jnp.zeros(6, bool))
    assert float(ours) == pytest.approx(model.loss(h).item(), rel=1e-5)
