"""Per-model-version defaults of the pipelines (ports ltx_pipelines/utils/constants.py, PyPI 1.0.0)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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


def _guider(cfg: float, stg: float, rescale: float, blocks: list[int]) -> MultiModalGuiderParams:
    return MultiModalGuiderParams(
        cfg_scale=cfg, stg_scale=stg, rescale_scale=rescale, modality_scale=3.0, skip_step=0, stg_blocks=tuple(blocks)
    )


@dataclass(frozen=True)
class PipelineParams:
    """Defaults of one model version: sizes are the final (stage 2) output."""

    seed: int = 10
    height: int = 1024
    width: int = 1536
    num_frames: int = 121
    frame_rate: float = 24.0
    num_inference_steps: int = 40
    video_guider_params: MultiModalGuiderParams = field(default_factory=lambda: _guider(3.0, 1.0, 0.7, [29]))
    audio_guider_params: MultiModalGuiderParams = field(default_factory=lambda: _guider(7.0, 1.0, 0.7, [29]))


LTX_2_PARAMS = PipelineParams()
LTX_2_3_PARAMS = replace(
    LTX_2_PARAMS,
    num_inference_steps=30,
    video_guider_params=_guider(3.0, 1.0, 0.7, [28]),
    audio_guider_params=_guider(7.0, 1.0, 0.7, [28]),
)
# The HQ preset (res_2s, 15 steps, STG off, 1088×1920); the reference uses it for LTX-2.3.
LTX_2_3_HQ_PARAMS = PipelineParams(
    height=1088,
    width=1920,
    num_inference_steps=15,
    video_guider_params=_guider(3.0, 0.0, 0.45, []),
    audio_guider_params=_guider(7.0, 0.0, 1.0, []),
)
DEFAULT_LORA_STRENGTH = 1.0
# The HQ pipeline's distilled-LoRA strengths per stage.
HQ_DISTILLED_LORA_STRENGTHS = (0.25, 0.5)


def params_for(model_version: str | None, hq: bool = False) -> PipelineParams:
    """LTX-2.3 defaults when the checkpoint's model_version starts with "2.3" (as the reference), else LTX-2's."""
    ltx23 = bool(model_version) and str(model_version).startswith("2.3")
    if hq:
        return LTX_2_3_HQ_PARAMS
    return LTX_2_3_PARAMS if ltx23 else LTX_2_PARAMS
