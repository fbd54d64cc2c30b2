#!/usr/bin/env python
"""Full-size LTX-2 / LTX-2.3 / LTX-2.5 parameter keys and shapes, from the reference built on the meta device.

Writes OUT (default tests/data/full_size_keys.json): per model version, each component's config and its
checkpoint keys (as stored in the Lightricks files, prefixes included) with shapes. ``source`` says which file holds
the component: the single-file ``checkpoint`` or a separate ``upscaler`` file (flat config, no prefix). LTX-2.5 is a
split release: its ``files`` map each file to the key prefixes and metadata sections it holds (the text-encoder
file's Gemma keys are not listed, only its ``text_embedding_projection.*``; the video VAE file has bare keys), and
``diffusion_vae_file`` lists the 2.5 diffusion-VAE file's keys as shipped (fused QKV, ``t_embedder.mlp``). Per-block
transformer keys are folded to ``transformer_blocks.{i}.`` (block 0's shapes, which every block shares) to keep the
file small; tests expand them with ``num_layers``. Components that share tensors (the VAE per-channel statistics)
list them in each.

Configs are the checkpoints' ``__metadata__`` values as quoted by third-party ports (marked (C) in
shared/reference); the upscaler configs of the temporal files were not seen and follow the spatial ones.

Usage: python full_size_keys.py [--out FILE] [--ltx-core-src CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable

if "--ltx-core-src" in sys.argv:
    _src = os.path.abspath(sys.argv[sys.argv.index("--ltx-core-src") + 1])
    if os.path.isdir(os.path.join(_src, "packages", "ltx-core", "src")):
        _src = os.path.join(_src, "packages", "ltx-core", "src")
    sys.path.insert(0, _src)

import torch
from ltx_core.model.audio_vae import AudioDecoderConfigurator, AudioEncoderConfigurator, VocoderConfigurator
from ltx_core.model.transformer import LTXModelConfigurator
from ltx_core.model.upsampler import LatentUpsamplerConfigurator
from ltx_core.model.video_vae import VideoDecoderConfigurator, VideoEncoderConfigurator
from ltx_core.text_encoders.gemma.encoders.encoder_configurator import EmbeddingsProcessorConfigurator

_REQUIRED = {
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
    "use_audio_video_cross_attention": True,
    "share_ff": False,
    "av_cross_ada_norm": True,
}
# Values from the checkpoints' __metadata__ as quoted by third-party ports (see shared/reference *.md, marked (C)).
LTX2_TRANSFORMER = {
    **_REQUIRED,
    "num_layers": 48,
    "num_attention_heads": 32,
    "attention_head_dim": 128,
    "cross_attention_dim": 4096,
    "caption_channels": 3840,
    "audio_num_attention_heads": 32,
    "audio_attention_head_dim": 64,
    "audio_cross_attention_dim": 2048,
    "in_channels": 128,
    "out_channels": 128,
    "audio_in_channels": 128,
    "audio_out_channels": 128,
    "norm_eps": 1e-6,
    "positional_embedding_theta": 10000.0,
    "positional_embedding_max_pos": [20, 2048, 2048],
    "audio_positional_embedding_max_pos": [20],
    "timestep_scale_multiplier": 1000,
    "av_ca_timestep_scale_multiplier": 1000.0,
    "rope_type": "split",
    "frequencies_precision": "float64",
    "causal_temporal_positioning": True,
    # Text connectors (built by the text encoder from config["transformer"]).
    "connector_num_attention_heads": 30,
    "connector_attention_head_dim": 128,
    "connector_num_layers": 2,
    "connector_positional_embedding_max_pos": [4096],
    "connector_num_learnable_registers": 128,
}
LTX23_TRANSFORMER = {
    **LTX2_TRANSFORMER,
    "caption_proj_before_connector": True,
    "caption_projection_first_linear": False,
    "caption_proj_input_norm": False,
    "caption_projection_second_linear": False,
    "apply_gated_attention": True,
    "cross_attention_adaln": True,
    "connector_num_attention_heads": 32,
    "connector_num_layers": 8,
    "connector_apply_gated_attention": True,
    "audio_connector_num_attention_heads": 32,
    "audio_connector_attention_head_dim": 64,
    "audio_connector_num_layers": 8,
}

# LTX-2.5 (T1 in shared/reference/ltx-2.5.md §2.2): 2.3's config with these keys; the connectors are 2.3's.
LTX25_TRANSFORMER = {
    **LTX23_TRANSFORMER,
    "ff_bias": False,
    "use_keyframes_abs_pos_embedding": True,
    "text_encoder_norm_type": "PER_TOKEN_RMS",
    "connector_norm_output": True,
}


def _res(n: int, **kw) -> list:
    return ["res_x", {"num_layers": n, **kw}]


_VAE_COMMON = {
    "_class_name": "CausalVideoAutoencoder",
    "dims": 3,
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 128,
    "scaling_factor": 1.0,
    "norm_layer": "pixel_norm",
    "patch_size": 4,
    "latent_log_var": "uniform",
    "use_quant_conv": False,
    "causal_decoder": False,
    "timestep_conditioning": False,
    "normalize_latent_channels": False,
    "decoder_base_channels": 128,
}
LTX2_VAE = {
    **_VAE_COMMON,
    "encoder_blocks": [
        _res(4),
        ["compress_space_res", {"multiplier": 2}],
        _res(6),
        ["compress_time_res", {"multiplier": 2}],
        _res(6),
        ["compress_all_res", {"multiplier": 2}],
        _res(2),
        ["compress_all_res", {"multiplier": 2}],
        _res(2),
    ],
    "decoder_blocks": [
        _res(5, inject_noise=False),
        ["compress_all", {"residual": True, "multiplier": 2}],
        _res(5, inject_noise=False),
        ["compress_all", {"residual": True, "multiplier": 2}],
        _res(5, inject_noise=False),
        ["compress_all", {"residual": True, "multiplier": 2}],
        _res(5, inject_noise=False),
    ],
}
LTX23_VAE = {
    **_VAE_COMMON,
    "spatial_padding_mode": "zeros",
    "encoder_base_channels": 128,
    "encoder_blocks": [
        _res(4),
        ["compress_space_res", {"multiplier": 2}],
        _res(6),
        ["compress_time_res", {"multiplier": 2}],
        _res(4),
        ["compress_all_res", {"multiplier": 2}],
        _res(2),
        ["compress_all_res", {"multiplier": 1}],
        _res(2),
    ],
    "decoder_blocks": [
        _res(4),
        ["compress_space", {"multiplier": 2}],
        _res(6),
        ["compress_time", {"multiplier": 2}],
        _res(4),
        ["compress_all", {"multiplier": 1}],
        _res(2),
        ["compress_all", {"multiplier": 2}],
        _res(2),
    ],
}
# The 2.5 diffusion-VAE file (shared/reference/ltx-2.5.md §5.1, §5.3; T1): a nested ``CausalDiffusionVAE`` config,
# 2.3's conv encoder with a constant log-variance, and the neighborhood-attention diffusion decoder.
DIFFUSION_VAE_25 = {
    "_class_name": "CausalDiffusionVAE",
    "latent_channels": 128,
    "model_output_type": "x0",
    "encoder": {
        "dims": 3,
        "in_channels": 3,
        "out_channels": 128,
        "blocks": LTX23_VAE["encoder_blocks"],
        "patch_size": 4,
        "norm_layer": "pixel_norm",
        "latent_log_var": "constant",
        "spatial_padding_mode": "zeros",
    },
    "decoder": {
        "in_channels": 128,
        "out_channels": 3,
        "patch_size": 4,
        "head_dim": 64,
        "stage_channels": [2048, 1024, 512, 512, 256],
        "stage_depths": [4, 6, 4, 2, 8],
        "stage_kernels": [[3, 7, 7], [3, 7, 7], [3, 5, 5], [3, 5, 5], [11, 11, 11]],
        "upsamples": [[[1, 2, 2], 2], [[2, 1, 1], 2], [[2, 2, 2], 1], [[2, 2, 2], 2]],
        "stage5_kernel": [11, 11, 11],
        "default_num_inference_steps": 1,
        "timestep_scale_multiplier": 1000.0,
        "resampler_kind": "linear",
        "spatial_padding_mode": "zeros",
    },
}
DIFFUSION_VAE_FILE = "ltx-2.5-video-vae-bf16.safetensors"
AUDIO_VAE = {
    "model": {
        "params": {
            "ddconfig": {
                "double_z": True,
                "mel_bins": 64,
                "z_channels": 8,
                "resolution": 256,
                "downsample_time": False,
                "in_channels": 2,
                "out_ch": 2,
                "ch": 128,
                "ch_mult": [1, 2, 4],
                "num_res_blocks": 2,
                "attn_resolutions": [],
                "dropout": 0.0,
                "mid_block_add_attention": False,
                "norm_type": "pixel",
                "causality_axis": "height",
            },
            "sampling_rate": 16000,
        }
    },
    "preprocessing": {
        "stft": {"filter_length": 1024, "hop_length": 160, "win_length": 1024, "causal": True},
        "mel": {"n_mel_channels": 64, "mel_fmin": 0, "mel_fmax": 8000},
    },
}
_DILATIONS = [[1, 3, 5], [1, 3, 5], [1, 3, 5]]
LTX2_VOCODER = {
    "upsample_initial_channel": 1024,
    "resblock": "1",
    "upsample_rates": [6, 5, 2, 2, 2],
    "upsample_kernel_sizes": [16, 15, 8, 4, 4],
    "resblock_kernel_sizes": [3, 7, 11],
    "resblock_dilation_sizes": _DILATIONS,
    "stereo": True,
}
_AMP = {
    "resblock": "AMP1",
    "resblock_kernel_sizes": [3, 7, 11],
    "resblock_dilation_sizes": _DILATIONS,
    "stereo": True,
    "use_tanh_at_final": False,
    "activation": "snakebeta",
    "use_bias_at_final": False,
}
LTX23_VOCODER = {
    "vocoder": {
        **_AMP,
        "upsample_initial_channel": 1536,
        "upsample_rates": [5, 2, 2, 2, 2, 2],
        "upsample_kernel_sizes": [11, 4, 4, 4, 4, 4],
    },
    "bwe": {
        **_AMP,
        "upsample_initial_channel": 512,
        "upsample_rates": [6, 5, 2, 2, 2],
        "upsample_kernel_sizes": [12, 11, 4, 4, 4],
        "apply_final_activation": False,
        "input_sampling_rate": 16000,
        "output_sampling_rate": 48000,
        "hop_length": 80,
        "n_fft": 512,
        "win_size": 512,
        "num_mels": 64,
    },
}
_UPSAMPLER = {
    "_class_name": "LatentUpsampler",
    "in_channels": 128,
    "mid_channels": 1024,
    "num_blocks_per_stage": 4,
    "dims": 3,
}
SPATIAL_X2_RATIONAL = {
    **_UPSAMPLER,
    "spatial_upsample": True,
    "temporal_upsample": False,
    "spatial_scale": 2.0,
    "rational_resampler": True,
}
SPATIAL_X2 = {**SPATIAL_X2_RATIONAL, "rational_resampler": False}
SPATIAL_X1_5 = {**SPATIAL_X2_RATIONAL, "spatial_scale": 1.5}
TEMPORAL_X2 = {
    **_UPSAMPLER,
    "spatial_upsample": False,
    "temporal_upsample": True,
    "spatial_scale": 1.0,
    "rational_resampler": False,
}
# The 2.5 temporal upscaler (a third-party header dump, shared/reference/ltx-2.5.md §6).
TEMPORAL_X2_25 = {**TEMPORAL_X2, "mid_channels": 512, "rational_resampler": True}

MODELS = {
    "ltx-2": {
        "metadata": {"transformer": LTX2_TRANSFORMER, "vae": LTX2_VAE, "audio_vae": AUDIO_VAE, "vocoder": LTX2_VOCODER},
        "upscalers": {"spatial_upscaler_x2": SPATIAL_X2_RATIONAL, "temporal_upscaler_x2": TEMPORAL_X2},
    },
    "ltx-2.3": {
        "metadata": {
            "transformer": LTX23_TRANSFORMER,
            "vae": LTX23_VAE,
            "audio_vae": AUDIO_VAE,
            "vocoder": LTX23_VOCODER,
        },
        "upscalers": {
            "spatial_upscaler_x2": SPATIAL_X2,
            "spatial_upscaler_x1.5": SPATIAL_X1_5,
            "temporal_upscaler_x2": TEMPORAL_X2,
        },
    },
    "ltx-2.5": {
        "metadata": {
            "transformer": LTX25_TRANSFORMER,
            "vae": LTX23_VAE,  # the conv VAE file: 2.3's structure (T1)
            "audio_vae": AUDIO_VAE,
            "vocoder": LTX23_VOCODER,
        },
        "upscalers": {"spatial_upscaler_x2": SPATIAL_X2, "temporal_upscaler_x2": TEMPORAL_X2_25},
        "files": {
            "ltx-2.5-22b-dev-transformer-bf16.safetensors": {
                "prefixes": ["model.diffusion_model."],
                "metadata": ["transformer"],
            },
            "gemma4-12b-with-proj-ltx-2.5-bf16.safetensors": {
                "prefixes": ["text_embedding_projection."],
                "metadata": [],
            },
            "ltx-2.5-video-vae-conv-bf16.safetensors": {
                "prefixes": ["encoder.", "decoder.", "per_channel_statistics."],
                "metadata": ["vae"],
            },
            "ltx-2.5-audio-vae-bf16.safetensors": {
                "prefixes": ["audio_vae.", "vocoder."],
                "metadata": ["audio_vae", "vocoder"],
            },
        },
    },
}


def _vae_key(part: str, prefix: str) -> Callable[[str], str]:
    """Module key → checkpoint key: ``<prefix>.<part>.*``; the statistics are shared at ``<prefix>.per_channel_statistics``
    (prefix "": the bare keys of a split VAE file)."""
    head = f"{prefix}." if prefix else ""
    return lambda k: f"{head}{k}" if k.startswith("per_channel_statistics.") else f"{head}{part}.{k}"


def _text_key(k: str) -> str:
    if k.startswith("feature_extractor."):
        return "text_embedding_projection." + k.removeprefix("feature_extractor.")
    connector, rest = k.split(".", 1)  # video_connector / audio_connector
    return f"model.diffusion_model.{connector.removesuffix('_connector')}_embeddings_connector.{rest}"


# component → (configurator, metadata section, module key → checkpoint key)
COMPONENTS = {
    "transformer": (LTXModelConfigurator, "transformer", lambda k: "model.diffusion_model." + k),
    "text_projection": (EmbeddingsProcessorConfigurator, "transformer", _text_key),
    "video_encoder": (VideoEncoderConfigurator, "vae", _vae_key("encoder", "vae")),
    "video_decoder": (VideoDecoderConfigurator, "vae", _vae_key("decoder", "vae")),
    "audio_encoder": (AudioEncoderConfigurator, "audio_vae", _vae_key("encoder", "audio_vae")),
    "audio_decoder": (AudioDecoderConfigurator, "audio_vae", _vae_key("decoder", "audio_vae")),
    "vocoder": (VocoderConfigurator, "vocoder", lambda k: "vocoder." + k),
}


class _TextProjection:
    """v1.2.0's EmbeddingsProcessorConfigurator less its Gemma-folder read: Gemma 3 12B and the 2.5 Gemma 4 12B
    text tower both give 48 layers (49 states) × 3840."""

    @staticmethod
    def from_metadata(metadata: dict) -> torch.nn.Module:
        from types import SimpleNamespace

        from ltx_core.text_encoders.gemma.embeddings_connector import (
            AudioEmbeddings1DConnectorConfigurator,
            Embeddings1DConnectorConfigurator,
        )
        from ltx_core.text_encoders.gemma.embeddings_processor import EmbeddingsProcessor
        from ltx_core.text_encoders.gemma.encoders.encoder_configurator import _create_feature_extractor

        gemma = SimpleNamespace(hidden_size=3840, num_hidden_layers=48)
        return EmbeddingsProcessor(
            video_connector=Embeddings1DConnectorConfigurator.from_metadata(metadata),
            audio_connector=AudioEmbeddings1DConnectorConfigurator.from_metadata(metadata),
            feature_extractor=_create_feature_extractor(metadata["config"]["transformer"], gemma),
        )


def _build(configurator, config: dict) -> torch.nn.Module:
    with torch.device("meta"):
        if configurator is EmbeddingsProcessorConfigurator and hasattr(configurator, "from_metadata"):
            configurator = _TextProjection
        if hasattr(configurator, "from_metadata"):  # v1.2.0 (400fd31): every configurator reads the metadata
            return configurator.from_metadata({"config": config})
        return configurator.from_config(config)  # ltx-core 1.0.0


def entry(model: torch.nn.Module, to_key: Callable[[str], str], source: str, section: str | None, cfg: dict) -> dict:
    keys: dict[str, list[int]] = {}
    state = model.state_dict()  # parameters and persistent buffers: what the checkpoint holds
    for name, p in state.items():
        m = re.match(r"transformer_blocks\.(\d+)\.(.*)", name)
        if m and m.group(1) != "0":
            continue
        keys[to_key(f"transformer_blocks.{{i}}.{m.group(2)}" if m else name)] = list(p.shape)
    return {
        "source": source,
        "config_section": section,
        "config": cfg,
        "num_params": sum(p.numel() for p in state.values()),
        "num_tensors": len(state),
        "keys": keys,
    }


def _shipped_diffusion_decoder_keys(module_keys: dict[str, list[int]]) -> dict[str, list[int]]:
    """The decoder's module keys as the shipped file stores them (the inverse of the reference's load-time SDOps):
    ``…attn.qkv.to_{q,k,v}`` fused into ``…attn.qkv`` (rows stacked), ``t_embedder.timestep_embedder.linear_{1,2}`` as
    ``t_embedder.mlp.{0,2}``, under ``decoder.``; plus ``type_emb`` [128], which the file holds and no module reads."""
    out: dict[str, list[int]] = {}
    for key, shape in module_keys.items():
        if key.startswith("per_channel_statistics."):
            out[key] = shape
            continue
        fused = re.fullmatch(r"(.*\.attn\.qkv)\.to_([qkv])\.(weight|bias)", key)
        if fused:
            if fused.group(2) == "q":
                out[f"decoder.{fused.group(1)}.{fused.group(3)}"] = [3 * shape[0], *shape[1:]]
            continue
        key = key.replace("t_embedder.timestep_embedder.linear_1.", "t_embedder.mlp.0.")
        out["decoder." + key.replace("t_embedder.timestep_embedder.linear_2.", "t_embedder.mlp.2.")] = shape
    out["decoder.type_emb"] = [128]
    return out


def diffusion_vae_file() -> dict:
    """The 2.5 diffusion-VAE file's keys (encoder, decoder, statistics once) and which component reads each part."""
    metadata = {"vae": DIFFUSION_VAE_25}
    encoder = _build(VideoEncoderConfigurator, metadata).state_dict()
    decoder = _build(VideoDecoderConfigurator, metadata).state_dict()
    keys = {_vae_key("encoder", "")(k): list(v.shape) for k, v in encoder.items()}
    keys |= _shipped_diffusion_decoder_keys({k: list(v.shape) for k, v in decoder.items()})
    print(f"ltx-2.5 diffusion VAE file: {len(keys)} tensors")
    return {"name": DIFFUSION_VAE_FILE, "metadata_config": metadata, "keys": keys}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tests/data/full_size_keys.json")
    ap.add_argument("--ltx-core-src", default=None)
    args = ap.parse_args()
    out = {"note": __doc__.splitlines()[0], "models": {}}
    for version, spec in MODELS.items():
        metadata = spec["metadata"]
        components = {}
        split = "files" in spec
        for name, (configurator, section, to_key) in COMPONENTS.items():
            if split and name.startswith("video_"):
                to_key = _vae_key(name.removeprefix("video_"), "")
            components[name] = entry(_build(configurator, metadata), to_key, "checkpoint", section, metadata[section])
        for name, cfg in spec["upscalers"].items():
            components[name] = entry(_build(LatentUpsamplerConfigurator, cfg), str, "upscaler", None, cfg)
        for name, c in components.items():
            print(f"{version} {name}: {c['num_params']:,} params, {c['num_tensors']} tensors")
        out["models"][version] = {"metadata_config": metadata, "components": components}
        if split:
            out["models"][version]["files"] = spec["files"]
    out["models"]["ltx-2.5"]["diffusion_vae_file"] = diffusion_vae_file()
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
