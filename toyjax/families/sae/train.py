"""The engine's SAE family: one training step, its snapshot row and its final records, for one model.

An SAE model (`toyjax.families.sae.models`) reads a fresh batch each step: the block's shared noise becomes the source's
features x (n, batch) as for a toy model (`toyjax.data.realize`, at the source cell's densities), then its
activations h = W_src x, or ReLU(W_src x) (`hidden`). The step is AdamW on `toyjax.families.sae.models.sae_loss` (weight
decay is the run's; SAE presets set 0). Kinds with unit-norm decoders project the decoder's gradient and
renormalise after the update (Bricken et al. 2023). Each latent counts the steps since it last fired; one
idle for ``sae.dead_window`` steps is dead: TopK's auxiliary loss trains it, and at each of
``sae.resample_steps`` every dead latent is resampled (Bricken et al. 2023, "Towards Monosemanticity"): its
decoder column becomes the input the SAE reconstructs worst, unit norm, its encoder row that direction at
0.2 × the mean norm of the live rows (of the dead rows when every latent is dead), its encoder bias 0 (a
Gated SAE's magnitude bias and scale too) and its Adam moments 0. The batch kinds (BatchTopK, Matryoshka) also
carry their inference threshold θ, moved every step towards the smallest activation the batch kept
(`toyjax.families.sae.models.updated_threshold`); the final numbers read the latents at θ.

`FAMILY` is the family as the engine takes it (`toyjax.engine.family`), so that `toyjax.engine.train` runs SAEs in the
same block programs as toy models. This module imports jax, numpy, optax, `toyjax.axes`, `toyjax.data`,
`toyjax.errors`, `toyjax.engine.family`, `toyjax.engine.optim`, `toyjax.engine.plan`, `toyjax.families.sae.models`,
`toyjax.families.sae.config`, `toyjax.families.sae.metrics`, `toyjax.families.sae.matching`,
`toyjax.families.sae.absorption` and `toyjax.engine.state`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from toyjax import axes, data
from toyjax.axes import Point
from toyjax.engine import optim
from toyjax.engine.family import Block, Family, Keys, draw, for_each_model
from toyjax.engine.plan import Static
from toyjax.engine.state import State, add_tail, final, start, write_snapshot
from toyjax.errors import ConfigError
from toyjax.families.sae import absorption, matching
from toyjax.families.sae import metrics as sae_metrics
from toyjax.families.sae import models as sae
from toyjax.families.sae.config import SAE_AXES, SAEStatic, array_dims

RESAMPLE_ENCODER_SCALE = 0.2  # of the live encoder rows' mean norm (Bricken et al. 2023)
GATED_RESET = ("r_mag", "b_mag")  # a Gated SAE's per-latent magnitude params, zeroed with a resampled latent


class Latents(NamedTuple):
    """Per-latent state of one SAE: how many steps each latent has gone without firing, (M,) int32, and a batch
    kind's inference threshold θ, () (None for the other kinds, so their state is what it was)."""

    idle: jax.Array
    threshold: jax.Array | None = None


def init_model(static: Static, point: Point, *, key: jax.Array) -> State:
    """A fresh SAE of the run's width: params, AdamW state, no latent idle yet, empty history."""
    params = sae.init_sae(static.settings.kind, static.n_hidden, static.settings.width, key=key)
    row = {"loss": jnp.zeros(()), "mmcs": jnp.zeros(()), "mmcs_latents": jnp.zeros(())}
    threshold = jnp.zeros(()) if static.settings.kind in sae.BATCH_KINDS else None
    return start(static, params, optim.adamw(static, point).init(params), row,
                 Latents(jnp.zeros((static.settings.width,), jnp.int32), threshold))


def init(static: Static, point: Point, keys: Keys) -> State:
    """A fresh SAE (`init_model`) from the model's init key."""
    return init_model(static, point, key=keys.init)


def hidden(static: Static, point: Point, x: jax.Array) -> jax.Array:
    """The source's activations h (d, batch) of features x (n, batch)."""
    h = point.own["source"] @ x
    return jax.nn.relu(h) if static.settings.relu_source else h


def mask(static: Static, point: Point) -> jax.Array:
    """(M,) the model's own latents: the first `dict_size` of the width."""
    return jnp.arange(static.settings.width) < point.own["dict_size"]


def dead(static: Static, point: Point, latents: Latents) -> jax.Array:
    """(M,) the model's latents idle for ``sae.dead_window`` steps or more."""
    return mask(static, point) & (latents.idle >= static.settings.dead_window)


def tied(static: Static, params: sae.Params) -> sae.Params:
    """The params as the SAE uses them: a tied SAE's (``sae.tied``) with W_enc = W_decᵀ, any other's unchanged."""
    return sae.tie(params) if static.settings.tied else params


def objective(static: Static, params: sae.Params, point: Point, h: jax.Array, latents: Latents):
    """The training loss of one batch of activations h (d, batch), and the latents (M, batch) it used."""
    params = tied(static, params)
    return sae.loss_and_latents(static.settings.kind, params, h, mask(static, point), point.own["k"],
                                point.own["l1_coefficient"], dead(static, point, latents), point.own.get("prefixes"))


def step(static: Static, state: State, point: Point, x: jax.Array, t: jax.Array) -> tuple[State, jax.Array]:
    """One AdamW step of one SAE on the activations of features x (n, batch); returns (state, loss).

    A latent's idle counter restarts when it fires on this step's batch (before the update)."""
    h = hidden(static, point, x)
    (value, f), grads = jax.value_and_grad(objective, argnums=1, has_aux=True)(static, state.params, point, h,
                                                                               state.extra)
    unit = static.settings.kind in sae.UNIT_DECODER
    if unit:
        grads = sae.parallel_free(state.params, grads)
    updates, opt_state = optim.adamw(static, point).update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    if unit:
        params = sae.unit_decoder(params)
    threshold = None if state.extra.threshold is None else sae.updated_threshold(state.extra.threshold, f)
    latents = Latents(jnp.where(jnp.any(f > 0, axis=1), 0, state.extra.idle + 1), threshold)
    params, opt_state, latents = jax.lax.cond(
        resample_due(static, t), lambda ops: resample(static, *ops), lambda ops: ops[:3],
        (params, opt_state, latents, point, h))
    params = tied(static, params)
    return add_tail(static, state._replace(params=params, opt_state=opt_state, extra=latents), value, t), value


def resample_due(static: Static, t: jax.Array) -> jax.Array:
    """Whether step t (0-based) ends at one of ``sae.resample_steps``."""
    return jnp.any(jnp.asarray(static.settings.resample_steps or (-1,)) == t + 1)


def resample(static: Static, params, opt_state, latents: Latents, point: Point, h: jax.Array):
    """Dead latents restarted on the inputs reconstructed worst (module docstring); the rest unchanged."""
    kind, live = static.settings.kind, mask(static, point)
    reborn = dead(static, point, latents)
    f = sae.latents(kind, params, h, live, point.own["k"])
    error = jnp.sum((h - sae.decode(params, f)) ** 2, axis=0)
    worst = jnp.argsort(-error)[jnp.clip(jnp.cumsum(reborn) - 1, 0, h.shape[1] - 1)]  # j-th dead: j-th worst
    direction = sae_metrics.unit_columns(h[:, worst])  # (d, M)
    alive = live & ~reborn
    alive = jnp.where(jnp.any(alive), alive, live)  # every latent dead: their own rows' norms, never 0
    scale = RESAMPLE_ENCODER_SCALE * jnp.sum(jnp.linalg.norm(params["W_enc"], axis=1) * alive) / jnp.maximum(
        jnp.sum(alive), 1)
    new = {"W_dec": jnp.where(reborn[None, :], direction, params["W_dec"]),
           "W_enc": jnp.where(reborn[:, None], scale * direction.T, params["W_enc"]),
           "b_enc": jnp.where(reborn, 0.0, params["b_enc"])}
    new.update({name: jnp.where(reborn, 0.0, params[name]) for name in GATED_RESET if name in params})
    params = {**params, **new}
    return params, _forget(opt_state, reborn), latents._replace(idle=jnp.where(reborn, 0, latents.idle))


def _forget(opt_state, reborn: jax.Array):
    """The optimiser state with the moments of the `reborn` latents zeroed (their rows, columns and entries)."""

    def zero(path, leaf):
        name = getattr(path[-1], "key", None)
        if name in ("W_enc", "b_enc", "log_threshold", *GATED_RESET) and leaf.shape[:1] == reborn.shape:
            return jnp.where(reborn.reshape((-1,) + (1,) * (leaf.ndim - 1)), 0, leaf)
        if name == "W_dec" and leaf.shape[-1:] == reborn.shape:
            return jnp.where(reborn[None, :], 0, leaf)
        return leaf

    return jax.tree_util.tree_map_with_path(zero, opt_state)


def record(static: Static, history: dict, params: sae.Params, point: Point, loss: jax.Array, done: jax.Array
           ) -> dict:
    """Write the loss and both MMCS against the source's learned features into row k at the k-th snapshot."""

    def row():
        found = sae_metrics.mmcs(_truth(static, point), params["W_dec"], mask(static, point), point.own["learned"])
        return {"loss": loss, "mmcs": found["features_to_latents"], "mmcs_latents": found["latents_to_features"]}

    return write_snapshot(static, history, params, row, done)


def _truth(static: Static, point: Point) -> jax.Array:
    """(d, n) the directions each source feature takes in the activations."""
    return jax.nn.relu(point.own["source"]) if static.settings.relu_source else point.own["source"]


def finish_model(static: Static, state: State, point: Point, eval_key: jax.Array) -> dict:
    """Final records of one SAE (`toyjax.engine.state.final`): its objective on an evaluation batch shared by every
    model is the eval loss, and "sae" holds its numbers (`records`)."""
    eval_loss, numbers = records(static, state, point, eval_key)
    return final(static, state, eval_loss, sae=numbers)


def records(static: Static, state: State, point: Point, eval_key: jax.Array) -> tuple[jax.Array, dict]:
    """(the objective on the evaluation batch, the SAE's final numbers), on the same batch for every model."""
    x = data.sample(static.data, static.settings.eval_samples, point.density, key=eval_key)
    h = hidden(static, point, x)
    live = mask(static, point)
    f = sae.inference_latents(static.settings.kind, state.params, h, live, point.own["k"], state.extra.threshold)
    x_hat = sae.decode(state.params, f)
    out = {**sae_metrics.reconstruction(h, x_hat), **sae_metrics.activity(f, live),
           "shrinkage": sae_metrics.shrinkage(h, x_hat)}
    if state.extra.threshold is not None:
        out["threshold"] = state.extra.threshold
    truth, decoder, learned = _truth(static, point), state.params["W_dec"], point.own["learned"]
    fired = jnp.any(f > 0, axis=1)
    for name, known in (("all", jnp.ones_like(learned)), ("learned", learned)):
        found = sae_metrics.mmcs_firing(truth, decoder, live, known, fired)
        out.update({f"{k}_{name}": v for k, v in found.items()})
    out["features_to_all_latents_learned"] = sae_metrics.mmcs(truth, decoder, live, learned)["features_to_latents"]
    matched = matching.match(truth, decoder, learned, live)
    out.update(matched_numbers(truth, decoder, x, f, matched))
    out.update(hierarchy_numbers(static, truth, decoder, x, f, matched))
    out["source_features_per_dimension"] = jnp.sum(truth * truth) / truth.shape[0]
    out.update(features=truth, learned=learned)
    return objective(static, state.params, point, h, state.extra)[0], out


def matched_numbers(truth: jax.Array, decoder: jax.Array, x: jax.Array, f: jax.Array, matched: jax.Array) -> dict:
    """The latent matched to each known feature ("matched", −1 for none), MCC, and the mean precision, recall and
    F1 of the matched latents as detectors of their features on features x and latents f (`matching`)."""
    means = matching.matched_means(matching.detection(x, f, matched), matched)
    return {"matched": matched, "mcc": matching.mcc(sae_metrics.cosines(truth, decoder), matched), **means}


def hierarchy_numbers(static: Static, truth: jax.Array, decoder: jax.Array, x: jax.Array, f: jax.Array,
                      matched: jax.Array) -> dict:
    """Per (parent, child) pair of the data's hierarchy, in the children's order, (P,) "absorption" and "hedging"
    (`absorption`); none without a hierarchy."""
    hierarchy = static.data.hierarchy
    pairs = [] if hierarchy is None else [(p, c) for c, p in enumerate(hierarchy.parents) if p >= 0]
    if not pairs:
        return {}
    pairs = jnp.asarray(pairs, jnp.int32)
    return {"absorption": absorption.absorption(x, pairs, f, decoder, truth, matched),
            "hedging": absorption.hedging(pairs, decoder, truth, matched)}


def train_step(static: Static, block: Block, data_keys: jax.Array, t: jax.Array, state: State) -> State:
    """Step t of every SAE of the block: each reads its source's activations of its slot's features."""
    core, loss = for_each_model(static, step, state._replace(history={}), block, draw(static, data_keys, t), t)
    history = jax.vmap(lambda h, p, pt, v: record(static, h, p, pt, v, t + 1))(
        state.history, core.params, block.points, loss)
    return core._replace(history=history)


def values(cfg, row: dict) -> dict[str, np.ndarray]:
    """An SAE's own per-model values at grid point `row` (its axes, else the config's); its source's arrays
    join them in `points` (from ``source_cell``)."""
    get = {a: row.get(a, axes.get_field(cfg, axes.AXES[a].default)) for a in SAE_AXES}
    size = get["dict_size"] if get["dict_size"] is not None else cfg.sae.width
    own = {"l1_coefficient": np.float32(get["l1_coefficient"]), "k": np.int32(get["k"]),
           "dict_size": np.int32(size), "source_cell": np.int32(get["source_cell"])}
    if cfg.sae.prefixes:  # a Matryoshka SAE's prefix sizes: traced, so a new list of one length is one program
        own["prefixes"] = np.asarray(cfg.sae.prefixes, np.int32)
    return own


def points(cfg, points: dict[str, np.ndarray], source) -> dict[str, np.ndarray]:
    """An SAE grid's points with each model's source cell: its directions, learned features and data."""
    if source is None:
        raise ConfigError("sae.source: an SAE run needs its source resolved (toyjax.families.sae.sources.load)")
    cells = points.pop("source_cell")
    check_cells(cfg, source, cells)
    out = dict(points, source=source.W[cells].astype(np.float32), learned=source.learned[cells])
    if source.density is not None:  # a trained source brings its own data; synthetic truth takes the config's
        out.update(density=source.density[cells].astype(np.float32),
                   importance=source.importance[cells].astype(np.float32))
    elif source.density_scale is not None:
        out["density"] = (points["density"] * source.density_scale).astype(np.float32)
        if out["density"].max() > 1:
            raise ConfigError(f"sae.density_decay: the first feature's density would be {out['density'].max():.3g} "
                              "> 1; lower the density or the decay's spread")
    return out


def check_cells(cfg, source, cells: np.ndarray) -> None:
    """Every source cell the grid reads exists and holds a model that did not diverge; raise `ConfigError`."""
    field = "grid.axes.source_cell" if "source_cell" in cfg.grid.axes else "sae.source_cell"
    count = len(source.W)
    if cells.max() >= count:
        raise ConfigError(f"{field}: the source has {count} cell{'s' * (count != 1)} "
                          f"({describe_cells(source.labels)}), got {int(cells.max())}")
    diverged = [int(c) for c in np.unique(cells) if source.diverged is not None and source.diverged[c]]
    if diverged:
        c = diverged[0]
        raise ConfigError(f"sae.source: {source.settings.get('name', 'the source')} in {cfg.sae.source} has no "
                          f"finite model in cell {c} ({source.labels[c]}): every seed diverged; retrain it (a lower "
                          f"train.lr, say) or leave that cell out ({field})")


def describe_cells(labels: list[str], most: int = 6) -> str:
    """The cells of a source by index and label, the first and last few of a long list: "0: density 1, 1: ..."."""
    named = [f"{i}: {label}" for i, label in enumerate(labels)]
    if len(named) > most:
        named = named[:most // 2] + ["..."] + named[-(most // 2):]
    return ", ".join(named)


def sizes(static: Static) -> tuple[tuple[str, int], ...]:
    """The SAE's own fields that size its arrays (`toyjax.engine.family.Family.sizes`): width, evaluation batch."""
    return ("sae.width", static.settings.width), ("sae.eval_samples", static.settings.eval_samples)


FAMILY = Family("sae", init, train_step, finish_model, settings=lambda cfg: SAEStatic.of(cfg.sae), values=values,
                points=points, dims=array_dims, sizes=sizes)
