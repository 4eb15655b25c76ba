"""Sparse autoencoders on toy models' activations or on synthetic ground truth, as a model family.

`config` (the ``sae`` section and `SAEStatic`), `models` (the SAE kinds as pure functions), `metrics`
(MMCS, recovery, L0), `train` (its `FAMILY`), `sources` (where the activations come from) and `saelens` (an
SAE in SAELens's on-disk format). This package imports nothing itself, so that the config can read `config`
without JAX.
"""
