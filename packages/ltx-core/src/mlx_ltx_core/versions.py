"""The model versions this port knows, one row each (ports ltx_pipelines/utils/constants.py, v1.2.0).

Plain data only (numbers and strings): ltx-pipelines builds its ``PipelineParams`` from a row's
``PipelineDefaults``, ltx-convert names the family from it. A new version is one new row in ``VERSIONS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

# The reference's image-conditioning H.264 CRF: 33, and 18 from LTX-2.4 on (constants.py DEFAULT_IMAGE_CRF).
DEFAULT_IMAGE_CRF, LTX_2_4_IMAGE_CRF = 33, 18
# The pipelines' CLI names, the keys of ``ModelVersion.pipelines``.
PIPELINE_NAMES = ("distilled", "dev", "dev-two-stage", "dev-two-stage-hq", "keyframe", "ic-lora")


@dataclass(frozen=True)
class GuiderDefaults:
    """One modality's guidance defaults (fields as ltx-pipelines' ``MultiModalGuiderParams``)."""

    cfg_scale: float
    stg_scale: float
    rescale_scale: float
    stg_blocks: tuple[int, ...]
    modality_scale: float = 3.0
    skip_step: int = 0


@dataclass(frozen=True)
class PipelineDefaults:
    """One pipeline's defaults for one version; sizes are the final (stage 2) output."""

    num_inference_steps: int
    video_guider: GuiderDefaults
    audio_guider: GuiderDefaults
    seed: int = 10
    height: int = 1024
    width: int = 1536
    num_frames: int = 121
    frame_rate: float = 24.0
    # Distilled-LoRA strength per stage (None: not fused); None for the one-stage pipelines.
    distilled_lora_strengths: tuple[float | None, float] | None = None
    image_crf: int = DEFAULT_IMAGE_CRF  # an image condition is re-compressed at this CRF (trained that way)
    sampler: str = "euler"  # stage 1: "euler" or "euler_ancestral" (distilled from LTX-2.5 on, eta 1)


@dataclass(frozen=True)
class ModelVersion:
    """One model version: its family name, text encoder and vocoder kinds, and every pipeline's defaults."""

    version: str  # "2" / "2.3": what model_version "2.0.0" / "2.3.0" reduces to
    family: str  # model_index.json's model_family
    feature_extractor_version: int  # ltx-text: 1 (per-segment norm) or 2 (per-token RMS norm, prompt AdaLN)
    vocoder: str  # ltx-audio: "hifigan" or "bigvgan-bwe" (BigVGAN v2 + bandwidth extension)
    pipelines: Mapping[str, PipelineDefaults] = field(repr=False)
    text_encoder: str = "gemma3"  # the Gemma config's model_type: "gemma3" or "gemma4_unified" (from 2.4 on)

    def defaults(self, pipeline: str) -> PipelineDefaults:
        """This version's defaults of the pipeline named ``pipeline`` (its CLI name)."""
        if pipeline not in self.pipelines:
            raise ValueError(f"pipeline={pipeline!r} is unknown; known pipelines: {', '.join(self.pipelines)}")
        return self.pipelines[pipeline]


def _pipelines(
    steps: int, stg_blocks: tuple[int, ...], image_crf: int = DEFAULT_IMAGE_CRF, distilled_sampler: str = "euler"
) -> Mapping[str, PipelineDefaults]:
    guiders = GuiderDefaults(3.0, 1.0, 0.7, stg_blocks), GuiderDefaults(7.0, 1.0, 0.7, stg_blocks)
    base = PipelineDefaults(steps, *guiders, image_crf=image_crf)
    two_stage = replace(base, distilled_lora_strengths=(None, 1.0))
    rows = {
        "distilled": replace(base, sampler=distilled_sampler),
        "dev": base,
        "dev-two-stage": two_stage,
        "dev-two-stage-hq": replace(HQ, image_crf=image_crf),
    }
    return MappingProxyType({**rows, "keyframe": two_stage, "ic-lora": base})


# The HQ preset (res_2s, 15 steps, STG off, 1088×1920, distilled LoRA 0.25 / 0.5); the reference's LTX-2.3 one,
# which this port uses for every version.
HQ = PipelineDefaults(
    15,
    GuiderDefaults(3.0, 0.0, 0.45, ()),
    GuiderDefaults(7.0, 0.0, 1.0, ()),
    height=1088,
    width=1920,
    distilled_lora_strengths=(0.25, 0.5),
)
LTX_2 = ModelVersion("2", "ltx-2", 1, "hifigan", _pipelines(40, (29,)))
LTX_2_3 = ModelVersion("2.3", "ltx-2.3", 2, "bigvgan-bwe", _pipelines(30, (28,)))
# 2.4 (pre-releases of the 2.5 lineage): 2.3's knobs with image CRF 18; 2.5 adds the ancestral distilled sampler.
LTX_2_4 = ModelVersion(
    "2.4", "ltx-2.4", 2, "bigvgan-bwe", _pipelines(30, (28,), LTX_2_4_IMAGE_CRF), text_encoder="gemma4_unified"
)
LTX_2_5 = ModelVersion(
    "2.5",
    "ltx-2.5",
    2,
    "bigvgan-bwe",
    _pipelines(30, (28,), LTX_2_4_IMAGE_CRF, distilled_sampler="euler_ancestral"),
    text_encoder="gemma4_unified",
)
VERSIONS: Mapping[tuple[int, int], ModelVersion] = MappingProxyType(
    {(2, 0): LTX_2, (2, 3): LTX_2_3, (2, 4): LTX_2_4, (2, 5): LTX_2_5}
)


def known_versions() -> str:
    """``"2 (ltx-2, 2.0.x), 2.3 (ltx-2.3, 2.3.x)"``: for error messages."""
    return ", ".join(f"{v.version} ({v.family}, {major}.{minor}.x)" for (major, minor), v in VERSIONS.items())


def parse_model_version(model_version: str | None) -> tuple[int, ...]:
    """The reference's parse (loader/helpers.py, with the pipelines' "-" → "."): the integer dot components up to
    the first other one. ``"2.5.0"`` → (2, 5, 0), ``"2.4-rc2"`` → (2, 4), ``"2.3.rc1"`` → (2, 3), unset → ()."""
    text = str(model_version or "").strip().replace("-", ".")
    if text[:1] in ("v", "V") and text[1:2].isdigit():  # "v2.3": our own spelling, kept
        text = text[1:]
    parts: list[int] = []
    for part in text.split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def find_model_version(model_version: str) -> ModelVersion | None:
    """The row of ``"2.3.0"`` / ``"2.3"`` / ``"v2"`` / ``"2.4-rc2"``; None for a version this port does not know."""
    parsed = parse_model_version(model_version)
    return VERSIONS.get((parsed[0], parsed[1] if len(parsed) > 1 else 0)) if parsed else None


def model_version(model_version: str | None) -> ModelVersion:
    """The row of a checkpoint's ``model_version``; None (older files) is LTX-2, as the reference defaults.

    Raises ``ValueError`` naming the version and the known ones for any other version.
    """
    if model_version is None:
        return LTX_2
    row = find_model_version(model_version)
    if row is None:
        raise ValueError(f"model_version={model_version!r} is unknown; known versions: {known_versions()}")
    return row
