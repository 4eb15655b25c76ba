"""The code's layout: layers only import downward, Hydra stays at the edge, and files and functions stay small.

The data path reads top to bottom: config → plan → engine → runner → results → analysis → figures. `RANK`
gives every module its layer; a module may import only modules of a lower rank (inside functions too), so
there is no cycle to dodge. Modules of one rank never import each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "toyjax"

RANK = {
    "errors": 0, "fileio": 0, "progress": 0,
    "checks": 1, "sums": 1,
    "architecture": 2,
    "sae_config": 2,
    "axes": 2,
    "config": 3, "labels": 3,
    "data": 4, "models": 4, "sae": 4, "sae_metrics": 4,
    "metrics": 5, "datasets": 5, "family": 5,
    "stratified": 6, "plan": 6, "analysis.aggregate": 6, "analysis.theory": 6,
    "optim": 7, "finite": 7, "state": 7, "expected_loss": 7, "analysis.geometry": 7, "analysis.neurons": 7,
    "analysis.dynamics": 7, "analysis.memorization": 7,
    "analysis.phase": 7, "analysis.adversarial": 7, "analysis.sae": 7, "analysis.exact": 7,
    "toy": 8, "sae_train": 8, "analysis.summary": 8, "analysis.optimum": 8,
    "train": 9, "families": 9, "analysis": 9, "results": 9, "checkpoint": 9,
    "blocks": 10, "sources": 10, "programs": 10, "plots.common": 10, "report.encode": 10, "report.lib": 10,
    "runner": 11, "plots.phase": 11, "plots.solutions": 11, "plots.superposition": 11, "plots.uniform": 11,
    "plots.neurons": 11, "plots.dynamics": 11, "plots.adversarial": 11, "plots.finite": 11, "plots.sae": 11,
    "report.parts": 11,
    "grid": 12, "plots.combined": 12, "report.model": 12, "report.grid": 12, "report.index": 12,
    "plots.registry": 13, "report.page": 13, "report.phase": 13, "report.uniform": 13, "report.neurons": 13,
    "report.solutions": 13, "report.superposition": 13, "report.sae": 13, "report.finite": 13,
    "plots": 14, "report.dynamics": 14,
    "report.registry": 15,
    "report": 16,
    "publish": 17, "presets": 17,
    "merge": 18, "multirun": 18, "plots.cli": 18, "reproduce.registry": 18, "reproduce.figures": 17,
    "reproduce.phase": 18, "reproduce.restart": 18,
    "cli": 19, "report.cli": 19, "reproduce.store": 19, "reproduce.runs": 19,
    "__main__": 20, "bench": 20, "bench.timing": 20, "bench.workloads": 20, "bench.sparse": 21, "bench.roofline": 21,
    "bench.baselines": 21, "bench.engine": 21, "bench.torch_baseline": 21, "bench.report": 21, "bench.torch_sae": 22,
    "bench.cli": 23, "reproduce.claims_intro": 20, "reproduce.claims_phase": 20, "reproduce.claims_geometry": 20,
    "reproduce.claims_uniform": 20, "reproduce.claims_attack": 20, "reproduce.claims_neurons": 20,
    "reproduce.document": 20,
    "reproduce": 21, "reproduce.cli": 22,
    "": 24,  # toyjax/__init__.py: the lazy public API
}
HYDRA_EDGE = {"presets", "multirun", "cli"}


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(path: Path) -> set[str]:
    """Every module imported anywhere in `path`, as written (`toyjax.x.y` or a third-party name)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module in ("toyjax", "toyjax.analysis", "toyjax.plots",
                                                                  "toyjax.bench", "toyjax.report", "toyjax.reproduce"):
            found |= {f"{node.module}.{a.name}" for a in node.names}  # submodules, or names of the package
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def toyjax_modules(path: Path, known: dict[str, Path]) -> set[str]:
    out = set()
    for name in imports(path):
        if name == "toyjax" or name.startswith("toyjax."):
            short = name.removeprefix("toyjax").removeprefix(".")
            out.add(short if short in known else short.rsplit(".", 1)[0])
    return out


def test_every_module_has_a_rank():
    assert set(modules()) == set(RANK)


@pytest.mark.parametrize("name", sorted(RANK))
def test_imports_only_point_down(name):
    known = modules()
    upward = sorted(m for m in toyjax_modules(known[name], known) if RANK[m] >= RANK[name] and m != name)
    assert not upward, f"toyjax.{name} (rank {RANK[name]}) imports {upward}"


def test_hydra_stays_at_the_edge():
    for name, path in modules().items():
        uses = {m for m in imports(path) if m.split(".")[0] in ("hydra", "hydra_plugins")}
        assert not uses or name in HYDRA_EDGE, f"toyjax.{name} imports {sorted(uses)}"


def test_the_engine_never_imports_analysis_or_plots():
    known = modules()
    for name in ("train", "programs", "runner", "grid", "plan", "blocks", "checkpoint", "results"):
        assert not {m for m in toyjax_modules(known[name], known) if m.startswith(("analysis", "plots"))}, name


def test_files_and_functions_stay_small():
    long = []
    for name, path in modules().items():
        text = path.read_text()
        if text.count("\n") > 300:
            long.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno >= 40:
                long.append(f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert not long, long


def test_every_module_opens_with_what_it_holds_and_imports():
    for name, path in modules().items():
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc and len(doc.splitlines()[0]) > 20, f"toyjax.{name} has no opening paragraph"
