"""End to end: the ``toyjax`` Hydra app in a subprocess at tiny size, multirun, validation errors and help."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import toyjax
from toyjax import cli, presets, publish, report
from toyjax.axes import axis_values
from toyjax.config import run_info, to_config
from toyjax.engine import programs

TINY = ["train.steps=20", "train.warmup_steps=0", "train.batch_size=32", "record.snapshots=2",
        "record.eval_samples=16", "progress=false"]


def toyjax_cmd(*args: str, cwd) -> subprocess.CompletedProcess:
    env = dict(os.environ, HYDRA_FULL_ERROR="0")
    return subprocess.run([sys.executable, "-m", "toyjax", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def toyjax_patched(patch: str, *args: str, cwd) -> subprocess.CompletedProcess:
    """The ``toyjax`` command in a subprocess that first runs `patch` (Python): a failure or a kill, simulated."""
    code = f"{patch}\nfrom toyjax.cli import main\nmain({list(args)!r})"
    env = dict(os.environ, HYDRA_FULL_ERROR="0")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


# Ctrl-C right after the first training state of the run's own checkpoint is saved (not its source's).
INTERRUPTED_AFTER_A_STATE = """
from toyjax.engine import checkpoint
save = checkpoint.Checkpoint.save_state
def interrupted(self, *args):
    save(self, *args)
    if self.dir.parent.name != "source":
        raise KeyboardInterrupt
checkpoint.Checkpoint.save_state = interrupted
"""


def test_default_run_writes_results_and_phase_figure(tmp_path):
    run_dir = tmp_path / "run"
    out = toyjax_cmd(*TINY, "grid.axes.seed=2", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    page = ("report.html",) if report.available() else ()  # plotly is in the test extra; the page needs it
    for name in ("results.npz", "results.json", "phase.png", "phase.svg", *page, ".hydra/config.yaml", "toyjax.log"):
        assert (run_dir / name).exists(), name
    results = toyjax.load(run_dir)
    assert results.dims == ("density", "extra_importance", "seed")
    assert results.grid_shape == (12, 10, 2)
    assert results.run_info.preset == "phase_n2m1_quick" and results.run_info.report.figure == "phase"
    assert results.summary["phase_agreement"]["best"]["n_cells"] == 120
    header = json.loads((run_dir / "results.json").read_text())
    assert "summary" in header and "summary" not in header["config"] and "sweep_name" not in header["config"]
    assert "phase_agreement.best.all" in out.stdout
    log = (run_dir / "toyjax.log").read_text()
    for line in ("command: toyjax ", "config fingerprint ", "devices: 1 x cpu", "block 1/", "trained 240 models x 20",
                 "results written to", "figures: phase.png, phase.svg", "s wall"):
        assert line in log, (line, log)
    assert "Unable to initialize backend" not in log + out.stderr


# SAE runs: those on a preset the same job trains (sae.source: preset:NAME) are tested below; the others run
# from the command line in tests/test_slow_install.py (their figures: tests/test_plots.py).
SAE = [n for n in presets.preset_names() if toyjax.compose(n).model.kind == "sae"]
SOURCED = [n for n in SAE if str(toyjax.compose(n).sae.source).startswith("preset:")]
# Such a source at tiny size: two cells, no report page, the shapes the SAE preset states (a trained source fixes them).
TINY_SOURCE = ['sae.source_overrides=["train.steps=20","record.snapshots=2","grid.axes.density=[1.0,0.1]",'
               '"report.html=false","model.n_features=${model.n_features}","model.n_hidden=${model.n_hidden}"]']


def finite_data(name: str) -> bool:
    """Whether a preset trains on finite training sets (a dataset_size axis, Henighan et al. 2023)."""
    return "dataset_size" in toyjax.compose(name).grid.axes


@pytest.mark.parametrize("finite", [False, True], ids=["fresh_batches", "finite_training_sets"])
def test_multirun_of_every_preset(tmp_path, finite):
    """One run of each toy-model preset at tiny size, as one multirun; the sweep dir lists every job.

    The presets on finite training sets get two small sets of 200 features and a short warm-up instead of a
    density axis (at the paper's n = 10,000 the test loss alone takes a minute on a CPU).
    """
    sweep_dir = tmp_path / "multi"
    names = [name for name in presets.preset_names() if name not in SAE and finite_data(name) == finite]
    axes = (["train.warmup_steps=2", "grid.axes.dataset_size=[3,10]", "model.n_features=200"] if finite
            else ["grid.axes.density=[0.1]"])
    out = toyjax_cmd("-m", f"sweep={','.join(names)}", *TINY, "grid.axes.seed=1", *axes,
                     f"hydra.sweep.dir={sweep_dir}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads((sweep_dir / "summary.json").read_text())
    assert summary["n_jobs"] == len(names) and summary["n_failed"] == 0
    table = (sweep_dir / "summary.md").read_text()
    headline = "| test-loss peak at T |" if finite else "| agreement with theory |"
    assert "| status | models | final loss | diverged |" in table and headline in table
    assert all(j["wall_s"] > 0 and j["headline"]["models"] >= 1 for j in summary["jobs"])
    if report.available():
        assert (sweep_dir / "index.html").read_text().count('">report</a>') == len(names)
    for job, name in zip(summary["jobs"], names):
        assert job["status"] == "ok"
        assert f"sweep={name}" in job["overrides"]
        results = toyjax.load(job["result"])
        assert results.run_info.preset == name
        figure = results.run_info.report.figure
        assert os.path.exists(os.path.join(job["result"], f"{figure}.png")), (name, figure)


def test_sae_presets_on_a_preset_source_train_it_first_into_their_jobs_source_dir(tmp_path):
    sweep_dir = tmp_path / "multi"
    out = toyjax_cmd("-m", f"sweep={','.join(SOURCED)}", *TINY, *TINY_SOURCE, "report.html=false",
                     f"hydra.sweep.dir={sweep_dir}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads((sweep_dir / "summary.json").read_text())
    assert summary["n_jobs"] == len(SOURCED) >= 2 and summary["n_failed"] == 0
    assert "| best MMCS |" in (sweep_dir / "summary.md").read_text()
    for job, name in zip(summary["jobs"], SOURCED):
        results, source = toyjax.load(job["result"]), toyjax.load(os.path.join(job["result"], "source"))
        assert results.run_info.preset == name and results.sae is not None
        assert os.path.exists(os.path.join(job["result"], f"{results.run_info.report.figure}.png")), name
        assert results.config["sae"]["source"] == os.path.join(job["result"], "source")
        assert results.config["model"]["n_features"] == source.config["model"]["n_features"]


def test_a_resume_on_a_preset_source_of_another_config_is_refused_before_the_source_is_retrained(tmp_path):
    """SAEs checkpointed on a source at density 0.05, rerun with the source at 0.3: the config fingerprint is the
    same (the source is a directory), so the refusal must look at the source itself, and before retraining it."""
    run_dir = tmp_path / "run"

    def source(density):
        return (f'sae.source_overrides=["train.steps=20","record.snapshots=2","grid.axes.density=[{density}]",'
                '"report.html=false"]')

    args = ["sweep=sae_intro", *TINY, "record.checkpoint_every=10", "report.html=false", f"hydra.run.dir={run_dir}"]
    killed = toyjax_patched(INTERRUPTED_AFTER_A_STATE, *args, source(0.05), cwd=tmp_path)
    assert killed.returncode != 0 and (run_dir / "checkpoint" / "progress.json").is_file(), killed.stderr[-2000:]
    trained = (run_dir / "source" / "results.npz").read_bytes()
    out = toyjax_cmd(*args, source(0.3), cwd=tmp_path)
    assert out.returncode == 2, out.stderr[-2000:]
    assert out.stderr.strip() == (
        f"toyjax: error: {run_dir / 'checkpoint'}: checkpoint of SAEs on another source (the intro grid in "
        f"{run_dir / 'source'} has another config); remove it to start over or choose another run directory")
    assert (run_dir / "source" / "results.npz").read_bytes() == trained
    assert not (run_dir / "results.npz").exists()


# Each job of a multirun fails one step after its grid is saved: intro its figure, correlated its page (the disk is
# full), anticorrelated its summary.
FAILING_STEPS = """
import errno
from toyjax import plots, publish, report
summarize, write_report = publish.summarize, report.write_report
def no_figure(results, directory, name):
    raise RuntimeError("no figure")
def no_summary(results, names):
    if results.run_info.preset == "anticorrelated":
        raise ValueError("no summary")
    return summarize(results, names)
def full(results, directory, out=None):
    if results.run_info.preset == "correlated":
        raise OSError(errno.ENOSPC, "No space left on device", str(directory / "report.html"))
    return write_report(results, directory, out)
plots.FIGURES["intro"], publish.summarize, report.write_report = no_figure, no_summary, full
"""


def test_a_failed_step_fails_its_job_in_job_json_the_summary_and_the_exit_status(tmp_path):
    sweep_dir = tmp_path / "multi"
    out = toyjax_patched(FAILING_STEPS, "-m", "sweep=intro,correlated,anticorrelated", *TINY, "grid.axes.seed=1",
                         "grid.axes.density=[0.1]", 'sweep.title="of ${sweep.name}"', f"hydra.sweep.dir={sweep_dir}",
                         cwd=tmp_path)
    assert out.returncode == 1, out.stderr[-3000:]
    summary = json.loads((sweep_dir / "summary.json").read_text())
    assert summary["n_failed"] == 3
    errors = {job["overrides"][0]: job["error"] for job in summary["jobs"] if job["status"] == "failed"}
    assert errors == {"sweep=intro": "figure intro failed: RuntimeError: no figure",
                      "sweep=correlated": f"report.html failed: {sweep_dir}/1_correlated/report.html: No space left "
                                          "on device",
                      "sweep=anticorrelated": "summary failed: ValueError: no summary"}
    for job in summary["jobs"]:
        assert json.loads((Path(job["result"]) / "job.json").read_text())["status"] == "failed"
        assert 'sweep.title="of ${sweep.name}"' in job["overrides"]  # as typed, never resolved in Hydra's config
        assert (Path(job["result"]) / "results.npz").is_file()  # the grid is kept
        assert job["headline"]["models"] == (None if job["overrides"][0] == "sweep=anticorrelated" else 1)
    assert "Traceback" not in out.stderr and "3 failed" in (sweep_dir / "summary.md").read_text()
    assert out.stderr.strip().splitlines()[-1] == "toyjax: error: 3 job(s) failed: 0, 1, 2"
    # The same multirun again, its steps mended (no page this time): every job publishes the grid it saved, and
    # none trains again.
    again = toyjax_patched("import toyjax.grid; toyjax.grid.run = None", "-m", "sweep=intro,correlated,anticorrelated",
                           *TINY, "grid.axes.seed=1", "grid.axes.density=[0.1]", 'sweep.title="of ${sweep.name}"',
                           "report.html=false", f"hydra.sweep.dir={sweep_dir}", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    summary = json.loads((sweep_dir / "summary.json").read_text())
    assert summary["n_failed"] == 0 and all(job["reused"] for job in summary["jobs"])
    assert again.stdout.count(": already trained in ") == 3
    assert "ok (reused: trained before)" in (sweep_dir / "summary.md").read_text()


def test_a_disk_that_fills_while_the_page_is_written_fails_the_run(tmp_path):
    """The grid is saved, the page cannot be: one line naming the page and the cause, job.json "failed", exit 1."""
    run_dir = tmp_path / "run"
    out = toyjax_patched(FAILING_STEPS, "sweep=correlated", *TINY, "grid.axes.seed=1", f"hydra.run.dir={run_dir}",
                         cwd=tmp_path)
    assert out.returncode == 1
    line = f"toyjax: error: report.html failed: {run_dir}/report.html: No space left on device"
    assert out.stderr.strip() == line
    job = json.loads((run_dir / "job.json").read_text())
    assert job["status"] == "failed" and job["error"] == line.removeprefix("toyjax: error: ")
    assert (run_dir / "results.npz").is_file() and not (run_dir / "report.html").exists()


# A disk that fills, or a file system mounted read-only, under the run (as root, chmod cannot make one).
NO_WRITE = """
import errno, tempfile
def cannot(*args, dir=None, **kwargs):
    raise OSError(errno.{code}, "{cause}", dir)
tempfile.mkstemp = cannot
"""
FULL_DISK = """
import errno, numpy
def full(file, *args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")  # a write names no file
numpy.savez = full
"""


@pytest.mark.parametrize(("where", "patch", "line"), [
    ("/proc/x", "", "/proc/x: No such file or directory"),
    ("{tmp}/a_file/run", "", "{tmp}/a_file/run: Not a directory"),
    ("{tmp}/logged", "", "{tmp}/logged/toyjax.log: Is a directory"),  # Hydra cannot open the log file
    ("{tmp}/run", FULL_DISK, "{tmp}/run/checkpoint/block_00000.npz: No space left on device"),
    ("{tmp}/run", NO_WRITE.format(code="EROFS", cause="Read-only file system"),
     "{tmp}/run/.hydra/config.yaml: Read-only file system"),
    ("-m /proc/y", "", "/proc/y: No such file or directory"),
], ids=["cannot_be_made", "a_file_in_the_way", "log_file_cannot_be_opened", "full", "read_only",
        "multirun_cannot_be_made"])
def test_an_output_directory_that_cannot_take_the_run_is_one_line_naming_the_path(tmp_path, where, patch, line):
    (tmp_path / "a_file").write_text("")
    (tmp_path / "logged" / "toyjax.log").mkdir(parents=True)
    key = "hydra.sweep.dir" if where.startswith("-m ") else "hydra.run.dir"
    flags = ["-m"] if where.startswith("-m ") else []
    out = toyjax_patched(patch, *flags, *TINY, "grid.axes.seed=1", "grid.axes.density=[0.1]",
                         f"{key}={where.removeprefix('-m ').format(tmp=tmp_path)}", cwd=tmp_path)
    assert out.returncode == 1
    assert out.stderr.strip() == f"toyjax: error: {line.format(tmp=tmp_path)}"


def test_a_refused_resume_writes_nothing_into_the_run_directory(tmp_path):
    """A rerun whose train.lr changed is refused by the checkpoint: the directory's record of its own config
    (.hydra/), its job.json and its checkpoint stay as the interrupted run left them."""
    run_dir = tmp_path / "run"
    args = ["sweep=intro", *TINY, "train.steps=40", "record.checkpoint_every=10", "grid.axes.density=[0.1]",
            f"hydra.run.dir={run_dir}"]
    toyjax_patched(INTERRUPTED_AFTER_A_STATE, *args, cwd=tmp_path)
    before = {p: p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file() and p.suffix != ".log"}
    assert run_dir / ".hydra" / "overrides.yaml" in before and run_dir / "checkpoint" / "progress.json" in before
    out = toyjax_cmd(*args, "train.lr=0.003", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.strip().startswith(
        f"toyjax: error: {run_dir / 'checkpoint'}: checkpoint of a different run"), out.stderr[-2000:]
    assert {p: p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file() and p.suffix != ".log"} == before


ERRORS = [
    (["model.foo=1"], "model.foo: unknown key"),
    (["bogus=1"], "bogus: unknown key"),
    (["model.n_features=abc"], "model.n_features:"),
    (["model.n_features=0"], "model.n_features: must be >= 1"),
    (["model.kind=bogus"], "model.kind: unknown value 'bogus'"),
    (["grid.axes.density=[0.5,1.5]"], "grid.axes.density: density must be in (0, 1]"),
    (["sweep=dynamics", "data.density=1.5"], "data.density: density must be in (0, 1]"),
    (["grid.axes.density=log:0.01:1"], "grid.axes.density: range must look like"),
    (["sweep=nope"], "sweep: unknown preset 'nope'"),
    (["grid.axes.foo=[1,2]"], "grid.axes.foo: unknown axis; allowed: density, extra_density"),
    (["grid.axes.seed=[0,0]"], "grid.axes.seed: values must not repeat"),
    (["report.figure=nope"], "report.figure: unknown value 'nope'; allowed: intro,"),
    (["sweep=intro", "report.summaries=[phase_agreement]"], "report.summaries: phase_agreement the §3 analytic"),
    (["sweep=dynamics", "record.snapshots=0"], "record.snapshots: the dynamics figure is drawn from the snapshots"),
    (["sweep=intro", "data.density=0.5"], "data.density: grid.axes.density sets it for every model, so data.density"),
    (["sweep=sae_frontier_relu", "sae.width=100000000"], "sae.width: one model needs about 7.05 TB of memory"),
    (["grid.num_shards=500"], "grid.num_shards: must be at most the grid's"),
    (["sweep=sae_intro", "sae.source=preset:nope"], "sae.source: preset:nope: sweep: unknown preset 'nope'"),
    (["sweep=sae_intro", 'sae.source_overrides=["grid.axes.density=[2.0]"]'],
     "sae.source: intro: grid.axes.density: density must be in (0, 1]"),
    (["sweep=sae_frontier_relu", "data.dataset_size=1000"], "data.dataset_size: an SAE trains on a fresh batch"),
    (["sweep=sae_frontier_topk", "grid.axes.l1_coefficient=[0.1,0.3]"],
     "grid.axes.l1_coefficient: a topk SAE does not read it"),
    (["sweep=sae_frontier_topk", "grid.axes.k=[1,200]"], "grid.axes.k: must be at most the dictionary size"),
    (["sweep=sae_intro", 'sae.source_overrides=["hydra.run.dir=/tmp/elsewhere"]'],
     "sae.source_overrides: hydra.run.dir=/tmp/elsewhere is a Hydra setting"),
    (["sweep=sae_intro", "model.n_features=7"], "model.n_features: the source fixes it (5), got 7"),
    (["sweep=intro", "sae.width=4"], "sae.width: a key of SAE runs (model.kind: sae), not of relu_output models"),
]


@pytest.mark.parametrize(("args", "message"), ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_validation_error(tmp_path, args, message):
    run_dir = tmp_path / "run"
    out = toyjax_cmd(*args, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"toyjax: error: {message}"), lines[0]
    assert not run_dir.exists()
    assert not (tmp_path / "outputs").exists()


def test_an_sae_run_on_a_source_with_no_finite_model_fails_in_one_line_before_its_saes_train(tmp_path):
    run_dir = tmp_path / "run"
    diverging = ['sae.source_overrides=["train.lr=1e9","train.steps=20","record.snapshots=2","report.html=false"]']
    out = toyjax_cmd("sweep=sae_intro", *TINY, *diverging, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert out.returncode == 2, out.stderr[-3000:]
    assert out.stderr.strip() == (f"toyjax: error: sae.source: intro (relu_output) in {run_dir / 'source'} has no "
                                  "finite model in cell 0 (density 1): every seed diverged; retrain it (a lower "
                                  "train.lr, say) or leave that cell out (sae.source_cell)")
    assert not (run_dir / "results.npz").exists() and not (run_dir / ".hydra").exists()


def test_a_sources_override_of_a_value_its_axis_sets_is_refused():
    composed = toyjax.compose("sae_intro", ['sae.source_overrides=["data.density=0.3"]'])
    with pytest.raises(toyjax.ConfigError, match=r"^sae.source: preset:intro: data.density: grid.axes.density sets it"):
        cli.source_job(composed)


@pytest.mark.parametrize(("sweep", "message"), [
    ("model.n_features=2,0", "model.n_features: must be >= 1, got 0"),
    ("grid.num_shards=1,500", "grid.num_shards: must be at most the grid's 120 blocks of 4 models, got 500"),
])
def test_multirun_validates_every_job_first(tmp_path, sweep, message):
    out = toyjax_cmd("-m", sweep, "grid.block_size=4", f"hydra.sweep.dir={tmp_path / 'multi'}", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == f"toyjax: error: {message}"
    assert not (tmp_path / "multi").exists()


TOYS = "linear, relu_output, relu_hidden, abs_mlp, toy"
HYBRID_SOURCE = "needs a source grid over exactly activation_l1 and density (and seed), got"
UNFIT_FIGURES = [  # (figure, preset, overrides, why): a figure its run's grid cannot draw
    *[(name, "sae_frontier_relu", (), f"is drawn from a toy model's weights: it needs a toy model's run (model.kind: "
                                      f"{TOYS}), got model.kind=sae")
      for name in ("intro", "superposition", "uniform_geometry", "nonuniform", "correlated", "collapse", "dynamics")],
    ("price", "ways_out_price", ("~grid.axes.activation_l1",),
     "needs exactly the grid axes activation_l1, density and seed, got density, seed"),
    ("price", "ways_out_price", ("grid.axes.activation_l1=[0.1,0.0]",),
     "needs grid.axes.activation_l1 ascending from λ = 0 (the reference first), got [0.1, 0.0]"),
    ("double_descent", "intro", (), "needs the grid axis dataset_size (grid.axes.dataset_size: a finite training set "
                                    "per model, drawn against T)"),
    *[(name, "intro", (), "needs model.kind in sae, got relu_output")
      for name in ("sae_directions", "sae_mmcs", "sae_frontier", "sae_hierarchy", "sae_l0", "sae_absorption")],
    ("sae_superposition", "sae_frontier_relu", ("~grid.axes.l1_coefficient",),
     "draws one point per source cell: needs a grid axis besides seed (grid.axes.source_cell: all)"),
    ("sae_absorption", "sae_absorption", ("~grid.axes.dict_size",),
     "needs the grid axes dict_size and l1_coefficient; this run lacks grid.axes.dict_size"),
    ("sae_absorption", "sae_sharkey", (), "needs a parent and a child feature (data.hierarchy)"),
    ("sae_hybrid", "sae_frontier_relu", (), "needs a trained toy source over activation_l1 and density (sae.source: "
                                            "preset:NAME or a run's directory), got synthetic"),
    ("sae_hybrid", "ways_out_hybrid", ("~grid.axes.source_cell",), "reads SAEs over every source cell, in the "
     "source's order, first (grid.axes.source_cell: all as the first axis), got grid axes l1_coefficient, dict_size"),
    ("sae_hybrid", "ways_out_hybrid", ('sae.source_overrides=["~grid.axes.activation_l1"]',),
     f"{HYBRID_SOURCE} density, seed: give the source these grid axes"),
    ("sae_hybrid", "ways_out_hybrid", ('sae.source_overrides=["grid.axes.activation_l1=[0.01,0.1]"]',),
     "compares with λ = 0; the source's grid.axes.activation_l1 has no 0, got [0.01, 0.1]"),
    ("sae_hybrid", "ways_out_hybrid", ('sae.source_overrides=["grid.axes.activation_l1=[0.0,0.1,0.01]"]',),
     "needs the source's grid.axes.activation_l1 ascending from λ = 0, got [0.0, 0.1, 0.01]"),
    ("sae_hybrid", "ways_out_hybrid", ("grid.axes.source_cell=[0,1]",), "reads SAEs over every source cell, in the "
     "source's order, first (grid.axes.source_cell: all as the first axis), got 2 of the source's 30 cells"),
]


@functools.cache
def composed(preset: str, overrides: tuple[str, ...]):
    """A preset's config (cached: several figures are checked on one), and its preset source's grid axes."""
    cfg = toyjax.compose(preset, list(overrides))
    source = cli.source_job(cfg)
    axes = None if source is None else {a: axis_values(to_config(source), a) for a in source.grid.axes}
    return cfg, axes


@pytest.fixture
def nothing_compiles(monkeypatch):
    monkeypatch.setattr(programs.Programs, "compiled", lambda *a: pytest.fail("compiled a run that is refused"))


@pytest.mark.parametrize(("figure", "preset", "overrides", "why"), UNFIT_FIGURES,
                         ids=[f"{f}-{p}-{' '.join(o)}" for f, p, o, _ in UNFIT_FIGURES])
def test_a_figure_the_grid_cannot_draw_is_refused_before_compiling(nothing_compiles, figure, preset, overrides, why):
    cfg, source_axes = composed(preset, overrides)
    declared = dataclasses.replace(run_info(cfg).report, figure=figure, summaries=[])  # the figure's check alone
    with pytest.raises(toyjax.ConfigError) as err:
        publish.check_report(declared, to_config(cfg), source_axes)
    assert str(err.value) == f"report.figure: {figure} {why}"


def test_the_hybrids_source_is_checked_before_the_saes_compile(nothing_compiles):
    """The command's validation of a preset:NAME source gives the source's grid axes to the figure's check."""
    cfg = toyjax.compose("ways_out_hybrid", ['sae.source_overrides=["~grid.axes.activation_l1"]'])
    with pytest.raises(toyjax.ConfigError, match=rf"^report.figure: sae_hybrid {re.escape(HYBRID_SOURCE)} density, "):
        cli.check_job(cfg)


EXPERIMENT = """\
# @package _global_
# my_experiment: an experiment of one's own, outside sweeps/: relu_hidden neurons at two densities.
sweep:
  name: my_experiment
  title: "neurons of my own"
report:
  figure: neurons
  summaries: [neurons]
model: {kind: relu_hidden, n_features: 4, n_hidden: 3}
grid:
  axes: {density: [1.0, 0.3]}
"""


@pytest.mark.parametrize("how", ["path", "config-dir"])
def test_an_experiment_yaml_outside_sweeps_gets_its_declared_figure(tmp_path, how):
    if how == "path":
        (tmp_path / "my_experiment.yaml").write_text(EXPERIMENT)
        args = ["sweep=my_experiment.yaml"]
    else:
        (tmp_path / "mine" / "sweep").mkdir(parents=True)
        (tmp_path / "mine" / "sweep" / "my_experiment.yaml").write_text(EXPERIMENT)
        args = ["--config-dir", str(tmp_path / "mine"), "sweep=my_experiment"]
    run_dir = tmp_path / "run"
    out = toyjax_cmd(*args, *TINY, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    results = toyjax.load(run_dir)
    assert results.run_info.preset == "my_experiment" and results.run_info.title == "neurons of my own"
    assert (run_dir / "neurons.png").is_file() and "neurons" in results.summary
    assert "neurons.fraction_monosemantic" in out.stdout


def test_old_preset_name_still_runs_with_a_warning(tmp_path):
    run_dir = tmp_path / "run"
    out = toyjax_cmd("sweep=demo_sparsity", *TINY, "grid.axes.density=[0.1]", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "toyjax: warning: sweep=demo_sparsity is deprecated; use sweep=demonstrating_superposition" in out.stderr
    assert toyjax.load(run_dir).run_info.preset == "demonstrating_superposition"


def test_compose_raises_the_clis_one_line_error():
    with pytest.raises(toyjax.ConfigError, match=r"^train.stepz: unknown key; allowed: steps, batch_size"):
        toyjax.compose("intro", ["train.stepz=5"])


def test_help_lists_presets_and_axis_syntax(tmp_path):
    out = toyjax_cmd("--help", cwd=tmp_path)
    assert out.returncode == 0
    for name in presets.preset_names():
        assert name in out.stdout
    assert "grid.axes.density=log:0.01:1:40" in out.stdout
    assert "report.html=false" in out.stdout and "toyjax-report" in out.stdout


def test_report_html_false_writes_no_page_and_a_bad_value_is_refused(tmp_path):
    run_dir = tmp_path / "run"
    out = toyjax_cmd(*TINY, "grid.axes.seed=1", "report.html=false", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (run_dir / "phase.png").is_file() and not (run_dir / "report.html").exists()
    out = toyjax_cmd("report.html=maybe", f"hydra.run.dir={tmp_path / 'bad'}", cwd=tmp_path)
    assert out.returncode == 2 and "report.html" in out.stderr


def test_help_lists_the_finite_training_set_keys(tmp_path):
    out = toyjax_cmd("--help", cwd=tmp_path)
    assert out.returncode == 0
    for key in ("data.dataset_size", "data.normalize", "train.full_batch", "train.chunk_size", "train.warmup_steps",
                "record.eval_tail", "dataset_size, seed", "double_descent_small"):
        assert key in out.stdout, key
