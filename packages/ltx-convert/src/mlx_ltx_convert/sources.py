"""What an input file is (model checkpoint, latent upscaler, LoRA, text encoder), its config and its model version.

Everything comes from the safetensors header: ``__metadata__["config"]`` (a JSON string: sections
``transformer``, ``vae``, ... for a checkpoint, a flat ``LatentUpsampler`` config for an upscaler) and
``__metadata__["model_version"]``. LoRA files are recognised by their ``lora_A``/``lora_B`` keys, LTX-2.5's
text-encoder file by ``__metadata__["gemma_config"]`` (its Gemma 4 config, read as the ``text_encoder`` section).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_convert.safetensors_io import Header
from mlx_ltx_core.versions import LTX_2, LTX_2_3, VERSIONS, find_model_version

CHECKPOINT, UPSCALER, LORA, TEXT_ENCODER = "checkpoint", "upscaler", "lora", "text_encoder"
_CHECKPOINT_SECTIONS = ("transformer", "vae", "audio_vae", "vocoder")
_LORA_KEY = re.compile(r"\.lora_[AB]\.weight$")
# LTX-2.3 transformer configs carry these (text projection before the connectors, prompt AdaLN).
_LTX23_KEYS = ("caption_proj_before_connector", "cross_attention_adaln")
_WIDTH_KEYS = {"cross_attention_dim", "audio_cross_attention_dim"}


@dataclass(frozen=True)
class Source:
    """One classified input file."""

    header: Header
    kind: str
    config: dict[str, Any]
    model_version: str | None
    family: str | None

    @property
    def name(self) -> str:
        return self.header.path.name


def classify(header: Header) -> Source:
    """Kind, config and model version of a checked header; refuses files without LTX metadata or of unknown version."""
    path = header.path
    if any(_LORA_KEY.search(k) for k in header.tensors):
        return Source(header, LORA, dict(header.metadata), header.metadata.get("model_version"), None)
    config = _config(header)
    if config is None and "gemma_config" in header.metadata:
        return Source(header, TEXT_ENCODER, {TEXT_ENCODER: _json(header, "gemma_config")}, None, None)
    if config is None:
        raise ConversionError(
            f"{path}: no LTX metadata (__metadata__['config']); pass a Lightricks LTX-2 / LTX-2.3 checkpoint, "
            "upscaler or LoRA file"
        )
    if any(k in config for k in _CHECKPOINT_SECTIONS):
        kind = CHECKPOINT
    elif config.get("_class_name") == "LatentUpsampler" or "mid_channels" in config:
        kind = UPSCALER
    else:
        raise ConversionError(
            f"{path}: metadata config has none of {list(_CHECKPOINT_SECTIONS)}; not an LTX checkpoint"
        )
    version = header.metadata.get("model_version")
    family = model_family(version, path.name) if version is not None else _inferred_family(kind, config)
    return Source(header, kind, config, version, family)


def _config(header: Header) -> dict[str, Any] | None:
    return _json(header, "config") if "config" in header.metadata else None


def _json(header: Header, key: str) -> dict[str, Any] | None:
    try:
        config = json.loads(header.metadata[key])
    except json.JSONDecodeError as e:
        raise ConversionError(f"{header.path}: __metadata__[{key!r}] is not JSON ({e.msg}); corrupted file?") from e
    return config if isinstance(config, dict) else None


def model_family(version: str, where: str = "checkpoint") -> str:
    """``"2.3.0"`` → ``"ltx-2.3"``; any version this converter does not know is refused."""
    row = find_model_version(version)
    if row is None:
        known = ", ".join(f"{v.family} ({major}.{minor}.x)" for (major, minor), v in VERSIONS.items())
        raise ConversionError(f"{where}: unknown model version {version!r}; this converter knows {known}")
    return row.family


def _inferred_family(kind: str, config: dict[str, Any]) -> str | None:
    """Without a model_version (older files), the transformer config tells LTX-2.3 from LTX-2; a split file without
    a transformer config (a VAE file, the duration head's) names no family."""
    widths_only = set(config.get("transformer", {})) <= _WIDTH_KEYS  # the duration-head file's transformer section
    if kind != CHECKPOINT or "transformer" not in config or widths_only:
        return None
    transformer = config.get("transformer", {})
    return LTX_2_3.family if any(transformer.get(k) for k in _LTX23_KEYS) else LTX_2.family
