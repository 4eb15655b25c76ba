"""The ``toyjax-export`` command: write trained models of a saved run in another library's on-disk format.

    toyjax-export RUN_DIR --format saelens --out DIR                           # every model: DIR/model_<i>/
    toyjax-export RUN_DIR --format saelens --model 3 --out DIR                 # model 3 (grid order): DIR/model_3/
    toyjax-export RUN_DIR --format saelens --where l1_coefficient=0.3 --out DIR  # the models of one axis value

A model's index is its position in the grid in C order (the last axis fastest), as ``numpy.ndindex`` walks it;
``--where AXIS=VALUE`` (repeatable) keeps the models at that coordinate, and ``--model`` and ``--where`` together
keep the models both select. Each model goes into its own directory ``DIR/model_<i>``, whatever else is selected.
Everything is checked before a file is written (the run, the format's own check, every selected model: none
missing from a partial merge or diverged), each file is written atomically, and the paths written are printed.
A format is a writer in `FORMATS`: ``saelens``, SAELens's ``cfg.json`` and ``sae_weights.safetensors``
(`toyjax.families.sae.saelens`). This module imports numpy, `toyjax.errors`, `toyjax.families.sae.saelens`,
`toyjax.plots.cli` (its one-line errors) and `toyjax.results`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from toyjax.errors import ResultsError
from toyjax.families.sae import saelens
from toyjax.plots.cli import run_command
from toyjax.results import Results, load

FORMATS = {"saelens": (saelens.check, saelens.write)}  # name -> (check(results, where), write(results, index, dir))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toyjax-export", description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="a run directory (results.json + results.npz)")
    parser.add_argument("--format", required=True, choices=sorted(FORMATS), help="the on-disk format to write")
    parser.add_argument("--out", type=Path, required=True, help="the directory that gets one directory per model")
    parser.add_argument("--model", type=int, nargs="+", default=None, help="model indices, in the grid's C order")
    parser.add_argument("--where", action="append", default=[], metavar="AXIS=VALUE",
                        help="keep the models at this coordinate (repeatable)")
    return parser


def selected(results: Results, models: list[int] | None, where: list[str]) -> list[int]:
    """The indices (C order) of the models `models` and every ``AXIS=VALUE`` of `where` select; all by default."""
    count = int(np.prod(results.grid_shape))
    for i in models or []:
        if not 0 <= i < count:
            raise ResultsError(f"--model {i}: out of range; the run has {count} model{'s' * (count != 1)} "
                               f"(0..{count - 1})")
    keep = np.zeros(count, bool)
    keep[models if models is not None else slice(None)] = True
    for condition in where:
        keep &= at_coordinate(results, condition).reshape(-1)
    if not keep.any():
        raise ResultsError(f"--where {' '.join(where)}: no model of the selection is there")
    return [int(i) for i in np.flatnonzero(keep)]


def at_coordinate(results: Results, condition: str) -> np.ndarray:
    """(grid_shape) bool: the models whose coordinate on AXIS is VALUE, for ``condition`` = ``AXIS=VALUE``."""
    axis, _, text = condition.partition("=")
    if axis not in results.dims or not text:
        raise ResultsError(f"--where {condition}: expected AXIS=VALUE with AXIS one of the run's axes "
                           f"({', '.join(results.dims)})")
    values = np.asarray(results.coords[axis])
    hits = [i for i, v in enumerate(values) if _matches(v, text)]
    if not hits:
        shown = ", ".join(str(np.asarray(v).tolist()) for v in values)
        raise ResultsError(f"--where {condition}: {axis} has no such value (its values: {shown})")
    shape = [1] * len(results.dims)
    shape[results.dims.index(axis)] = len(values)
    return np.broadcast_to(np.isin(np.arange(len(values)), hits).reshape(shape), results.grid_shape)


def _matches(value: Any, text: str) -> bool:
    """Whether a coordinate `value` is the number (to float32 rounding) or the word written `text`."""
    try:
        return bool(np.allclose(np.asarray(value, np.float64), float(text), rtol=1e-6, atol=0))
    except ValueError:
        return str(np.asarray(value).tolist()) == text


def usable(results: Results, indices: list[int]) -> None:
    """Refuse a selected model that has no result (a shard left out of a merge) or diverged (non-finite weights)."""
    for name, flags in (("has no result (a shard left out of the merge)", results.missing),
                        ("diverged (its weights are not finite)", results.diverged)):
        bad = [i for i in indices if flags is not None and np.asarray(flags).reshape(-1)[i]]
        if bad:
            raise ResultsError(f"model {bad[0]}: {name}; select others with --model or --where")


def export(path: str | Path, fmt: str, out: str | Path, models: list[int] | None = None,
           where: list[str] = ()) -> list[Path]:
    """Write the selected models of the run at `path` in format `fmt`, each into ``out/model_<i>``; returns them."""
    results = load(path)
    check, write = FORMATS[fmt]
    check(results, str(path))
    indices = selected(results, models, list(where))
    usable(results, indices)
    grid = list(np.ndindex(results.grid_shape))
    return [write(results, grid[i], Path(out) / f"model_{i}") for i in indices]


def main(argv: list[str] | None = None) -> None:
    """Console script ``toyjax-export``."""
    args = _parser().parse_args(argv)
    run_command("toyjax-export", lambda: export(args.path, args.format, args.out, args.model, args.where))


if __name__ == "__main__":
    main()
