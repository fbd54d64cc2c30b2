"""Checkpoint keys and tensor layouts of the video VAE.

A Lightricks single-file checkpoint holds the encoder under ``vae.encoder.``, the decoder under ``vae.decoder.``
and the latent statistics, read by both, under ``vae.per_channel_statistics.`` (the reference's
``VAE_{ENCODER,DECODER}_COMFY_KEYS_FILTER``); LTX-2.5's split VAE files hold the same keys without ``vae.``.
Real files also carry statistics no module reads (``UNUSED_STATISTICS``; the reference loads non-strictly): they
map to component keys that ``is_unused`` flags for dropping. Convolutions become channels-last; the rest keeps its
layout.
"""

from __future__ import annotations

import numpy as np

from mlx_ltx_convert import prefixes

COMPONENTS = ("video_encoder", "video_decoder")
_PREFIXES = {
    "video_encoder": (prefixes.VAE_ENCODER, prefixes.SPLIT_VAE_ENCODER),
    "video_decoder": (prefixes.VAE_DECODER, prefixes.SPLIT_VAE_DECODER),
}
_STATISTICS = (prefixes.VAE_STATISTICS, prefixes.SPLIT_VAE_STATISTICS)
# config["vae"]["_class_name"] of the VAEs these components read (the reference's default when absent).
CONV_VAE = "CausalVideoAutoencoder"
UNUSED_STATISTICS = ("channel", "mean-of-stds", "mean-of-stds_over_std-of-means")


def component_key(component: str, checkpoint_key: str) -> str | None:
    """``vae.decoder.conv_in.conv.weight`` (split file: ``decoder.conv_in.conv.weight``) -> ``conv_in.conv.weight``
    for "video_decoder"; the statistics go to both components as ``per_channel_statistics.*``; None for keys of other
    components."""
    if component not in _PREFIXES:
        raise ValueError(f"component {component!r} is not a video VAE part; choose from {COMPONENTS}")
    for prefix in _STATISTICS:
        if checkpoint_key.startswith(prefix):
            return "per_channel_statistics." + checkpoint_key[len(prefix) :]
    for prefix in _PREFIXES[component]:
        if checkpoint_key.startswith(prefix):
            return checkpoint_key[len(prefix) :]
    return None


def is_conv_vae(config: dict) -> bool:
    """The reference's rule (``model_configurator.py``): ``config["vae"]._class_name`` "CausalVideoAutoencoder" (the
    default when absent) is the convolutional VAE; anything else (LTX-2.5's "CausalDiffusionVAE") has the diffusion
    decoder. Both keep the convolutional encoder."""
    return config.get("_class_name", CONV_VAE) == CONV_VAE


def is_unused(key: str) -> bool:
    """True for component keys of statistics the model does not hold (dropped at conversion)."""
    return key.startswith("per_channel_statistics.") and key.split(".", 1)[1] in UNUSED_STATISTICS


def torch_to_mlx(key: str, value: np.ndarray) -> np.ndarray:
    """Layout change of one video VAE tensor under its component key (transposes / reshapes only).

    Conv3d weights (O, I, kT, kH, kW) -> (O, kT, kH, kW, I); noise scales and ``AttnBlock3D`` gains (C, 1, 1) ->
    (C,); ``AttnBlock3D``'s 1×1 Conv2d weights (O, I, 1, 1) -> Linear (O, I); the rest unchanged.
    """
    if value.ndim == 5:
        return np.ascontiguousarray(value.transpose(0, 2, 3, 4, 1))
    if value.ndim == 4 and value.shape[2:] == (1, 1):
        return value.reshape(value.shape[:2])
    leaf = key.rsplit(".", 1)[-1]
    if leaf.startswith("per_channel_scale") or (leaf == "gamma" and value.ndim == 3):
        return value.reshape(-1)
    return value


# ---- the 2.5 diffusion decoder (``CausalDiffusionVAE``; v1.2.0 ``_build_diffusion_vae_decoder_sd_ops``) ---------

DIFFUSION_DECODER_PREFIXES = ("vae.decoder.", "decoder.")
DIFFUSION_STATISTICS_PREFIXES = ("vae.per_channel_statistics.", "per_channel_statistics.")
_GATE_TARGETS = {"gate_msa": "attn.proj", "gate_mlp": "mlp.w_down", "gate_ctx": "context_proj"}
_T_EMBEDDER = {
    "t_embedder.mlp.0.": "t_embedder.timestep_embedder.linear_1.",
    "t_embedder.mlp.2.": "t_embedder.timestep_embedder.linear_2.",
}
# Keys the reference never reads: the bundled preview head and ``type_emb`` (no parameter of that name; it loads
# non-strictly).
_DIFFUSION_DROPPED = ("coarse_", "type_emb")


def diffusion_decoder_key(checkpoint_key: str) -> str | None:
    """Module key of a diffusion-decoder checkpoint key (prefix stripped, ``t_embedder`` renamed); None if not its."""
    for prefix in DIFFUSION_STATISTICS_PREFIXES:
        if checkpoint_key.startswith(prefix):
            return "per_channel_statistics." + checkpoint_key[len(prefix) :]
    key = next((checkpoint_key[len(p) :] for p in DIFFUSION_DECODER_PREFIXES if checkpoint_key.startswith(p)), None)
    if key is None:
        return None
    for old, new in _T_EMBEDDER.items():
        key = key.replace(old, new)
    return key


def split_key(key: str) -> tuple[str, ...]:
    """The keys a fused ``…attn.qkv.{weight,bias}`` becomes (its rows in thirds: ``…attn.qkv.to_q.*``, ``to_k``,
    ``to_v``); ``()`` for every other key."""
    stem, _, leaf = key.rpartition(".")
    if not stem.endswith(".attn.qkv"):
        return ()
    return tuple(f"{stem}.{name}.{leaf}" for name in ("to_q", "to_k", "to_v"))


def gate_key(key: str) -> str | None:
    """The static gate folded into this Linear's weight / bias (``…attn.proj.weight`` → ``…gate_msa``), else None."""
    stem, _, leaf = key.rpartition(".")
    if leaf not in ("weight", "bias"):
        return None
    return next((f"{stem[: -len(t) - 1]}.{g}" for g, t in _GATE_TARGETS.items() if stem.endswith("." + t)), None)


def is_gate(key: str) -> bool:
    return key.rsplit(".", 1)[-1] in _GATE_TARGETS


def is_dropped_diffusion_key(key: str) -> bool:
    """Decoder keys the reference never reads (the preview head, ``type_emb``)."""
    return key.startswith(_DIFFUSION_DROPPED)


def fold_gate(value: np.ndarray, gate: np.ndarray) -> np.ndarray:
    """``g[:, None]·W`` (or ``g·b``) in float32, back in the file's dtype."""
    if not (np.issubdtype(value.dtype, np.floating) and np.issubdtype(gate.dtype, np.floating)):
        raise ValueError(
            f"static gates need float tensors to fold (got {value.dtype} / {gate.dtype}, e.g. bfloat16 bit patterns):"
            " convert bfloat16 to float32 first"
        )
    g = gate.astype(np.float32)
    folded = (g[:, None] if value.ndim == 2 else g) * value.astype(np.float32)
    return folded.astype(value.dtype)


def diffusion_decoder_weights(checkpoint: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A 2.5 VAE file's decoder tensors -> the ``DiffusionVideoDecoder``'s keys, in memory (the converter streams the
    same per-key rules: ``split_key``, ``gate_key``): fused ``…attn.qkv.{weight,bias}`` split in thirds into ``to_q``
    / ``to_k`` / ``to_v``, static ``gate_*`` folded into the Linear they scale and dropped, ``coarse_*`` and
    ``type_emb`` dropped. Splitting is layout-only (bfloat16 bit patterns are fine); a folded gate needs floats."""
    named = {k: v for key, v in checkpoint.items() if (k := diffusion_decoder_key(key)) is not None}
    out: dict[str, np.ndarray] = {}
    for key, value in named.items():
        if is_gate(key) or is_dropped_diffusion_key(key):
            continue
        if parts := split_key(key):
            if value.shape[0] % len(parts):
                raise ValueError(f"{key}: fused QKV leading size {value.shape[0]} is not divisible by 3")
            for name, part in zip(parts, np.split(value, len(parts)), strict=True):
                out[name] = np.ascontiguousarray(part)
            continue
        gate = gate_key(key)
        out[key] = fold_gate(value, named[gate]) if gate in named else value
    return out
