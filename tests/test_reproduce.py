"""The reproduction as data: every claim of paper-facts §1–§9 has runs, a measurement, a figure and a command; the
page is written from findings, the run cache retrains only what changed, and one claim runs end to end."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from toyjax import presets
from toyjax.errors import ResultsError
from toyjax.reproduce import CLAIMS, cli, document, store
from toyjax.reproduce.registry import NOT_REPRODUCED, PARTLY, REPRODUCED, STATUSES, Finding, Run, status_of
from toyjax.reproduce.runs import RUNS


def test_every_claim_is_complete_and_every_run_is_a_preset():
    keys = [c.key for c in CLAIMS]
    assert len(keys) == len(set(keys))
    for claim in CLAIMS:
        assert claim.runs and set(claim.runs) <= set(RUNS), claim.key
        assert claim.paper and claim.setup and claim.title, claim.key
        assert re.fullmatch(r"§[1-9]", claim.section), claim.key
    assert set(RUNS) == {name for c in CLAIMS for name in c.runs}  # no run is trained for nothing
    files = {run.preset for run in RUNS.values() if run.preset.endswith(".yaml")}
    assert {run.preset for run in RUNS.values()} - files <= set(presets.preset_names())
    assert all(Path(f).is_file() for f in files)  # a family of one's own's experiment file


def test_the_claims_cover_every_section_of_the_paper():
    assert {c.section for c in CLAIMS} == {f"§{k}" for k in range(1, 10)}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_every_run_composes_at_both_sizes(name):
    for size in ("paper", "quick"):
        presets.compose(RUNS[name].preset, list(RUNS[name].overrides(size)))


def test_a_run_of_a_family_of_ones_own_imports_it_from_its_path(monkeypatch):
    """A run names the directories its family's module is imported from; its command sets PYTHONPATH to them."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    run = Run("examples/engineering_monosemanticity/jermyn.yaml", path=("examples",))
    assert run.command("paper") == "PYTHONPATH=examples toyjax sweep=examples/engineering_monosemanticity/jermyn.yaml"
    store.importable(run)
    store.importable(run)
    assert sys.path[0] == str(Path("examples").resolve()) and sys.path.count(sys.path[0]) == 1


def test_status_rule():
    assert [status_of(3, 3), status_of(1, 3), status_of(0, 3)] == [REPRODUCED, PARTLY, NOT_REPRODUCED]
    assert set(STATUSES) == {REPRODUCED, PARTLY, NOT_REPRODUCED}


def test_the_page_shows_every_claim_with_its_figure_status_and_commands(tmp_path):
    claims = CLAIMS[:2]
    findings = {c.key: Finding(REPRODUCED if k else PARTLY, f"measured {k} | pipe", "the rule", {"x": 1.0},
                               "a caption", "a details table") for k, c in enumerate(claims)}
    figures = {c.key: f"reproduction/{c.key}.png" for c in claims}
    records = {name: {"wall_s": 120.0, "models": 12, "load_before": 1.0, "load_after": 3.0, "cpus": 2}
               for c in claims for name in c.runs}
    text = document.write(tmp_path / "r.md", claims, findings, figures, "paper", records, 30.0).read_text()
    assert "**2 claims: 1 reproduced, 1 partly, 0 not.**" in text
    assert "load average 1.0–3.0" in text and "on 2 CPU cores" in text
    for c in claims:
        assert f"(#{c.key})" in text and f'<a id="{c.key}"></a>' in text
        assert f'<img src="reproduction/{c.key}.png"' in text and f"![{c.key}](reproduction/{c.key}.png)" in text
        assert f"`toyjax-reproduce --only {c.key}`" in text
        for name in c.runs:
            assert f"`{RUNS[name].command('paper')}`" in text
    assert "measured 1 \\| pipe" in text  # a pipe never breaks the table


def test_the_cache_retrains_only_a_changed_run(tmp_path):
    run = Run("intro", paper=("train.steps=20", "record.snapshots=2", "grid.axes.seed=1"),
              quick=("train.steps=30", "record.snapshots=2", "grid.axes.seed=1"))
    first = store.obtain("intro", run, "paper", tmp_path, log=lambda _: None)
    record = store.read_record(tmp_path / "intro")
    assert record["overrides"] == list(run.paper) and record["models"] == first.loss.size
    assert store.cached(tmp_path / "intro", run, "paper") and not store.cached(tmp_path / "intro", run, "quick")
    with pytest.raises(ResultsError, match="--plot-only"):
        store.obtain("intro", run, "quick", tmp_path, train=False)
    again = store.obtain("intro", run, "paper", tmp_path, train=False)
    assert (again.params["W"] == first.params["W"]).all()


def test_one_claim_end_to_end_at_quick_size(tmp_path, capsys):
    out = tmp_path / "out"
    cli.main(["--size", "quick", "--only", "intro", "--out", str(out), "--doc", str(tmp_path / "doc" / "r.md")])
    printed = capsys.readouterr().out
    assert "§1 intro: reproduced" in printed
    found = json.loads((out / "findings.json").read_text())
    assert found["findings"]["intro"]["status"] == REPRODUCED
    assert (tmp_path / "doc" / "reproduction" / "intro.png").stat().st_size < 200_000
    assert "§1 Five features in two dimensions" in (tmp_path / "doc" / "r.md").read_text()
    cli.main(["--size", "quick", "--only", "intro", "--out", str(out), "--plot-only"])  # no training needed
    assert "training" not in capsys.readouterr().out


def test_unknown_claim_is_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--only", "nonsense"])
    assert stop.value.code == 2
    assert "unknown claim nonsense" in capsys.readouterr().err
