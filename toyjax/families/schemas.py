"""The built-in families as the config sees them: their model kinds, their own config sections, their checks.

`toyjax.config` reads from here which family a ``model.kind`` selects (`KINDS`), which sections the families
add to a run's config (`SECTIONS`, each a dataclass the Hydra schema includes; `JOB_LABELS`, the keys of each
that label a multirun's jobs) and the families' parts of a run's validation (`check_model`, `check_run`), so
that the config names no family or model kind. Each
built-in family declares the grid axes each of its kinds reads (`READS`); any other axis is refused
(`toyjax.axes.check_reads`), for it would train identical models. A family of one's own is named by its
import path and checks itself (`toyjax.engine.family.Family.check`). `array_dims` gives the axis names the
built-in families declare for their arrays (`DIMS`, their `Family.dims`), for results saved without them.
This module imports `toyjax.axes` and the families' JAX-free schemas, `toyjax.families.toy.architecture` and
`toyjax.families.sae.config`.
"""

from __future__ import annotations

from typing import Any

from toyjax.axes import check_reads
from toyjax.families.sae import config as sae_config
from toyjax.families.toy import architecture

KINDS = {**dict.fromkeys(architecture.SHORTHANDS, "toy"), "toy": "toy", "sae": "sae"}  # model.kind -> family
DEFAULT_KIND = "relu_output"
SECTIONS = {"sae": sae_config.SAEConfig}  # a family's own section of a run's config, by its key
JOB_LABELS = {"sae": sae_config.JOB_LABELS}  # keys of a section that label a multirun's jobs, and formats
READS = {"toy": architecture.reads, "sae": sae_config.reads}  # cfg -> (its kind's axes, its family's, why not)
DIMS = {"toy": architecture.array_dims, "sae": sae_config.array_dims}  # each family's `Family.dims`, free of JAX


def check_model(model: Any) -> None:
    """The ``model:`` section's family-specific keys: a toy model's description, and ``options``."""
    architecture.check_section(model, known=tuple(KINDS))


def check_run(cfg: Any) -> None:
    """The families' checks of a whole config: an SAE run's section and grid, no SAE key on another run, and
    no axis a built-in family's kind does not read."""
    family = KINDS.get(cfg.model.kind)
    sae_config.check_run(cfg, sae_run=family == "sae")
    if family in READS:
        check_reads(cfg, *READS[family](cfg))


def array_dims(config: dict) -> dict[str, tuple[str, ...]]:
    """The axes a built-in family declares for the arrays of a run (its config as a plain dict), for results saved
    without them; {} for a family of one's own."""
    family = KINDS.get(config.get("model", {}).get("kind", DEFAULT_KIND))
    return DIMS[family](config) if family in DIMS else {}
