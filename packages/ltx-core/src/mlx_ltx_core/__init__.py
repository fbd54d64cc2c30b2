"""mlx_ltx_core: see the package README for the module map."""

from mlx_ltx_core.model.upsampler import LatentUpsampler, load_latent_upsampler, upsample_video
from mlx_ltx_core.model.video_vae import (
    TilingConfig,
    VideoDecoder,
    VideoEncoder,
    load_video_decoder,
    load_video_encoder,
    tiling_for,
)

__version__ = "0.1.0"

__all__ = [
    "LatentUpsampler",
    "TilingConfig",
    "VideoDecoder",
    "VideoEncoder",
    "__version__",
    "load_latent_upsampler",
    "load_video_decoder",
    "load_video_encoder",
    "tiling_for",
    "upsample_video",
]
