"""A tiny random-weight LTX-2.5 in the real split-file format: one Lightricks file per component.

Files as Lightricks ships LTX-2.5 (shared/reference/ltx-2.5.md §1.1): the transformer file (the DiT under
``model.diffusion_model.*`` and both text connectors), the convolutional video VAE file (bare ``encoder.*`` /
``decoder.*`` / ``per_channel_statistics.*``), the audio VAE file (``audio_vae.*`` and ``vocoder.*``), a spatial
upscaler and a distilled LoRA, each with its ``__metadata__``. The text-encoder file (Gemma 4 and the
``text_embedding_projection.*`` the connectors need) comes with the Gemma 4 tower (ltx-text); without it the
converter reports the text projection as not converted, so ``--model tiny-2.5`` waits for it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mlx_ltx_cli.tiny import (
    AUDIO_VAE,
    UPSCALER_CONFIG,
    VAE,
    VOCODER,
    _checked_torch_layout,
    _parameters,
    checkpoint_key,
    write_tiny_lora,
)
from mlx_ltx_convert import prefixes
from mlx_ltx_core.tiny_configs import tiny_config

TINY_25_VERSION = "2.5.0"
# The transformer file's record of the Gemma its connectors belong to (read by the reference's text-encoder check).
GEMMA_SOURCE = {"ltx_version": TINY_25_VERSION, "gemma_version": "gemma4-12b-ltx-v1"}
TRANSFORMER_25 = tiny_config("model_2.5", "transformer")
# file name → (its metadata config, the components whose keys it holds)
FILES = {
    "ltx-2.5-tiny-transformer.safetensors": ({"transformer": TRANSFORMER_25}, ("transformer", "text_projection")),
    "ltx-2.5-tiny-video-vae-conv.safetensors": ({"vae": VAE}, ("video_encoder", "video_decoder")),
    "ltx-2.5-tiny-audio-vae.safetensors": (
        {"audio_vae": AUDIO_VAE, "vocoder": VOCODER},
        ("audio_encoder", "audio_decoder", "vocoder"),
    ),
}
_SPLIT_VAE = {"video_encoder": prefixes.SPLIT_VAE_ENCODER, "video_decoder": prefixes.SPLIT_VAE_DECODER}


def split_checkpoint_key(component: str, key: str) -> str | None:
    """A component key's name in its LTX-2.5 split file; None for what that file does not hold (the text
    projection's aggregate embeddings live in the text-encoder file)."""
    if component in _SPLIT_VAE:
        return key if key.startswith(prefixes.SPLIT_VAE_STATISTICS) else _SPLIT_VAE[component] + key
    name = checkpoint_key(component, key)
    return None if name.startswith(prefixes.TEXT_PROJECTION) else name


def write_tiny_25_files(folder: Path, seed: int = 0) -> list[Path]:
    """The split files (transformer, video VAE, audio VAE), a spatial upscaler and a distilled LoRA; float32."""
    from safetensors.numpy import save_file

    from mlx_ltx_convert.components import by_name

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (name, (config, components)) in enumerate(FILES.items()):
        tensors: dict[str, np.ndarray] = {}
        for j, component in enumerate(components):
            spec = by_name(component)
            assert spec is not None
            for key, value in _parameters(spec, spec.config(config), seed + 10 * i + j).items():
                stored = split_checkpoint_key(component, key)
                if stored is not None and stored not in tensors:  # the VAE statistics: one copy for both halves
                    tensors[stored] = _checked_torch_layout(spec, key, value)
        metadata = {"config": json.dumps(config), "model_version": TINY_25_VERSION}
        if "transformer" in components:
            metadata["gemma_source_checkpoint"] = json.dumps(GEMMA_SOURCE)
        save_file(tensors, str(folder / name), metadata=metadata)
        paths.append(folder / name)
    upscaler = by_name("latent_upsampler")
    assert upscaler is not None
    ups = {k: _checked_torch_layout(upscaler, k, v) for k, v in _parameters(upscaler, UPSCALER_CONFIG, seed).items()}
    paths.append(folder / "ltx-2.5-tiny-spatial-upscaler-x2.safetensors")
    save_file(ups, str(paths[-1]), metadata={"config": json.dumps(UPSCALER_CONFIG)})
    paths.append(write_tiny_lora(folder / "ltx-2.5-tiny-distilled-lora.safetensors", seed=seed + 1))
    return paths
