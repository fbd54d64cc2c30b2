"""The pipelines' defaults as ``PipelineParams``, built from ltx-core's model-version table (``versions``)."""

from __future__ import annotations

from dataclasses import dataclass

from mlx_ltx_core import versions
from mlx_ltx_core.versions import LTX_2, LTX_2_3, LTX_2_4, GuiderDefaults, PipelineDefaults
from mlx_ltx_pipelines.guiders import MultiModalGuiderParams

# The reference's default negative prompt (1.0.0).
DEFAULT_NEGATIVE_PROMPT = (
    "blurry, out of focus, overexposed, underexposed, low contrast, washed out colors, excessive noise, "
    "grainy texture, poor lighting, flickering, motion blur, distorted proportions, unnatural skin tones, "
    "deformed facial features, asymmetrical face, missing facial features, extra limbs, disfigured hands, "
    "wrong hand count, artifacts around text, inconsistent perspective, camera shake, incorrect depth of "
    "field, background too sharp, background clutter, distracting reflections, harsh shadows, inconsistent "
    "lighting direction, color banding, cartoonish rendering, 3D CGI look, unrealistic materials, uncanny "
    "valley effect, incorrect ethnicity, wrong gender, exaggerated expressions, wrong gaze direction, "
    "mismatched lip sync, silent or muted audio, distorted voice, robotic voice, echo, background noise, "
    "off-sync audio, incorrect dialogue, added dialogue, repetitive speech, jittery movement, awkward "
    "pauses, incorrect timing, unnatural transitions, inconsistent framing, tilted camera, flat lighting, "
    "inconsistent tone, cinematic oversaturation, stylized filters, or AI artifacts."
)


def _guider(g: GuiderDefaults) -> MultiModalGuiderParams:
    return MultiModalGuiderParams(
        cfg_scale=g.cfg_scale,
        stg_scale=g.stg_scale,
        rescale_scale=g.rescale_scale,
        modality_scale=g.modality_scale,
        skip_step=g.skip_step,
        stg_blocks=tuple(g.stg_blocks),
    )


@dataclass(frozen=True)
class PipelineParams:
    """Defaults of one pipeline for one model version (core's ``versions`` table): sizes are the final output."""

    seed: int
    height: int
    width: int
    num_frames: int
    frame_rate: float
    num_inference_steps: int
    video_guider_params: MultiModalGuiderParams
    audio_guider_params: MultiModalGuiderParams
    distilled_lora_strengths: tuple[float | None, float] | None = None
    image_crf: int = 33  # the version's image-conditioning CRF (18 from LTX-2.4 on)
    sampler: str = "euler"  # "euler_ancestral": the distilled stage 1 from LTX-2.5 on (pipelines: a later issue)

    @classmethod
    def from_defaults(cls, d: PipelineDefaults) -> PipelineParams:
        return cls(
            seed=d.seed,
            height=d.height,
            width=d.width,
            num_frames=d.num_frames,
            frame_rate=d.frame_rate,
            num_inference_steps=d.num_inference_steps,
            video_guider_params=_guider(d.video_guider),
            audio_guider_params=_guider(d.audio_guider),
            distilled_lora_strengths=d.distilled_lora_strengths,
            image_crf=d.image_crf,
            sampler=d.sampler,
        )


LTX_2_PARAMS = PipelineParams.from_defaults(LTX_2.defaults("dev"))
LTX_2_3_PARAMS = PipelineParams.from_defaults(LTX_2_3.defaults("dev"))
LTX_2_4_PARAMS = PipelineParams.from_defaults(LTX_2_4.defaults("dev"))  # 2.3's with image CRF 18
LTX_2_3_HQ_PARAMS = PipelineParams.from_defaults(LTX_2_3.defaults("dev-two-stage-hq"))
DEFAULT_LORA_STRENGTH = 1.0


# The HQ pipeline's distilled-LoRA strengths per stage.
def _lora_strengths(pipeline: str) -> tuple[float | None, float]:
    strengths = LTX_2_3.defaults(pipeline).distilled_lora_strengths
    if strengths is None:
        raise ValueError(f"the version table gives {pipeline!r} no distilled-LoRA strengths")
    return strengths


HQ_DISTILLED_LORA_STRENGTHS = _lora_strengths("dev-two-stage-hq")


def params_for(model_version: str | None, pipeline: str = "dev") -> PipelineParams:
    """The defaults of ``pipeline`` (its name in ``pipelines.BY_NAME``, e.g. "dev-two-stage") for a checkpoint's
    ``model_version``. ``model_version`` None (older files) is LTX-2; an unknown version raises ``ValueError``."""
    return PipelineParams.from_defaults(versions.model_version(model_version).defaults(pipeline))
