"""Video VAE of LTX-2 / LTX-2.3: encoder, decoder, tiled and streaming decode (ports ltx_core/model/video_vae)."""

from typing import TYPE_CHECKING

from mlx_ltx_core.lazy import lazy_exports

if TYPE_CHECKING:
    from mlx_ltx_core.model.video_vae.args import VideoDecoderArgs, VideoEncoderArgs
    from mlx_ltx_core.model.video_vae.loading import load_video_decoder, load_video_encoder, save_video_vae_component
    from mlx_ltx_core.model.video_vae.ops import (
        NoiseGenerator,
        PerChannelStatistics,
        patchify,
        random_noise,
        unpatchify,
    )
    from mlx_ltx_core.model.video_vae.presets import (
        TILING_PRESETS,
        estimate_decode_peak_bytes,
        measure_decode_peak_bytes,
        tiling_for,
    )
    from mlx_ltx_core.model.video_vae.tiled import decode_video, get_video_chunks_number
    from mlx_ltx_core.model.video_vae.tiling import SpatialTilingConfig, TemporalTilingConfig, TilingConfig
    from mlx_ltx_core.model.video_vae.video_vae import VideoDecoder, VideoEncoder

__all__ = [
    "TILING_PRESETS",
    "NoiseGenerator",
    "PerChannelStatistics",
    "SpatialTilingConfig",
    "TemporalTilingConfig",
    "TilingConfig",
    "VideoDecoder",
    "VideoDecoderArgs",
    "VideoEncoder",
    "VideoEncoderArgs",
    "decode_video",
    "estimate_decode_peak_bytes",
    "get_video_chunks_number",
    "load_video_decoder",
    "load_video_encoder",
    "measure_decode_peak_bytes",
    "patchify",
    "random_noise",
    "save_video_vae_component",
    "tiling_for",
    "unpatchify",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "VideoDecoderArgs": ".args",
        "VideoEncoderArgs": ".args",
        "load_video_decoder": ".loading",
        "load_video_encoder": ".loading",
        "save_video_vae_component": ".loading",
        "NoiseGenerator": ".ops",
        "PerChannelStatistics": ".ops",
        "patchify": ".ops",
        "random_noise": ".ops",
        "unpatchify": ".ops",
        "TILING_PRESETS": ".presets",
        "estimate_decode_peak_bytes": ".presets",
        "measure_decode_peak_bytes": ".presets",
        "tiling_for": ".presets",
        "decode_video": ".tiled",
        "get_video_chunks_number": ".tiled",
        "SpatialTilingConfig": ".tiling",
        "TemporalTilingConfig": ".tiling",
        "TilingConfig": ".tiling",
        "VideoDecoder": ".video_vae",
        "VideoEncoder": ".video_vae",
    },
)
