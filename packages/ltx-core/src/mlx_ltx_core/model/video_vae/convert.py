"""Checkpoint keys and tensor layouts of the video VAE (used by ltx-convert and the tests; numpy only).

A Lightricks single-file checkpoint holds the encoder under ``vae.encoder.``, the decoder under ``vae.decoder.``
and the latent statistics, shared by both, under ``vae.per_channel_statistics.`` (the reference's
``VAE_{ENCODER,DECODER}_COMFY_KEYS_FILTER``). Convolutions become channels-last; everything else keeps its layout.
"""

from __future__ import annotations

import numpy as np

ENCODER_PREFIX = "vae.encoder."
DECODER_PREFIX = "vae.decoder."
STATISTICS_PREFIX = "vae.per_channel_statistics."
# Statistics in real checkpoints that no module reads (the reference loads non-strictly and ignores them).
UNUSED_STATISTICS = ("channel", "mean-of-stds", "mean-of-stds_over_std-of-means")
COMPONENT_PREFIXES = {"video_encoder": ENCODER_PREFIX, "video_decoder": DECODER_PREFIX}


def component_key(checkpoint_key: str, component: str) -> str | None:
    """``vae.decoder.conv_in.conv.weight`` -> ``conv_in.conv.weight`` for "video_decoder"; statistics go to both
    components as ``per_channel_statistics.*``; None for keys the component does not hold."""
    if checkpoint_key.startswith(STATISTICS_PREFIX):
        name = checkpoint_key[len(STATISTICS_PREFIX) :]
        return None if name in UNUSED_STATISTICS else "per_channel_statistics." + name
    prefix = COMPONENT_PREFIXES[component]
    return checkpoint_key[len(prefix) :] if checkpoint_key.startswith(prefix) else None


def torch_to_mlx(key: str, value: np.ndarray) -> np.ndarray:
    """Layout change of one video VAE tensor (component key, without the ``vae.*`` prefix).

    Conv3d weights (O, I, kT, kH, kW) -> (O, kT, kH, kW, I); noise scales (C, 1, 1) -> (C,); the rest unchanged.
    """
    if value.ndim == 5:
        return np.ascontiguousarray(value.transpose(0, 2, 3, 4, 1))
    if key.rsplit(".", 1)[-1].startswith("per_channel_scale"):
        return value.reshape(-1)
    return value
