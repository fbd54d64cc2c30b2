"""Conditioning items: images, keyframes, IC-LoRA references, attention strength (ports ltx_core/conditioning)."""

from mlx_ltx_pipelines.conditioning.attention_strength_wrapper import ConditioningItemAttentionStrengthWrapper
from mlx_ltx_pipelines.conditioning.item import ConditioningError, ConditioningItem
from mlx_ltx_pipelines.conditioning.keyframe_cond import VideoConditionByKeyframeIndex
from mlx_ltx_pipelines.conditioning.latent_cond import VideoConditionByLatentIndex
from mlx_ltx_pipelines.conditioning.mask_utils import downsample_mask_video_to_latent
from mlx_ltx_pipelines.conditioning.reference_video_cond import VideoConditionByReferenceLatent

__all__ = [
    "ConditioningError",
    "ConditioningItem",
    "ConditioningItemAttentionStrengthWrapper",
    "VideoConditionByKeyframeIndex",
    "VideoConditionByLatentIndex",
    "VideoConditionByReferenceLatent",
    "downsample_mask_video_to_latent",
]
