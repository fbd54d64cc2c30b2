"""A tiny random-weight LTX-2.5 in the real split-file format: one Lightricks file per component.

Files as Lightricks ships LTX-2.5 (shared/reference/ltx-2.5.md §1.1): the transformer file (the DiT under
``model.diffusion_model.*`` and both text connectors), the convolutional video VAE file (bare ``encoder.*`` /
``decoder.*`` / ``per_channel_statistics.*``), the audio VAE file (``audio_vae.*`` and ``vocoder.*``), the
duration-head file (``duration_head.*``), the text-encoder file (a 4-layer Gemma 4 in the Comfy-flat layout, its
``gemma_config`` metadata, the tokenizer as U8 tensors, unused vision / audio projector tensors and the
``text_embedding_projection.*`` the connectors need), a spatial upscaler and a distilled LoRA.
``ltx generate --model tiny-2.5`` converts them once into the cache (``tiny_model_25``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from mlx_ltx_cli.tiny import (
    AUDIO_VAE,
    UPSCALER_CONFIG,
    VAE,
    VOCODER,
    _checked_torch_layout,
    _parameters,
    _scratch,
    checkpoint_key,
    write_tiny_lora,
)
from mlx_ltx_convert import prefixes
from mlx_ltx_core.tiny_configs import tiny_config

TINY_25_VERSION = "2.5.0"
# The transformer file's record of the Gemma its connectors belong to (read by the reference's text-encoder check).
GEMMA_SOURCE = {"ltx_version": TINY_25_VERSION, "gemma_version": "gemma4-12b-ltx-v1"}
TRANSFORMER_25 = tiny_config("model_2.5", "transformer")
GEMMA4_CONFIG = tiny_config("model_2.5", "text_encoder")  # the text-encoder file's gemma_config
DURATION_HEAD = {  # the duration-head file's config: the connector widths and a tiny head
    "transformer": {k: TRANSFORMER_25[k] for k in ("cross_attention_dim", "audio_cross_attention_dim")},
    "duration_head": {"pooler_hidden_dim": 16, "num_queries": 1, "num_pooler_heads": 2, "mlp_hidden": 16},
}
TEXT_ENCODER_FILE = "ltx-2.5-tiny-gemma4-with-proj.safetensors"
# file name → (its metadata config, the components whose keys it holds)
FILES = {
    "ltx-2.5-tiny-transformer.safetensors": ({"transformer": TRANSFORMER_25}, ("transformer", "text_projection")),
    "ltx-2.5-tiny-video-vae-conv.safetensors": ({"vae": VAE}, ("video_encoder", "video_decoder")),
    "ltx-2.5-tiny-audio-vae.safetensors": (
        {"audio_vae": AUDIO_VAE, "vocoder": VOCODER},
        ("audio_encoder", "audio_decoder", "vocoder"),
    ),
    "ltx-2.5-tiny-duration-head.safetensors": (DURATION_HEAD, ("duration_head",)),
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
    paths.append(write_tiny_text_encoder(folder / TEXT_ENCODER_FILE, seed=seed + 2))
    return paths


def write_tiny_text_encoder(path: Path, seed: int = 0) -> Path:
    """The text-encoder file: Gemma 4 (``model.*``) + the text projection's ``text_embedding_projection.*`` + the
    tokenizer (the CLI's tiny Gemma-style tokenizer without its BOS post-processor: Gemma 4 adds none)."""
    from safetensors.numpy import save_file

    from mlx_ltx_convert.components import by_name

    tensors: dict[str, np.ndarray] = {}
    for component, config in (
        ("text_encoder", {"text_encoder": GEMMA4_CONFIG}),
        ("text_projection", {"transformer": TRANSFORMER_25}),
    ):
        spec = by_name(component)
        assert spec is not None
        for key, value in _parameters(spec, spec.config(config), seed).items():
            if component == "text_encoder" or key.startswith(prefixes.TEXT_PROJECTION):
                tensors[key] = value
    rng = np.random.default_rng(seed)
    for name in ("vision_model.patch_embedder.weight", "multi_modal_projector.embedding_projection.weight"):
        tensors[name] = rng.normal(0, 0.1, (4, 4)).astype(np.float32)  # in the shipped file, read by no LTX part
    template = Path(__file__).parent / "tiny_gemma"
    tokenizer = json.loads((template / "tokenizer.json").read_text())
    tokenizer["post_processor"] = None
    tensors["tokenizer_json"] = np.frombuffer(json.dumps(tokenizer).encode(), np.uint8).copy()
    for name in ("tokenizer_config.json", "chat_template.jinja"):
        tensors[f"hf_asset__{name}"] = np.frombuffer((template / name).read_bytes(), np.uint8).copy()
    processor = json.dumps({"processor_class": "Gemma4UnifiedProcessor"}).encode()
    tensors["hf_asset__processor_config.json"] = np.frombuffer(processor, np.uint8).copy()
    save_file(tensors, str(path), metadata={"format": "pt", "gemma_config": json.dumps(GEMMA4_CONFIG)})
    return path


def tiny_model_25(cache: Path | None = None, progress: Any = None) -> Path:
    """The converted tiny LTX-2.5 model folder (its text encoder inside), built and converted once per version."""
    import hashlib
    import shutil

    from mlx_ltx_cli import __version__
    from mlx_ltx_cli.resolve import cache_root
    from mlx_ltx_cli.tiny import _components
    from mlx_ltx_convert.convert import convert

    configs = [{name: config for name, (config, _) in FILES.items()}, GEMMA4_CONFIG, UPSCALER_CONFIG, __version__]
    root = (cache or cache_root()) / f"tiny-2.5-{hashlib.sha256(json.dumps(configs).encode()).hexdigest()[:12]}"
    model = root / "model"
    if not (model / "model_index.json").exists():
        if progress is not None:
            progress(f"building the tiny random LTX-2.5 (once, a few seconds) into {root}")
        work = _scratch(root / "source")
        try:
            convert(write_tiny_25_files(work), model, overwrite=True, components=_components())
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return model
