"""mlx_ltx_core: see the package README for the module map. Names import on first use (mlx_ltx_core.lazy)."""

from typing import TYPE_CHECKING

from mlx_ltx_core.lazy import lazy_exports

if TYPE_CHECKING:
    from mlx_ltx_core.model.transformer import (
        LTXModel,
        LTXModelArgs,
        LTXModelType,
        LTXRopeType,
        Modality,
        X0Model,
        load_transformer,
        quantize_transformer,
        save_transformer,
        to_denoised,
    )
    from mlx_ltx_core.model.upsampler import LatentUpsampler, load_latent_upsampler, upsample_video
    from mlx_ltx_core.model.video_vae import (
        TilingConfig,
        VideoDecoder,
        VideoEncoder,
        load_video_decoder,
        load_video_encoder,
        tiling_for,
    )

__version__ = "0.2.0"

__all__ = [
    "LTXModel",
    "LTXModelArgs",
    "LTXModelType",
    "LTXRopeType",
    "LatentUpsampler",
    "Modality",
    "TilingConfig",
    "VideoDecoder",
    "VideoEncoder",
    "X0Model",
    "__version__",
    "load_latent_upsampler",
    "load_transformer",
    "load_video_decoder",
    "load_video_encoder",
    "quantize_transformer",
    "save_transformer",
    "tiling_for",
    "to_denoised",
    "upsample_video",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "LTXModel": ".model.transformer",
        "LTXModelArgs": ".model.transformer",
        "LTXModelType": ".model.transformer",
        "LTXRopeType": ".model.transformer",
        "Modality": ".model.transformer",
        "X0Model": ".model.transformer",
        "load_transformer": ".model.transformer",
        "quantize_transformer": ".model.transformer",
        "save_transformer": ".model.transformer",
        "to_denoised": ".model.transformer",
        "LatentUpsampler": ".model.upsampler",
        "load_latent_upsampler": ".model.upsampler",
        "upsample_video": ".model.upsampler",
        "TilingConfig": ".model.video_vae",
        "VideoDecoder": ".model.video_vae",
        "VideoEncoder": ".model.video_vae",
        "load_video_decoder": ".model.video_vae",
        "load_video_encoder": ".model.video_vae",
        "tiling_for": ".model.video_vae",
    },
)
