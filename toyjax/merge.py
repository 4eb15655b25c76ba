"""Merging the shards of a grid (``grid.shard=k grid.num_shards=N``) back into one `Results`.

Each shard saves its models on a flat ``model`` axis whose coordinates are their indices in the full grid.
Because a model's result does not depend on which block or shard trained it, the merge is bit-identical to
training the grid in one run. ``toyjax-merge SWEEP_DIR`` merges every shard found under a (multirun)
directory and publishes the full grid in ``SWEEP_DIR/merged``. With ``--partial``, the models of missing
shards are *missing*: NaN, marked in `Results.missing`, listed in ``results.json``, and left out of every
summary and figure. This module imports `toyjax.config`, `toyjax.errors`, `toyjax.fileio`, `toyjax.publish`,
`toyjax.families.sae.sources` and `toyjax.results`; never Hydra.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np

from toyjax.config import to_config
from toyjax.errors import MergeError, ResultsError
from toyjax.families.sae.sources import plan_run
from toyjax.fileio import describe
from toyjax.publish import publish
from toyjax.results import JSON, Results, load, scatter

SHARD_KEYS = ("shard",)
_RECORDS = ("params", "loss", "eval_loss", "diverged", "density", "importance")


def find_shards(directory: str | Path) -> tuple[list[Results], list[str]]:
    """The shards of a grid under `directory` (itself included), and the corrupt ones' error lines."""
    directory = Path(directory)
    if not directory.exists():
        raise MergeError(f"{directory}: does not exist")
    found, corrupt = [], []
    for header in sorted(directory.rglob(JSON)):
        if header.parent.name == "merged":
            continue
        try:
            results = load(header.parent)
        except ResultsError as e:
            corrupt.append(str(e))
            continue
        if results.config.get("grid", {}).get("num_shards", 1) > 1:
            results.meta["directory"] = str(header.parent)
            found.append(results)
    return found, corrupt


def merge(shards: list[Results], *, partial: bool = False) -> tuple[Results, list[int]]:
    """The full grid from its shards, and the indices of the shards that were missing.

    Raises:
        MergeError: shards of different runs, duplicated shards, or (unless `partial`) missing ones.
    """
    if not shards:
        raise MergeError("no shards to merge")
    reference = _run_config(shards[0])
    num_shards = reference["grid"]["num_shards"]
    seen: dict[int, Results] = {}
    for shard in shards:
        k = shard.config["grid"]["shard"]
        if _run_config(shard) != reference:
            raise MergeError(f"shard {k} comes from a different config than shard "
                             f"{shards[0].config['grid']['shard']}; it cannot be merged with it")
        if k in seen:
            raise MergeError(f"shard {k} of {num_shards} appears twice: {_where(seen[k])} and {_where(shard)}")
        seen[k] = shard
    missing = sorted(set(range(num_shards)) - set(seen))
    if missing and not partial:
        raise MergeError(f"missing shards {missing} of {num_shards}; re-run them (grid.shard=K) "
                         "or merge with --partial")
    merged = _assemble(reference, [seen[k] for k in sorted(seen)])
    merged.meta["merge"] = {"num_shards": num_shards, "missing_shards": missing,
                            "shards": [_where(seen[k]) for k in sorted(seen)]}
    return merged, missing


def _where(shard: Results) -> str:
    return shard.meta.get("directory", f"shard {shard.config['grid']['shard']}")


def _run_config(results: Results) -> dict:
    """The config that must agree between shards: everything but the shard index and the progress bar."""
    config = copy.deepcopy(results.config)
    config.pop("progress", None)
    for key in SHARD_KEYS:
        config["grid"].pop(key, None)
    return config


def _assemble(config: dict, shards: list[Results]) -> Results:
    """Scatter each shard's flat models into grid-shaped arrays; models of missing shards are missing."""
    whole = copy.deepcopy(config)
    whole["grid"].update(shard=0, num_shards=1)
    _, plan = plan_run(to_config(whole))  # an SAE run's shards re-read their source for its layout
    index = np.concatenate([s.coords["model"] for s in shards])
    n, shape = plan.n_models, plan.grid_shape
    records = [{**{f: getattr(s, f) for f in _RECORDS}, "history": _steps_apart(s.history), **s.records}
               for s in shards]
    arrays = scatter(_concat(records), index, n, shape)
    own = {name: arrays.pop(name) for name in shards[0].records}
    history = {**arrays.pop("history"), "step": shards[0].history["step"]}
    present = np.zeros(n, bool)
    present[index] = True
    return Results(dims=plan.dims, coords=plan.coords, history=history,
                   timing=_timing(shards), config=whole, run_info=shards[0].run_info,
                   meta={k: v for k, v in shards[0].meta.items() if k != "directory"},
                   missing=~present.reshape(shape), records=own, array_dims=shards[0].array_dims, **arrays)


def _steps_apart(history: dict) -> dict:
    """A history without its "step" axis, which every shard shares."""
    return {k: v for k, v in history.items() if k != "step"}


def _concat(trees: list):
    """Nested dicts of per-model arrays, concatenated along the model axis."""
    if isinstance(trees[0], dict):
        return {k: _concat([t[k] for t in trees]) for k in trees[0]}
    return np.concatenate(trees)


def _timing(shards: list[Results]) -> dict:
    """The shards' seconds and model-steps added up, and the rate they give together."""
    total = {k: sum(s.timing.get(k, 0) for s in shards) for k in ("compile_s", "train_s", "eval_s", "model_steps")}
    total["model_steps_per_s"] = total["model_steps"] / max(total["train_s"], 1e-9)
    return total


def main(argv: list[str] | None = None) -> None:
    """``toyjax-merge SWEEP_DIR``: merge the shards found under SWEEP_DIR into SWEEP_DIR/merged."""
    parser = argparse.ArgumentParser(prog="toyjax-merge", description=main.__doc__)
    parser.add_argument("sweep_dir", type=Path, help="a multirun directory holding the shards' run directories")
    parser.add_argument("--partial", action="store_true", help="merge the shards that are complete; the models "
                        "of missing or corrupt shards are marked missing (NaN)")
    parser.add_argument("--out", type=Path, default=None, help="where to write the merged run "
                        "(default SWEEP_DIR/merged)")
    args = parser.parse_args(argv)
    try:
        shards, corrupt = find_shards(args.sweep_dir)
        if corrupt and not args.partial:
            raise MergeError(f"corrupt shard: {corrupt[0]}; re-run it, or merge the rest with --partial")
        merged, missing = merge(shards, partial=args.partial)
    except (MergeError, ResultsError) as e:
        print(f"toyjax-merge: error: {e}", file=sys.stderr)
        sys.exit(2)
    out = args.out or args.sweep_dir / "merged"
    failed = _published(merged, out)
    print(f"toyjax-merge: {len(shards)} shards -> {out} (grid {merged.grid_shape})")
    for line in corrupt:
        print(f"toyjax-merge: corrupt, left out: {line}", file=sys.stderr)
    if missing:
        print(f"toyjax-merge: missing shards {missing}: their models are marked missing", file=sys.stderr)
    for line in failed:
        print(f"toyjax-merge: error: {line}", file=sys.stderr)
    if failed:
        sys.exit(1)


def _published(merged: Results, out: Path) -> list[str]:
    """Publish the merged run into `out`; the steps that failed. A run that cannot be saved ends the command with
    one line naming the path and the cause (exit status 1)."""
    try:
        return publish(merged, out).failed
    except OSError as e:
        print(f"toyjax-merge: error: {describe(e, out)}", file=sys.stderr)
        sys.exit(1)
