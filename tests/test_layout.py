"""The code's layout: layers only import downward, Hydra stays at the edge, and files and functions stay small.

The data path reads top to bottom: config → plan → engine → runner → results → analysis → figures. The
folders show it: `engine/` (the plan, the per-model kit and the driver) is handed a family from `families/`
and imports none; a family uses the engine's kit, never its driver; `data/` sits beneath both. `RANK`
gives every module its layer; a module may import only modules of a lower rank (inside functions too), so
there is no cycle to dodge. Modules of one rank never import each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "toyjax"

RANK = {
    "errors": 0, "fileio": 0, "progress": 0, "numerics": 0, "engine": 0, "families.toy": 0, "families.sae": 0,
    "checks": 1, "sums": 1, "_moved": 1, "tensorfiles": 1,
    # config: the run's sections and the per-model schema (a family's schema sits here, free of JAX)
    "families.toy.architecture": 2, "axes": 2, "data.structure": 2, "families.sae.config": 2.5, "families.schemas": 2.7,
    "config": 3, "labels": 3,
    # data and the families' maths
    "data.gates": 3.5, "data.distributions": 4, "data": 4.5, "families.toy.models": 4, "families.sae.models": 4,
    "families.sae.metrics": 4, "families.toy.metrics": 5, "data.datasets": 5, "families.sae.matching": 5,
    "families.sae.absorption": 5,
    # the engine's kit (below the families), then the families, then the engine that is handed one
    "engine.family": 5, "engine.plan": 6, "engine.optim": 7, "engine.state": 7,
    "families.toy.stratified": 6, "families.toy.sampled": 6.5, "families.toy.finite": 7, "families.toy.train": 8,
    "families.sae.train": 8,
    "engine.train": 9, "engine.checkpoint": 9, "families.registry": 9, "families": 9.5,
    "engine.memory": 9.6, "engine.blocks": 10, "engine.programs": 10, "families.sae.sources": 10, "engine.runner": 11,
    "families.sae.saelens": 10,
    # results, analysis, figures and pages
    "results": 9, "analysis.aggregate": 6, "analysis.theory": 6, "analysis.geometry": 7, "analysis.neurons": 7,
    "analysis.dynamics": 7, "analysis.memorization": 7, "analysis.phase": 7, "analysis.adversarial": 7,
    "analysis.price": 7.5,
    "families.sae.numbers": 7, "analysis.exact": 7, "analysis.summary": 8, "analysis.optimum": 8, "analysis": 9,
    "families.sae.hybrid": 9.5,
    "plots.common": 10, "report.encode": 10, "report.lib": 10,
    "plots.phase": 11, "plots.solutions": 11, "plots.superposition": 11, "plots.uniform": 11,
    "plots.neurons": 11, "plots.dynamics": 11, "plots.adversarial": 11, "plots.finite": 11, "families.sae.figures": 11,
    "families.sae.hybrid_figure": 11.5, "families.sae.absorption_figure": 11.5,
    "families.sae.structure_figure": 11.5,
    "plots.price": 11, "report.parts": 11,
    "grid": 12, "plots.combined": 12, "report.model": 12, "report.grid": 12, "report.index": 12,
    "plots.registry": 13, "report.page": 13, "report.phase": 13, "report.uniform": 13, "report.neurons": 13,
    "report.solutions": 13, "report.superposition": 13, "families.sae.page": 13, "report.finite": 13,
    "families.sae.pairs": 12.5,
    "plots": 14, "report.dynamics": 14,
    "report.registry": 15,
    "report": 16,
    # the edge
    "publish": 17, "presets": 17,
    "merge": 18, "multirun": 18, "plots.cli": 18, "reproduce.registry": 18, "reproduce.figures": 17,
    "reproduce.phase": 18, "reproduce.restart": 18, "preset_source": 18,
    "cli": 19, "report.cli": 19, "export": 19, "reproduce.store": 19, "reproduce.runs": 19,
    "__main__": 20, "bench": 20, "bench.timing": 20, "bench.workloads": 20, "bench.sparse": 21, "bench.roofline": 21,
    "bench.baselines": 21, "bench.engine": 21, "bench.torch_baseline": 21, "bench.report": 21, "bench.torch_sae": 22,
    "bench.cli": 23, "reproduce.claims_intro": 20, "reproduce.claims_phase": 20, "reproduce.claims_geometry": 20,
    "reproduce.claims_uniform": 20, "reproduce.claims_attack": 20, "reproduce.claims_neurons": 20,
    "reproduce.claims_hybrid": 20,
    "reproduce.claims_ways_out": 20,
    "reproduce.claims_jermyn": 20,
    "reproduce.document": 20,
    "reproduce": 21, "reproduce.cli": 22,
    "": 24,  # toyjax/__init__.py: the lazy public API
}
HYDRA_EDGE = {"presets", "multirun", "cli"}
PACKAGES = ("toyjax", "toyjax.analysis", "toyjax.plots", "toyjax.bench", "toyjax.report", "toyjax.reproduce",
            "toyjax.engine", "toyjax.families", "toyjax.families.toy", "toyjax.families.sae", "toyjax.data")
DRIVERS = ("engine.train", "engine.blocks", "engine.programs", "engine.runner", "engine.checkpoint")


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
        elif isinstance(node, ast.ImportFrom) and node.module in PACKAGES:
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
    for name in [m for m in known if m.startswith("engine")] + ["grid", "results"]:
        assert not {m for m in toyjax_modules(known[name], known) if m.startswith(("analysis", "plots"))}, name


def test_the_engine_imports_no_family():
    known = modules()
    for name in (m for m in known if m.startswith("engine")):
        assert not {m for m in toyjax_modules(known[name], known) if m.startswith("families")}, name


def test_a_family_uses_the_engines_kit_never_its_driver():
    known = modules()
    for name in (m for m in known if m.startswith("families.")):
        assert not toyjax_modules(known[name], known) & set(DRIVERS), name


def test_data_imports_no_engine_and_no_family():
    known = modules()
    for name in (m for m in known if m.startswith("data")):
        assert not {m for m in toyjax_modules(known[name], known) if m.startswith(("engine", "families"))}, name


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


NAMES = {"toy", "sae", "relu_output", "relu_hidden", "abs_mlp"}  # "linear" is also a schedule's name
NAMELESS = ("engine", "data", "config", "axes", "grid", "publish", "merge", "presets", "multirun", "preset_source",
            "cli", "checks", "errors", "fileio", "sums", "progress", "_moved", "results", "analysis", "plots",
            "report", "labels", "numerics", "__main__", "export", "tensorfiles", "")


def names_in_code(path: Path) -> set[str]:
    """The model kinds and family names that `path` spells as strings outside its docstrings."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and node.value in NAMES
            and id(node) not in docstrings}


def test_the_engine_the_config_and_the_edge_name_no_model_kind_or_family():
    for name, path in modules().items():
        if name.split(".")[0] in NAMELESS:
            assert not names_in_code(path), f"toyjax.{name} names {sorted(names_in_code(path))}"
