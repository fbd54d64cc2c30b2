"""One converted model folder → its components, loaded one at a time (ports ltx_pipelines/utils/model_ledger.py).

A pipeline asks for a component when a stage needs it and drops it afterwards; ``free`` returns the memory.
The folder layout is ``model_index.json`` plus one component folder per part (docs/format.md).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import mlx.core as mx

if TYPE_CHECKING:
    from mlx_ltx_core.model.transformer import LTXModel

from mlx_ltx_core.component_format import ComponentFolder, read_component, read_model_index
from mlx_ltx_pipelines.distributed import launch_group
from mlx_ltx_pipelines.errors import ParameterError
from mlx_ltx_pipelines.lora import LORA_MODES, LoRA, apply_loras, stream_loras


@dataclass
class ModelLedger:
    """Component loaders of one model folder; ``dtype`` casts float weights (None: as converted);
    ``compute_dtype`` (e.g. float16) overrides it for the transformer, video VAE and upsampler alone (the
    text encoder and audio models stay in ``dtype``); ``low_memory`` keeps the transformer's blocks on disk, read a
    group at a time in each forward (docs/low_memory.md; LoRAs as ``lora_mode``, fused ones into each group).
    ``group``: the ranks the transformer splits its video tokens over (None: ``mlx.launch``'s, a single rank when
    not launched)."""

    path: Path
    text_encoder_path: str | os.PathLike | None = None
    dtype: mx.Dtype | None = None
    loras: Sequence[LoRA] = ()
    compute_dtype: mx.Dtype | None = None
    lora_mode: str = "auto"  # apply_loras: fused into float layers, unfused adapters on quantized ones
    low_memory: bool = False
    group: mx.distributed.Group | None = None
    index: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        if self.lora_mode not in LORA_MODES:
            raise ParameterError("lora_mode", f"lora_mode={self.lora_mode!r}: choose one of {', '.join(LORA_MODES)}")
        self.path = Path(self.path)
        self.index = read_model_index(self.path)

    @property
    def model_version(self) -> str | None:
        return self.index.get("model_version")

    def with_loras(self, loras: Sequence[LoRA]) -> ModelLedger:
        """The same folder whose transformer gets ``loras`` fused (e.g. the distilled LoRA of a stage 2)."""
        return replace(self, loras=tuple(loras))

    @property
    def diffusion_dtype(self) -> mx.Dtype | None:
        """The dtype the transformer, video VAE and upsampler load in (None: as converted)."""
        return self.compute_dtype or self.dtype

    def components(self, component: str) -> list[ComponentFolder]:
        """Every component folder of this type (parsed: ``.config``, ``.quantization``, ``.index``)."""
        names = sorted(n for n, e in self.index.get("components", {}).items() if e.get("component") == component)
        return [read_component(self.path / name, component) for name in names]

    def component(self, component: str) -> ComponentFolder:
        """The (first) component folder of this type; a ValueError when the model folder has none."""
        found = self.components(component)
        if not found:
            raise ValueError(
                f"{self.path}: the model folder has no '{component}' component; re-convert the full checkpoint"
            )
        return found[0]

    def folder(self, component: str) -> Path:
        return self.component(component).path

    def has(self, component: str) -> bool:
        return any(e.get("component") == component for e in self.index.get("components", {}).values())

    @property
    def ranks(self) -> mx.distributed.Group:
        return self.group if self.group is not None else launch_group()

    def transformer(self):
        """The transformer (LoRAs fused), sequence-parallel over ``ranks`` when there are several."""
        from mlx_ltx_core.model.transformer import load_transformer
        from mlx_ltx_core.model.transformer.sequence_parallel import sequence_parallel

        folder = self.component("transformer")
        if self.low_memory:  # each rank streams its own blocks; the split attentions are the same modules
            streamed = cast("LTXModel", self._streamed_transformer(folder))  # stream_loras returns the same model
            return sequence_parallel(streamed, self.ranks)
        model = load_transformer(folder.path, lazy=True, dtype=self.diffusion_dtype)
        if self.loras:
            apply_loras(model, self.loras, self.lora_mode)
        mx.eval(model.parameters())
        return sequence_parallel(model, self.ranks)

    def _streamed_transformer(self, folder: ComponentFolder):
        """The low-memory transformer; LoRAs as ``lora_mode`` applies them (``stream_loras``): unfused adapters
        stay loaded beside the streamed blocks, the fused layers are fused into each group as it is read."""
        from mlx_ltx_core.model.transformer.streaming import load_streamed_transformer

        model = load_streamed_transformer(folder.path, dtype=self.diffusion_dtype)
        return stream_loras(model, self.loras, self.lora_mode) if self.loras else model

    def video_encoder(self):
        from mlx_ltx_core.model.video_vae import load_video_encoder

        return load_video_encoder(self.folder("video_encoder"), dtype=self.diffusion_dtype)

    def video_decoder(self):
        from mlx_ltx_core.model.video_vae import load_video_decoder

        return load_video_decoder(self.folder("video_decoder"), dtype=self.diffusion_dtype)

    def spatial_upsampler(self, scale: float = 2.0):
        """The spatial latent upsampler of this scale (x2 by default, or x1.5)."""
        from mlx_ltx_core.model.upsampler import load_latent_upsampler

        return load_latent_upsampler(self.upsampler_folder(scale), dtype=self.diffusion_dtype)

    def temporal_upsampler(self):
        """The temporal x2 latent upsampler (latent frames T → 2T − 1)."""
        from mlx_ltx_core.model.upsampler import load_latent_upsampler

        return load_latent_upsampler(self.upsampler_folder(temporal=True), dtype=self.diffusion_dtype)

    def upsampler_folder(self, scale: float = 2.0, temporal: bool = False) -> Path:
        """The folder of the x2 / x1.5 spatial (or the temporal x2) upsampler, from the configs alone (nothing is
        loaded, so pipelines check it before any model work); a ParameterError naming the file to convert."""
        want = ("temporal", 2.0) if temporal else ("spatial", float(scale))
        for folder in self.components("latent_upsampler"):
            if upsampler_kind(folder.config) == want:
                return folder.path
        what, file = (
            ("temporal x2", "ltx-2.3-temporal-upscaler-x2-1.0.safetensors")
            if temporal
            else (f"x{scale:g} spatial", f"ltx-2.3-spatial-upscaler-x{scale:g}-1.0.safetensors")
        )
        raise ParameterError(
            "model_path",
            f"{self.path}: no {what} upscaler; convert the model together with its upscaler file (e.g. {file})",
        )

    def audio_encoder(self):
        from mlx_ltx_audio import load_audio_encoder

        return load_audio_encoder(self.folder("audio_encoder"), dtype=self.dtype)

    def audio_decoder(self):
        from mlx_ltx_audio import load_audio_decoder

        return load_audio_decoder(self.folder("audio_decoder"), dtype=self.dtype)

    def vocoder(self):
        from mlx_ltx_audio import load_vocoder

        return load_vocoder(self.folder("vocoder"))

    def prompt_encoder(self):
        """The text encoder + this model's text projection: ``text_encoder_path`` (a Gemma 3 folder or Hugging Face
        repo id), else the model folder's own ``text_encoder`` (LTX-2.5's Gemma 4, converted with the model)."""
        from mlx_ltx_text import PromptEncoder

        text_encoder = self.text_encoder_path
        if text_encoder is None and self.has("text_encoder"):
            text_encoder = self.folder("text_encoder")
        if text_encoder is None:
            raise ParameterError(
                "text_encoder_path", "no text encoder given: pass text_encoder_path= (a Gemma 3 12B folder or repo id)"
            )
        return PromptEncoder.load(text_encoder, self.folder("text_projection"), dtype=self.dtype)

    def duration_head(self):
        """LTX-2.5's auto-duration head (converted from its own file)."""
        from mlx_ltx_text import load_duration_head

        return load_duration_head(self.folder("duration_head"), dtype=self.dtype)


def upsampler_kind(config: dict[str, Any]) -> tuple[str, float]:
    """("spatial", 2.0 | 1.5) or ("temporal", 2.0) from an upscaler's flat config (a non-rational spatial
    upsampler is x2 whatever its ``spatial_scale``, as the reference builds it)."""
    if config.get("temporal_upsample"):
        return "temporal", 2.0
    return "spatial", float(config.get("spatial_scale", 2.0)) if config.get("rational_resampler") else 2.0
