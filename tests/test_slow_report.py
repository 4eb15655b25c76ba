"""The report page in a real browser: a small run's report.html opened from disk in headless Chromium (Debian's
``chromium``, driven by Playwright) with the network blocked. No console errors; clicking a phase-diagram
cell shows that cell's model (its density, importance and W as in results.npz); the seed selector shows the
cell's other seeds. `.ci/run` installs chromium and playwright when they are missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import toyjax
from toyjax.plots.common import best_cells, fmt
from toyjax.report.model import best_flat

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RUN = ["train.steps=300", "train.batch_size=256", "record.eval_samples=32", "progress=false",
       "grid.axes.density=log:0.01:1:5", "grid.axes.extra_importance=log:0.1:10:4", "grid.axes.seed=3"]


def _browser_or_skip():
    """Playwright and Chromium; outside CI a machine without them skips, in CI (CI=true) it fails."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright is not installed (pip install playwright)")
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            raise FileNotFoundError(CHROMIUM)
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return sync_playwright


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A 60-model phase run through the ``toyjax`` command, which writes report.html itself."""
    out = tmp_path_factory.mktemp("run") / "run"
    done = subprocess.run([sys.executable, "-m", "toyjax", *RUN, f"hydra.run.dir={out}"], capture_output=True,
                          text=True, timeout=600, cwd=out.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "report.html").is_file()
    return out


def _cell_center(page, i: int, j: int) -> tuple[float, float]:
    """Page pixel of the centre of phase-diagram cell (density i, extra importance j), from plotly's axes."""
    return page.evaluate("""([i, j]) => {
        const gd = document.getElementById("phase"), trace = gd.data[0], L = gd._fullLayout;
        const x = Math.sqrt(trace.x[j] * trace.x[j + 1]), y = Math.sqrt(trace.y[i] * trace.y[i + 1]);
        const box = gd.getBoundingClientRect();
        return [box.left + L.xaxis._offset + L.xaxis.d2p(x), box.top + L.yaxis._offset + L.yaxis.d2p(y)];
    }""", [i, j])


def _shown(page) -> dict:
    """What the model panel says: axis values, and W as numbers."""
    axes = page.eval_on_selector_all("#model-info [data-axis]", "els => els.map(e => [e.dataset.axis, "
                                     "e.querySelector('b').textContent])")
    W = page.eval_on_selector_all("#model-W tr", "rows => rows.map(r => [...r.cells].map(c => +c.textContent))")
    return {"axes": dict(axes), "W": np.asarray(W, dtype=float)}


def test_report_in_a_browser_shows_the_clicked_cells_model(run_dir, tmp_path):
    sync_playwright = _browser_or_skip()
    results = toyjax.load(run_dir)
    with np.load(run_dir / "results.npz") as npz:
        W_file = npz["params/W"]
    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        def route(r):
            if r.request.url.startswith("file://"):
                return r.continue_()
            requests.append(r.request.url)
            return r.abort()

        page.route("**/*", route)
        page.goto((run_dir / "report.html").as_uri())
        page.wait_for_selector("body[data-ready='1']", state="attached", timeout=60_000)

        i, j = 1, 2
        page.mouse.click(*_cell_center(page, i, j))
        seed_axis = results.dims.index("seed")
        best = int(best_flat(results)[i, j])
        page.wait_for_function(f"document.getElementById('model').dataset.model === '{best}'", timeout=10_000)
        shown = _shown(page)
        assert shown["axes"]["density"] == fmt(results.coords["density"][i])
        assert shown["axes"]["extra_importance"] == fmt(results.coords["extra_importance"][j])
        assert shown["axes"]["seed"] == str(int(best_cells(results).seed[i, j]))
        index = np.unravel_index(best, results.grid_shape)
        np.testing.assert_allclose(shown["W"], W_file[index], rtol=1e-3, atol=1e-6)

        other = (int(index[seed_axis]) + 1) % results.grid_shape[seed_axis]
        flat_other = int(np.ravel_multi_index((i, j, other), results.grid_shape))
        page.select_option("#seed-select", value=str(flat_other))
        page.wait_for_function(f"document.getElementById('model').dataset.model === '{flat_other}'", timeout=10_000)
        shown = _shown(page)
        assert shown["axes"]["seed"] == str(other)
        np.testing.assert_allclose(shown["W"], W_file[i, j, other], rtol=1e-3, atol=1e-6)
        dirs = page.evaluate("document.getElementById('m-dirs').data.map(t => t.x[1])")
        np.testing.assert_allclose(dirs, W_file[i, j, other][0], rtol=1e-3, atol=1e-6)  # the arrows moved too

        page.mouse.click(*_cell_center(page, i, j))
        page.wait_for_function(f"document.getElementById('model').dataset.model === '{best}'", timeout=10_000)
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert not errors, errors
    assert not requests, requests
    assert (tmp_path / "report.png").stat().st_size > 10_000
