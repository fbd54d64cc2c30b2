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


def check_vae_config(config: dict) -> str | None:
    """Why ``config["vae"]`` is a VAE these components cannot hold (LTX-2.5's diffusion decoder), else None."""
    kind = config.get("_class_name", CONV_VAE)
    if kind == CONV_VAE:
        return None
    return (
        f"video VAE _class_name {kind!r} (LTX-2.5's diffusion video decoder) is not supported by this build yet; "
        "convert the convolutional VAE file instead (ltx-2.5-video-vae-conv-bf16.safetensors)"
    )


def is_unused(key: str) -> bool:
    """True for component keys of statistics the model does not hold (dropped at conversion)."""
    return key.startswith("per_channel_statistics.") and key.split(".", 1)[1] in UNUSED_STATISTICS


def torch_to_mlx(key: str, value: np.ndarray) -> np.ndarray:
    """Layout change of one video VAE tensor under its component key (transposes / reshapes only).

    Conv3d weights (O, I, kT, kH, kW) -> (O, kT, kH, kW, I); noise scales (C, 1, 1) -> (C,); the rest unchanged.
    """
    if value.ndim == 5:
        return np.ascontiguousarray(value.transpose(0, 2, 3, 4, 1))
    if key.rsplit(".", 1)[-1].startswith("per_channel_scale"):
        return value.reshape(-1)
    return value
