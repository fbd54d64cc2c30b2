"""Video VAE of LTX-2 / 2.3 / 2.5: encoder, conv decoder, the 2.5 diffusion decoder, neighborhood attention, tiled
and streaming decode (ports ltx_core/model/video_vae)."""

from typing import TYPE_CHECKING

from mlx_ltx_core.lazy import lazy_exports

if TYPE_CHECKING:
    from mlx_ltx_core.model.video_vae.args import VideoDecoderArgs, VideoEncoderArgs
    from mlx_ltx_core.model.video_vae.diffusion_decoder import DiffusionVideoDecoder, DiffusionVideoDecoderArgs
    from mlx_ltx_core.model.video_vae.loading import (
        load_diffusion_video_decoder,
        load_video_decoder,
        load_video_encoder,
        save_video_vae_component,
    )
    from mlx_ltx_core.model.video_vae.neighborhood_attention import na3d, na3d_blocked, na3d_reference
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
    "DiffusionVideoDecoder",
    "DiffusionVideoDecoderArgs",
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
    "load_diffusion_video_decoder",
    "load_video_decoder",
    "load_video_encoder",
    "measure_decode_peak_bytes",
    "na3d",
    "na3d_blocked",
    "na3d_reference",
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
        "DiffusionVideoDecoder": ".diffusion_decoder",
        "DiffusionVideoDecoderArgs": ".diffusion_decoder",
        "na3d": ".neighborhood_attention",
        "na3d_blocked": ".neighborhood_attention",
        "na3d_reference": ".neighborhood_attention",
        "load_diffusion_video_decoder": ".loading",
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
