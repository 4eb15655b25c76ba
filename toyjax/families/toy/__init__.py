"""The toy models of Elhage et al., "Toy Models of Superposition" (2022), as a model family.

`architecture` (what a toy model is, as data), `models` (the description as pure functions), `metrics`
(‖W_i‖, D_i, D*), `stratified` (the stratified expected loss), `finite` (training on a finite set) and
`train` (its `FAMILY`). This package imports nothing itself, so that the config can read `architecture`
without JAX.
"""
