"""Every run the reproduction trains: a preset of ``sweeps/`` and its overrides at paper size and at quick size.

A run of a family of one's own names its YAML file and the directory to import its module from
(``examples/engineering_monosemanticity``, §9's Jermyn et al. anchor).

Paper size is the paper's setting where it states one, else the preset's documented choice (each preset's
header says which). Quick size runs the same pipeline in a few minutes on 2 CPU cores: fewer steps, seeds
and grid points; claims marked ``ci`` in their registry entry still reproduce at it. This module imports
`toyjax.reproduce.registry`.
"""

from __future__ import annotations

from toyjax.reproduce.registry import Run

JERMYN = "examples/engineering_monosemanticity/jermyn.yaml"  # a family of one's own: its module is under examples/
_NO_BIAS = ("model.options.bias_init=0.0", "model.options.bias_decay=0.0")
_JERMYN_QUICK = ("train.steps=2000", "grid.axes.seed=2")

_PHASE_QUICK = ("train.steps=4000", "grid.axes.density=log:0.01:1:11", "grid.axes.extra_importance=log:0.1:10:10",
                "grid.axes.seed=4")

_PRICE_QUICK = ("train.steps=4000", "grid.axes.activation_l1=[0,0.001,0.003,0.01,0.1,0.3]",
                "grid.axes.density=[0.3,0.03]", "grid.axes.seed=4")
_WIDTH_QUICK = ("train.steps=4000", "grid.axes.activation_l1=[0,0.1,0.3]", "grid.axes.density=[0.1,0.03]",
                "grid.axes.seed=4")
WIDTHS = (5, 6, 7, 8, 10)  # the §9 "kn neurons" widths m′ (ways_out_width, one run each); 5 is the superposition model

RUNS: dict[str, Run] = {
    "intro": Run("intro", quick=("train.steps=4000",)),
    "demo_linear": Run("demonstrating_superposition", paper=("model.kind=linear", "grid.axes.seed=4"),
                       quick=("model.kind=linear", "train.steps=5000", "grid.axes.density=[1.0,0.1,0.01]",
                              "grid.axes.seed=2")),
    "demo_relu": Run("demonstrating_superposition", paper=("grid.axes.seed=4",),
                     quick=("train.steps=5000", "grid.axes.density=[1.0,0.1,0.01]", "grid.axes.seed=2")),
    "demo_sparse_long": Run("demonstrating_superposition",
                            paper=("grid.axes.density=[0.001]", "grid.axes.seed=4", "train.steps=100000"),
                            quick=("grid.axes.density=[0.01]", "grid.axes.seed=2", "train.steps=10000")),
    "demo_n80": Run("demonstrating_superposition_n80", paper=("grid.axes.seed=4",),
                    quick=("train.steps=3000", "grid.axes.seed=1")),
    "phase_n2m1": Run("phase_n2m1", quick=_PHASE_QUICK),
    "phase_n3m2": Run("phase_n3m2", quick=_PHASE_QUICK),
    "uniform": Run("uniform_geometry", quick=("model.n_features=100", "model.n_hidden=10", "train.steps=5000",
                                              "grid.axes.density=log:0.01:1:12")),
    "nonuniform": Run("nonuniform_pentagon", quick=("grid.axes.extra_density=[0.05,0.02,0.0125]", "grid.axes.seed=10")),
    "correlated": Run("correlated"),
    "anticorrelated": Run("anticorrelated"),
    "local_bases": Run("correlated", paper=("model.n_features=20", "model.n_hidden=10", "data.set_size=10",
                                            "grid.axes.density=[0.1,0.03,0.01]"),
                       quick=("model.n_features=20", "model.n_hidden=10", "data.set_size=10",
                              "grid.axes.density=[0.03]", "train.steps=5000")),
    "collapse": Run("collapse", quick=("grid.axes.density=[0.02,0.1,0.3,0.7]", "grid.axes.seed=16")),
    "dynamics": Run("dynamics", quick=("train.steps=5000", "record.snapshots=100")),
    "adversarial": Run("adversarial", quick=("model.n_features=100", "model.n_hidden=10", "train.steps=5000",
                                             "grid.axes.density=log:0.01:1:8")),
    "adversarial_sparse": Run("adversarial", paper=("grid.axes.density=[0.003,0.001]",),
                              quick=("model.n_features=100", "model.n_hidden=10", "train.steps=5000",
                                     "grid.axes.density=[0.003,0.001]")),
    "adversarial_few": Run("adversarial", paper=("model.n_features=5", "model.n_hidden=2", "grid.axes.seed=4"),
                           quick=("model.n_features=5", "model.n_hidden=2", "train.steps=5000",
                                  "grid.axes.density=log:0.01:1:8", "grid.axes.seed=2")),
    "privileged_basis": Run("privileged_basis", paper=("grid.axes.seed=1000",),
                            quick=("grid.axes.density=[0.5,0.3,0.2]", "grid.axes.seed=64")),
    "abs_small": Run("abs_small"),
    "abs_computation": Run("abs_computation", quick=("train.steps=3000",)),
    "ways_out_hybrid": Run("ways_out_hybrid", quick=(
        "train.steps=3000", "grid.axes.l1_coefficient=[0.1,0.3]", "grid.axes.dict_size=[20]", "grid.axes.seed=1",
        'sae.source_overrides=["train.steps=3000","grid.axes.activation_l1=[0.0,0.003,0.01,0.03,0.1]",'
        '"grid.axes.seed=4","report.html=false"]')),
    "ways_out_price": Run("ways_out_price", quick=_PRICE_QUICK),
    "ways_out_computation": Run("ways_out_computation", quick=(
        "train.steps=3000", "grid.axes.activation_l1=[0,0.001,0.01,0.1,0.3]", "grid.axes.density=[0.1]",
        "grid.axes.seed=2")),
    **{f"ways_out_width_{m}": Run("ways_out_width", paper=(f"model.n_hidden={m}",),
                                  quick=(f"model.n_hidden={m}", *_WIDTH_QUICK)) for m in WIDTHS},
    "jermyn_no_bias": Run(JERMYN, paper=_NO_BIAS, quick=(*_NO_BIAS, *_JERMYN_QUICK), path=("examples",)),
    "jermyn_negative_bias": Run(JERMYN, quick=(*_JERMYN_QUICK, "model.options.bias_decay=1.97"), path=("examples",)),
}
