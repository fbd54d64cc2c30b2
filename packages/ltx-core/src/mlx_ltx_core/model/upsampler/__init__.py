"""Latent upsamplers of LTX-2 / LTX-2.3 (ports ltx_core/model/upsampler)."""

from mlx_ltx_core.model.upsampler.loading import load_latent_upsampler, save_latent_upsampler
from mlx_ltx_core.model.upsampler.model import LatentUpsampler, LatentUpsamplerArgs, upsample_video

__all__ = [
    "LatentUpsampler",
    "LatentUpsamplerArgs",
    "load_latent_upsampler",
    "save_latent_upsampler",
    "upsample_video",
]
