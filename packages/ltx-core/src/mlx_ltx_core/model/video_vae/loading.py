"""Load and save the video encoder / decoder as component folders (docs/format.md).

Both folders hold the checkpoint's ``config["vae"]`` verbatim; each model is built from it as the reference's
configurators do, so e.g. an LTX-2 config without ``spatial_padding_mode`` pads the decoder by reflection.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mlx.core as mx
import mlx.nn as nn
from mlx.utils import tree_flatten

from mlx_ltx_core.loader import ComponentFolder, build_component, save_component
from mlx_ltx_core.model.video_vae.args import VideoDecoderArgs, VideoEncoderArgs
from mlx_ltx_core.model.video_vae.diffusion_decoder import DiffusionVideoDecoder, DiffusionVideoDecoderArgs
from mlx_ltx_core.model.video_vae.video_vae import VideoDecoder, VideoEncoder

ENCODER_COMPONENT = "video_encoder"
DECODER_COMPONENT = "video_decoder"
# LTX-2.5's diffusion decoder: its own component kind, written into the same "video_decoder" folder of a model.
DIFFUSION_DECODER_COMPONENT = "diffusion_video_decoder"


def build_video_encoder(folder: ComponentFolder) -> VideoEncoder:
    """The encoder of a component folder's config (no weights; ltx-convert checks key coverage with it)."""
    return VideoEncoder(VideoEncoderArgs.from_dict(folder.config))


def build_video_decoder(folder: ComponentFolder) -> VideoDecoder:
    """The decoder of a component folder's config (no weights; ltx-convert checks key coverage with it)."""
    return VideoDecoder(VideoDecoderArgs.from_dict(folder.config))


def is_diffusion_decoder_config(config: dict[str, Any]) -> bool:
    """The reference's rule: ``config["vae"]._class_name`` other than "CausalVideoAutoencoder" is a diffusion VAE."""
    return config.get("_class_name", "CausalVideoAutoencoder") != "CausalVideoAutoencoder"


def build_diffusion_video_decoder(folder: ComponentFolder) -> DiffusionVideoDecoder:
    """The 2.5 diffusion decoder of a folder whose config is a ``CausalDiffusionVAE`` one."""
    return DiffusionVideoDecoder(DiffusionVideoDecoderArgs.from_config(folder.config))


def load_video_encoder(path: str | os.PathLike, *, lazy: bool = False, dtype: mx.Dtype | None = None) -> VideoEncoder:
    """``VideoEncoder`` from a "video_encoder" component folder: strict, quantized as recorded, eager unless lazy."""
    return build_component(path, ENCODER_COMPONENT, build_video_encoder, lazy=lazy, dtype=dtype)


def load_video_decoder(path: str | os.PathLike, *, lazy: bool = False, dtype: mx.Dtype | None = None) -> VideoDecoder:
    """``VideoDecoder`` from a "video_decoder" component folder: strict, quantized as recorded, eager unless lazy."""
    return build_component(path, DECODER_COMPONENT, build_video_decoder, lazy=lazy, dtype=dtype)


def load_diffusion_video_decoder(
    path: str | os.PathLike, *, lazy: bool = False, dtype: mx.Dtype | None = None
) -> DiffusionVideoDecoder:
    """``DiffusionVideoDecoder`` from a "diffusion_video_decoder" component folder (a 2.5 model's "video_decoder")."""
    return build_component(path, DIFFUSION_DECODER_COMPONENT, build_diffusion_video_decoder, lazy=lazy, dtype=dtype)


def save_video_vae_component(
    path: str | os.PathLike,
    model: nn.Module,
    config: dict[str, Any],
    *,
    quantization: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a ``VideoEncoder`` or ``VideoDecoder`` with the verbatim ``config["vae"]`` as its component folder."""
    kinds = ((VideoEncoder, ENCODER_COMPONENT), (DiffusionVideoDecoder, DIFFUSION_DECODER_COMPONENT))
    component = next((name for kind, name in kinds if isinstance(model, kind)), DECODER_COMPONENT)
    weights = dict(tree_flatten(model.parameters()))
    return save_component(path, component, config, weights, quantization=quantization, overwrite=overwrite)
