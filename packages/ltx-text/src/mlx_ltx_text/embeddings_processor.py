"""Feature extractor + video and audio connectors: the text-projection component (ports
ltx_core/text_encoders/gemma/embeddings_processor.py and the configurators of embeddings_connector.py and
encoders/encoder_configurator.py).

Attribute names are the checkpoint's: ``text_embedding_projection.*`` and, after removing the
``model.diffusion_model.`` prefix, ``video_embeddings_connector.*`` / ``audio_embeddings_connector.*``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import mlx.core as mx
import mlx.nn as nn

from mlx_ltx_core.model.transformer.rope import LTXRopeType
from mlx_ltx_text.embeddings_connector import Embeddings1DConnector
from mlx_ltx_text.feature_extractor import FeatureExtractorV1, FeatureExtractorV2

# The reference's hard-coded Gemma 3 12B (GEMMA3_CONFIG_FOR_LTX): hidden size and decoder layers.
GEMMA_HIDDEN_SIZE = 3840
GEMMA_NUM_HIDDEN_LAYERS = 48

# LTX-2.3: these transformer-config keys, all present with exactly these values, select FeatureExtractorV2.
_V2_EXPECTED_CONFIG = {
    "caption_proj_before_connector": True,
    "caption_projection_first_linear": False,
    "caption_proj_input_norm": False,
    "caption_projection_second_linear": False,
}


class EmbeddingsProcessorOutput(NamedTuple):
    video_encoding: mx.array  # (B, T, video_dim): the transformer's video context
    audio_encoding: mx.array  # (B, T, audio_dim): the transformer's audio context
    attention_mask: mx.array  # (B, T) int32, all ones (registers fill the padding)


@dataclass(frozen=True)
class ConnectorArgs:
    num_attention_heads: int
    attention_head_dim: int
    num_layers: int
    positional_embedding_max_pos: tuple[int, ...]
    apply_gated_attention: bool
    rope_type: LTXRopeType
    double_precision_rope: bool


@dataclass(frozen=True)
class EmbeddingsProcessorArgs:
    feature_extractor_version: int  # 1 (LTX-2) or 2 (LTX-2.3)
    embedding_dim: int  # Gemma's hidden size
    num_hidden_states: int  # Gemma's decoder layers + 1 (the embeddings)
    video_dim: int  # V2 aggregate-embed outputs (V1: embedding_dim)
    audio_dim: int
    video_connector: ConnectorArgs
    audio_connector: ConnectorArgs

    @classmethod
    def from_dict(
        cls,
        config: dict[str, Any],
        gemma_hidden_size: int = GEMMA_HIDDEN_SIZE,
        gemma_num_hidden_layers: int = GEMMA_NUM_HIDDEN_LAYERS,
    ) -> EmbeddingsProcessorArgs:
        """From the checkpoint's transformer config (``config["transformer"]``), as the reference's configurators."""
        if config.get("connector_ff_bias", True) is not True:  # v1.2.0 key for later models
            raise ValueError(
                f"text projection: unsupported config value connector_ff_bias={config['connector_ff_bias']!r}"
            )
        version = feature_extractor_version(config)
        video, audio = _connector_args(config, ""), _connector_args(config, "audio_")
        if version == 2:
            video_dim = config["num_attention_heads"] * config["attention_head_dim"]
            audio_dim = config["audio_num_attention_heads"] * config["audio_attention_head_dim"]
        else:
            video_dim = audio_dim = gemma_hidden_size
        for name, dim, conn in (("video", video_dim, video), ("audio", audio_dim, audio)):
            if conn.num_attention_heads * conn.attention_head_dim != dim:
                raise ValueError(
                    f"text projection: the {name} connector is {conn.num_attention_heads}×{conn.attention_head_dim} "
                    f"wide but its features are {dim} wide; check the {name} connector_* keys of the transformer config"
                )
        return cls(version, gemma_hidden_size, gemma_num_hidden_layers + 1, video_dim, audio_dim, video, audio)


def feature_extractor_version(config: dict[str, Any]) -> int:
    """1 when no V2 key is in the transformer config, 2 when all are there with the expected values, else an error."""
    present = config.keys() & _V2_EXPECTED_CONFIG.keys()
    if not present:
        return 1
    if missing := sorted(_V2_EXPECTED_CONFIG.keys() - present):
        raise ValueError(f"text projection: partial LTX-2.3 config, missing {', '.join(missing)}")
    wrong = [f"{k}={config[k]!r} (expected {v!r})" for k, v in _V2_EXPECTED_CONFIG.items() if config[k] != v]
    if wrong:
        raise ValueError(f"text projection: unsupported config values: {'; '.join(wrong)}")
    return 2


def _connector_args(config: dict[str, Any], prefix: str) -> ConnectorArgs:
    """The configurator's reading; the audio connector falls back to the video keys, gating is shared."""

    def get(key: str, default: Any) -> Any:
        return config.get(f"{prefix}connector_{key}", config.get(f"connector_{key}", default))

    try:
        rope_type = LTXRopeType(config.get("rope_type", "split"))  # v1.2.0's default (1.0.0: interleaved)
    except ValueError:
        raise ValueError(
            f"text projection: unsupported rope_type={config['rope_type']!r} (split or interleaved)"
        ) from None
    return ConnectorArgs(
        num_attention_heads=get("num_attention_heads", 30),
        attention_head_dim=get("attention_head_dim", 128),
        num_layers=get("num_layers", 2),
        positional_embedding_max_pos=tuple(config.get("connector_positional_embedding_max_pos", [1])),
        apply_gated_attention=bool(config.get("connector_apply_gated_attention", False)),
        rope_type=rope_type,
        double_precision_rope=config.get("frequencies_precision", False) == "float64",
    )


def _connector(args: ConnectorArgs) -> Embeddings1DConnector:
    return Embeddings1DConnector(
        attention_head_dim=args.attention_head_dim,
        num_attention_heads=args.num_attention_heads,
        num_layers=args.num_layers,
        positional_embedding_max_pos=list(args.positional_embedding_max_pos),
        rope_type=args.rope_type,
        double_precision_rope=args.double_precision_rope,
        apply_gated_attention=args.apply_gated_attention,
    )


class EmbeddingsProcessor(nn.Module):
    def __init__(self, args: EmbeddingsProcessorArgs):
        super().__init__()
        self.args = args
        if args.feature_extractor_version == 1:
            self.text_embedding_projection = FeatureExtractorV1(args.embedding_dim, args.num_hidden_states)
        else:
            self.text_embedding_projection = FeatureExtractorV2(
                args.embedding_dim, args.num_hidden_states, args.video_dim, args.audio_dim
            )
        self.video_embeddings_connector = _connector(args.video_connector)
        self.audio_embeddings_connector = _connector(args.audio_connector)

    def __call__(self, hidden_states: mx.array, attention_mask: mx.array) -> EmbeddingsProcessorOutput:
        """Gemma hidden states (B, T, D, L) and the tokenizer's mask (B, T) → contexts (B, T, ·) and mask (B, T).

        For LTX-2 (V1) the video/audio contexts still go through the transformer's caption projection.
        """
        if hidden_states.shape[2:] != (self.args.embedding_dim, self.args.num_hidden_states):
            raise ValueError(
                f"hidden states {tuple(hidden_states.shape)} are not (B, T, {self.args.embedding_dim}, "
                f"{self.args.num_hidden_states}): this text projection belongs to another Gemma"
            )
        video, audio = self.text_embedding_projection(hidden_states, attention_mask)
        video, mask = self.video_embeddings_connector(video, attention_mask)
        audio, _ = self.audio_embeddings_connector(audio, attention_mask)
        return EmbeddingsProcessorOutput(video * mask[..., None].astype(video.dtype), audio, mask)
