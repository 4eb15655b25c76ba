"""`run`: a config in, a whole trained grid out. The public entry to the engine's path.

config (`toyjax.config`) → plan (`toyjax.engine.plan`) → layout and compiled programs (`toyjax.engine.blocks`,
`toyjax.engine.programs`) → runner (`toyjax.engine.runner`) → `toyjax.results.Results`. Everything that can be wrong
with the input is found before anything is compiled. This module imports `toyjax.numerics`,
`toyjax.engine.checkpoint`, `toyjax.config`, `toyjax.engine.plan`, `toyjax.engine.programs`, `toyjax.results` and
`toyjax.engine.runner`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from toyjax import config as config_lib
from toyjax.engine.checkpoint import Checkpoint
from toyjax.engine.programs import enable_compilation_cache
from toyjax.engine.runner import Runner
from toyjax.families.sae.sources import plan_run
from toyjax.numerics import use_deterministic_ops
from toyjax.results import Results


def run(cfg: Any, *, progress: bool | None = None, checkpoint_dir: str | os.PathLike | None = None,
        command: list[str] | None = None, accepted: Callable[[], None] = lambda: None) -> Results:
    """Train the whole grid described by `cfg` (a `Config`, dict or composed preset); returns `Results`.

    With `checkpoint_dir`, the training state is saved there every ``record.checkpoint_every`` steps and
    after every block, and a run of the same config in the same directory continues where the last one
    stopped, with bit-identical results. The checkpoint is removed once the grid is trained. A composed
    preset's ``sweep`` and ``report`` nodes become the results' `run_info`. `accepted()` is called once
    everything is checked, the checkpoint too, before anything is compiled (the ``toyjax`` command writes its
    record of the run's config there, so that a refused run writes nothing).

    Raises:
        ConfigError: a bad config value (before anything is compiled).
        CheckpointError: a checkpoint of another run in `checkpoint_dir`.
    """
    use_deterministic_ops()  # before the first device is touched: XLA reads its flags as the backend starts
    info = config_lib.run_info(cfg, command)
    cfg, plan = plan_run(config_lib.to_config(cfg))
    runner = Runner(plan, cfg)
    enable_compilation_cache(cfg.grid.compilation_cache)
    ckpt = None
    if checkpoint_dir is not None and cfg.record.checkpoint_every > 0:
        ckpt = Checkpoint(checkpoint_dir, runner.fingerprint(), cfg.record.checkpoint_every)
    accepted()
    results = runner.run(progress=cfg.progress if progress is None else progress, checkpoint=ckpt, run_info=info)
    if ckpt is not None:
        ckpt.clear()
    return results
