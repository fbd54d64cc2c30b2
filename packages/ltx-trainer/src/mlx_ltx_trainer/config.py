"""The reference trainer's YAML schema (ltx_trainer/config.py and training_strategies/*, v1.2.0) as plain
dataclasses, with the same defaults and validation.

``parse_config(dict)`` checks the schema the way the reference's Pydantic models do (unknown keys forbidden,
discriminated unions on ``type`` / ``name``, bounds, cross-field validators, YAML strings such as ``1e-4``
coerced to numbers as Pydantic's lax mode does). ``load_config(path)`` also runs the reference's filesystem
checks (``model_path`` exists, the data root and every directory the strategy names exist, ``output_dir``
expanded) and refuses, with one line naming the key, what this port cannot honour on MLX (``check_supported``).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

from mlx_ltx_pipelines.params import DEFAULT_NEGATIVE_PROMPT  # the validation default is the pipelines'

QuantizationOption = Literal["int8-quanto", "int4-quanto", "int2-quanto", "fp8-quanto", "fp8uz-quanto"]
SchedulerType = Literal["constant", "linear", "cosine", "cosine_with_restarts", "polynomial", "step"]


class ConfigError(ValueError):
    """A config the reference would reject (or this port cannot honour); the message is one line naming the key."""


# ---------------------------------------------------------------------------------------------------------------
# Training-strategy conditions (flexible.py): they name directories of precomputed data.
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class FirstFrameCondition:
    """Latent frame 0 clean (timestep 0, no loss); video only."""

    type: Literal["first_frame"] = "first_frame"
    probability: float = field(default=1.0, metadata={"ge": 0.0, "le": 1.0})


@dataclass(frozen=True, kw_only=True)
class PrefixCondition:
    """The first ``temporal_boundary`` latent frames (video) / audio latent steps clean."""

    type: Literal["prefix"] = "prefix"
    temporal_boundary: int = field(metadata={"ge": 1})
    probability: float = field(default=1.0, metadata={"ge": 0.0, "le": 1.0})


@dataclass(frozen=True, kw_only=True)
class SuffixCondition:
    """The last ``temporal_boundary`` latent frames / audio latent steps clean."""

    type: Literal["suffix"] = "suffix"
    temporal_boundary: int = field(metadata={"ge": 1})
    probability: float = field(default=1.0, metadata={"ge": 0.0, "le": 1.0})


@dataclass(frozen=True, kw_only=True)
class SpatialCropCondition:
    """The pixel rectangle ``(y1, x1, y2, x2)`` clean in every latent frame; video only."""

    type: Literal["spatial_crop"] = "spatial_crop"
    spatial_region: tuple[int, int, int, int]
    probability: float = field(default=1.0, metadata={"ge": 0.0, "le": 1.0})


@dataclass(frozen=True, kw_only=True)
class MaskCondition:
    """Per-sample mask files under ``mask_dir`` (> 0.5 ⇒ clean)."""

    type: Literal["mask"] = "mask"
    mask_dir: str
    probability: float = field(default=1.0, metadata={"ge": 0.0, "le": 1.0})


@dataclass(frozen=True, kw_only=True)
class ReferenceCondition:
    """IC-LoRA: clean reference latents from ``latents_dir`` prepended to the target tokens (batch-wide draw)."""

    type: Literal["reference"] = "reference"
    latents_dir: str
    probability: float = field(default=1.0, metadata={"ge": 0.0, "le": 1.0})


IntrinsicCondition = FirstFrameCondition | PrefixCondition | SuffixCondition | SpatialCropCondition | MaskCondition
Condition = IntrinsicCondition | ReferenceCondition
_CONDITIONS: dict[str, type] = {
    "first_frame": FirstFrameCondition,
    "prefix": PrefixCondition,
    "suffix": SuffixCondition,
    "spatial_crop": SpatialCropCondition,
    "mask": MaskCondition,
    "reference": ReferenceCondition,
}


@dataclass(frozen=True, kw_only=True)
class ModalityConfig:
    """One modality of the flexible strategy: generated (noised, in the loss) or frozen (clean, σ = 0)."""

    is_generated: bool
    latents_dir: str
    conditions: tuple[Condition, ...] = field(default_factory=tuple)


@dataclass(frozen=True, kw_only=True)
class FlexibleStrategyConfig:
    name: Literal["flexible"] = "flexible"
    video: ModalityConfig | None = None
    audio: ModalityConfig | None = None

    def _validate(self) -> None:
        if not any(m is not None and m.is_generated for m in (self.video, self.audio)):
            raise ConfigError(": at least one modality must have is_generated=true")
        for i, cond in enumerate(self.audio.conditions if self.audio else ()):
            if isinstance(cond, FirstFrameCondition | SpatialCropCondition):
                raise ConfigError(
                    f"audio.conditions[{i}]: intrinsic condition '{cond.type}' is not supported "
                    "for audio (audio supports prefix, suffix, mask)"
                )

    def get_data_sources(self) -> dict[str, str]:
        """Directory under the data root → the batch key it feeds (the reference's ``get_data_sources``)."""
        sources = {"conditions": "conditions"}
        if self.video is not None:
            sources[self.video.latents_dir] = "video_latents"
        if self.audio is not None:
            sources[self.audio.latents_dir] = "audio_latents"
        for modality in (self.video, self.audio):
            for cond in modality.conditions if modality else ():
                if isinstance(cond, ReferenceCondition):
                    sources[cond.latents_dir] = cond.latents_dir
                elif isinstance(cond, MaskCondition):
                    sources[cond.mask_dir] = cond.mask_dir
        return sources


@dataclass(frozen=True, kw_only=True)
class TextToVideoConfig:
    """Deprecated in the reference (``text_to_video``); parsed, not trained here."""

    name: Literal["text_to_video"] = "text_to_video"
    first_frame_conditioning_p: float = field(default=0.1, metadata={"ge": 0.0, "le": 1.0})
    with_audio: bool = False
    audio_latents_dir: str = "audio_latents"

    def get_data_sources(self) -> dict[str, str]:
        sources = {"latents": "latents", "conditions": "conditions"}
        if self.with_audio:
            sources[self.audio_latents_dir] = "audio_latents"
        return sources


@dataclass(frozen=True, kw_only=True)
class VideoToVideoConfig:
    """Deprecated in the reference (``video_to_video``); parsed, not trained here."""

    name: Literal["video_to_video"] = "video_to_video"
    first_frame_conditioning_p: float = field(default=0.1, metadata={"ge": 0.0, "le": 1.0})
    reference_latents_dir: str = "reference_latents"

    def get_data_sources(self) -> dict[str, str]:
        return {"latents": "latents", "conditions": "conditions", self.reference_latents_dir: "ref_latents"}


StrategyConfig = FlexibleStrategyConfig | TextToVideoConfig | VideoToVideoConfig
_STRATEGIES: dict[str, type] = {
    "flexible": FlexibleStrategyConfig,
    "text_to_video": TextToVideoConfig,
    "video_to_video": VideoToVideoConfig,
}


# ---------------------------------------------------------------------------------------------------------------
# Validation conditions (config.py 36-159): they name media files.
# ---------------------------------------------------------------------------------------------------------------
def _exactly_one(obj: Any, kind: str) -> None:
    if (obj.video is None) == (obj.audio is None):
        raise ConfigError(f": exactly one of 'video' or 'audio' must be set for {kind} condition")


@dataclass(frozen=True, kw_only=True)
class ValFirstFrame:
    type: Literal["first_frame"] = "first_frame"
    image_or_video: str


@dataclass(frozen=True, kw_only=True)
class ValPrefix:
    type: Literal["prefix"] = "prefix"
    video: str | None = None
    audio: str | None = None
    num_frames: int | None = field(default=None, metadata={"ge": 1})
    duration: float | None = field(default=None, metadata={"gt": 0})

    def _validate(self) -> None:
        _exactly_one(self, "prefix")


@dataclass(frozen=True, kw_only=True)
class ValSuffix:
    type: Literal["suffix"] = "suffix"
    video: str | None = None
    audio: str | None = None
    num_frames: int | None = field(default=None, metadata={"ge": 1})
    duration: float | None = field(default=None, metadata={"gt": 0})

    def _validate(self) -> None:
        _exactly_one(self, "suffix")


@dataclass(frozen=True, kw_only=True)
class ValSpatialCrop:
    type: Literal["spatial_crop"] = "spatial_crop"
    video: str
    spatial_region: tuple[int, int, int, int]


@dataclass(frozen=True, kw_only=True)
class ValMask:
    type: Literal["mask"] = "mask"
    mask: str
    video: str | None = None
    audio: str | None = None

    def _validate(self) -> None:
        _exactly_one(self, "mask")


@dataclass(frozen=True, kw_only=True)
class ValReference:
    type: Literal["reference"] = "reference"
    video: str | None = None
    audio: str | None = None
    downscale_factor: int = field(default=1, metadata={"ge": 1})
    temporal_scale_factor: int = field(default=1, metadata={"ge": 1})
    include_in_output: bool = False

    def _validate(self) -> None:
        _exactly_one(self, "reference")


@dataclass(frozen=True, kw_only=True)
class ValVideoToAudio:
    type: Literal["video_to_audio"] = "video_to_audio"
    video: str


@dataclass(frozen=True, kw_only=True)
class ValAudioToVideo:
    type: Literal["audio_to_video"] = "audio_to_video"
    audio: str


ValidationCondition = (
    ValFirstFrame | ValPrefix | ValSuffix | ValSpatialCrop | ValMask | ValReference | ValVideoToAudio | ValAudioToVideo
)
_VALIDATION_CONDITIONS: dict[str, type] = {
    "first_frame": ValFirstFrame,
    "prefix": ValPrefix,
    "suffix": ValSuffix,
    "spatial_crop": ValSpatialCrop,
    "mask": ValMask,
    "reference": ValReference,
    "video_to_audio": ValVideoToAudio,
    "audio_to_video": ValAudioToVideo,
}


def _targets_video(c: Any) -> bool:
    if c.type in ("first_frame", "spatial_crop", "video_to_audio"):
        return True
    return c.type in ("prefix", "suffix", "mask", "reference") and getattr(c, "video", None) is not None


def _targets_audio(c: Any) -> bool:
    if c.type == "audio_to_video":
        return True
    return c.type in ("prefix", "suffix", "mask", "reference") and getattr(c, "audio", None) is not None


@dataclass(frozen=True, kw_only=True)
class ValidationSample:
    prompt: str
    conditions: tuple[ValidationCondition, ...] = field(default_factory=tuple)
    video_dims: tuple[int, int, int] | None = None
    seed: int | None = None

    def _validate(self) -> None:
        frozen = {c.type for c in self.conditions if c.type in ("video_to_audio", "audio_to_video")}
        if len(frozen) == 2:
            raise ConfigError(": cannot have both video_to_audio and audio_to_video conditions (nothing generated)")
        for c in self.conditions:
            if "video_to_audio" in frozen and c.type != "video_to_audio" and _targets_video(c):
                raise ConfigError(f"conditions: cannot use video-targeting '{c.type}' condition when video is frozen")
            if "audio_to_video" in frozen and c.type != "audio_to_video" and _targets_audio(c):
                raise ConfigError(f"conditions: cannot use audio-targeting '{c.type}' condition when audio is frozen")


# ---------------------------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    model_path: str
    text_encoder_path: str | None = None
    video_vae_path: str | None = None
    audio_vae_path: str | None = None
    training_mode: Literal["lora", "full"] = "lora"
    load_checkpoint: str | None = None

    def _validate(self) -> None:
        if self.model_path.startswith(("http://", "https://")):
            raise ConfigError(f"model_path: cannot be a URL: {self.model_path}")


@dataclass(frozen=True, kw_only=True)
class LoraConfig:
    rank: int = field(default=64, metadata={"ge": 2})
    alpha: int = field(default=64, metadata={"ge": 1})
    dropout: float = field(default=0.0, metadata={"ge": 0.0, "le": 1.0})
    target_modules: tuple[str, ...] = ("to_k", "to_q", "to_v", "to_out.0")


@dataclass(frozen=True, kw_only=True)
class OptimizationConfig:
    learning_rate: float = 5e-4
    steps: int = 3000
    batch_size: int = 2
    gradient_accumulation_steps: int = 1
    max_grad_norm: float = 1.0
    optimizer_type: Literal["adamw", "adamw8bit"] = "adamw"
    scheduler_type: SchedulerType = "linear"
    scheduler_params: dict[str, Any] = field(default_factory=dict)
    enable_gradient_checkpointing: bool = False


@dataclass(frozen=True, kw_only=True)
class AccelerationConfig:
    mixed_precision_mode: Literal["no", "fp16", "bf16"] | None = "bf16"
    quantization: QuantizationOption | None = None
    load_text_encoder_in_8bit: bool = False
    offload_optimizer_during_validation: bool = False


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    preprocessed_data_root: str
    num_dataloader_workers: int = field(default=2, metadata={"ge": 0})


@dataclass(frozen=True, kw_only=True)
class ValidationConfig:
    samples: tuple[ValidationSample, ...] = field(default_factory=tuple)
    prompts: tuple[str, ...] = field(default_factory=tuple)
    negative_prompt: str = DEFAULT_NEGATIVE_PROMPT
    images: tuple[str, ...] | None = None
    reference_videos: tuple[str, ...] | None = None
    reference_downscale_factor: int = field(default=1, metadata={"ge": 1})
    video_dims: tuple[int, int, int] = (960, 544, 89)
    frame_rate: float = field(default=24.0, metadata={"gt": 0})
    seed: int = 42
    inference_steps: int = field(default=30, metadata={"gt": 0})
    interval: int | None = field(default=100, metadata={"gt": 0})
    video_cfg_scale: float = field(default=3.0, metadata={"ge": 1.0})
    audio_cfg_scale: float = field(default=7.0, metadata={"ge": 1.0})
    video_stg_scale: float = field(default=1.0, metadata={"ge": 0.0})
    audio_stg_scale: float = field(default=1.0, metadata={"ge": 0.0})
    stg_blocks: tuple[int, ...] | None = (28,)
    guidance_rescale: float = field(default=0.7, metadata={"ge": 0.0, "le": 1.0})
    video_modality_guidance_scale: float = field(default=3.0, metadata={"ge": 1.0})
    audio_modality_guidance_scale: float = field(default=3.0, metadata={"ge": 1.0})
    generate_audio: bool = True
    generate_video: bool = True
    skip_initial_validation: bool = False
    include_reference_in_output: bool = False

    @staticmethod
    def _migrate(data: dict[str, Any]) -> dict[str, Any]:
        """The reference's ``migrate_deprecated_guidance_fields`` (before validation)."""
        values = dict(data)
        if "guidance_scale" in values:
            if {"video_cfg_scale", "audio_cfg_scale"} & values.keys():
                raise ConfigError("guidance_scale: deprecated; use video_cfg_scale and audio_cfg_scale, not both forms")
            scale = values.pop("guidance_scale")
            values["video_cfg_scale"] = values["audio_cfg_scale"] = scale
        if {"stg_scale", "stg_mode"} & values.keys():
            if {"video_stg_scale", "audio_stg_scale"} & values.keys():
                raise ConfigError("stg_scale: deprecated; use video_stg_scale and audio_stg_scale, not both forms")
            scale = values.pop("stg_scale", 1.0)
            mode = values.pop("stg_mode", "stg_av")
            if mode not in ("stg_av", "stg_v"):
                raise ConfigError("stg_mode: must be either 'stg_av' or 'stg_v'")
            values["video_stg_scale"] = scale
            values["audio_stg_scale"] = scale if mode == "stg_av" else 0.0
        return values

    def _validate(self) -> None:
        n = len(self.prompts)
        for name in ("images", "reference_videos"):
            items = getattr(self, name)
            if items is not None and len(items) != n:
                raise ConfigError(f"{name}: {len(items)} entries must match the {n} prompts")
        if (self.prompts or self.samples) and not self.generate_video and not self.generate_audio:
            raise ConfigError(
                ": at least one of generate_video or generate_audio must be true when validation is configured"
            )

    def migrated(self) -> ValidationConfig:
        """``convert_legacy_format``: legacy prompts/images/reference_videos as ``samples``."""
        if not self.prompts or self.samples:
            return self
        samples = []
        for i, prompt in enumerate(self.prompts):
            conditions: list[Any] = []
            if self.images and i < len(self.images):
                conditions.append(ValFirstFrame(image_or_video=self.images[i]))
            if self.reference_videos and i < len(self.reference_videos):
                conditions.append(
                    ValReference(
                        video=self.reference_videos[i],
                        downscale_factor=self.reference_downscale_factor,
                        include_in_output=self.include_reference_in_output,
                    )
                )
            samples.append(ValidationSample(prompt=prompt, conditions=tuple(conditions)))
        return dataclasses.replace(self, samples=tuple(samples))


@dataclass(frozen=True, kw_only=True)
class CheckpointsConfig:
    interval: int | None = field(default=None, metadata={"gt": 0})
    keep_last_n: int = field(default=1, metadata={"ge": -1})
    precision: Literal["bfloat16", "float32"] = "bfloat16"
    no_resume: bool = False
    save_training_state: Literal["full", "minimal", "off"] = "minimal"


@dataclass(frozen=True, kw_only=True)
class HubConfig:
    push_to_hub: bool = False
    hub_model_id: str | None = None

    def _validate(self) -> None:
        if self.push_to_hub and not self.hub_model_id:
            raise ConfigError("hub_model_id: must be specified when push_to_hub is true")


@dataclass(frozen=True, kw_only=True)
class WandbConfig:
    enabled: bool = False
    project: str = "ltxv-trainer"
    entity: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    log_validation_videos: bool = True


@dataclass(frozen=True, kw_only=True)
class FlowMatchingConfig:
    timestep_sampling_mode: Literal["uniform", "shifted_logit_normal"] = "shifted_logit_normal"
    timestep_sampling_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class TrainerConfig:
    """``LtxTrainerConfig``: the whole training config."""

    model: ModelConfig | None = None  # the reference's default_factory fails: model_path is required
    lora: LoraConfig | None = None
    training_strategy: StrategyConfig = field(default_factory=TextToVideoConfig)
    optimization: OptimizationConfig = field(default_factory=OptimizationConfig)
    acceleration: AccelerationConfig = field(default_factory=AccelerationConfig)
    data: DataConfig
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    checkpoints: CheckpointsConfig = field(default_factory=CheckpointsConfig)
    hub: HubConfig = field(default_factory=HubConfig)
    flow_matching: FlowMatchingConfig = field(default_factory=FlowMatchingConfig)
    wandb: WandbConfig = field(default_factory=WandbConfig)
    seed: int = 42
    output_dir: str = "outputs"

    def _validate(self) -> None:
        if self.model is None:
            raise ConfigError("model.model_path: field required")
        strategy = self.training_strategy
        if strategy.name == "video_to_video" and self.validation.interval:
            has_ref = bool(self.validation.reference_videos) or any(
                c.type == "reference" for s in self.validation.samples for c in s.conditions
            )
            if not has_ref:
                raise ConfigError(
                    "validation.samples: the video_to_video strategy needs reference videos in validation"
                )
        if self.model.training_mode == "lora" and self.lora is None:
            raise ConfigError("lora: a lora section is required when model.training_mode is 'lora'")
        if strategy.name == "video_to_video" and self.model.training_mode != "lora":
            raise ConfigError("model.training_mode: must be 'lora' with the video_to_video strategy")


# ---------------------------------------------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------------------------------------------
_UNIONS: dict[Any, tuple[str, dict[str, type], str | None]] = {
    Condition: ("type", _CONDITIONS, None),
    ValidationCondition: ("type", _VALIDATION_CONDITIONS, None),
    StrategyConfig: ("name", _STRATEGIES, "text_to_video"),  # a missing name means text_to_video
}


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _number(value: Any, path: str, kind: type) -> Any:
    if isinstance(value, bool):
        raise ConfigError(f"{path}: expected a number, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ConfigError(f"{path}: expected a number, got {value!r}") from None
    if not isinstance(value, int | float):
        raise ConfigError(f"{path}: expected a number, got {value!r}")
    if kind is int:
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise ConfigError(f"{path}: expected an integer, got {value!r}")
        return int(value)
    return float(value)


def _coerce(tp: Any, value: Any, path: str) -> Any:
    if tp in _UNIONS:
        key, table, default = _UNIONS[tp]
        if isinstance(value, dict) and dataclasses.is_dataclass(value) is False:
            tag = value.get(key, default)
            if tag not in table:
                raise ConfigError(f"{_join(path, key)}: {tag!r} is not one of {', '.join(map(repr, table))}")
            return _build(table[tag], value, path)
        raise ConfigError(f"{path}: expected a mapping with a '{key}' key, got {value!r}")
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if value is None:
            raise ConfigError(f"{path}: must not be null")
        errors = []
        for option in options:
            try:
                return _coerce(option, value, path)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0])
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{path}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{path}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, _join(path, i)) for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{path}: expected {len(args)} values, got {len(value)}")
        return tuple(_coerce(a, v, _join(path, i)) for i, (a, v) in enumerate(zip(args, value, strict=True)))
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {value!r}")
        return dict(value)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, path)  # type: ignore[arg-type]
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true or false, got {value!r}")
        return value
    if tp in (int, float):
        return _number(value, path, tp)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a string, got {value!r}")
        return value
    if tp is Any:
        return value
    raise TypeError(f"unhandled config type {tp!r} at {path}")


def _check_bounds(value: Any, bounds: typing.Mapping[str, float], path: str) -> None:
    if value is None or not bounds:
        return
    for name, limit in bounds.items():
        ok = {"ge": value >= limit, "gt": value > limit, "le": value <= limit}[name]
        if not ok:
            op = {"ge": ">=", "gt": ">", "le": "<="}[name]
            raise ConfigError(f"{path}: must be {op} {limit} (got {value})")


def _relative(path: str, message: str) -> str:
    """A validator's message "key: text" (or ": text" for the object itself) under the object's path."""
    if message.startswith(": "):
        return f"{path or 'config'}{message}"
    return _join(path, message) if path and not message.startswith("[") else f"{path}{message}"


def _build(cls: type, data: Any, path: str) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path or 'config'}: expected a mapping, got {data!r}")
    if hasattr(cls, "_migrate"):
        try:
            data = cls._migrate(data)  # type: ignore[attr-defined]
        except ConfigError as e:
            raise ConfigError(_relative(path, str(e))) from None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            raise ConfigError(f"{_join(path, key)}: unknown key (extra keys are forbidden)")
    kwargs = {}
    for name, f in fields.items():
        here = _join(path, name)
        if name in data:
            kwargs[name] = _coerce(hints[name], data[name], here)
            _check_bounds(kwargs[name], f.metadata, here)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{here}: field required")
    obj = cls(**kwargs)
    if hasattr(obj, "_validate"):
        try:
            obj._validate()
        except ConfigError as e:
            raise ConfigError(_relative(path, str(e))) from None
    return obj


def parse_config(data: dict[str, Any]) -> TrainerConfig:
    """The schema checks of ``LtxTrainerConfig(**data)`` (no filesystem access); legacy validation fields migrated."""
    cfg = _build(TrainerConfig, data, "")
    return dataclasses.replace(cfg, validation=cfg.validation.migrated())


def read_yaml(path: str | Path) -> dict[str, Any]:
    import yaml

    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    return data


def check_paths(cfg: TrainerConfig) -> TrainerConfig:
    """The reference's filesystem validators: ``model_path`` and the VAE paths exist, the data root is a
    directory holding every directory the strategy names; returns the config with the data root resolved and
    ``output_dir`` expanded and absolute."""
    assert cfg.model is not None
    if not Path(cfg.model.model_path).exists():
        raise ConfigError(f"model.model_path: does not exist: {cfg.model.model_path}")
    for name in ("video_vae_path", "audio_vae_path"):
        value = getattr(cfg.model, name)
        if value is not None and not Path(value).is_file():
            raise ConfigError(f"model.{name}: does not exist or is not a file: {value}")
    root = Path(cfg.data.preprocessed_data_root).expanduser().resolve()
    if not root.exists():
        raise ConfigError(f"data.preprocessed_data_root: does not exist: {cfg.data.preprocessed_data_root}")
    if not root.is_dir():
        raise ConfigError(f"data.preprocessed_data_root: not a directory: {cfg.data.preprocessed_data_root}")
    for name in cfg.training_strategy.get_data_sources():
        if not (root / name).is_dir():
            raise ConfigError(
                f"data.preprocessed_data_root: required data directory '{name}' does not exist under {root}"
            )
    return dataclasses.replace(
        cfg,
        data=dataclasses.replace(cfg.data, preprocessed_data_root=str(root)),
        output_dir=str(Path(cfg.output_dir).expanduser().resolve()),
    )


def check_supported(cfg: TrainerConfig) -> None:
    """Refuse, with one line naming the key, what the reference's YAML allows but MLX cannot honour."""
    problems = unsupported_keys(cfg)
    if problems:
        raise ConfigError(problems[0])


def unsupported_keys(cfg: TrainerConfig) -> list[str]:
    """One line per key this port refuses (empty: everything in ``cfg`` is honoured)."""
    out = []
    opt, acc = cfg.optimization, cfg.acceleration
    if opt.optimizer_type == "adamw8bit":
        out.append("optimization.optimizer_type: adamw8bit is bitsandbytes (CUDA) and not available on MLX; use adamw")
    if acc.quantization is not None:
        out.append(
            f"acceleration.quantization: {acc.quantization} is optimum-quanto (CUDA kernels) and not supported on "
            "MLX; set it to null"
        )
    if acc.load_text_encoder_in_8bit:
        out.append(
            "acceleration.load_text_encoder_in_8bit: LLM.int8 is bitsandbytes (CUDA) and not available on MLX; "
            "set it to false"
        )
    if acc.mixed_precision_mode == "fp16":
        out.append("acceleration.mixed_precision_mode: fp16 autocast is not available on MLX; use bf16 or no")
    if acc.offload_optimizer_during_validation:
        out.append(
            "acceleration.offload_optimizer_during_validation: moves CUDA optimizer state to the CPU; MLX memory is "
            "unified, set it to false"
        )
    if cfg.hub.push_to_hub:
        out.append("hub.push_to_hub: pushing to the Hub is not supported by this trainer; set it to false")
    if cfg.wandb.enabled:
        out.append("wandb.enabled: Weights & Biases logging is not supported by this trainer; set it to false")
    if cfg.training_strategy.name != "flexible":
        out.append(
            f"training_strategy.name: {cfg.training_strategy.name} is deprecated in the reference and not ported; "
            "use the flexible strategy"
        )
    if cfg.model is not None and cfg.model.training_mode == "full":
        out.append("model.training_mode: full fine-tuning is not supported yet; use lora")
    return out


def load_config(path: str | Path, *, check_files: bool = True) -> TrainerConfig:
    """Read a reference training YAML: schema, (with ``check_files``) the filesystem checks, then refuse the keys
    MLX cannot honour. Raises ``ConfigError`` (one line, naming the key)."""
    cfg = parse_config(read_yaml(path))
    if check_files:
        cfg = check_paths(cfg)
    check_supported(cfg)
    return cfg


def config_to_dict(cfg: Any) -> Any:
    """Plain YAML-ready data (tuples as lists) of a config or any part of it."""
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        return {f.name: config_to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, list | tuple):
        return [config_to_dict(v) for v in cfg]
    if isinstance(cfg, dict):
        return {k: config_to_dict(v) for k, v in cfg.items()}
    return cfg


def dump_config(cfg: TrainerConfig) -> str:
    """The resolved config as YAML (what ``ltx train`` prints and saves as ``training_config.yaml``)."""
    import yaml

    return yaml.safe_dump(config_to_dict(cfg), sort_keys=False, allow_unicode=True, width=120)
