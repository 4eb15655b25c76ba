"""The engine: a grid planned, trained in blocks by the pure functions of the family it is handed, and assembled.

`family` (the contract a family implements, the `Block` and a model's keys), `state` and `optim` (the
per-model kit every family uses), `plan` (`Static`, `Plan`), `train` (`make_train(static)`), `blocks`,
`programs` (the jitted, compiled programs), `runner` and `checkpoint`. No module here imports a family
(`tests/test_layout.py`); this package imports nothing itself.
"""
