"""Checkpoint keys and tensor layouts of the video VAE.

A Lightricks single-file checkpoint holds the encoder under ``vae.encoder.``, the decoder under ``vae.decoder.``
and the latent statistics, read by both, under ``vae.per_channel_statistics.`` (the reference's
``VAE_{ENCODER,DECODER}_COMFY_KEYS_FILTER``). Real files also carry statistics no module reads
(``UNUSED_STATISTICS``; the reference loads non-strictly): they map to component keys that ``is_unused`` flags
for dropping. Convolutions become channels-last; everything else keeps its layout.
"""

from __future__ import annotations

import numpy as np

from mlx_ltx_convert import prefixes

COMPONENTS = ("video_encoder", "video_decoder")
_PREFIXES = {"video_encoder": prefixes.VAE_ENCODER, "video_decoder": prefixes.VAE_DECODER}
UNUSED_STATISTICS = ("channel", "mean-of-stds", "mean-of-stds_over_std-of-means")


def component_key(component: str, checkpoint_key: str) -> str | None:
    """``vae.decoder.conv_in.conv.weight`` -> ``conv_in.conv.weight`` for "video_decoder"; the statistics go to both
    components as ``per_channel_statistics.*``; None for keys of other components."""
    if component not in _PREFIXES:
        raise ValueError(f"component {component!r} is not a video VAE part; choose from {COMPONENTS}")
    if checkpoint_key.startswith(prefixes.VAE_STATISTICS):
        return "per_channel_statistics." + checkpoint_key[len(prefixes.VAE_STATISTICS) :]
    prefix = _PREFIXES[component]
    return checkpoint_key[len(prefix) :] if checkpoint_key.startswith(prefix) else None


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
