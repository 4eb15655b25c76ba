"""An SAE of a saved run in SAELens's on-disk format (sae-lens 6.x), loadable by ``SAE.load_from_disk(DIR)``.

A directory holds ``cfg.json`` and ``sae_weights.safetensors``, as SAELens's ``SAE.save_model`` writes them. SAELens
keeps rows as samples: ``W_enc`` (d_in, d_sae), ``b_enc`` (d_sae,), ``W_dec`` (d_sae, d_in), ``b_dec`` (d_in,), and
encodes f = σ((x − b_dec) @ W_enc + b_enc) with ``apply_b_dec_to_input: true``, decodes x̂ = f @ W_dec + b_dec: a
toyjax SAE (`toyjax.families.sae.models`) transposed, with ``normalize_activations: "none"``. Its kind maps to the
architecture SAELens infers with (`ARCHITECTURES`): ``relu`` and ``relu_unit`` to ``standard`` (ReLU; their
penalties differ only in training), ``topk`` to ``topk`` (ReLU of the k largest, ``rescale_acts_by_decoder_norm:
false``, as toyjax selects by the pre-activations themselves) and ``jumprelu`` to ``jumprelu`` (its ``threshold`` is
toyjax's exp(log_threshold)). ``batchtopk`` and ``matryoshka`` become ``jumprelu`` with every latent's ``threshold``
the SAE's global inference threshold θ (``Results.sae["threshold"]``), as SAELens's ``save_inference_model`` saves
its ``batchtopk`` and ``matryoshka_batchtopk`` SAEs, toyjax's inference form f = pre·H(pre − θ) with θ ≥ 0. ``gated``
becomes ``gated``, toyjax's gate bias ``b_enc`` renamed ``b_gate`` beside ``r_mag`` and ``b_mag`` (SAELens's gated
SAE has no ``b_enc``). A dictionary masked to `dict_size` latents is written as that many. The config's
``metadata`` names the format version SAELens reads it as (6.x), SAELens's training architecture of the kind (with
a batch kind's k and Matryoshka widths, which its inference config drops), the run and the model's coordinates.
This module imports numpy, `toyjax.errors`, `toyjax.fileio`, `toyjax.tensorfiles` and `toyjax.families.sae.config`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from toyjax import tensorfiles
from toyjax.errors import ResultsError
from toyjax.families.sae.config import NAME, SAEConfig
from toyjax.fileio import atomic_write

ARCHITECTURES = {"relu": "standard", "relu_unit": "standard", "topk": "topk", "jumprelu": "jumprelu",
                 "batchtopk": "jumprelu", "matryoshka": "jumprelu", "gated": "gated"}  # kind -> SAELens's inference
TRAINING = {**ARCHITECTURES, "batchtopk": "batchtopk", "matryoshka": "matryoshka_batchtopk"}  # its training one
RENAMED = {"gated": {"b_enc": "b_gate"}}  # a kind's params under SAELens's names, where they differ
LATENT_PARAMS = ("b_enc", "log_threshold", "r_mag", "b_mag")  # (width,) params, cut to the model's own latents
CFG, WEIGHTS = "cfg.json", "sae_weights.safetensors"  # SAELens's SAE_CFG_FILENAME and SAE_WEIGHTS_FILENAME
FORMAT_VERSION = "6.0.0"  # the config format written: SAELens reads a config older than 6.0 as its old format


def check(results: Any, where: str) -> None:
    """Refuse, in one line naming `where`, a run that is not an SAE run or whose kind has no SAELens architecture."""
    kind = results.config.get("model", {}).get("kind")
    if kind != NAME:
        raise ResultsError(f"{where}: not an SAE run (model.kind: {kind}); --format saelens writes sparse "
                           f"autoencoders")
    sae_kind = results.config[NAME]["kind"]
    if sae_kind not in ARCHITECTURES:
        raise ResultsError(f"{where}: sae.kind {sae_kind} has no SAELens architecture here (supported: "
                           f"{', '.join(ARCHITECTURES)})")


def own_value(results: Any, index: tuple[int, ...], axis: str) -> Any:
    """Model `index`'s value of an SAE axis: its coordinate on the grid, else the ``sae`` section's (or its default,
    for a run saved before the key existed)."""
    if axis in results.dims:
        return np.asarray(results.coords[axis])[index[results.dims.index(axis)]].item()
    return results.config[NAME].get(axis, getattr(SAEConfig(), axis))


def own_size(results: Any, index: tuple[int, ...]) -> int:
    """Model `index`'s own dictionary size: its `dict_size`, else the run's width."""
    return int(own_value(results, index, "dict_size") or own_value(results, index, "width"))


def state_dict(results: Any, index: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Model `index`'s weights under SAELens's names and shapes, its own `dict_size` latents only, float32."""
    size = own_size(results, index)
    p = {name: np.asarray(array[index], np.float32) for name, array in results.params.items()}
    out = {"W_enc": p["W_enc"][:size].T, "W_dec": p["W_dec"][:, :size].T, "b_dec": p["b_dec"],
           **{name: p[name][:size] for name in LATENT_PARAMS if name in p}}
    if "log_threshold" in out:
        out["threshold"] = np.exp(out.pop("log_threshold"))
    if "threshold" in (results.sae or {}):  # a batch kind's global inference threshold θ, one per latent
        out["threshold"] = np.full(size, results.sae["threshold"][index], np.float32)
    renamed = RENAMED.get(results.config[NAME]["kind"], {})
    return {renamed.get(name, name): np.ascontiguousarray(array, np.float32) for name, array in out.items()}


def sae_cfg(results: Any, index: tuple[int, ...], weights: dict[str, np.ndarray]) -> dict[str, Any]:
    """Model `index`'s ``cfg.json``: SAELens's inference config of its architecture, and where it comes from."""
    section = results.config[NAME]
    d_sae, d_in = weights["W_dec"].shape
    cfg = {"architecture": ARCHITECTURES[section["kind"]], "d_in": d_in, "d_sae": d_sae, "dtype": "float32",
           "device": "cpu", "apply_b_dec_to_input": True, "normalize_activations": "none",
           "reshape_activations": "none", "metadata": metadata(results, index)}
    if section["kind"] == "topk":
        cfg.update(k=int(own_value(results, index, "k")), rescale_acts_by_decoder_norm=False)
    return cfg


def metadata(results: Any, index: tuple[int, ...]) -> dict[str, Any]:
    """What SAELens keeps beside the config: the format's version, the training architecture, the run, its source
    and the model's coordinates."""
    section = results.config[NAME]
    hook = "neuron" if section.get("source_activation") == "relu" else "hidden"
    coords = {dim: np.asarray(results.coords[dim])[i].tolist() for dim, i in zip(results.dims, index, strict=True)}
    own = {"version": results.meta.get("versions", {}).get("toyjax"), "kind": section["kind"],
           "source": section.get("source_name") or section.get("source"), "coords": coords}
    out = {"sae_lens_version": FORMAT_VERSION, "model_name": f"toyjax/{results.run_info.preset or 'run'}",
           "hook_name": hook, "training_architecture": TRAINING[section["kind"]], "toyjax": own}
    if TRAINING[section["kind"]] != ARCHITECTURES[section["kind"]]:
        out["training_architecture_details"] = training_details(results, index)
    return out


def training_details(results: Any, index: tuple[int, ...]) -> dict[str, Any]:
    """A batch kind's settings its ``jumprelu`` config drops, under SAELens's names: k, and a Matryoshka SAE's
    widths (its prefixes below its own size, then that size, as SAELens completes them)."""
    details = {"k": int(own_value(results, index, "k"))}
    prefixes = results.config[NAME].get("prefixes") or []
    if prefixes:
        size = own_size(results, index)
        details["matryoshka_widths"] = [int(m) for m in prefixes if m < size] + [size]
    return details


def write(results: Any, index: tuple[int, ...], directory: Path) -> Path:
    """Write model `index` of an SAE run (`check` first) into `directory` as SAELens saves an SAE; returns it."""
    weights = state_dict(results, index)
    text = json.dumps(sae_cfg(results, index, weights), indent=2).encode()
    directory.mkdir(parents=True, exist_ok=True)
    tensorfiles.write(directory / WEIGHTS, weights, {"format": "pt"})
    atomic_write(directory / CFG, lambda f: f.write(text))
    return directory
