"""Latent upsamplers of LTX-2 / LTX-2.3 (ports ltx_core/model/upsampler)."""

from typing import TYPE_CHECKING

from mlx_ltx_core.lazy import lazy_exports

if TYPE_CHECKING:
    from mlx_ltx_core.model.upsampler.loading import load_latent_upsampler, save_latent_upsampler
    from mlx_ltx_core.model.upsampler.model import LatentUpsampler, LatentUpsamplerArgs, upsample_video

__all__ = [
    "LatentUpsampler",
    "LatentUpsamplerArgs",
    "load_latent_upsampler",
    "save_latent_upsampler",
    "upsample_video",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "load_latent_upsampler": ".loading",
        "save_latent_upsampler": ".loading",
        "LatentUpsampler": ".model",
        "LatentUpsamplerArgs": ".model",
        "upsample_video": ".model",
    },
)
