"""What each component reads from a Lightricks checkpoint (ports the SDOps key filters of ltx_core's configurators).

The converter is generic: these specs say which component owns each checkpoint key, where the component's config
comes from, how a tensor's layout changes (``layouts/``), which layers its quantization recipe covers, and which
model builder checks the converted shapes. Adding a component is one ``ComponentSpec`` in ``COMPONENTS``; the
key-coverage tests (tests/test_convert_key_coverage.py) then cover it on the full-size key lists.
"""

from __future__ import annotations

import functools
import importlib
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlx_ltx_convert import prefixes
from mlx_ltx_convert.errors import ConversionWarning
from mlx_ltx_convert.layouts import audio, text, transformer, upsampler, video_vae
from mlx_ltx_convert.sources import CHECKPOINT, UPSCALER


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
    # What is not checked when the builder's package is missing (named in the warning).
    checks: str = "shape check"
    # Folder name from the config (several upscalers in one model folder); default: ``name``.
    folder: Callable[[dict[str, Any]], str] | None = None
    # Split releases (LTX-2.5) put this component's keys in several files: (component key prefix, the file holding
    # them). One file's part is planned unchecked; the parts of all inputs make one component (plan.join_parts).
    parts: tuple[tuple[str, str], ...] = ()
    # ``__metadata__`` keys of its file recorded in config.json's ``mlx_ltx`` (JSON-decoded when they parse).
    metadata: tuple[str, ...] = ()
    # Does this spec read a file whose sub-config is this? (Two specs may read the same keys of different kinds of
    # file: the conv and the diffusion video decoder.) None: always.
    applies: Callable[[dict[str, Any]], bool] | None = None
    # A fused tensor's component key -> the keys of its equal row blocks (``()``: not split; the diffusion decoder's
    # ``…attn.qkv``). Each block is one converted tensor, read from the one source tensor.
    split: Callable[[str], tuple[str, ...]] | None = None
    # A component key -> the component key of a static gate vector folded into its rows (``W ← g[:, None]·W``, float32),
    # or None. Gates are read while planning (they are small) and not written.
    gate: Callable[[str], str | None] | None = None

    def config(self, metadata_config: dict[str, Any]) -> dict[str, Any]:
        """This component's sub-config, verbatim."""
        if self.config_section is None:
            return metadata_config
        return metadata_config.get(self.config_section, {})

    def reads(self, metadata_config: dict[str, Any]) -> bool:
        """Does this spec read a file with this metadata config (``applies`` on its sub-config; default yes)?"""
        return self.applies is None or self.applies(self.config(metadata_config))

    def folder_name(self, config: dict[str, Any]) -> str:
        return self.folder(config) if self.folder else self.name

    def build_function(self) -> Callable[[Any], Any] | None:
        """The builder; None when the spec names none, or (with a ``ConversionWarning``) when its package is absent."""
        if self.builder is None:
            return None
        module, function = self.builder.split(":")
        try:
            return getattr(importlib.import_module(module), function)
        except ModuleNotFoundError as e:
            if e.name is None or not module.startswith(e.name):
                raise  # the package is there but itself misses something: a real error
            dist = module.split(".")[0].replace("_", "-")
            warnings.warn(
                f"{dist} is not installed: the {self.name} {self.checks} is skipped; pip install {dist}",
                ConversionWarning,
                stacklevel=2,
            )
            return None


def specs(source: str | None = None, components: Sequence[ComponentSpec] | None = None) -> list[ComponentSpec]:
    """The specs (default: ``COMPONENTS``) that read files of kind ``source`` (all when None)."""
    return [s for s in (COMPONENTS if components is None else components) if source is None or s.source == source]


def by_name(name: str, components: Sequence[ComponentSpec] | None = None) -> ComponentSpec | None:
    return next((s for s in (COMPONENTS if components is None else components) if s.name == name), None)


def check_components(components: Sequence[ComponentSpec]) -> None:
    """Distinct names and a known source per spec (a caller may pass its own list to ``convert``)."""
    names = [s.name for s in components]
    if len(set(names)) != len(names):
        raise ValueError(f"component specs {names}: each name must appear once")
    for spec in components:
        if spec.source not in (CHECKPOINT, UPSCALER):
            raise ValueError(f"component '{spec.name}': source={spec.source!r} must be {CHECKPOINT!r} or {UPSCALER!r}")


# Checkpoint key prefixes no component converts on purpose, and what they are (reported, not converted).
# The video-only models' text connector: no pipeline reads it.
UNCONVERTED: dict[str, str] = {prefixes.VIDEO_ONLY_CONNECTOR: "video-only text connector"}


def unclaimed(key: str, source: str, components: Sequence[ComponentSpec]) -> tuple[str, str] | None:
    """(prefix, what) of a key no spec in ``components`` claims: a prefix of ``UNCONVERTED``, or a component of
    ``COMPONENTS`` left out of ``components``; None for a key no LTX component has."""
    found = next(((p, what) for p, what in UNCONVERTED.items() if key.startswith(p)), None)
    if found is not None:
        return found
    given = {s.name for s in components}
    for spec in specs(source):
        if spec.name not in given and spec.select(key) is not None:
            return ("" if source == UPSCALER else key.split(".", 1)[0] + "."), spec.name
    return None


# ---- transformer -------------------------------------------------------------------------------------------------

# The text connectors live under the transformer's prefix but are not the transformer's.
_NOT_TRANSFORMER = (*prefixes.TEXT_CONNECTORS, prefixes.VIDEO_ONLY_CONNECTOR)
# Lightricks' fp8-scaled-mm keeps the first block and the last five in bf16; the mixed recipe keeps them higher.
_EDGE_BLOCKS_END = 5
_BLOCK = re.compile(r"transformer_blocks\.(\d+)\.")


def _transformer_select(key: str) -> str | None:
    return None if key.startswith(_NOT_TRANSFORMER) else transformer.transformer_key(key)


def _transformer_info(config: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    video, audio_ = "patchify_proj.weight" in keys, "audio_patchify_proj.weight" in keys
    return {"model_type": "AudioVideo" if video and audio_ else "VideoOnly" if video else "AudioOnly"}


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
    to_mlx=transformer.torch_to_mlx,
    config_section="transformer",
    info=_transformer_info,
    quantizable=_transformer_quantizable,
    sensitive=_transformer_sensitive,
    builder="mlx_ltx_core.model.transformer.loading:_build",
)

# ---- text projection (aggregate embeds + connectors; mlx-ltx-text) ----------------------------------------------

TEXT_PROJECTION = ComponentSpec(
    name="text_projection",
    select=text.text_projection_key,
    config_section="transformer",  # its connector_* / caption_proj_* keys describe the projection
    builder="mlx_ltx_text.loading:_build",
    # LTX-2.5: the reference checks the Gemma against the transformer file's gemma_source_checkpoint.
    metadata=("gemma_source_checkpoint",),
    parts=(
        (prefixes.TEXT_PROJECTION, "the text-encoder file (LTX-2.5: gemma4-12b-with-proj-ltx-2.5-bf16.safetensors)"),
        ("video_embeddings_connector.", "the transformer file (LTX-2.5: ltx-2.5-22b-*-transformer-*.safetensors)"),
    ),
)

# ---- audio VAE and vocoder (mlx-ltx-audio) -----------------------------------------------------------------------


def _audio_spec(
    name: str, section: str, builder: str, shared: tuple[str, ...] = (), checks: str = "shape check"
) -> ComponentSpec:
    return ComponentSpec(
        name=name,
        select=lambda key: audio.component_key(name, key),
        to_mlx=lambda key, value: audio.torch_to_mlx(name, key, value),
        config_section=section,
        shared=shared,
        builder=f"mlx_ltx_audio.loader:{builder}",
        checks=checks,
    )


_AUDIO_STATS = (prefixes.AUDIO_VAE_STATISTICS,)
AUDIO_ENCODER = _audio_spec("audio_encoder", "audio_vae", "build_audio_encoder", _AUDIO_STATS)
AUDIO_DECODER = _audio_spec("audio_decoder", "audio_vae", "build_audio_decoder", _AUDIO_STATS)
VOCODER = _audio_spec("vocoder", "vocoder", "build_vocoder_component", checks="shape and anti-aliasing filter check")

# ---- video VAE and latent upsamplers ---------------------------------------------------------------------------


_VAE_STATISTICS = (prefixes.VAE_STATISTICS, prefixes.SPLIT_VAE_STATISTICS)


def _video_vae_spec(name: str, applies: Callable[[dict[str, Any]], bool] | None = None) -> ComponentSpec:
    return ComponentSpec(
        name=name,
        select=lambda key: video_vae.component_key(name, key),
        to_mlx=video_vae.torch_to_mlx,
        config_section="vae",
        shared=_VAE_STATISTICS,
        drop=video_vae.is_unused,
        builder=f"mlx_ltx_core.model.video_vae.loading:build_{name}",
        applies=applies,
    )


VIDEO_ENCODER = _video_vae_spec("video_encoder")  # both VAE kinds keep the conv encoder
VIDEO_DECODER = _video_vae_spec("video_decoder", applies=video_vae.is_conv_vae)
# LTX-2.5's diffusion decoder (``CausalDiffusionVAE`` files): the same "video_decoder" folder, its own model.
DIFFUSION_VIDEO_DECODER = ComponentSpec(
    name="diffusion_video_decoder",
    select=video_vae.diffusion_decoder_key,
    config_section="vae",
    shared=_VAE_STATISTICS,
    drop=lambda key: video_vae.is_dropped_diffusion_key(key) or video_vae.is_unused(key),
    builder="mlx_ltx_core.model.video_vae.loading:build_diffusion_video_decoder",
    folder=lambda config: "video_decoder",
    applies=lambda config: not video_vae.is_conv_vae(config),
    split=video_vae.split_key,
    gate=video_vae.gate_key,
)
LATENT_UPSAMPLER = ComponentSpec(
    name="latent_upsampler",
    select=lambda key: key,  # upscaler files hold the model's own keys, no prefix
    to_mlx=upsampler.torch_to_mlx,
    source=UPSCALER,
    folder=upsampler.folder_name,
    builder="mlx_ltx_core.model.upsampler.loading:build_latent_upsampler",
)

COMPONENTS: tuple[ComponentSpec, ...] = (
    TRANSFORMER,
    TEXT_PROJECTION,
    AUDIO_ENCODER,
    AUDIO_DECODER,
    VOCODER,
    VIDEO_ENCODER,
    VIDEO_DECODER,
    DIFFUSION_VIDEO_DECODER,
    LATENT_UPSAMPLER,
)
