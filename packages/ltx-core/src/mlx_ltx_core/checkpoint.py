"""What each component reads from a Lightricks checkpoint (ports the SDOps key filters of ltx_core's configurators).

ltx-convert is generic: it asks this registry which component owns each checkpoint key, where the component's
config comes from, how a tensor's layout changes, and which layers its quantization recipe covers. Adding a
component is one ``ComponentSpec`` in ``REGISTRY`` (bottom of this file); until then its keys are reported as
``PENDING`` ("vae.* … conversion not available in this build") instead of being converted.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlx_ltx_core import audio_convert
from mlx_ltx_core.model.transformer import convert as transformer_convert
from mlx_ltx_core.model.upsampler import convert as upsampler_convert
from mlx_ltx_core.model.video_vae import convert as video_vae_convert

CHECKPOINT = "checkpoint"  # the single-file model: config["transformer" | "vae" | ...] sections, prefixed keys
UPSCALER = "upscaler"  # a latent upsampler file: flat config, unprefixed keys


def keep_layout(key: str, value: np.ndarray) -> np.ndarray:
    """The layout change of tensors MLX stores as PyTorch does (Linear weights, norms, tables): none."""
    return value


@dataclass(frozen=True)
class ComponentSpec:
    """How one component is read from a checkpoint.

    ``select`` maps a checkpoint key to the component's key (its MLX module path) or None when the key is not the
    component's. ``to_mlx`` changes one tensor's layout (transposes/reshapes only: bfloat16 tensors arrive as their
    uint16 bit patterns). The component's ``config.json`` is ``config[config_section]`` of the checkpoint metadata,
    or the whole flat config when ``config_section`` is None (upscalers).
    """

    name: str
    select: Callable[[str], str | None]
    to_mlx: Callable[[str, np.ndarray], np.ndarray] = keep_layout
    source: str = CHECKPOINT
    config_section: str | None = None
    # Extra ``mlx_ltx`` entries of config.json from (config, the component's keys), e.g. the transformer's model_type.
    info: Callable[[dict[str, Any], set[str]], dict[str, Any]] | None = None
    # Checkpoint key prefixes that other components read too (the VAE per-channel statistics).
    shared: tuple[str, ...] = ()
    # Component keys that are not stored (e.g. buffers the MLX model recomputes); counted in the conversion report.
    drop: Callable[[str], bool] | None = None
    # Quantization recipe: is the Linear at this module path (weight shape (out, in)) quantized? None: never.
    quantizable: Callable[[str, tuple[int, ...]], bool] | None = None
    # Mixed recipe: layers kept one step higher (4-bit → 8-bit, 8-bit → unquantized), from (module path, config).
    sensitive: Callable[[str, dict[str, Any]], bool] | None = None
    # "module:function" building the model from a ComponentFolder: the component loader's own build function, used
    # to check (shapes only, nothing allocated) that the converted keys are exactly the model's parameters.
    builder: str | None = None
    # Folder name from the config (several upscalers in one model folder); default: ``name``.
    folder: Callable[[dict[str, Any]], str] | None = None

    def config(self, metadata_config: dict[str, Any]) -> dict[str, Any]:
        """This component's sub-config, verbatim."""
        if self.config_section is None:
            return metadata_config
        return metadata_config.get(self.config_section, {})

    def folder_name(self, config: dict[str, Any]) -> str:
        return self.folder(config) if self.folder else self.name

    def build_function(self) -> Callable[[Any], Any] | None:
        """The builder, or None when it is not set or its package is not installed (e.g. ltx-convert alone)."""
        if self.builder is None:
            return None
        module, function = self.builder.split(":")
        try:
            return getattr(importlib.import_module(module), function)
        except ModuleNotFoundError:
            return None


class Registry:
    """The component specs ltx-convert uses; ``REGISTRY`` is the one this build ships."""

    def __init__(self, specs: Iterable[ComponentSpec] = ()) -> None:
        self._specs: dict[str, ComponentSpec] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: ComponentSpec) -> ComponentSpec:
        if spec.name in self._specs:
            raise ValueError(f"component '{spec.name}' is already registered")
        if spec.source not in (CHECKPOINT, UPSCALER):
            raise ValueError(f"component '{spec.name}': source={spec.source!r} must be {CHECKPOINT!r} or {UPSCALER!r}")
        self._specs[spec.name] = spec
        return spec

    def specs(self, source: str | None = None) -> list[ComponentSpec]:
        return [s for s in self._specs.values() if source is None or s.source == source]

    def get(self, name: str) -> ComponentSpec | None:
        return self._specs.get(name)


# Checkpoint key prefixes whose component is not registered in this build, and what would convert them.
PENDING: dict[str, str] = {
    "text_embedding_projection.": "text projection",
    "model.diffusion_model.video_embeddings_connector.": "text projection",
    "model.diffusion_model.audio_embeddings_connector.": "text projection",
    "model.diffusion_model.embeddings_connector.": "video-only text connector",
    "vae.": "video VAE",
    "audio_vae.": "audio VAE",
    "vocoder.": "vocoder",
}
PENDING_UPSCALER = "latent upsampler"


def pending(key: str, source: str = CHECKPOINT) -> tuple[str, str] | None:
    """(matching prefix, what would convert it) for an unclaimed key, e.g. ("vae.", "video VAE"); None for a key no
    LTX component has. Every key of an upscaler file is the latent upsampler's (prefix "")."""
    if source == UPSCALER:
        return "", PENDING_UPSCALER
    return next(((prefix, what) for prefix, what in PENDING.items() if key.startswith(prefix)), None)


def prefix_select(mapping: dict[str, str], exclude: tuple[str, ...] = ()) -> Callable[[str], str | None]:
    """A ``select`` that renames prefixes, e.g. ``{"vae.decoder.": "", "vae.per_channel_statistics.": "per_…"}``."""

    def select(key: str) -> str | None:
        if key.startswith(exclude):
            return None
        for old, new in mapping.items():
            if key.startswith(old):
                return new + key[len(old) :]
        return None

    return select


# ---- transformer -------------------------------------------------------------------------------------------------

# The text connectors live under the transformer's prefix but belong to the text projection component.
_TEXT_CONNECTORS = tuple(p for p, what in PENDING.items() if p.startswith("model.diffusion_model."))
# Lightricks' fp8-scaled-mm keeps the first block and the last five in bf16; the mixed recipe keeps them higher.
_EDGE_BLOCKS_END = 5
_BLOCK = re.compile(r"transformer_blocks\.(\d+)\.")


def _transformer_select(key: str) -> str | None:
    return None if key.startswith(_TEXT_CONNECTORS) else transformer_convert.transformer_key(key)


def _transformer_info(config: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    video, audio = "patchify_proj.weight" in keys, "audio_patchify_proj.weight" in keys
    return {"model_type": "AudioVideo" if video and audio else "VideoOnly" if video else "AudioOnly"}


@functools.cache
def _probe_linear() -> Any:
    import mlx.nn as nn

    return nn.Linear(1, 1)


def _transformer_quantizable(path: str, shape: tuple[int, ...]) -> bool:
    """The transformer's default recipe (quantization.default_predicate), judged on the module path alone."""
    from mlx_ltx_core.model.transformer.quantization import default_predicate

    return len(shape) == 2 and default_predicate(1)(path, _probe_linear())


def _transformer_sensitive(path: str, config: dict[str, Any]) -> bool:
    match = _BLOCK.match(path)
    return bool(match) and not 0 < int(match.group(1)) < config.get("num_layers", 48) - _EDGE_BLOCKS_END


TRANSFORMER = ComponentSpec(
    name="transformer",
    select=_transformer_select,
    to_mlx=transformer_convert.torch_to_mlx,
    config_section="transformer",
    info=_transformer_info,
    quantizable=_transformer_quantizable,
    sensitive=_transformer_sensitive,
    builder="mlx_ltx_core.model.transformer.loading:_build",
)

# ---- text projection (aggregate embeds + connectors; mlx-ltx-text) ----------------------------------------------

_CONNECTORS = ("model.diffusion_model.video_embeddings_connector.", "model.diffusion_model.audio_embeddings_connector.")

TEXT_PROJECTION = ComponentSpec(
    name="text_projection",
    select=prefix_select(
        {"text_embedding_projection.": "text_embedding_projection.", **{p: p.split(".", 2)[2] for p in _CONNECTORS}}
    ),
    config_section="transformer",  # its connector_* / caption_proj_* keys describe the projection
    builder="mlx_ltx_text.loading:_build",
)

# ---- audio VAE and vocoder (mlx-ltx-audio; layouts in audio_convert) ---------------------------------------------


def _audio_spec(name: str, section: str, builder: str, shared: tuple[str, ...] = ()) -> ComponentSpec:
    return ComponentSpec(
        name=name,
        select=lambda key: audio_convert.component_key(name, key),
        to_mlx=lambda key, value: audio_convert.torch_to_mlx(name, key, value),
        config_section=section,
        shared=shared,
        builder=f"mlx_ltx_audio.loader:{builder}",
    )


_AUDIO_STATS = ("audio_vae.per_channel_statistics.",)
AUDIO_ENCODER = _audio_spec("audio_encoder", "audio_vae", "build_audio_encoder", _AUDIO_STATS)
AUDIO_DECODER = _audio_spec("audio_decoder", "audio_vae", "build_audio_decoder", _AUDIO_STATS)
VOCODER = _audio_spec("vocoder", "vocoder", "build_vocoder_component")

# ---- video VAE and latent upsamplers ---------------------------------------------------------------------------


def _video_vae_spec(name: str) -> ComponentSpec:
    return ComponentSpec(
        name=name,
        select=lambda key: video_vae_convert.component_key(name, key),
        to_mlx=video_vae_convert.torch_to_mlx,
        config_section="vae",
        shared=(video_vae_convert.STATISTICS_PREFIX,),
        drop=video_vae_convert.is_unused,
        builder=f"mlx_ltx_core.model.video_vae.loading:build_{name}",
    )


VIDEO_ENCODER = _video_vae_spec("video_encoder")
VIDEO_DECODER = _video_vae_spec("video_decoder")
LATENT_UPSAMPLER = ComponentSpec(
    name="latent_upsampler",
    select=lambda key: key,  # upscaler files hold the model's own keys, no prefix
    to_mlx=upsampler_convert.torch_to_mlx,
    source=UPSCALER,
    folder=upsampler_convert.folder_name,
    builder="mlx_ltx_core.model.upsampler.loading:build_latent_upsampler",
)

# Adding a component: its layout function in mlx_ltx_core, then a spec here; the key-coverage tests
# (tests/test_convert_key_coverage.py) then cover it on the full-size key lists.
REGISTRY = Registry(
    [
        TRANSFORMER,
        TEXT_PROJECTION,
        AUDIO_ENCODER,
        AUDIO_DECODER,
        VOCODER,
        VIDEO_ENCODER,
        VIDEO_DECODER,
        LATENT_UPSAMPLER,
    ]
)
