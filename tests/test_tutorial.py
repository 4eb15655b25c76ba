"""examples/tutorial.ipynb runs from top to bottom, every code cell showing something, in well under a minute."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("xarray")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NOTEBOOK = EXAMPLES / "tutorial.ipynb"
TIMEOUT_S = 120  # per cell; the whole notebook takes about 15 s on 2 CPU cores


def test_the_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and not any(c.outputs or c.execution_count for c in code)


def test_the_tutorial_runs(tmp_path):
    """Executed in a copy of what it reads from examples/ (its working directory), so nothing lands in the repo."""
    shutil.copytree(EXAMPLES / "engineering_monosemanticity", tmp_path / "engineering_monosemanticity",
                    ignore=shutil.ignore_patterns("__pycache__"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first failing cell
    print(f"tutorial.ipynb ran in {time.perf_counter() - start:.1f} s")
    code = [c for c in nb.cells if c.cell_type == "code"]
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert all(c.outputs for c in code), [c.source.splitlines()[0] for c in code if not c.outputs]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2  # the intro figure and the neuron plots
