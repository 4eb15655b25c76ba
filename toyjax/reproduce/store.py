"""The reproduction's trained runs, cached under an output directory so that figures re-render without training.

Each run lives in ``OUT/<run name>/`` as an ordinary toyjax run directory (``results.npz``, ``results.json``,
readable by ``toyjax-plot`` and ``toyjax-report``) plus ``reproduce.json``: the preset and overrides it was
trained with, its wall time, and the machine's load average before and after (this CPU is shared). A run
is trained again only when its preset or overrides change. An SAE run on a ``preset:NAME`` source trains that
source first into ``OUT/<run name>/source/``, as the ``toyjax`` command does (`toyjax.preset_source`). This
module imports `toyjax.grid`, `toyjax.presets`, `toyjax.preset_source`, `toyjax.results`, `toyjax.fileio`,
`toyjax.errors` and `toyjax.reproduce.registry`.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

from toyjax import grid, presets
from toyjax.errors import ResultsError
from toyjax.fileio import atomic_write
from toyjax.preset_source import with_trained_source
from toyjax.reproduce.registry import Run
from toyjax.results import JSON, Results, load

RECORD = "reproduce.json"


def read_record(directory: Path) -> dict | None:
    """The ``reproduce.json`` of a run directory, or None."""
    path = Path(directory) / RECORD
    return json.loads(path.read_text()) if path.is_file() else None


def cached(directory: Path, run: Run, size: str) -> bool:
    """Whether `directory` holds this run, trained with the same preset and overrides."""
    found = read_record(directory)
    wanted = {"preset": run.preset, "overrides": list(run.overrides(size))}
    return found is not None and (directory / JSON).is_file() and all(found.get(k) == v for k, v in wanted.items())


def importable(run: Run) -> None:
    """Put the run's `Run.path` directories on the import path (first, once each), as its command's PYTHONPATH."""
    for folder in reversed(run.path):
        where = str(Path(folder).resolve())
        if where not in sys.path:
            sys.path.insert(0, where)


def obtain(name: str, run: Run, size: str, out: Path, *, train: bool = True, log=print) -> Results:
    """The run `name`, loaded from ``out/name`` when cached there, else trained (unless not `train`) and saved.

    Raises:
        ResultsError: the run is not cached and `train` is False (``--plot-only``).
    """
    directory = Path(out) / name
    importable(run)
    if cached(directory, run, size):
        return load(directory)
    if not train:
        raise ResultsError(f"{directory}: run {name!r} is not trained at size {size} (run without --plot-only)")
    log(f"toyjax-reproduce: training {name}: {run.command(size)}")
    load_before, began = os.getloadavg()[0], time.perf_counter()
    cfg, failed = with_trained_source(presets.compose(run.preset, [*run.overrides(size), "progress=false"]),
                                      directory)
    if failed:
        raise ResultsError(f"{directory}: the source of run {name!r} was trained, but {'; '.join(failed)}")
    results = grid.run(cfg, command=shlex.split(run.command(size)))
    wall = time.perf_counter() - began
    results.save(directory)
    record = {"preset": run.preset, "overrides": list(run.overrides(size)), "wall_s": round(wall, 1),
              "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
              "cpus": os.cpu_count(), "models": int(results.loss.size), "date": time.strftime("%Y-%m-%d")}
    text = json.dumps(record, indent=1).encode()
    atomic_write(directory / RECORD, lambda f: f.write(text))
    log(f"toyjax-reproduce: {name} trained in {wall:.0f} s")
    return results
