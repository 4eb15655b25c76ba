"""Shards: each trains a contiguous part of the grid; the merge is bit-identical to one run."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import toyjax
from tests.test_grid import assert_same
from toyjax.errors import ConfigError
from toyjax.merge import MergeError, merge

AXES = {"density": [1.0, 0.3, 0.1], "extra_importance": [0.5, 2.0], "seed": 2}


def shard_runs(tiny, num_shards, **grid):
    cfg = tiny(AXES, grid={"axes": AXES, "block_size": 2, **grid})
    runs = []
    for k in range(num_shards):
        c = copy.deepcopy(cfg)
        c["grid"].update(shard=k, num_shards=num_shards)
        runs.append(toyjax.run(c))
    return cfg, runs


def test_merged_shards_equal_one_run(tiny):
    cfg, shards = shard_runs(tiny, 4)
    sizes = [s.loss.size for s in shards]
    assert sum(sizes) == 12 and max(sizes) - min(sizes) <= 2  # balanced by blocks of 2
    merged, missing = merge(shards)
    assert missing == []
    assert_same(toyjax.run(cfg), merged)
    assert merged.dims == ("density", "extra_importance", "seed")


def test_missing_duplicate_and_foreign_shards_are_refused(tiny):
    _, shards = shard_runs(tiny, 3)
    with pytest.raises(MergeError, match=r"missing shards \[1\] of 3"):
        merge([shards[0], shards[2]])
    with pytest.raises(MergeError, match="shard 2 of 3 appears twice"):
        merge([shards[0], shards[1], shards[2], shards[2]])
    other = copy.deepcopy(shards[1])
    other.config["train"]["lr"] = 0.5
    with pytest.raises(MergeError, match="different config"):
        merge([shards[0], other, shards[2]])


def test_partial_merge_reports_missing_models_as_nan(tiny):
    cfg, shards = shard_runs(tiny, 3)
    merged, missing = merge([shards[0], shards[2]], partial=True)
    assert missing == [1]
    whole = toyjax.run(cfg)
    done = ~np.isnan(merged.loss)
    assert 0 < done.sum() < done.size
    np.testing.assert_array_equal(merged.loss[done], whole.loss[done])
    np.testing.assert_array_equal(merged.missing, ~done)
    assert merged.meta["merge"]["missing_shards"] == [1]


def test_missing_models_are_missing_in_the_summary_the_file_and_the_figure(tiny, tmp_path, capsys):
    """Missing is its own state: not 'not learned', not diverged, and no numpy warning leaks."""
    import warnings

    from toyjax.config import ReportConfig, RunInfo
    from toyjax.publish import publish

    _, shards = shard_runs(tiny, 3)
    merged, _ = merge([shards[0], shards[2]], partial=True)
    merged.run_info = RunInfo(preset="phase", report=ReportConfig(figure="phase", summaries=["geometry"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        published = publish(merged, tmp_path / "merged")
    figures = published.figures
    assert published.failed == []
    s = merged.summary
    n_missing = int(merged.missing.sum())
    assert (s["n_models"], s["n_missing"], s["n_diverged"]) == (12, n_missing, 0) and n_missing == 4
    assert s["fraction_diverged"] == 0.0
    whole, _ = merge(shards)
    assert s["geometry"]["not_learned"] <= summary_of(whole)["geometry"]["not_learned"] + 0.2
    back = toyjax.load(tmp_path / "merged")
    np.testing.assert_array_equal(back.missing, merged.missing)
    assert back.meta["merge"]["missing_shards"] == [1] and back.summary["n_missing"] == 4
    assert [p.name for p in figures] == ["phase.png", "phase.svg"]
    assert "<svg" in figures[1].read_text() and "missing" in figures[1].read_text()


def summary_of(results):
    from toyjax.analysis import summarize

    return summarize(results, ["geometry"])


def test_toyjax_merge_names_what_is_wrong(tiny, tmp_path, capsys):
    from toyjax.merge import main

    with pytest.raises(SystemExit):
        main([str(tmp_path / "nowhere")])
    assert capsys.readouterr().err.strip() == f"toyjax-merge: error: {tmp_path / 'nowhere'}: does not exist"
    _, shards = shard_runs(tiny, 3)
    for k, shard in enumerate(shards):
        shard.save(tmp_path / f"{k}_shard")
    shards[2].save(tmp_path / "copy_of_2")
    with pytest.raises(SystemExit):
        main([str(tmp_path)])
    err = capsys.readouterr().err
    assert "shard 2 of 3 appears twice:" in err and "2_shard" in err and "copy_of_2" in err
    npz = tmp_path / "copy_of_2" / "results.npz"
    npz.write_bytes(npz.read_bytes()[:100])  # truncated: corrupt, not missing
    with pytest.raises(SystemExit):
        main([str(tmp_path)])
    err = capsys.readouterr().err
    assert "corrupt shard:" in err and "copy_of_2" in err and "truncated" in err


def test_toyjax_merge_fails_on_a_failed_step_or_a_file_it_cannot_write(tiny, tmp_path, capsys, monkeypatch):
    from toyjax import publish
    from toyjax.merge import main

    _, shards = shard_runs(tiny, 3)
    for k, shard in enumerate(shards):
        shard.save(tmp_path / f"{k}_shard")
    with pytest.raises(SystemExit) as e:
        main([str(tmp_path), "--out", "/proc/merged"])
    assert e.value.code == 1
    assert capsys.readouterr().err == "toyjax-merge: error: /proc/merged: No such file or directory\n"
    monkeypatch.setattr(publish, "summarize", lambda results, names: 1 / 0)
    with pytest.raises(SystemExit) as e:
        main([str(tmp_path)])
    assert e.value.code == 1 and (tmp_path / "merged" / "results.npz").is_file()
    assert capsys.readouterr().err == "toyjax-merge: error: summary failed: ZeroDivisionError: division by zero\n"


def test_shard_index_is_validated(tiny):
    with pytest.raises(ConfigError, match="^grid.shard:"):
        toyjax.run(tiny(grid={"axes": AXES, "shard": 3, "num_shards": 3}))


@pytest.mark.slow
def test_submitit_local_shards_merge_to_the_single_run(tmp_path):
    """Three shards as real processes under Hydra's submitit launcher; the second shard on hits the cache."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    args = ["sweep=phase_n2m1_quick", "train.steps=60", "train.batch_size=64", "record.snapshots=2",
            "grid.axes.density=[1.0,0.3,0.1,0.03]", "grid.axes.extra_importance=[0.5,2.0]", "grid.axes.seed=2",
            "grid.block_size=4", f"grid.compilation_cache={tmp_path / 'xla'}", "progress=false"]
    env = dict(os.environ, JAX_PLATFORMS="cpu")

    def toyjax_cmd(*extra):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "toyjax", *extra, *args], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        return time.perf_counter() - start

    single_s = toyjax_cmd(f"hydra.run.dir={tmp_path / 'single'}")
    sweep = tmp_path / "sweep"
    sweep_s = toyjax_cmd("-m", "grid.shard=range(0,3)", "grid.num_shards=3", "hydra/launcher=submitit_local",
                         f"hydra.sweep.dir={sweep}")
    merge_out = subprocess.run([sys.executable, "-c", "from toyjax.merge import main; main()", str(sweep)],
                               capture_output=True, text=True, env=env)
    assert merge_out.returncode == 0, merge_out.stderr
    print(f"single run {single_s:.1f} s, 3 submitit shards {sweep_s:.1f} s")

    single, merged = toyjax.load(tmp_path / "single"), toyjax.load(sweep / "merged")
    assert_same(single, merged)
    summary = json.loads((sweep / "summary.json").read_text())
    assert summary["n_jobs"] == 3 and summary["n_failed"] == 0
    shards = [toyjax.load(job["result"]) for job in summary["jobs"]]
    assert single.timing["compilation_cache_hits"] == 0
    assert all(s.timing["compilation_cache_hits"] >= 3 for s in shards)  # init, segment, finish from the cache
    assert (sweep / "merged" / "phase.png").is_file()


def test_more_shards_than_blocks_is_refused(tiny):
    with pytest.raises(ConfigError, match="^grid.num_shards: must be at most the grid's 6 blocks"):
        toyjax.run(tiny(grid={"axes": AXES, "block_size": 2, "shard": 6, "num_shards": 7}))


def test_a_shard_logs_and_counts_its_own_models(tiny, caplog):
    import logging

    cfg = tiny(AXES, grid={"axes": AXES, "block_size": 2, "shard": 1, "num_shards": 3})
    with caplog.at_level(logging.INFO, logger="toyjax"):
        r = toyjax.run(cfg)
    assert r.loss.size == 4 and r.timing["model_steps"] == 4 * 60
    assert "trained 4 models x 60 steps" in caplog.text
    assert "12 models in 6 blocks of 2 (this shard: 2 blocks)" in caplog.text
