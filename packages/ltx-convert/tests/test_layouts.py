"""The pure-numpy key and layout rules of each component family (layouts/), on hand-picked keys and shapes."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_convert.layouts import audio, text, video_vae


def test_video_vae_keys_map_to_each_component() -> None:
    assert (
        video_vae.component_key("video_decoder", "vae.decoder.up_blocks.1.conv.conv.weight")
        == "up_blocks.1.conv.conv.weight"
    )
    assert video_vae.component_key("video_encoder", "vae.decoder.up_blocks.1.conv.conv.weight") is None
    assert video_vae.component_key("video_encoder", "vae.encoder.conv_in.conv.bias") == "conv_in.conv.bias"
    for part in ("video_encoder", "video_decoder"):
        stats = video_vae.component_key(part, "vae.per_channel_statistics.mean-of-means")
        assert stats == "per_channel_statistics.mean-of-means"
        assert not video_vae.is_unused(stats)
        assert video_vae.is_unused(
            video_vae.component_key(part, "vae.per_channel_statistics.mean-of-stds")
        )  # no module reads it
        assert video_vae.component_key(part, "audio_vae.decoder.conv_in.conv.weight") is None
    with pytest.raises(ValueError, match="'vae' is not a video VAE part"):
        video_vae.component_key("vae", "vae.decoder.conv_in.conv.weight")


def test_video_vae_layouts_become_channels_last() -> None:
    conv = np.arange(4 * 3 * 3 * 3 * 2, dtype=np.float32).reshape(4, 2, 3, 3, 3)
    assert video_vae.torch_to_mlx("conv_in.conv.weight", conv).shape == (4, 3, 3, 3, 2)
    assert video_vae.torch_to_mlx("conv_in.conv.weight", conv)[1, 0, 2, 1, 1] == conv[1, 1, 0, 2, 1]
    assert video_vae.torch_to_mlx("up_blocks.0.res_blocks.0.per_channel_scale1", np.ones((8, 1, 1))).shape == (8,)
    table = np.ones((4, 16), np.float32)
    assert video_vae.torch_to_mlx("up_blocks.0.res_blocks.0.scale_shift_table", table) is table


def test_audio_keys() -> None:
    assert audio.component_key("vocoder", "vocoder.vocoder.conv_pre.weight") == "vocoder.conv_pre.weight"
    assert audio.component_key("vocoder", "vocoder.conv_pre.weight") == "conv_pre.weight"
    stats = "audio_vae.per_channel_statistics.mean-of-means"
    assert audio.component_key("audio_encoder", stats) == "per_channel_statistics.mean-of-means"
    assert audio.component_key("audio_decoder", stats) == "per_channel_statistics.mean-of-means"
    assert audio.component_key("audio_encoder", "audio_vae.decoder.conv_in.conv.weight") is None
    assert audio.component_key("audio_decoder", "audio_vae.decoder.conv_in.conv.weight") == "conv_in.conv.weight"
    assert audio.component_key("vocoder", "model.diffusion_model.x") is None
    with pytest.raises(ValueError, match="unknown audio component"):
        audio.component_key("video_decoder", "vae.x")


def test_audio_layouts() -> None:
    w = np.zeros((4, 3, 5, 7))
    assert audio.torch_to_mlx("audio_decoder", "conv_in.conv.weight", w).shape == (4, 5, 7, 3)
    assert audio.torch_to_mlx("vocoder", "ups.0.weight", np.zeros((8, 4, 16))).shape == (4, 16, 8)
    assert audio.torch_to_mlx("vocoder", "bwe_generator.ups.1.weight", np.zeros((8, 4, 16))).shape == (4, 16, 8)
    assert audio.torch_to_mlx("vocoder", "conv_pre.weight", np.zeros((8, 128, 7))).shape == (8, 7, 128)
    basis = "mel_stft.stft_fn.forward_basis"
    assert audio.torch_to_mlx("vocoder", basis, np.zeros((514, 1, 512))).shape == (514, 512, 1)
    assert audio.torch_to_mlx("vocoder", "mel_stft.mel_basis", np.zeros((64, 257))).shape == (64, 257)
    assert audio.torch_to_mlx("vocoder", "conv_pre.weight", mx.zeros((8, 128, 7), mx.bfloat16)).shape == (8, 7, 128)


def test_text_projection_keys() -> None:
    assert (
        text.text_projection_key("text_embedding_projection.aggregate_embed.weight")
        == "text_embedding_projection.aggregate_embed.weight"
    )
    assert (
        text.text_projection_key("model.diffusion_model.audio_embeddings_connector.learnable_registers")
        == "audio_embeddings_connector.learnable_registers"
    )
    assert text.text_projection_key("model.diffusion_model.transformer_blocks.0.attn1.to_q.weight") is None
    assert text.text_projection_key("vae.decoder.conv_in.conv.weight") is None


def test_gemma4_keys_flat_and_transformers_layouts() -> None:
    """The shipped Comfy-flat keys are mlx-lm's already; transformers' ``model.language_model.*`` maps onto them;
    the tokenizer tensors stay; the projection and the vision / audio embedders are not the text encoder's."""
    from mlx_ltx_convert.layouts.text import gemma4_key

    assert gemma4_key("model.layers.5.self_attn.q_norm.weight") == "model.layers.5.self_attn.q_norm.weight"
    assert gemma4_key("model.language_model.layers.5.mlp.up_proj.weight") == "model.layers.5.mlp.up_proj.weight"
    assert gemma4_key("model.language_model.embed_tokens.weight") == "model.embed_tokens.weight"
    assert gemma4_key("tokenizer_json") == "tokenizer_json"
    assert gemma4_key("hf_asset__tokenizer_config.json") == "hf_asset__tokenizer_config.json"
    for other in ("text_embedding_projection.video_aggregate_embed.weight", "vision_model.patch_embedder.weight"):
        assert gemma4_key(other) is None
