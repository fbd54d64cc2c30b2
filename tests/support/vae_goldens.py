"""Build the tiny golden video VAEs and upsamplers of tools/parity/goldens_vae.py and convert their tensors.

Golden tensors are in the reference's (B, C, F, H, W) layout; ``video`` / ``channels_last`` move channels last at
this boundary. Weights go through the same conversion functions ltx-convert uses.
"""

from __future__ import annotations

from typing import Any

import mlx.core as mx
import numpy as np

from mlx_ltx_convert.layouts.upsampler import torch_to_mlx as upsampler_torch_to_mlx
from mlx_ltx_convert.layouts.video_vae import component_key
from mlx_ltx_convert.layouts.video_vae import torch_to_mlx as vae_torch_to_mlx
from mlx_ltx_core.model.upsampler import LatentUpsampler, LatentUpsamplerArgs
from mlx_ltx_core.model.video_vae import VideoDecoder, VideoDecoderArgs, VideoEncoder, VideoEncoderArgs

from ltx_testing import group, load, manifest

FAMILY = "vae"


def cases(kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Manifest cases whose name starts with ``kind`` (e.g. "video_decoder", "upsampler")."""
    return sorted((k, v) for k, v in manifest(FAMILY)["cases"].items() if k.startswith(kind))


def checkpoint(info: dict[str, Any]) -> dict[str, np.ndarray]:
    """The case's weights with their Lightricks checkpoint keys, as float32."""
    out: dict[str, np.ndarray] = {}
    for file in info["weights"]:
        out.update({k: v.astype(np.float32) for k, v in load(FAMILY, file).items()})
    return out


def mlx_weights(info: dict[str, Any], component: str) -> dict[str, mx.array]:
    """Checkpoint -> MLX keys and layout for "video_encoder", "video_decoder" or "upsampler"."""
    out = {}
    for key, value in checkpoint(info).items():
        if component == "upsampler":
            out[key] = mx.array(upsampler_torch_to_mlx(key, value))
        elif (name := component_key(component, key)) is not None:
            out[name] = mx.array(vae_torch_to_mlx(name, value))
    return out


def build(info: dict[str, Any], component: str):
    """The case's model with its golden weights loaded strictly."""
    if component == "video_encoder":
        model = VideoEncoder(VideoEncoderArgs.from_dict(info["config"]["vae"]))
    elif component == "video_decoder":
        model = VideoDecoder(VideoDecoderArgs.from_dict(info["config"]["vae"]))
    else:
        model = LatentUpsampler(LatentUpsamplerArgs.from_dict(info["config"]))
    model.load_weights(list(mlx_weights(info, component).items()), strict=True)
    return model


def channels_last(x: np.ndarray) -> np.ndarray:
    """(B, C, F, H, W) -> (B, F, H, W, C); per-frame (B·F, C, H, W) -> (B·F, H, W, C); others unchanged."""
    return np.ascontiguousarray(np.moveaxis(x, 1, -1)) if x.ndim >= 4 else x


def tensors(name: str, info: dict[str, Any], prefix: str) -> dict[str, np.ndarray]:
    """inputs / outputs / intermediates of a case, channels last, as float32."""
    return {k: channels_last(v).astype(np.float32) for k, v in group(load(FAMILY, info["file"]), prefix).items()}


def frames_flat(x: mx.array, like: np.ndarray) -> mx.array:
    """Our (B, F, H, W, C) as the reference's per-frame (B·F, H, W, C) when ``like`` is 4-D."""
    return x.reshape(-1, *x.shape[2:]) if like.ndim == 4 and x.ndim == 5 else x
