"""A tiny random-weight LTX-2.3 (and LTX-2) in the Lightricks format, converted once and cached: `ltx generate
--model tiny` (`--model tiny-2`).

It exercises the whole path a real model takes (single-file checkpoint with ``__metadata__`` → ltx-convert → model
folder → pipeline → MP4) in seconds on a CPU. Its weights are random: the output is noise.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from mlx_ltx_convert import prefixes
from mlx_ltx_core.tiny_configs import tiny_config

if TYPE_CHECKING:
    import mlx.core as mx
    import mlx.nn as nn

TINY_VERSION = "2.3.0"
HEIGHT, WIDTH, NUM_FRAMES, FRAME_RATE = 64, 96, 9, 24.0

# tiny_configs.json "model": the values every real checkpoint carries, 2 layers, 8 latent channels, an audio latent
# of 2 channels × 16 mel bins (the real one has 8 channels), 8-channel VAE, BigVGAN + BWE vocoder, and the three
# latent upscalers of LTX-2.3: spatial x2, spatial x1.5 (rational resampler) and temporal x2.
_MODEL = tiny_config("model")
TRANSFORMER, VAE, AUDIO_VAE, VOCODER = (_MODEL[k] for k in ("transformer", "vae", "audio_vae", "vocoder"))
UPSCALER_CONFIG = _MODEL["upscaler"]
METADATA_CONFIG = {"transformer": TRANSFORMER, "vae": VAE, "audio_vae": AUDIO_VAE, "vocoder": VOCODER}


@dataclass(frozen=True)
class TinyModel:
    """One tiny model: its ``--model`` name, ``model_version``, file-name prefix, the checkpoint's metadata
    ``config`` and its upscaler files (name suffix → flat config; the first is the x2 spatial one)."""

    name: str
    version: str
    prefix: str
    config: dict[str, Any]
    upscalers: dict[str, dict[str, Any]]

    def file(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}.safetensors"


TINY_23 = TinyModel(
    "tiny",
    TINY_VERSION,
    "ltx-2.3-tiny",
    METADATA_CONFIG,
    {
        "spatial-upscaler-x2": UPSCALER_CONFIG,
        "spatial-upscaler-x1.5": _MODEL["upscaler_x1.5"],
        "temporal-upscaler-x2": _MODEL["temporal_upscaler"],
    },
)
# tiny_configs.json "model_2": LTX-2's config keys (no gated attention, the caption projection in the transformer,
# feature extractor v1), a HiFi-GAN vocoder, the rational x2 upscaler LTX-2 ships; the same VAEs.
_MODEL_2 = tiny_config("model_2")
TINY_2 = TinyModel(
    "tiny-2",
    "2.0.0",
    "ltx-2-tiny",
    {"transformer": _MODEL_2["transformer"], "vae": VAE, "audio_vae": AUDIO_VAE, "vocoder": _MODEL_2["vocoder"]},
    {"spatial-upscaler-x2": _MODEL_2["upscaler"], "temporal-upscaler-x2": _MODEL["temporal_upscaler"]},
)
TINY_MODELS = {m.name: m for m in (TINY_23, TINY_2)}

# Component key → checkpoint key (the inverse of each spec's ``select``).
_VAE_STATS = ("per_channel_statistics.", prefixes.VAE_STATISTICS.removesuffix("per_channel_statistics."))
_AUDIO_STATS = ("per_channel_statistics.", prefixes.AUDIO_VAE_STATISTICS.removesuffix("per_channel_statistics."))
_PREFIXES = {
    "transformer": (("", prefixes.TRANSFORMER),),
    "text_projection": ((prefixes.TEXT_PROJECTION, ""), ("", prefixes.TRANSFORMER)),
    "video_encoder": (_VAE_STATS, ("", prefixes.VAE_ENCODER)),
    "video_decoder": (_VAE_STATS, ("", prefixes.VAE_DECODER)),
    "audio_encoder": (_AUDIO_STATS, ("", prefixes.AUDIO_VAE_ENCODER)),
    "audio_decoder": (_AUDIO_STATS, ("", prefixes.AUDIO_VAE_DECODER)),
    "vocoder": (("", prefixes.VOCODER),),
    "latent_upsampler": (("", ""),),
    "duration_head": (("", prefixes.DURATION_HEAD),),
    "text_encoder": (("", ""),),  # LTX-2.5's text-encoder file: mlx-lm's names (Comfy-flat ``model.*``)
}


def checkpoint_key(component: str, key: str) -> str:
    for start, prefix in _PREFIXES[component]:
        if key.startswith(start):
            return prefix + key
    raise KeyError(key)


def torch_layout(component: str, key: str, value: np.ndarray) -> np.ndarray:
    """MLX layout → the PyTorch layout the checkpoint stores (the inverse of the specs' ``to_mlx``)."""
    if component == "vocoder" and key.endswith(("upsample.filter", "lowpass.filter")):
        return value.reshape(1, 1, -1)
    if component == "vocoder" and re.search(r"(^|\.)ups\.\d+\.weight$", key):
        return value.transpose(2, 0, 1)  # ConvTranspose1d: (O, k, I) → (I, O, k)
    if value.ndim >= 3:
        return np.moveaxis(value, -1, 1)  # channels-last convolutions: (O, *k, I) → (O, I, *k)
    return value


def _checked_torch_layout(spec: Any, key: str, value: np.ndarray) -> np.ndarray:
    """The inverse layout, checked against the converter's own ``to_mlx`` (so the round trip is exact)."""
    torch_value = np.ascontiguousarray(torch_layout(spec.name, key, value))
    back = np.asarray(spec.to_mlx(key, torch_value))
    if back.shape != value.shape or not np.array_equal(back, value):
        raise AssertionError(f"tiny model: the layout of {spec.name} {key} does not round-trip")
    return torch_value


def _parameters(spec: Any, config: dict[str, Any], seed: int) -> dict[str, np.ndarray]:
    import mlx.core as mx

    from mlx_ltx_core.loader import ComponentFolder

    mx.random.seed(seed)
    info = {"gemma": {"hidden_size": 32, "num_hidden_layers": 4}} if spec.name == "text_projection" else {}
    model = spec.build_function()(ComponentFolder(Path(spec.name), spec.name, config, info, None, {}))
    rng = np.random.default_rng(seed)
    out = {}
    for key, value in _flat(model):
        array = np.array(value.astype(mx.float32))
        if key.endswith("std-of-means"):
            array = 0.5 + rng.random(array.shape).astype(np.float32)
        elif key.endswith("mean-of-means") or "scale_shift_table" in key:
            array = rng.normal(0, 0.1, array.shape).astype(np.float32)
        out[key] = array
    return out


def write_tiny_checkpoint(folder: Path, seed: int = 0, tiny: TinyModel = TINY_23) -> tuple[Path, Path]:
    """(single-file checkpoint, x2 spatial upscaler file) in the Lightricks format, float32 random weights."""
    from safetensors.numpy import save_file

    from mlx_ltx_convert.components import specs
    from mlx_ltx_convert.sources import CHECKPOINT

    tensors: dict[str, np.ndarray] = {}
    for i, spec in enumerate(s for s in specs(CHECKPOINT) if s.reads(tiny.config) and s.name not in _LTX_2_5_ONLY):
        for key, value in _parameters(spec, spec.config(tiny.config), seed + i).items():
            name = checkpoint_key(spec.name, key)
            if name not in tensors:  # the VAE statistics are shared by encoder and decoder
                tensors[name] = _checked_torch_layout(spec, key, value)
    folder.mkdir(parents=True, exist_ok=True)
    ckpt = folder / tiny.file("random")
    meta = {"config": json.dumps(tiny.config), "model_version": tiny.version}
    save_file(tensors, str(ckpt), metadata=meta)
    return ckpt, _write_upscaler(folder, tiny, next(iter(tiny.upscalers)), seed)


def write_tiny_upscalers(folder: Path, seed: int = 0, tiny: TinyModel = TINY_23) -> list[Path]:
    """The other upscaler files (x1.5 spatial, temporal x2) in the Lightricks format (flat ``config`` metadata)."""
    return [_write_upscaler(folder, tiny, name, seed + 1 + i) for i, name in enumerate(list(tiny.upscalers)[1:])]


def _write_upscaler(folder: Path, tiny: TinyModel, suffix: str, seed: int) -> Path:
    from safetensors.numpy import save_file

    from mlx_ltx_convert.components import specs
    from mlx_ltx_convert.sources import UPSCALER

    (spec,) = specs(UPSCALER)
    config = tiny.upscalers[suffix]
    ups = {k: _checked_torch_layout(spec, k, v) for k, v in _parameters(spec, config, seed).items()}
    save_file(ups, str(folder / tiny.file(suffix)), metadata={"config": json.dumps(config)})
    return folder / tiny.file(suffix)


# Components LTX-2.3's single file does not have.
_LTX_2_5_ONLY = ("duration_head",)

LORA_MODULES = ("attn1.to_q", "attn1.to_v", "attn2.to_k", "ff.net.0.proj", "audio_attn1.to_q")


def write_tiny_lora(
    path: Path, seed: int = 0, rank: int = 2, metadata: dict[str, str] | None = None, scale: float = 0.1
) -> Path:
    """A LoRA for the tiny transformer in the Lightricks/ComfyUI format (``diffusion_model.<path>.lora_A/B``)."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(seed)
    widths = {"attn1": 32, "attn2": 32, "ff": 32, "audio_attn1": 16}
    tensors = {}
    for block in range(TRANSFORMER["num_layers"]):
        for module in LORA_MODULES:
            dim = widths[module.split(".")[0]]
            out_dim = 4 * dim if module == "ff.net.0.proj" else dim
            key = f"{prefixes.LORA}transformer_blocks.{block}.{module}"
            tensors[f"{key}.lora_A.weight"] = rng.normal(0, dim**-0.5, (rank, dim)).astype(np.float32)
            tensors[f"{key}.lora_B.weight"] = rng.normal(0, scale, (out_dim, rank)).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=metadata or {})
    return path


def write_tiny_gemma(folder: Path, seed: int = 0) -> Path:
    """A 4-layer, 32-wide Gemma 3 with a tiny Gemma-style tokenizer (shipped as package data), random weights."""
    import mlx.core as mx
    from mlx_lm.models import gemma3_text
    from safetensors.numpy import save_file

    from mlx_ltx_text.gemma_loading import gemma_model_args

    template = Path(__file__).parent / "tiny_gemma"
    shutil.copytree(template, folder, dirs_exist_ok=True)
    config = json.loads((folder / "config.json").read_text())
    mx.random.seed(seed)
    model = gemma3_text.Model(gemma_model_args(config, folder))
    weights = {
        "language_model." + k: np.array(v.astype(mx.float32)) for k, v in _flat(model) if not k.startswith("lm_head.")
    }
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    return folder


def _components() -> tuple:
    """The converter's specs, with the tiny Gemma's size recorded in the text projection's config.json (real
    checkpoints belong to Gemma 3 12B, the default)."""
    import dataclasses

    from mlx_ltx_convert.components import COMPONENTS

    gemma = {"gemma": {"hidden_size": 32, "num_hidden_layers": 4}}
    return tuple(
        dataclasses.replace(s, info=lambda _config, _keys: gemma) if s.name == "text_projection" else s
        for s in COMPONENTS
    )


def tiny_model(cache: Path | None = None, progress: Any = None, tiny: TinyModel = TINY_23) -> tuple[Path, Path]:
    """(converted model folder, Gemma folder) of the tiny model, built and converted once per version;
    ``progress(message)`` is told what a first build does (it takes seconds)."""
    from mlx_ltx_cli import __version__
    from mlx_ltx_cli.resolve import cache_root

    root = (cache or cache_root()) / f"{tiny.name}-{cache_key(__version__, tiny)}"
    model, gemma = root / "model", root / "gemma"
    if not (model / "model_index.json").exists():
        if progress is not None:
            progress(f"building the tiny random model (once, a few seconds) into {root}")
        _build_model(root, model, tiny)
    if not (gemma / "model.safetensors").exists():
        if progress is not None:
            progress("building its tiny random Gemma text encoder (once)")
        _build_gemma(gemma)
    return model, gemma


def cache_key(version: str, tiny: TinyModel = TINY_23) -> str:
    """The tiny model's cache folder key: its configs and the package version (a change rebuilds it)."""
    configs = [tiny.config, tiny.upscalers, tiny.version, version]
    return hashlib.sha256(json.dumps(configs).encode()).hexdigest()[:12]


def write_tiny_files(folder: Path, tiny: TinyModel = TINY_23) -> list[Path]:
    """`ltx tiny-checkpoint`: [checkpoint, upscalers (×2 first), distilled LoRA, Gemma folder] of a tiny model, in
    the Lightricks format (as a user downloads them), into ``folder``; an existing file of the same name is
    refused."""
    names = (tiny.file("random"), *map(tiny.file, tiny.upscalers))
    lora_name, gemma = tiny.file("distilled-lora"), folder / "gemma"
    taken = [folder / n for n in (*names, lora_name, "gemma") if (folder / n).exists()]
    if taken:
        raise ValueError(f"{taken[0]} already exists; choose another folder")
    ckpt, upscaler = write_tiny_checkpoint(folder, tiny=tiny)
    more = write_tiny_upscalers(folder, tiny=tiny)
    lora = write_tiny_lora(folder / lora_name, seed=1)
    tmp = write_tiny_gemma(folder / ".gemma.partial")
    os.replace(tmp, gemma)
    return [ckpt, upscaler, *more, lora, gemma]


def _build_model(root: Path, model: Path, tiny: TinyModel) -> None:
    """Write the Lightricks-format files and convert them inside this process's scratch folder, then rename the model
    into place; when a concurrent build got there first, use its model (the same files) and drop ours."""
    from mlx_ltx_convert.convert import convert
    from mlx_ltx_convert.publish import check_output
    from mlx_ltx_core.folder_swap import is_model_folder

    check_output(model, overwrite=True)  # a folder there that the converter did not write is refused, not replaced
    work = _scratch(root / "source")
    try:
        ckpt, upscaler = write_tiny_checkpoint(work, tiny=tiny)
        more = write_tiny_upscalers(work, tiny=tiny)
        lora = write_tiny_lora(work / tiny.file("distilled-lora"), seed=1)
        convert([ckpt, upscaler, *more, lora], work / "model", components=_components())
        try:
            os.replace(work / "model", model)  # onto nothing or an empty folder; a finished model stays
        except OSError:
            if not is_model_folder(model):
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _build_gemma(gemma: Path) -> None:
    """Build in this process's scratch folder and rename into place; when another build won, use its Gemma."""
    tmp = write_tiny_gemma(_scratch(gemma))
    try:
        os.replace(tmp, gemma)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (gemma / "model.safetensors").exists():
            raise ValueError(f"{gemma}: exists but is not the tiny Gemma; move it away (or clear $LTX_CACHE)") from None


def _scratch(path: Path) -> Path:
    """``.NAME.<pid>.partial`` beside ``path``, after removing those of builds that died (our names, our cache)."""
    from mlx_ltx_core.folder_swap import PARTIAL, alive, leftovers, sibling

    for stale, pid in leftovers(path, PARTIAL):
        if not alive(pid) and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
    tmp = sibling(path, os.getpid(), PARTIAL)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def _flat(model: nn.Module) -> list[tuple[str, mx.array]]:
    """(key, array) for every parameter; mlx.utils.tree_flatten's return type also admits a dict."""
    from mlx.utils import tree_flatten

    return cast("list[tuple[str, mx.array]]", tree_flatten(model.parameters()))
