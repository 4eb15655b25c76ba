"""The interactive report of a run: one self-contained ``report.html`` where every cell opens its model.

`write_report(results, directory)` writes ``report.html`` for a trained grid: the view of the figure its
YAML declares (`toyjax.report.registry.PAGES`), the selected model (W geometry, WᵀW, b, ‖W_i‖, D_i, loss
curve, its other seeds), the loss over the grid, the untrained models, the config, command and summary.
`write_index(sweep_dir, summary)` writes a multirun's ``index.html``, linking every job's report beside
the summary table (`toyjax.report.index`). The page needs plotly (``pip install 'toyjax[report]'``);
`available` says whether it is installed. How the page stays small (rounding, thinning, compressed
plotly.js) is said in `toyjax.report.model` and `toyjax.report.lib`. This package imports `toyjax.results`
and its own modules.
"""

from __future__ import annotations

from pathlib import Path

from toyjax.fileio import atomic_write
from toyjax.report.index import INDEX, write_index
from toyjax.report.lib import INSTALL_HINT, available
from toyjax.report.registry import PAGES, build

REPORT = "report.html"

__all__ = ["INDEX", "INSTALL_HINT", "PAGES", "REPORT", "available", "build", "write_index", "write_report"]


def write_report(results, directory: str | Path, out: str | Path | None = None) -> Path:
    """Write the report page of `results` to `out` (default ``directory/report.html``); returns the path.

    Raises:
        ModuleNotFoundError: plotly is not installed (`INSTALL_HINT` says how to install it).
    """
    if not available():
        raise ModuleNotFoundError(f"plotly is not installed; {INSTALL_HINT}")
    path = Path(out) if out is not None else Path(directory) / REPORT
    path.parent.mkdir(parents=True, exist_ok=True)
    text = build(results)
    atomic_write(path, lambda f: f.write(text.encode()))
    return path
