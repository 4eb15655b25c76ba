"""`summarize` on hand-built Results: the declared summaries, JSON-serialisable, diverged and missing apart."""

import json

import numpy as np
import pytest

import toyjax
from toyjax.analysis import SUMMARIES, summarize, theory
from toyjax.analysis.summary import rank_correlation
from toyjax.config import ReportConfig, to_config
from toyjax.errors import ConfigError
from toyjax.families.toy.architecture import architecture_of, param_dims
from toyjax.publish import check_report
from toyjax.results import Results


def make_results(W_or_params, dims, coords, density, importance, config, loss=None, history=None) -> Results:
    params = W_or_params if isinstance(W_or_params, dict) else {"W": W_or_params}
    first = params["W"] if "W" in params else params["W1"]
    grid = first.shape[:-2]
    loss = np.full(grid, 0.1) if loss is None else loss
    return Results(dims=dims, coords=coords, params=params, loss=loss, eval_loss=loss, history=history or {},
                   diverged=~np.isfinite(loss), density=density, importance=importance, config=config)


def phase_results(n: int) -> Results:
    """density × extra_importance × 3 seeds: seeds 0 and 2 hold the analytic solution, seed 1 a worse one."""
    s, r = np.geomspace(0.01, 1, 6), np.geomspace(0.1, 10, 6)
    analytic, _ = theory.analytic_phase(n, s[:, None], r[None, :])
    right, wrong = np.zeros((6, 6, n - 1, n)), np.zeros((6, 6, n - 1, n))
    for code in theory.CANDIDATES[n]:
        W = theory.candidate_params(n, code, 0.1)["W"]
        right = np.where((analytic == code)[..., None, None], W, right)
        other = theory.CANDIDATES[n][(theory.CANDIDATES[n].index(code) + 1) % len(theory.CANDIDATES[n])]
        wrong = np.where((analytic == code)[..., None, None], theory.candidate_params(n, other, 0.1)["W"], wrong)
    W = np.stack([right, wrong, -right], axis=2)  # (6, 6, 3, m, n)
    loss = np.broadcast_to([0.1, 0.5, 0.2], (6, 6, 3)).copy()
    loss[0, 0, 1] = np.nan  # one diverged model
    density = np.broadcast_to(s[:, None, None, None], (6, 6, 3, n))
    importance = np.ones((6, 6, 3, n))
    importance[..., -1] = r[None, :, None]
    config = {"model": {"kind": "relu_output", "n_features": n, "n_hidden": n - 1}}
    coords = {"density": s, "extra_importance": r, "seed": np.arange(3)}
    return make_results(W, ("density", "extra_importance", "seed"), coords, density, importance, config, loss)


def test_phase_summary_agrees_with_theory_for_every_policy():
    for n in (2, 3):
        out = summarize(phase_results(n), ["phase_agreement", "geometry"])
        json.dumps(out, allow_nan=False)
        for policy in ("best", "paper", "vote"):
            assert out["phase_agreement"][policy]["all"] == 1.0, (n, policy, out["phase_agreement"][policy])
            assert out["phase_agreement"][policy]["fraction_unclear"] == 0.0
        assert out["fraction_diverged"] == pytest.approx(1 / 108)
        assert (out["n_diverged"], out["n_missing"]) == (1, 0)
        assert len(out["by_density"]["dimensions_per_feature"]) == 6
        assert sum(out["geometry"].values()) == pytest.approx(1.0)


def test_only_the_declared_summaries_are_computed():
    out = summarize(phase_results(2))
    assert "phase_agreement" not in out and "geometry" not in out and out["n_models"] == 108


def test_summaries_say_which_runs_they_do_not_fit():
    config = {"model": {"kind": "linear", "n_features": 5, "n_hidden": 2}}
    assert "n=2, m=1 or n=3, m=2" in SUMMARIES["phase_agreement"].unfit(config, ("density", "extra_importance"))
    assert SUMMARIES["neurons"].unfit(config, ()) == ("needs a privileged hidden basis (model.hidden_activation: "
                                                     "relu, gelu or solu), got none")
    fit = {"model": {"kind": "relu_output", "n_features": 3, "n_hidden": 2}}
    assert SUMMARIES["phase_agreement"].unfit(fit, ("density", "extra_importance", "seed")) is None
    assert "extra_importance" in SUMMARIES["phase_agreement"].unfit(fit, ("density",))


def toy_model(**fields) -> dict:
    """A ``model:`` section as the config saves it: ``kind: toy``, unset description fields None."""
    model = {"kind": "toy", "n_features": 3, "n_hidden": 2, "encoder": None, "hidden_activation": None,
             "hidden_bias": None, "output_activation": None, "target": None, "activation_l1": 0.0}
    return {"model": {**model, **fields}}


PHASE_AXES = ("density", "extra_importance")


def test_summaries_fit_a_model_by_what_it_is_not_by_its_name():
    """A ``kind: toy`` description fits a summary exactly where its shorthand twin does."""
    assert SUMMARIES["phase_agreement"].unfit(toy_model(), PHASE_AXES) is None  # relu_output, described
    assert SUMMARIES["neurons"].unfit(toy_model(hidden_activation="relu"), ()) is None  # relu_hidden, described
    assert SUMMARIES["neurons"].unfit(toy_model(hidden_activation="solu", encoder="untied"), ()) is None
    assert SUMMARIES["geometry"].unfit(toy_model(hidden_activation="gelu", hidden_bias=True), ()) is None
    for name in ("phase_agreement", "geometry", "adversarial", "neurons"):
        assert SUMMARIES[name].unfit({"model": {"kind": "abs_mlp", "n_features": 3, "n_hidden": 2}}, PHASE_AXES) \
            == SUMMARIES[name].unfit(toy_model(encoder="untied", hidden_activation="relu", target="abs"), PHASE_AXES)


def test_an_untied_model_is_refused_by_what_needs_a_tied_one():
    untied = toy_model(encoder="untied")
    for name in ("geometry", "adversarial"):
        assert SUMMARIES[name].unfit(untied, PHASE_AXES) == "needs a tied encoder (model.encoder: tied), got untied"
    assert SUMMARIES["phase_agreement"].unfit(untied, PHASE_AXES) == (
        "the §3 analytic phase model is for relu_output with n=2, m=1 or n=3, m=2: model.encoder tied, got untied")
    sae = {"model": {"kind": "sae", "n_features": 3, "n_hidden": 2}}
    assert SUMMARIES["geometry"].unfit(sae, ()) == "needs a tied encoder (model.encoder: tied), got model.kind=sae"
    assert "got model.kind=sae" in SUMMARIES["phase_agreement"].unfit(sae, PHASE_AXES)


def test_the_phase_closed_forms_need_exactly_the_relu_output_model():
    unfit = SUMMARIES["phase_agreement"].unfit
    assert unfit(toy_model(hidden_activation="gelu"), PHASE_AXES) == (
        "the §3 analytic phase model is for relu_output with n=2, m=1 or n=3, m=2: model.hidden_activation none, "
        "got gelu")
    assert "model.hidden_bias False, got True" in unfit(toy_model(hidden_bias=True), PHASE_AXES)
    assert "model.target x, got abs" in unfit(toy_model(target="abs"), PHASE_AXES)
    assert unfit(toy_model(n_features=5), PHASE_AXES).endswith("got n=5, m=2")
    assert "L1 penalty" in unfit(toy_model(activation_l1=0.01), PHASE_AXES)
    assert "L1 penalty" in unfit(toy_model(), (*PHASE_AXES, "activation_l1"))


def test_declared_summaries_are_checked_against_the_described_model():
    cfg = to_config(toyjax.compose("intro", ["model.kind=toy", "model.encoder=untied"]))
    for name in ("geometry", "adversarial", "phase_agreement"):
        with pytest.raises(ConfigError, match=f"^report.summaries: {name} ") as error:
            check_report(ReportConfig(summaries=[name]), cfg)
        assert "untied" in str(error.value) and "\n" not in str(error.value)
    cfg = to_config(toyjax.compose("intro", ["model.kind=toy", "model.hidden_activation=gelu"]))
    with pytest.raises(ConfigError, match="^report.summaries: phase_agreement the §3 analytic .* got gelu$"):
        check_report(ReportConfig(summaries=["phase_agreement"]), cfg)
    check_report(ReportConfig(summaries=["geometry", "neurons", "adversarial"]), cfg)


def test_a_described_relu_hidden_model_gets_the_neuron_analysis(tiny):
    model = {"kind": "toy", "hidden_activation": "relu", "n_features": 4, "n_hidden": 3}
    results = toyjax.run(tiny({"density": [1.0, 0.1]}, model=model, train={"steps": 20}, record={"snapshots": 2}))
    out = summarize(results, ["neurons", "geometry"])
    assert out["model"] == "toy" and len(out["neurons"]["fraction_monosemantic_by_density"]) == 2
    assert SUMMARIES["neurons"].unfit(results.config, ()) is None
    assert param_dims(architecture_of(results.config["model"])) == {"W": ("neuron", "feature"), "b": ("feature",)}


def test_missing_models_are_their_own_state():
    """A partial merge's missing models count neither as diverged nor as 'not learned'."""
    results = phase_results(2)
    results.missing = np.zeros(results.grid_shape, bool)
    results.missing[3:] = True  # the shards of densities 3..5 never arrived
    for name in ("loss", "eval_loss"):
        getattr(results, name)[3:] = np.nan
    results.params["W"][3:] = np.nan
    out = summarize(results, ["geometry"])
    whole = summarize(phase_results(2), ["geometry"])
    assert (out["n_models"], out["n_missing"], out["n_diverged"]) == (108, 54, 1)
    assert out["fraction_diverged"] == pytest.approx(1 / 54)
    assert out["geometry"]["not_learned"] == pytest.approx(whole["geometry"]["not_learned"], abs=0.1)
    assert out["by_density"]["dimensions_per_feature"][3:] == [None] * 3


def test_summary_of_an_abs_mlp_run_with_dynamics():
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(3, 6, 3)), "W2": rng.normal(size=(3, 3, 6)), "b": np.zeros((3, 3))}
    params["W1"][:, :3] = np.eye(3) * 2  # three monosemantic neurons
    K = 4
    history = {
        "step": np.arange(K),
        "loss": np.linspace(1, 0.1, K)[None].repeat(3, 0),
        "dimensionality": np.linspace(1, 0.5, K)[None, :, None].repeat(3, 0).repeat(3, 2),
    }
    config = {"model": {"kind": "abs_mlp", "n_features": 3, "n_hidden": 6}, "data": {"signed": True}}
    results = make_results(
        params,
        ("density",),
        {"density": np.array([1.0, 0.1, 0.01])},
        np.ones((3, 3)),
        np.ones((3, 3)),
        config,
        history=history,
    )
    out = summarize(results, ["neurons", "dynamics"])
    json.dumps(out, allow_nan=False)
    assert "geometry" not in out and "phase_agreement" not in out
    assert 0.4 < out["neurons"]["fraction_monosemantic"] < 1.0
    assert len(out["neurons"]["fraction_monosemantic_by_density"]) == 3
    assert out["dynamics"]["jumps_per_model"] == 3  # one steady move of each of the 3 features


def test_summary_of_an_adversarial_sweep():
    n, m = 4, 2
    W = np.stack([np.eye(m, n), np.array([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]])]).astype(np.float32)
    density = np.array([1.0, 0.05])[:, None] * np.ones(n)
    config = {"model": {"kind": "relu_output", "n_features": n, "n_hidden": m}}
    results = make_results(
        {"W": W, "b": np.zeros((2, n), np.float32)},
        ("density",),
        {"density": density[:, 0]},
        density,
        np.ones((2, n)),
        config,
    )
    out = summarize(results, ["adversarial", "geometry"])
    json.dumps(out, allow_nan=False)
    vul = out["adversarial"]["vulnerability_by_density"]
    assert abs(vul[0] - 1.0) < 1e-3 and vul[1] > 1.5
    assert out["adversarial"]["features_per_dimension_by_density"] == [1.0, 2.0]
    per_input = out["adversarial"]["per_input"]["vulnerability_by_density"]
    assert abs(per_input[0] - 1.0) < 1e-3 and per_input[1] > 1.5  # both readings, no bias to clip either
    assert out["geometry"]["digon"] == 0.5


def test_rank_correlation():
    assert rank_correlation([1, 2, 3, 4], [10, 20, 15, 40]) == pytest.approx(0.8)
    assert rank_correlation([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert rank_correlation([1, 1, 2], [5, 6, 7]) == pytest.approx(np.corrcoef([1.5, 1.5, 3], [1, 2, 3])[0, 1])
    assert rank_correlation([1, 1, 1], [1, 2, 3]) is None


def test_the_price_summary_needs_a_penalty_grid_with_lambda_zero():
    """§9's price is measured against λ = 0: a grid without it, or without the (λ, density, seed) axes, is refused
    by name before anything is compiled."""
    axes = ("activation_l1", "density", "seed")
    relu = toy_model(hidden_activation="relu")
    fit = {**relu, "grid": {"axes": {"activation_l1": [0.0, 0.1], "density": [0.1], "seed": 2}}}
    assert SUMMARIES["price"].unfit(fit, axes) is None
    no_zero = {**relu, "grid": {"axes": {"activation_l1": "log:0.01:1:3", "density": [0.1], "seed": 2}}}
    assert SUMMARIES["price"].unfit(no_zero, axes) == ("needs λ = 0 on grid.axes.activation_l1 (the reference), "
                                                       "got [0.01, 0.1, 1.0]")
    assert "got density, seed" in SUMMARIES["price"].unfit(fit, ("density", "seed"))
    unsorted = {**relu, "grid": {"axes": {"activation_l1": [0.1, 0.0], "density": [0.1], "seed": 2}}}
    assert SUMMARIES["price"].unfit(unsorted, axes) == ("needs grid.axes.activation_l1 ascending from λ = 0 (the "
                                                        "reference first), got [0.1, 0.0]")
    assert "privileged" in SUMMARIES["price"].unfit({**fit, **toy_model()}, axes)
    cfg = toyjax.compose("ways_out_price", ["grid.axes.activation_l1=[0.1,0.3]"])
    with pytest.raises(ConfigError, match=r"^report.summaries: price needs λ = 0 on grid.axes.activation_l1"):
        check_report(ReportConfig(figure="price", summaries=["price"]), to_config(cfg))
