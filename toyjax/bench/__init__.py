"""`toyjax-bench`: how fast the engine trains grids of toy models, against the device's limits and baselines.

Times the engine (`toyjax.grid`) on named workloads with the shapes of the paper's experiments (Elhage et al.,
"Toy Models of Superposition", 2022): compile time, steady-state training time, model-steps/s, samples/s,
achieved FLOP/s from XLA's cost analysis and peak memory; measures a matmul and a copy roofline in the same
run; and compares with (a) a jitted per-model loop and (b) the companion notebook's stacked PyTorch module.

- `workloads`: the named workloads and the configs they run;
- `timing`: repeat-and-median statistics;
- `engine`: measurements of the engine itself;
- `roofline`: matmul FLOP/s and copy bandwidth;
- `baselines`: the per-model jitted loop; `torch_baseline`: the stacked PyTorch module (optional);
- `report`: device description, ``bench.json``, ``bench.md``, ``bench.png``, the issue's targets;
- `cli`: the ``toyjax-bench`` command.
"""

from __future__ import annotations
