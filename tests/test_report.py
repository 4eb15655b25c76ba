"""The report page (toyjax.report) of every figure family, from tiny synthetic grids: valid, self-contained HTML
that holds the expected data; `toyjax` writes it at the end of a run and `toyjax-report` rewrites it."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from tests.test_plots import PRESETS, read_only, synthetic
from toyjax import plots, publish, report
from toyjax.config import ReportConfig, RunInfo
from toyjax.report import cli, encode, model, registry
from toyjax.report.index import index_page

pytest.importorskip("plotly")

PAIRS = ("m-pairs", "m-match")  # what a clicked SAE recovered: every SAE page draws them in its model panel
# Figure ids each family's page must draw (beside the model panel's and the loss chart).
FAMILY_FIGURES = {"intro": {"cells", "seeds"}, "superposition": {"norms"}, "phase": {"phase"},
                  "uniform_geometry": {"dstar", "m-graph"}, "nonuniform": {"cells", "seeds"},
                  "correlated": {"cells", "seeds"}, "collapse": {"cells", "seeds"}, "dynamics": {"models", "m-traj"},
                  "adversarial": {"vulnerability"}, "neurons": {"stacks", "m-stack"}, "price": {"stacks", "m-stack"},
                  "sae_directions": {"sae-mmcs", *PAIRS}, "sae_mmcs": {"sae-heat", *PAIRS},
                  "sae_superposition": {"sae-recovery", *PAIRS}, "sae_frontier": {"sae-frontier", *PAIRS},
                  "sae_hybrid": {"sae-recovery", *PAIRS}, "sae_absorption": {"sae-absorption", *PAIRS},
                  "sae_hierarchy": {"sae-hierarchy", *PAIRS}, "sae_l0": {"sae-l0", *PAIRS},
                  "double_descent": {"curve", "m-points"}}
EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?(https?:)?//|@import""", re.I)
VOID = {"meta", "br", "img", "input", "link", "hr", "col", "wbr"}


class Checker(HTMLParser):
    """Balanced tags, and the text of every element with an id."""

    def __init__(self):
        super().__init__()
        self.stack, self.ids, self.errors = [], {}, []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append((tag, dict(attrs).get("id")))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data):
        for _, ident in self.stack:
            if ident:
                self.ids[ident] = self.ids.get(ident, "") + data


def page_of(results, tmp_path):
    path = report.write_report(results, tmp_path)
    text = path.read_text()
    checker = Checker()
    checker.feed(text)
    checker.close()
    assert not checker.errors and not checker.stack, (checker.errors, checker.stack)
    return text, json.loads(checker.ids["toyjax-data"]), checker


def test_every_declared_figure_has_a_page():
    assert set(report.PAGES) == set(plots.FIGURES)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_family_writes_a_self_contained_page_with_its_data(preset, tmp_path):
    results = synthetic(preset)
    text, data, checker = page_of(results, tmp_path)
    assert not EXTERNAL.search(text.replace(checker.ids["plotly-gz"], "")), EXTERNAL.search(text)
    assert "<script src" not in text and "<link" not in text
    assert checker.ids["plotly-gz"].strip() and text.count('id="plotly-gz"') == 1
    figure = results.run_info.report.figure
    assert FAMILY_FIGURES[figure] | {"grid-loss"} <= set(data["figures"]), sorted(data["figures"])
    assert data["grid"]["shape"] == list(results.grid_shape) and data["grid"]["dims"] == list(results.dims)
    np.testing.assert_allclose(np.asarray(data["grid"]["eval_loss"], float), results.eval_loss.ravel(), rtol=1e-3)
    rows, fields = data["model"]["rows"], data["model"]["fields"]
    assert str(data["model"]["initial"]) in rows
    W = model.flat(results, results.params[data["model"]["matrix"]])  # W, W1, or an SAE's decoder W_dec
    for k, row in rows.items():
        got = np.asarray(row[fields.index("D")], dtype=float)
        np.testing.assert_allclose(got, model.metrics.feature_dimensionality(W[int(k)]), rtol=1e-3, atol=1e-6)
        if "W" in fields:
            np.testing.assert_allclose(np.asarray(row[fields.index("W")], float), W[int(k)], rtol=1e-3, atol=1e-9)
    for binding in data["model"]["bindings"]:
        assert binding["f"] in data["figures"] and binding["k"] in fields, binding
        assert binding["t"] < len(data["figures"][binding["f"]]["data"]), binding
    assert data["clicks"] and set(data["clicks"]) <= set(data["figures"])


def test_the_page_follows_the_declared_figure_not_the_presets_name(tmp_path):
    r = synthetic("privileged_basis")
    r.run_info = RunInfo(preset="my own experiment", report=ReportConfig(figure="neurons"))
    _, data, _ = page_of(r, tmp_path)
    assert "stacks" in data["figures"]
    r.run_info = RunInfo(preset="phase_n2m1", report=ReportConfig(figure=None))
    _, data, _ = page_of(r, tmp_path / "none")
    assert not set(data["figures"]) & set().union(*FAMILY_FIGURES.values()) - {"m-graph"}
    assert {"grid-loss", "m-bars"} <= set(data["figures"])


def test_clicked_cells_point_at_their_best_seed(tmp_path):
    r = synthetic("phase_n2m1")
    _, data, _ = page_of(r, tmp_path)
    heat = data["figures"]["phase"]["data"][0]
    best = model.best_flat(r)  # (density, extra_importance) cells: the grid's own order here
    assert [[c[0] for c in row] for row in heat["customdata"]] == best.tolist()
    cells = plots.common.best_cells(r)
    np.testing.assert_array_equal(np.unravel_index(best, r.grid_shape)[-1], cells.seed)


def test_diverged_and_missing_models_are_listed(tmp_path):
    r = synthetic("phase_n2m1")
    r.missing = np.zeros(r.grid_shape, bool)
    r.missing[0, 1, 0] = True
    _, data, checker = page_of(r, tmp_path)
    listed = checker.ids["untrained"]
    assert listed.count("diverged") == 1 and listed.count("missing") == 1
    assert str(np.ravel_multi_index((0, 1, 0), r.grid_shape)) not in data["model"]["rows"]  # no details of it


def test_rows_are_thinned_to_the_best_seeds_past_the_budget(tmp_path, monkeypatch):
    r = synthetic("phase_n2m1")
    size = registry.row_bytes(model.model_panel(r), r.loss.size)
    monkeypatch.setattr(model, "ROW_BYTES", 6 * size)  # 8 models: only the 4 best seeds fit
    _, data, _ = page_of(r, tmp_path)
    assert sorted(map(int, data["model"]["rows"])) == sorted(np.unique(model.best_flat(r)).tolist())
    assert "best seed of each cell only" in data["model"]["note"]
    monkeypatch.setattr(model, "ROW_BYTES", 1.5 * size)
    _, data, _ = page_of(r, tmp_path)
    assert len(data["model"]["rows"]) == 1 and "even spread" in data["model"]["note"]


def test_numbers_are_rounded_and_indices_exact():
    assert encode.plain(np.array([0.123456, np.nan, np.inf, 1e-7, 2.0])) == [0.1235, None, None, 1e-07, 2]
    assert encode.plain({"i": np.int64(123456789), "f": np.float32(123456.0)}) == {"i": 123456789, "f": 123500}
    from toyjax.report import parts

    assert parts.custom(np.array([123457]), np.array([0.5])) == [[123457, 0.5]]
    assert "</script>" not in encode.to_json({"a": "</script><!--"})


def test_publish_writes_the_page_unless_turned_off(tmp_path, capsys, monkeypatch):
    r = synthetic("intro")
    publish.publish(r, tmp_path / "on")
    assert (tmp_path / "on" / "report.html").is_file()
    assert "report.html" in capsys.readouterr().out
    r.run_info = RunInfo(preset="intro", report=ReportConfig(figure="intro", html=False))
    publish.publish(r, tmp_path / "off")
    assert not (tmp_path / "off" / "report.html").exists() and (tmp_path / "off" / "intro.png").is_file()
    monkeypatch.setattr(report, "available", lambda: False)
    r.run_info = RunInfo(preset="intro", report=ReportConfig(figure="intro"))
    publish.publish(r, tmp_path / "no_plotly")
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if "report.html" in line] == [
        "toyjax: report.html skipped: plotly is not installed (pip install 'toyjax[report]')"]
    assert (tmp_path / "no_plotly" / "results.npz").is_file() and (tmp_path / "no_plotly" / "intro.png").is_file()


def test_a_rerun_that_writes_no_page_leaves_no_page_of_the_earlier_results(tmp_path, monkeypatch):
    """A page beside other results would describe them: a rerun without a page (report.html=false, no plotly, a
    page that failed) removes the earlier one."""
    r = synthetic("intro")
    r.run_info = RunInfo(preset="intro", report=ReportConfig(figure="intro"))
    page = tmp_path / "report.html"
    publish.publish(r, tmp_path)
    assert page.is_file()
    r.run_info = RunInfo(preset="intro", report=ReportConfig(figure="intro", html=False))
    publish.publish(r, tmp_path)
    assert not page.exists()
    r.run_info = RunInfo(preset="intro", report=ReportConfig(figure="intro"))
    for name, instead in (("available", lambda: False), ("build", lambda results: 1 / 0)):  # no plotly; a failure
        monkeypatch.undo()
        publish.publish(r, tmp_path)
        assert page.is_file()
        monkeypatch.setattr(report, name, instead)
        publish.publish(r, tmp_path)
        assert not page.exists(), name


def test_a_rerun_leaves_no_figure_of_the_earlier_results(tmp_path, monkeypatch):
    """A rerun that declares another figure, or whose figure fails, removes the figure drawn before."""
    r = synthetic("intro")
    r.run_info = RunInfo(preset="intro", report=ReportConfig(figure="intro"))
    publish.publish(r, tmp_path)
    assert (tmp_path / "intro.png").is_file() and (tmp_path / "intro.svg").is_file()
    r.run_info = RunInfo(preset="intro", report=ReportConfig(figure="superposition"))
    publish.publish(r, tmp_path)
    assert (tmp_path / "superposition.png").is_file() and not list(tmp_path.glob("intro.*"))
    monkeypatch.setitem(plots.FIGURES, "superposition", lambda results, directory, name: 1 / 0)
    assert publish.publish(r, tmp_path).failed == ["figure superposition failed: ZeroDivisionError: division by zero"]
    assert not list(tmp_path.glob("superposition.*"))


def fail_summary(monkeypatch):
    monkeypatch.setattr(publish, "summarize", lambda results, names: {}["geometry"])


def fail_figure(monkeypatch):
    monkeypatch.setitem(plots.FIGURES, "intro", lambda results, directory, name: 1 / 0)


def fail_page(monkeypatch):
    """The disk fills while the page is written (a write that fails names no file)."""
    written = report.atomic_write

    def no_space(f):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "atomic_write", lambda path, write: written(path, no_space))


@pytest.mark.parametrize(("fail", "line"), [
    (fail_summary, "summary failed: KeyError: 'geometry'"),
    (fail_figure, "figure intro failed: ZeroDivisionError: division by zero"),
    (fail_page, "report.html failed: {dir}/report.html: No space left on device"),
], ids=["summary", "figure", "page"])
def test_a_failed_step_is_reported_and_the_steps_after_it_still_run(tmp_path, monkeypatch, capsys, fail, line):
    """Each step of publishing that fails is one line in `Published.failed` (the job fails on it); the grid is saved
    and every other step still runs."""
    r = synthetic("intro")
    r.run_info = RunInfo(preset="intro", report=ReportConfig(figure="intro", summaries=["geometry"]))
    fail(monkeypatch)
    published = publish.publish(r, tmp_path)
    assert published.failed == [line.format(dir=tmp_path)]
    assert (tmp_path / "results.npz").is_file()
    assert (published.page is None) == (fail is fail_page) and (published.figures == []) == (fail is fail_figure)
    assert ("error" in r.summary) == (fail is fail_summary)
    assert not list(tmp_path.glob(".*.tmp"))  # nothing half-written


def test_toyjax_report_rewrites_a_saved_run_and_a_sweep_dir(tmp_path, capsys):
    run = synthetic("collapse").save(tmp_path / "sweep" / "0_collapse")
    synthetic("dynamics").save(tmp_path / "sweep" / "1_dynamics")
    cli.main([str(run), "--out", str(tmp_path / "elsewhere.html")])
    assert (tmp_path / "elsewhere.html").is_file() and not (run / "report.html").exists()
    cli.main([str(tmp_path / "sweep")])
    assert (run / "report.html").is_file() and (tmp_path / "sweep" / "1_dynamics" / "report.html").is_file()
    with pytest.raises(SystemExit) as e:
        cli.main([str(tmp_path / "nowhere")])
    assert e.value.code == 2 and "nowhere: does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(("out", "code", "line"), [
    ("{tmp}", 2, "--out {tmp}: is a directory; name the page's file, e.g. {tmp}/report.html"),
    ("/proc/page.html", 1, "/proc/page.html: "),
    (None, 1, "{tmp}/run/report.html: Read-only file system"),
], ids=["out_is_a_directory", "out_cannot_be_written", "read_only_run_directory"])
def test_toyjax_report_that_cannot_write_its_page_is_one_line_naming_the_path(tmp_path, capsys, monkeypatch, out,
                                                                               code, line):
    run = synthetic("intro").save(tmp_path / "run")
    if out is None:
        read_only(monkeypatch)
    with pytest.raises(SystemExit) as e:
        cli.main([str(run), *(["--out", out.format(tmp=tmp_path)] if out else [])])
    err = capsys.readouterr().err
    assert e.value.code == code and err.count("\n") == 1 and err.startswith(f"toyjax-report: error: "
                                                                              f"{line.format(tmp=tmp_path)}")
    assert not list(tmp_path.rglob("*.tmp"))


def test_the_multirun_index_links_each_jobs_report(tmp_path):
    (tmp_path / "0_intro").mkdir()
    (tmp_path / "0_intro" / "report.html").write_text("page")
    jobs = [{"num": 0, "overrides": ["sweep=intro"], "status": "ok", "result": str(tmp_path / "0_intro"),
             "wall_s": 1.5, "headline": {"models": 8, "median D*": 0.4}},
            {"num": 1, "overrides": ["sweep=dynamics"], "status": "failed", "result": str(tmp_path / "1_dynamics"),
             "error": "boom", "headline": {}}]
    text = index_page(tmp_path, {"sweep_dir": str(tmp_path), "n_jobs": 2, "n_failed": 1, "jobs": jobs})
    assert 'href="0_intro/report.html"' in text and text.count("<a ") == 1
    assert "failed: boom" in text and "median D*" in text and "0.4" in text
    assert not EXTERNAL.search(text)


def test_registry_builds_without_writing(tmp_path):
    text = registry.build(synthetic("adversarial"))
    assert text.startswith("<!doctype html>") and "vulnerability" in text


def test_the_attack_section_reads_the_architecture():
    from tests.test_plots import described
    from toyjax.report import superposition

    untied = described("adversarial", encoder="untied")
    assert superposition.adversarial(untied, model.model_panel(untied)) == ([], -1)
    tied = described("adversarial", hidden_activation="relu", hidden_bias=True)
    tied.params["b_hidden"] = np.zeros(tied.grid_shape + (2,))
    sections, _ = superposition.adversarial(tied, model.model_panel(tied))
    assert sections


def test_the_page_says_what_its_numbers_rest_on(tmp_path):
    results = synthetic("intro")
    results.meta = {"platform": "gpu", "matmul_precision": "tensorfloat32", "deterministic_ops": False}
    _, _, checker = page_of(results, tmp_path)
    assert checker.ids["numerics"] == ("numerics: matrix products at tensorfloat32 precision on gpu; deterministic "
                                       "GPU ops: OFF (results may differ by a bit from run to run)")
    results.meta = {}
    _, _, checker = page_of(results, tmp_path)
    assert "not recorded (an older run: the backend's default)" in checker.ids["numerics"]


@pytest.mark.parametrize("preset", ["sae_intro", "sae_sharkey"], ids=["arrows_in_2d", "heatmap_in_4d"])
def test_a_clicked_sae_shows_each_true_feature_beside_its_matched_latent(preset, tmp_path):
    r = synthetic(preset)
    _, data, _ = page_of(r, tmp_path)
    fields, rows = data["model"]["fields"], data["model"]["rows"]
    features, W_dec = model.flat(r, r.sae["features"]), model.flat(r, r.params["W_dec"])
    matched, dead = model.flat(r, r.sae["matched"]), model.flat(r, r.sae["dead"])
    sizes = np.full(r.loss.size, W_dec.shape[-1])  # each model's own latents: its dict_size, else the width
    if "dict_size" in r.dims:
        sizes = np.ravel(np.asarray(r.coords["dict_size"], int)[np.indices(r.grid_shape)[r.dims.index("dict_size")]])
    assert len(rows) > 1
    for k, row in rows.items():
        get = dict(zip(fields, row))
        k, pairs = int(k), [(i, j) for i, j in enumerate(matched[int(k)]) if j >= 0]
        F, D = features[k] / np.linalg.norm(features[k], axis=0), W_dec[k] / np.linalg.norm(W_dec[k], axis=0)
        want = [float(F[:, i] @ D[:, j]) if j >= 0 else None for i, j in enumerate(matched[k])]
        assert [c is None for c in get["pair_cos"]] == [w is None for w in want] and len(pairs) > 1
        np.testing.assert_allclose([get["pair_cos"][i] for i, _ in pairs], [want[i] for i, _ in pairs], rtol=1e-3)
        dead_own = dead[k] & (np.arange(dead.shape[-1]) < sizes[k])  # a model's dead latents are its own
        assert get["pair_latent"] == [f"L{j}" + (" dead" if dead_own[j] else "") if j >= 0 else "" for j in matched[k]]
        left = {f"L{j}" for j in range(sizes[k])} - {f"L{j}" for _, j in pairs}
        assert set(get["spare_label"]) | set(get["dead_label"]) == left
        assert {f"L{j}" for j in np.flatnonzero(dead_own)} - {f"L{j}" for _, j in pairs} == set(get["dead_label"])
        if features.shape[-2] == 2:  # the features' arrows beside their latents' unit directions
            np.testing.assert_allclose(np.asarray(get["truth"], float), features[k], rtol=1e-3)
            np.testing.assert_allclose([get["mine"][0][i] for i, _ in pairs], [D[0, j] for _, j in pairs], rtol=1e-3)
        else:  # the cosines of the features with their matched latents, the pairs on the diagonal
            heat = np.asarray(get["pair_heat"], float)
            assert get["heat_x"] == [f"L{j}" if j >= 0 else f"f{i}: none" for i, j in enumerate(matched[k])]
            np.testing.assert_allclose([heat[i, i] for i, _ in pairs], [want[i] for i, _ in pairs], atol=0.006)
    bound = {(b["f"], b["k"]) for b in data["model"]["bindings"]}
    assert {("m-match", "pair_cos"), ("m-match", "pair_latent"), ("m-match", "spare_label")} <= bound
    assert ("m-pairs", "truth" if features.shape[-2] == 2 else "pair_heat") in bound
    del r.sae["matched"]  # a run saved before the matching: its page, without the pairs
    _, data, _ = page_of(r, tmp_path)
    assert FAMILY_FIGURES[r.run_info.report.figure] - set(PAIRS) <= set(data["figures"])
    assert not set(PAIRS) & set(data["figures"])
