"""The reproduction of Elhage et al. (2022), "Toy Models of Superposition", claim by claim, as data.

`CLAIMS` lists every claim of the paper that toyjax measures, in the paper's order (§1–§9): its statement, the
paper's setup and toyjax's choices, its runs (`toyjax.reproduce.runs.RUNS`), its measurement and status rule
and its figure (`toyjax.reproduce.registry.Claim`). ``toyjax-reproduce`` (`toyjax.reproduce.cli`) trains or
reads the runs and writes ``docs/reproduction.md``. This package imports its claim modules.
"""

from toyjax.reproduce import (
    claims_attack,
    claims_geometry,
    claims_hybrid,
    claims_intro,
    claims_jermyn,
    claims_neurons,
    claims_phase,
    claims_uniform,
    claims_ways_out,
)

CLAIMS = (
    claims_intro.INTRO,
    claims_intro.LINEAR,
    claims_intro.RELU,
    claims_intro.RESCALED,
    claims_phase.DIAGRAM_N2,
    claims_phase.DIAGRAM_N3,
    claims_phase.BEYOND,
    claims_uniform.UNIFORM,
    claims_geometry.NONUNIFORM,
    claims_geometry.CORRELATED,
    claims_geometry.ANTICORRELATED,
    claims_uniform.SIDE_BY_SIDE,
    claims_geometry.LOCAL_BASES,
    claims_uniform.COLLAPSE,
    claims_attack.DYNAMICS,
    claims_attack.ADVERSARIAL,
    claims_neurons.PRIVILEGED,
    claims_neurons.ABS_SMALL,
    claims_neurons.ABS_COMPUTATION,
    claims_neurons.MOTIF,
    claims_ways_out.PRICE,
    claims_ways_out.KILL,
    claims_ways_out.WIDTH,
    claims_ways_out.MARGIN,
    claims_hybrid.HYBRID,
    claims_jermyn.JERMYN,
)

__all__ = ["CLAIMS"]
