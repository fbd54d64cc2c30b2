"""What one generation asks for, the same object for every pipeline (the reference pipelines' ``__call__`` arguments).

``None`` means "the model version's default" (``PipelineParams``); a pipeline's ``check`` refuses what it cannot
use (e.g. guidance on the distilled pipeline) before any model loads.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

from mlx_ltx_pipelines.guiders import MultiModalGuiderParams
from mlx_ltx_pipelines.stages import AudioConditioningInput, ImageConditioningInput, VideoConditioningInput

ImageMode = Literal["replace", "guide"]
IMAGE_MODES = ("replace", "guide")


@dataclass(frozen=True)
class GenerationRequest:
    """One generation's inputs; sequences are stored as tuples (a request is a value)."""

    prompt: str
    negative_prompt: str | None = None  # guided pipelines; None: the reference's default negative prompt
    seed: int | None = None
    height: int | None = None  # output size (stage 2 of the two-stage pipelines)
    width: int | None = None
    num_frames: int | None = None  # 8k+1
    frame_rate: float | None = None
    images: Sequence[ImageConditioningInput] = ()
    image_mode: ImageMode = "replace"  # replace: an image at frame 0 replaces it; guide: every image is a keyframe
    audio: AudioConditioningInput | None = None  # audio-to-video: this audio is kept
    generate_audio: bool = True
    enhance_prompt: bool = False
    tiling: str = "auto"  # a video VAE tiling preset name, or auto
    num_inference_steps: int | None = None  # guided pipelines
    video_guider_params: MultiModalGuiderParams | None = None  # guided pipelines
    audio_guider_params: MultiModalGuiderParams | None = None  # guided pipelines
    video_conditioning: Sequence[VideoConditioningInput] = ()  # IC-LoRA reference videos
    conditioning_attention_strength: float = 1.0  # IC-LoRA
    skip_stage_2: bool = False  # IC-LoRA: return the half-size stage-1 result
    spatial_upscale: float = 2.0  # two-stage: the latent upscaler between the stages, x2 or x1.5 (stage 1 at 2/3)
    temporal_upscale: bool = False  # two-stage: then x2 in time, refined: 2(F-1)+1 frames at twice the frame rate

    def __post_init__(self) -> None:
        for name in ("images", "video_conditioning"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def given(self, *names: str) -> list[str]:
        """Those of ``names`` that differ from their defaults (what the caller asked for)."""
        defaults = {f.name: f.default for f in fields(self)}
        return [n for n in names if getattr(self, n) != defaults[n]]


# Fields only the guided (dev) pipelines and only IC-LoRA use.
GUIDANCE_FIELDS = ("negative_prompt", "num_inference_steps", "video_guider_params", "audio_guider_params")
IC_LORA_FIELDS = ("video_conditioning", "conditioning_attention_strength", "skip_stage_2")
UPSCALE_FIELDS = ("spatial_upscale", "temporal_upscale")  # what the one-stage pipeline has no stage for


def request_from(args: tuple[Any, ...], kwargs: dict[str, Any], positional: Sequence[str]) -> GenerationRequest:
    """The keyword form ``pipe("a fox", seed=3)``: positional arguments after the prompt follow ``positional``."""
    if len(args) > len(positional):
        raise TypeError(f"at most {len(positional)} positional arguments ({', '.join(positional)}), got {len(args)}")
    return GenerationRequest(**dict(zip(positional, args, strict=False)), **kwargs)


def call_signature(progress_default: Any) -> inspect.Signature:
    """``Pipeline.__call__``'s signature as callers see it: a request, or the request's fields as keywords."""
    self = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    request = inspect.Parameter(
        "request", inspect.Parameter.POSITIONAL_ONLY, default=None, annotation="GenerationRequest | str | None"
    )
    keywords = [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type)
        for f in fields(GenerationRequest)
        if f.name != "prompt"
    ]
    prompt = inspect.Parameter("prompt", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="str | None")
    progress = inspect.Parameter(
        "progress", inspect.Parameter.KEYWORD_ONLY, default=progress_default, annotation="Progress"
    )
    args = inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL)  # after the prompt: the class's ``positional``
    parameters = [self, request, args, prompt, *keywords, progress]
    return inspect.Signature(parameters, return_annotation="GenerationResult")


__all__ = [
    "GUIDANCE_FIELDS",
    "IC_LORA_FIELDS",
    "IMAGE_MODES",
    "UPSCALE_FIELDS",
    "GenerationRequest",
    "ImageMode",
    "call_signature",
]
