"""Conditioning items: images, keyframes, IC-LoRA references, attention strength (ports ltx_core/conditioning)."""

from typing import TYPE_CHECKING

from mlx_ltx_core.lazy import lazy_exports

if TYPE_CHECKING:
    from mlx_ltx_pipelines.conditioning.attention_strength_wrapper import ConditioningItemAttentionStrengthWrapper
    from mlx_ltx_pipelines.conditioning.audio_latent_cond import AudioConditionByLatentIndex
    from mlx_ltx_pipelines.conditioning.item import ConditioningError, ConditioningItem
    from mlx_ltx_pipelines.conditioning.keyframe_cond import VideoConditionByKeyframeIndex
    from mlx_ltx_pipelines.conditioning.latent_cond import VideoConditionByLatentIndex
    from mlx_ltx_pipelines.conditioning.mask_utils import downsample_mask_video_to_latent
    from mlx_ltx_pipelines.conditioning.noise_mask_cond import TemporalRegionMask
    from mlx_ltx_pipelines.conditioning.reference_video_cond import VideoConditionByReferenceLatent

__all__ = [
    "AudioConditionByLatentIndex",
    "ConditioningError",
    "ConditioningItem",
    "ConditioningItemAttentionStrengthWrapper",
    "TemporalRegionMask",
    "VideoConditionByKeyframeIndex",
    "VideoConditionByLatentIndex",
    "VideoConditionByReferenceLatent",
    "downsample_mask_video_to_latent",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AudioConditionByLatentIndex": ".audio_latent_cond",
        "ConditioningItemAttentionStrengthWrapper": ".attention_strength_wrapper",
        "ConditioningError": ".item",
        "ConditioningItem": ".item",
        "VideoConditionByKeyframeIndex": ".keyframe_cond",
        "VideoConditionByLatentIndex": ".latent_cond",
        "downsample_mask_video_to_latent": ".mask_utils",
        "TemporalRegionMask": ".noise_mask_cond",
        "VideoConditionByReferenceLatent": ".reference_video_cond",
    },
)
