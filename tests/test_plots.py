"""Every figure renders (PNG + SVG) from tiny synthetic grids, as the run declares; `toyjax-plot` re-renders."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest

import toyjax
from toyjax import plots, presets
from toyjax.config import ReportConfig, RunInfo
from toyjax.plots import cli
from toyjax.results import Results

# preset -> (model kind, n, m, data kind, grid axes)
PRESETS = {
    "intro": ("relu_output", 5, 2, "independent", {"density": [1.0, 0.1], "seed": 2}),
    "demonstrating_superposition": ("relu_output", 8, 3, "independent", {"density": [1.0, 0.1, 0.01]}),
    "demonstrating_superposition_n80": ("linear", 12, 4, "independent", {"density": [1.0, 0.1]}),
    "phase_n2m1": ("relu_output", 2, 1, "independent", {"density": [1.0, 0.1], "extra_importance": [0.5, 2.0],
                                                         "seed": 2}),
    "phase_n3m2": ("relu_output", 3, 2, "independent", {"density": [1.0, 0.1], "extra_importance": [0.5, 2.0],
                                                         "seed": 2}),
    "uniform_geometry": ("relu_output", 30, 5, "independent", {"density": [1.0, 0.3, 0.1, 0.03, 0.01, 0.003]}),
    "nonuniform_pentagon": ("relu_output", 5, 2, "independent", {"extra_density": [0.05, 0.02, 0.01], "seed": 2}),
    "correlated": ("relu_output", 4, 2, "correlated", {"density": [0.3, 0.1], "seed": 2}),
    "anticorrelated": ("relu_output", 20, 10, "anticorrelated", {"density": [0.3, 0.1], "seed": 2}),
    "collapse": ("relu_output", 6, 2, "correlated", {"density": [0.01, 0.1, 1.0], "seed": 2}),
    "dynamics": ("relu_output", 6, 3, "correlated", {"seed": 3}),
    "adversarial": ("relu_output", 5, 2, "independent", {"density": [1.0, 0.1, 0.01], "seed": 2}),
    "privileged_basis": ("relu_hidden", 10, 5, "independent", {"density": [1.0, 0.1], "seed": 2}),
    "abs_small": ("abs_mlp", 3, 6, "independent", {"density": [1.0, 0.1], "seed": 2}),
    "abs_computation": ("abs_mlp", 100, 40, "independent", {"density": [1.0, 0.01]}),
    "ways_out_price": ("relu_hidden", 10, 5, "independent", {"activation_l1": [0.0, 0.01, 0.1], "density": [1.0, 0.1],
                                                             "seed": 2}),
    "ways_out_computation": ("abs_mlp", 20, 8, "independent", {"activation_l1": [0.0, 0.1], "density": [1.0, 0.01],
                                                               "seed": 2}),
    "ways_out_width": ("relu_hidden", 10, 7, "independent", {"activation_l1": [0.0, 0.3], "density": [0.1], "seed": 2}),
    "sae_intro": ("sae", 5, 2, "independent", {"l1_coefficient": [0.1, 1.0], "seed": 2}),
    "sae_sharkey": ("sae", 8, 4, "independent", {"l1_coefficient": [0.1, 1.0, 3.0], "dict_size": [4, 8, 16],
                                                  "seed": 2}),
    "sae_superposition": ("sae", 20, 4, "independent", {"source_cell": [0, 1, 2, 3], "l1_coefficient": [0.1, 1.0]}),
    "sae_frontier_relu": ("sae", 8, 4, "independent", {"l1_coefficient": [0.1, 0.3, 1.0]}),
    "sae_frontier_topk": ("sae", 8, 4, "independent", {"k": [1, 2, 4]}),
    "sae_matryoshka": ("sae", 20, 8, "independent", {"seed": 2}),
    "sae_matryoshka_batchtopk": ("sae", 20, 8, "independent", {"seed": 2}),
    "sae_synthbench": ("sae", 16, 8, "independent", {"k": [1, 2, 4], "seed": 2}),
    "ways_out_hybrid_source": ("relu_hidden", 10, 5, "independent", {"activation_l1": [0.0, 0.01, 0.1],
                                                                      "density": [0.3, 0.03], "seed": 2}),
    "ways_out_hybrid": ("sae", 10, 5, "independent", {"source_cell": [0, 1, 2, 3, 4, 5], "l1_coefficient": [0.1, 0.3],
                                                       "dict_size": [10, 20], "seed": 2}),
    "sae_absorption": ("sae", 2, 6, "independent", {"dict_size": [1, 2], "l1_coefficient": [0.0, 0.01, 0.1],
                                                     "seed": 2}),
    "double_descent_small": ("relu_output", 30, 2, "independent", {"dataset_size": [3, 10, 40, 100], "seed": 2}),
    "double_descent": ("relu_output", 60, 2, "independent", {"dataset_size": [3, 300], "seed": 2}),
}
K = 6  # snapshots
SAE_WIDTH = 16


def synthetic(preset: str, seed: int = 0) -> Results:
    """A Results with the preset's shapes and random weights (no training)."""
    kind, n, m, data_kind, axes = PRESETS[preset]
    rng = np.random.default_rng(seed)
    dims = tuple(axes)
    coords = {d: np.arange(v) if d == "seed" else np.asarray(v, float) for d, v in axes.items()}
    grid = tuple(len(coords[d]) for d in dims)
    if kind == "sae":
        params = {"W_enc": rng.normal(size=grid + (SAE_WIDTH, m)), "b_enc": rng.normal(size=grid + (SAE_WIDTH,)),
                  "W_dec": rng.normal(size=grid + (m, SAE_WIDTH)), "b_dec": rng.normal(size=grid + (m,))}
    elif kind == "abs_mlp":
        params = {"W1": rng.normal(size=grid + (m, n)), "W2": rng.normal(size=grid + (n, m))}
    else:
        params = {"W": rng.normal(size=grid + (m, n)) / np.sqrt(m)}
    if kind != "sae":
        params["b"] = rng.normal(scale=0.2, size=grid + (n,))
    density = np.full(grid + (n,), 0.1)
    for d in ("density", "extra_density"):
        if d in dims:
            shape = [1] * len(grid)
            shape[dims.index(d)] = -1
            values = coords[d].reshape(shape)
            if d == "density":
                density = np.broadcast_to(values[..., None], grid + (n,)).copy()
            else:
                density[..., -1] = np.broadcast_to(values, grid)
    importance = np.broadcast_to(0.9 ** np.arange(n), grid + (n,)).copy()
    if "extra_importance" in dims:
        shape = [1] * len(grid)
        shape[dims.index("extra_importance")] = -1
        importance[..., -1] = np.broadcast_to(coords["extra_importance"].reshape(shape), grid)
    history = {
        "step": np.unique(np.geomspace(1, 1000, K).astype(int)),
        "loss": np.sort(rng.uniform(0.01, 1, grid + (K,)), axis=-1)[..., ::-1],
        "dimensionality": rng.uniform(0, 1, grid + (K, n)),
        "W_norm": rng.uniform(0, 1, grid + (K, n)),
    }
    eval_loss = rng.uniform(0.01, 1, grid)
    diverged = np.zeros(grid, bool)
    diverged.flat[-1] = len(diverged.flat) > 1  # one diverged model must not break anything
    config = {
        "model": {"kind": kind, "n_features": n, "n_hidden": m},
        "data": {"kind": data_kind, "set_size": 10 if n == 20 else (3 if preset == "dynamics" else 2),
                 "signed": kind == "abs_mlp"},
        "train": {"steps": 1000},
        "record": {"snapshots": K},
    }
    info = RunInfo(preset=preset, report=presets.declared_report(preset))
    if kind == "sae":
        config["sae"] = {"kind": "topk" if "k" in dims else "relu", "width": SAE_WIDTH, "source": "synthetic"}
        history = {k: v for k, v in history.items() if k in ("step", "loss")}
    sae = sae_numbers(rng, grid, n, m) if kind == "sae" else None
    if preset == "sae_absorption":  # a parent and its child: one pair's absorption and hedging per SAE
        config["data"]["hierarchy"] = {"parents": [-1, 0]}
        sae.update(absorption=rng.uniform(size=grid + (1,)), hedging=rng.uniform(size=grid + (1,)),
                   matched=rng.integers(-1, 2, grid + (n,)))
    train_set = synthetic_train_set(rng, dims, coords, grid, m) if "dataset_size" in dims else None
    if train_set is not None:
        history["data_dimensionality"] = rng.uniform(0, 1, grid + (K, int(coords["dataset_size"].max())))
    return Results(dims, coords, params, rng.uniform(0.01, 1, grid), eval_loss, history, diverged, density,
                   importance, config=config, run_info=info,
                   records={k: v for k, v in {"train_set": train_set, "sae": sae}.items() if v})


def sae_numbers(rng, grid: tuple[int, ...], n: int, m: int) -> dict[str, np.ndarray]:
    """Random `Results.sae` arrays of an SAE grid (`toyjax.families.sae.train.records`)."""
    out = {f"{name}_{which}": rng.uniform(0.5, 1, grid) for which in ("all", "learned")
           for name in ("features_to_latents", "latents_to_features", "recovered_0.9", "recovered_0.99")}
    out.update(l0=rng.uniform(0.5, 8, grid), fraction_variance_explained=rng.uniform(0.3, 0.99, grid),
               fraction_dead=rng.uniform(0, 0.5, grid), mse=rng.uniform(0, 0.1, grid),
               mcc=rng.uniform(0.3, 1, grid), precision=rng.uniform(0.3, 1, grid), recall=rng.uniform(0.3, 1, grid),
               f1=rng.uniform(0.3, 1, grid), absorption=rng.uniform(0, 1, grid), hedging=rng.uniform(0, 0.3, grid),
               source_features_per_dimension=rng.uniform(1, 4, grid), dead=rng.uniform(size=grid + (SAE_WIDTH,)) < 0.2,
               features=rng.normal(size=grid + (m, n)), learned=rng.uniform(size=grid + (n,)) < 0.8)
    latents = np.argsort(rng.uniform(size=grid + (SAE_WIDTH,)), axis=-1)[..., :n]  # distinct, n of them at most
    matched = np.concatenate([latents, np.full(grid + (n - latents.shape[-1],), -1)], axis=-1)
    out["matched"] = np.where(out["learned"], matched, -1).astype(np.int32)
    return out


def synthetic_train_set(rng, dims, coords, grid, m) -> dict:
    """Random per-point records of finite training sets, NaN beyond each model's T."""
    sizes = coords["dataset_size"].reshape([-1 if d == "dataset_size" else 1 for d in dims])
    size = np.broadcast_to(sizes, grid).astype(np.float32)
    largest = int(size.max())
    real = np.arange(largest) < size[..., None]
    def per_point(shape=()):
        return np.where(real.reshape(real.shape + (1,) * len(shape)), rng.uniform(0.01, 1, grid + (largest, *shape)),
                        np.nan)
    return {"size": size, "loss": rng.uniform(0, 1, grid), "hidden": per_point((m,)), "point_loss": per_point(),
            "zero_loss": per_point(), "dimensionality": per_point(), "truncated": np.zeros(grid, np.int32)}


def test_every_figure_has_a_preset_and_every_preset_a_figure():
    declared = {presets.declared_report(name).figure for name in presets.preset_names()}
    assert declared == set(plots.FIGURES)
    assert set(PRESETS) | {"phase_n2m1_quick"} == set(presets.preset_names())


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_renders_its_declared_figure_as_png_and_svg(preset, tmp_path):
    results = synthetic(preset)
    if results.run_info.report.figure == "sae_hybrid":  # drawn beside its source's numbers, read from its directory
        results.config["sae"]["source"] = str(synthetic("ways_out_hybrid_source").save(tmp_path / "source"))
    written = plots.render(results, tmp_path, strict=True)
    suffixes = sorted(p.suffix for p in written)
    assert suffixes == [".png", ".svg"], written
    assert all(p.is_file() and p.stat().st_size > 1000 for p in written)


@pytest.mark.parametrize("shapes", [(5, 2), (8, 4)], ids=["directions_in_2d", "cosines"])
@pytest.mark.parametrize("axes", [{"l1_coefficient": [0.3]}, {"l1_coefficient": [0.3], "seed": 2}, {"seed": 2}],
                         ids=["one_lambda", "one_lambda_two_seeds", "no_lambda_axis"])
def test_sae_directions_with_one_panel_keeps_its_title_and_key_inside_the_figure(shapes, axes, tmp_path, monkeypatch):
    from toyjax.families.sae import figures

    monkeypatch.setitem(PRESETS, "sae_intro", ("sae", *shapes, "independent", axes))
    drawn = []
    monkeypatch.setattr(figures.common, "save", lambda fig, directory, name: drawn.append(fig) or [])
    figures.directions_figure(synthetic("sae_intro"), tmp_path)
    (fig,) = drawn
    fig.canvas.draw()
    renderer, frame = fig.canvas.get_renderer(), fig.bbox
    texts = [fig._suptitle, *fig.legends, *(a.title for a in fig.axes), *(a.xaxis.label for a in fig.axes)]
    for artist in (t for t in texts if t is not None and t.get_visible() and getattr(t, "get_text", lambda: "x")()):
        box = artist.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, artist
    plt.close(fig)


def test_the_declared_figure_is_drawn_whatever_the_preset_is_called(tmp_path):
    r = synthetic("privileged_basis")
    r.run_info = RunInfo(preset="my own experiment", report=ReportConfig(figure="neurons"))
    assert [p.name for p in plots.render(r, tmp_path, strict=True)] == ["neurons.png", "neurons.svg"]
    r.run_info = RunInfo(preset="privileged_basis", report=ReportConfig(figure=None))
    assert plots.render(r, tmp_path / "none", strict=True) == []  # nothing declared, nothing guessed


def test_render_never_raises_by_default(tmp_path):
    r = synthetic("intro")
    r.params = {}  # broken
    assert plots.render(r, tmp_path) == []
    with pytest.raises(KeyError):
        plots.render(r, tmp_path, strict=True)


def test_best_seed_ignores_diverged_models():
    from toyjax.plots.common import best_cells

    r = synthetic("intro")
    r.eval_loss[...] = [[0.5, 0.1], [0.5, 0.1]]
    r.diverged[...] = [[False, False], [False, True]]
    cells = best_cells(r)
    assert cells.seed.tolist() == [1, 0]
    np.testing.assert_array_equal(cells.params["W"][1], r.params["W"][1, 0])


def test_toyjax_plot_rerenders_a_saved_tiny_run(tmp_path, tiny, capsys):
    res = toyjax.run(tiny({"density": [1.0, 0.1], "seed": 2}, model={"n_features": 5, "n_hidden": 2}))
    res.run_info = RunInfo(preset="intro", report=ReportConfig(figure="intro"))
    run_dir = res.save(tmp_path / "run")
    cli.main([str(run_dir)])
    assert (run_dir / "intro.png").is_file() and (run_dir / "intro.svg").is_file()
    assert "intro.png" in capsys.readouterr().out


def read_only(monkeypatch):
    """Every new file fails as on a file system mounted read-only (as root, chmod cannot make one)."""
    def cannot(*args, dir=None, **kwargs):
        raise OSError(30, "Read-only file system", dir)

    monkeypatch.setattr("tempfile.mkstemp", cannot)


@pytest.mark.parametrize(("out", "line"), [
    ("/proc/figures", "/proc/figures: "),
    (None, "{tmp}/run/intro.png: Read-only file system"),
], ids=["out_cannot_be_made", "read_only_run_directory"])
def test_toyjax_plot_that_cannot_write_its_figures_is_one_line_naming_the_path(tmp_path, capsys, monkeypatch, out,
                                                                                line):
    run = synthetic("intro").save(tmp_path / "run")
    if out is None:
        read_only(monkeypatch)
    with pytest.raises(SystemExit) as e:
        cli.main([str(run), *(["--out", out] if out else [])])
    err = capsys.readouterr().err
    assert e.value.code == 1 and err.count("\n") == 1
    assert err.startswith(f"toyjax-plot: error: {line.format(tmp=tmp_path)}")
    assert not list(tmp_path.rglob("*.png")) and not list(tmp_path.rglob("*.tmp"))


def test_toyjax_plot_draws_a_format_1_run_with_its_presets_figure(tmp_path):
    """Runs saved before runs declared their figure (format 1: the preset name inside the config)."""
    run_dir = synthetic("intro").save(tmp_path / "old")
    header = json.loads((run_dir / "results.json").read_text())
    header["format_version"] = 1
    header["config"]["sweep_name"] = "intro"
    header["config"]["summary"] = {"n_models": 4}
    del header["run_info"], header["summary"]
    (run_dir / "results.json").write_text(json.dumps(header))
    back = toyjax.load(run_dir)
    assert (back.run_info.preset, back.run_info.report, back.summary) == ("intro", None, {"n_models": 4})
    assert "sweep_name" not in back.config
    cli.main([str(run_dir)])
    assert (run_dir / "intro.png").is_file()


def test_toyjax_plot_on_a_sweep_dir_writes_every_job_and_the_combined_figure(tmp_path):
    for k, kind in enumerate(("linear", "relu_output")):
        r = synthetic("demonstrating_superposition", seed=k)
        r.config["model"]["kind"] = kind
        r.save(tmp_path / f"{k}_demonstrating_superposition")
    for k, steps in enumerate((500, 1000)):
        r = synthetic("correlated", seed=k)
        r.config["train"]["steps"] = steps
        r.save(tmp_path / "other" / f"{k}_correlated")
    cli.main([str(tmp_path)])  # two §2 jobs at the top level
    assert (tmp_path / "0_demonstrating_superposition" / "superposition.png").is_file()
    assert (tmp_path / "combined.png").is_file() and (tmp_path / "combined.svg").is_file()
    cli.main([str(tmp_path / "other")])
    assert (tmp_path / "other" / "combined.png").is_file()


def test_toyjax_plot_rejects_a_directory_without_runs(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main([str(tmp_path)])
    assert e.value.code == 2
    with pytest.raises(SystemExit):
        cli.main([str(tmp_path / "nowhere")])
    assert capsys.readouterr().err.strip().endswith("nowhere: does not exist")


@pytest.mark.parametrize("preset", ["intro", "demonstrating_superposition", "privileged_basis", "phase_n2m1",
                                    "correlated", "nonuniform_pentagon", "uniform_geometry", "collapse",
                                    "double_descent_small", "sae_intro"])
def test_a_cell_whose_every_seed_diverged_says_so_without_numpy_warnings(preset, tmp_path):
    import warnings

    r = synthetic(preset)
    first = (0,) * (len(r.dims) - 1) if "seed" in r.dims else (0,)
    r.diverged[first] = True
    for p in r.params.values():
        p[first] = np.nan
    r.loss[first] = r.eval_loss[first] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        written = plots.render(r, tmp_path, strict=True)
    svg = next(p for p in written if p.suffix == ".svg").read_text()
    assert "diverged" in svg, preset


def test_runs_on_finite_training_sets_combine_into_test_loss_curves(tmp_path):
    from toyjax.plots import combined

    runs = [synthetic("double_descent_small", seed) for seed in range(2)]
    runs[1].config["model"]["n_hidden"] = 3
    written = combined.combined_figure(runs, tmp_path)
    assert [p.name for p in written] == ["combined.png", "combined.svg"]
    svg = written[1].read_text()
    assert "m=2: peak at T" in svg and "m=3: peak at T" in svg


def test_sae_runs_combine_into_their_l0_frontiers_on_one_axes(tmp_path):
    """``toyjax -m sweep=sae_frontier_relu,sae_frontier_topk``: one frontier a job, labelled by its SAE kind."""
    from toyjax.plots import combined

    runs = [synthetic("sae_frontier_relu"), synthetic("sae_frontier_topk")]
    written = combined.combined_figure(runs, tmp_path)
    assert [p.name for p in written] == ["combined.png", "combined.svg"]
    svg = written[1].read_text()
    assert "relu SAE" in svg and "topk SAE" in svg and "unexplained variance" in svg


def test_a_multirun_of_tied_and_untied_saes_draws_their_absorption_on_one_figure(tmp_path):
    """``toyjax -m sweep=sae_absorption sae.tied=false,true``: one figure, each job's curves labelled tied=."""
    from toyjax.plots import combined

    runs = [synthetic("sae_absorption", seed=k) for k in range(2)]
    for run, tied in zip(runs, (False, True)):
        run.config["sae"]["tied"] = tied
    written = combined.combined_figure(runs, tmp_path)
    assert [p.name for p in written] == ["combined.png", "combined.svg"]
    svg = written[1].read_text()
    assert "tied=False" in svg and "tied=True" in svg and "absorption rate" in svg


def test_sae_runs_on_a_hierarchy_combine_side_by_side(tmp_path):
    """``toyjax -m sweep=sae_matryoshka_batchtopk,sae_matryoshka``: absorption, hedging and MCC a job, by SAE kind."""
    from toyjax.plots import combined

    runs = [synthetic("sae_matryoshka_batchtopk"), synthetic("sae_matryoshka")]
    for run, kind in zip(runs, ("batchtopk", "matryoshka")):
        run.config["sae"]["kind"] = kind
    written = combined.combined_figure(runs, tmp_path)
    assert [p.name for p in written] == ["combined.png", "combined.svg"]
    svg = written[1].read_text()
    assert "batchtopk SAE" in svg and "matryoshka SAE" in svg and "absorption rate" in svg


def test_a_multirun_over_widths_of_price_runs_draws_k_against_density(tmp_path, monkeypatch):
    """``toyjax -m sweep=ways_out_width model.n_hidden=5,6,7,8,10``: §9's k = m′/m, not D* curves; runs that
    differ in more than their width keep the D* curves."""
    from toyjax.plots import combined

    runs = [synthetic("ways_out_width", seed=k) for k in range(2)]
    runs[1].config["model"]["n_hidden"] = 5  # the narrower job, listed second, is the superposition model
    written = combined.combined_figure(runs, tmp_path)
    assert [p.name for p in written] == ["combined.png", "combined.svg"]
    svg = written[1].read_text()
    assert "k = m′/5" in svg and "best monosemantic loss / m=5 loss" in svg and "D*" not in svg
    drawn = []
    monkeypatch.setattr(combined.price, "widths_figure", lambda *args: drawn.append(args) or [])
    runs[1].run_info = RunInfo(preset="other", report=runs[1].run_info.report)
    combined.combined_figure(runs, tmp_path)
    assert drawn == []


def test_the_combined_figure_scales_to_the_data_and_leaves_shards_out(tmp_path):
    from toyjax.plots import combined

    assert combined.y_top([np.array([0.5, 1.0]), np.array([1.3, 4.0, np.inf])]) == pytest.approx(4.32)
    assert combined.y_top([np.array([0.2, np.nan])]) == 1.12
    shards = [synthetic("uniform_geometry", seed=k) for k in range(2)]
    for k, r in enumerate(shards):
        r.config["grid"] = {"shard": k, "num_shards": 2}
    assert combined.combined_figure(shards, tmp_path) == []  # never one curve per shard of one grid
    whole = [synthetic("uniform_geometry", seed=k) for k in range(2)]
    assert [p.name for p in combined.combined_figure(whole, tmp_path)] == ["combined.png", "combined.svg"]


def described(preset: str, **fields) -> Results:
    """`synthetic(preset)` saved as a ``kind: toy`` run described by `fields` (untied: W1, W2 for W)."""
    r = synthetic(preset)
    r.config["model"].update(kind="toy", **fields)
    if fields.get("encoder") == "untied":
        W = r.params.pop("W")
        r.params.update(W1=W, W2=np.swapaxes(W, -1, -2))
    return r


def test_figures_read_what_a_model_is_not_its_name(tmp_path):
    """The §6 figure draws a described tied model and nothing for an untied one; neurons draw a described
    relu_hidden model."""
    from toyjax.plots import adversarial, neurons

    assert adversarial.adversarial_figure(described("adversarial", encoder="untied"), tmp_path) == []
    assert len(adversarial.adversarial_figure(described("adversarial", hidden_activation="relu"), tmp_path)) == 2
    assert len(neurons.neurons_figure(described("privileged_basis", hidden_activation="relu"), tmp_path)) == 2


def test_combined_rows_and_labels_follow_the_architecture(tmp_path, monkeypatch):
    from toyjax.plots import combined

    runs = [synthetic("demonstrating_superposition", seed=0), synthetic("demonstrating_superposition", seed=1)]
    runs[1].config["model"]["kind"] = "linear"
    assert combined.job_labels(runs) == ["relu_output", "linear"]  # the shorthands' labels, as before
    rows = []
    monkeypatch.setattr(combined, "demo_rows_figure", lambda ordered, *_: rows.extend(ordered) or [])
    combined.combined_figure(runs, tmp_path)
    assert rows == [runs[1], runs[0]]  # no output activation (linear) first
    runs[0].config["model"].update(kind="toy", hidden_activation="gelu")
    runs[1].config["model"]["kind"] = "relu_hidden"
    assert combined.job_labels(runs) == ["toy, hidden gelu", "relu_hidden, hidden relu"]
