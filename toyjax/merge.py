"""Merging the shards of a grid (``grid.shard=k grid.num_shards=N``) back into one `Results`.

Each shard saves its models on a flat ``model`` axis whose coordinates are their indices in the full
grid. Because a model's result does not depend on which block or shard trained it, the merge is
bit-identical to training the grid in one run. ``toyjax-merge SWEEP_DIR`` merges every shard found under
a (multirun) directory and writes the full grid to ``SWEEP_DIR/merged``.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np

from toyjax.results import Results, ResultsError, load

SHARD_KEYS = ("shard",)


class MergeError(ValueError):
    """Shards that cannot be merged: from different configs, duplicated, or missing."""


def find_shards(directory: str | Path) -> list[Path]:
    """Run directories under `directory` (itself included) whose results are one shard of a grid."""
    found = []
    for header in sorted(Path(directory).rglob("results.json")):
        if header.parent.name == "merged":
            continue
        try:
            config = load(header.parent).config
        except ResultsError:
            continue  # a shard still running or killed: reported as missing
        if config.get("grid", {}).get("num_shards", 1) > 1:
            found.append(header.parent)
    return found


def merge(shards: list[Results], *, partial: bool = False) -> tuple[Results, list[int]]:
    """The full grid from its shards, and the indices of the shards that were missing.

    Raises:
        MergeError: shards of different runs, duplicated shards, or (unless `partial`) missing ones.
    """
    if not shards:
        raise MergeError("no shards to merge")
    reference = _run_config(shards[0])
    num_shards = reference["grid"]["num_shards"]
    seen: dict[int, int] = {}
    for i, shard in enumerate(shards):
        if _run_config(shard) != reference:
            raise MergeError(f"shard {shard.config['grid']['shard']} comes from a different config than shard "
                             f"{shards[0].config['grid']['shard']}; it cannot be merged with it")
        k = shard.config["grid"]["shard"]
        if k in seen:
            raise MergeError(f"shard {k} of {num_shards} appears twice")
        seen[k] = i
    missing = sorted(set(range(num_shards)) - set(seen))
    if missing and not partial:
        raise MergeError(f"missing shards {missing} of {num_shards}; re-run them (grid.shard=K) "
                         "or merge with --partial")
    return _assemble(reference, [shards[seen[k]] for k in sorted(seen)]), missing


def _run_config(results: Results) -> dict:
    """The config that must agree between shards: everything but the shard index and presentation keys."""
    config = copy.deepcopy(results.config)
    for key in ("progress", "summary", "sweep_figure"):
        config.pop(key, None)
    for key in SHARD_KEYS:
        config["grid"].pop(key, None)
    return config


def _assemble(config: dict, shards: list[Results]) -> Results:
    """Scatter each shard's flat models into grid-shaped arrays (models of missing shards stay NaN)."""
    from toyjax.config import to_config
    from toyjax.grid import make_plan

    whole = copy.deepcopy(config)
    whole["grid"].update(shard=0, num_shards=1)
    plan = make_plan(to_config({k: v for k, v in whole.items() if k in _CONFIG_KEYS}))
    shape, n = plan.grid_shape, plan.n_models

    def scatter(*leaves):
        first = leaves[0]
        fill = False if first.dtype == bool else np.nan
        flat = np.full((n, *first.shape[1:]), fill, first.dtype)
        for shard, leaf in zip(shards, leaves):
            flat[shard.coords["model"]] = leaf
        return flat.reshape(shape + first.shape[1:])

    import jax

    fields = ("params", "loss", "eval_loss", "diverged", "density", "importance")
    arrays = jax.tree.map(scatter, *[{f: getattr(s, f) for f in fields} for s in shards])
    history = {k: v for k, v in shards[0].history.items() if k == "step"}
    history.update(jax.tree.map(scatter, *[{k: v for k, v in s.history.items() if k != "step"} for s in shards]))
    train_s = sum(s.timing.get("train_s", 0.0) for s in shards)
    timing = {"train_s": train_s, "compile_s": sum(s.timing.get("compile_s", 0.0) for s in shards)}
    return Results(dims=plan.dims, coords=plan.coords, history=history, timing=timing, config=whole,
                   meta=shards[0].meta, **arrays)


_CONFIG_KEYS = ("model", "data", "train", "grid", "record", "progress")


def main(argv: list[str] | None = None) -> None:
    """``toyjax-merge SWEEP_DIR``: merge the shards found under SWEEP_DIR into SWEEP_DIR/merged."""
    parser = argparse.ArgumentParser(prog="toyjax-merge", description=main.__doc__)
    parser.add_argument("sweep_dir", type=Path, help="a multirun directory holding the shards' run directories")
    parser.add_argument("--partial", action="store_true", help="merge the shards that are complete; missing "
                        "models are NaN")
    parser.add_argument("--out", type=Path, default=None, help="where to write the merged run "
                        "(default SWEEP_DIR/merged)")
    args = parser.parse_args(argv)
    paths = find_shards(args.sweep_dir)
    try:
        merged, missing = merge([load(p) for p in paths], partial=args.partial)
    except (MergeError, ResultsError) as e:
        print(f"toyjax-merge: error: {e}", file=sys.stderr)
        sys.exit(2)
    from toyjax.cli import publish

    out = args.out or args.sweep_dir / "merged"
    publish(merged, out)
    print(f"toyjax-merge: {len(paths)} shards -> {out} (grid {merged.grid_shape})")
    if missing:
        print(f"toyjax-merge: missing shards {missing}: their models are NaN", file=sys.stderr)
