"""Transformer configuration from ``config["transformer"]`` (ports ltx_core/model/transformer/model_configurator.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from mlx_ltx_core.model.transformer.rope import LTXRopeType
from mlx_ltx_core.utils import check_config_values, known_keys


class LTXModelType(Enum):
    AudioVideo = "ltx av model"
    VideoOnly = "ltx video only model"
    AudioOnly = "ltx audio only model"

    def is_video_enabled(self) -> bool:
        return self in (LTXModelType.AudioVideo, LTXModelType.VideoOnly)

    def is_audio_enabled(self) -> bool:
        return self in (LTXModelType.AudioVideo, LTXModelType.AudioOnly)


# The reference's check_config_value list: real checkpoints carry exactly these values.
REQUIRED_CONFIG = {
    "dropout": 0.0,
    "attention_bias": True,
    "num_vector_embeds": None,
    "activation_fn": "gelu-approximate",
    "num_embeds_ada_norm": 1000,
    "use_linear_projection": False,
    "only_cross_attention": False,
    "cross_attention_norm": True,
    "double_self_attention": False,
    "upcast_attention": False,
    "standardization_norm": "rms_norm",
    "norm_elementwise_affine": False,
    "qk_norm": "rms_norm",
    "positional_embedding_type": "rope",
    "use_middle_indices_grid": True,
}
REQUIRED_AV_CONFIG = {"use_audio_video_cross_attention": True, "share_ff": False, "av_cross_ada_norm": True}
# The boolean switches of v1.2.0 (LTX-2.5 sets ff_bias false and use_keyframes_abs_pos_embedding true). The
# reference's audio-only configurator ignores them (defaults); here every form honours the config.
BOOLEAN_KEYS = ("ff_bias", "audio_ff_bias", "use_prompt_adaln_single", "use_keyframes_abs_pos_embedding")
ATTENTION_TYPES = ("default", "pytorch", "xformers", "flash_attention_3")


@dataclass(frozen=True)
class LTXModelArgs:
    """Transformer hyper-parameters; field names and defaults are the reference configurator's (v1.2.0)."""

    model_type: LTXModelType = LTXModelType.AudioVideo
    num_layers: int = 48
    num_attention_heads: int = 32
    attention_head_dim: int = 128
    in_channels: int = 128
    out_channels: int = 128
    cross_attention_dim: int = 4096
    caption_channels: int | None = None
    caption_proj_before_connector: bool = False
    norm_eps: float = 1e-6
    positional_embedding_theta: float = 10000.0
    positional_embedding_max_pos: list[int] = field(default_factory=lambda: [20, 2048, 2048])
    timestep_scale_multiplier: float = 1000
    audio_num_attention_heads: int = 32
    audio_attention_head_dim: int = 64
    audio_in_channels: int = 128
    audio_out_channels: int = 128
    audio_cross_attention_dim: int = 2048
    audio_positional_embedding_max_pos: list[int] = field(default_factory=lambda: [20])
    av_ca_timestep_scale_multiplier: float = 1
    rope_type: LTXRopeType = LTXRopeType.SPLIT  # v1.2.0's default when the key is absent (1.0.0: interleaved)
    double_precision_rope: bool = False
    apply_gated_attention: bool = False
    cross_attention_adaln: bool = False
    # LTX-2.5 (v1.2.0): feed-forward biases, the prompt AdaLN MLP, the keyframe marker embedding (1, D).
    ff_bias: bool = True
    audio_ff_bias: bool = True
    use_prompt_adaln_single: bool = True
    use_keyframes_abs_pos_embedding: bool = False

    @classmethod
    def from_dict(
        cls, config: dict[str, Any], model_type: LTXModelType | str = LTXModelType.AudioVideo
    ) -> LTXModelArgs:
        """Build from the checkpoint's ``config["transformer"]``; unsupported values raise one ValueError."""
        model_type = model_type if isinstance(model_type, LTXModelType) else LTXModelType[model_type]
        required = dict(REQUIRED_CONFIG)
        if model_type == LTXModelType.AudioVideo:
            required.update(REQUIRED_AV_CONFIG)
        check_config_values(config, required, "transformer config")
        _check_optional(config)
        kwargs = known_keys(cls, config, exclude=("model_type", "rope_type", "double_precision_rope"))
        args = cls(
            model_type=model_type,
            rope_type=LTXRopeType(config.get("rope_type", "split")),
            double_precision_rope=config.get("frequencies_precision", False) == "float64",
            **kwargs,
        )
        args.validate()
        return args

    @property
    def inner_dim(self) -> int:
        return self.num_attention_heads * self.attention_head_dim

    @property
    def audio_inner_dim(self) -> int:
        return self.audio_num_attention_heads * self.audio_attention_head_dim

    @property
    def has_prompt_adaln(self) -> bool:
        """``prompt_adaln_single`` modules exist only with ``cross_attention_adaln`` and ``use_prompt_adaln_single``."""
        return self.cross_attention_adaln and self.use_prompt_adaln_single

    @property
    def has_caption_projection(self) -> bool:
        """LTX-2 projects the text features inside the transformer; LTX-2.3 does it in the text encoder."""
        return not self.caption_proj_before_connector

    def validate(self) -> None:
        """Raise ValueError for combinations the reference cannot run."""
        problems = []
        if self.has_caption_projection and self.caption_channels is None:
            problems.append("caption_channels is required when caption_proj_before_connector is false")
        # The context is reshaped to each stream's width, and the A/V cross RoPE uses the audio cross width.
        if self.model_type.is_video_enabled() and self.cross_attention_dim != self.inner_dim:
            problems.append(
                f"cross_attention_dim={self.cross_attention_dim} must equal heads × head dim = {self.inner_dim}"
            )
        if self.model_type.is_audio_enabled() and self.audio_cross_attention_dim != self.audio_inner_dim:
            problems.append(
                f"audio_cross_attention_dim={self.audio_cross_attention_dim} must equal audio heads × head dim"
                f" = {self.audio_inner_dim}"
            )
        if self.model_type == LTXModelType.AudioVideo and self.num_attention_heads != self.audio_num_attention_heads:
            problems.append(
                f"num_attention_heads={self.num_attention_heads} must equal audio_num_attention_heads="
                f"{self.audio_num_attention_heads} (the A/V cross RoPE is shared)"
            )
        if problems:
            raise ValueError("transformer config: " + "; ".join(problems))


def _check_optional(config: dict[str, Any]) -> None:
    bad = [
        f"{k}={config[k]!r} (expected true or false)" for k in BOOLEAN_KEYS if not isinstance(config.get(k, True), bool)
    ]
    if config.get("attention_type", "default") not in ATTENTION_TYPES:
        bad.append(f"attention_type={config['attention_type']!r}")
    if config.get("rope_type", "split") not in ("interleaved", "split"):
        bad.append(f"rope_type={config['rope_type']!r}")
    if bad:
        raise ValueError(f"transformer config: unsupported values: {'; '.join(bad)}")
