"""End to end with the tiny Gemma: prompt → contexts of the right shapes through a text_projection folder."""

from __future__ import annotations

import copy

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_core.tiny_configs import tiny_config
from mlx_ltx_text import (
    EmbeddingsProcessor,
    EmbeddingsProcessorArgs,
    GemmaTextEncoder,
    PromptEncoder,
    load_text_projection,
    save_text_projection,
)
from mlx_ltx_text.enhance import generate_enhanced_prompt

MAX_LENGTH = 128  # one register period (the real encoder pads to 1024 = 8 × 128)
# "ltx2": V1, aggregate_embed to Gemma's width, connectors as wide; "ltx23": V2, separate widths, 8-layer gated
# connectors like LTX-2.3.
CONFIGS = tiny_config("tests", "text_projection")


@pytest.fixture(params=sorted(CONFIGS))
def encoder(request, tmp_path, tiny_gemma_dir) -> PromptEncoder:
    """The tiny Gemma plus a random text projection written to and read from a component folder."""
    gemma = GemmaTextEncoder.load(tiny_gemma_dir, dtype=mx.float32, max_length=MAX_LENGTH)
    config = CONFIGS[request.param]
    args = EmbeddingsProcessorArgs.from_dict(config, gemma.model.args.hidden_size, gemma.model.args.num_hidden_layers)
    mx.random.seed(5)
    model = EmbeddingsProcessor(args)
    model.update(
        {"video_embeddings_connector": {"learnable_registers": mx.random.uniform(-1, 1, (128, args.video_dim))}}
    )
    model.update(
        {"audio_embeddings_connector": {"learnable_registers": mx.random.uniform(-1, 1, (128, args.audio_dim))}}
    )
    folder = save_text_projection(tmp_path / "text_projection", model, config)
    return PromptEncoder(gemma, load_text_projection(folder))


def test_encode_prompt_shapes_and_mask(encoder: PromptEncoder) -> None:
    video, audio, mask = encoder.encode_prompt("A red fox trots across a snowy meadow at dawn.")
    args = encoder.embeddings_processor.args
    assert video.shape == (1, MAX_LENGTH, args.video_dim) and audio.shape == (1, MAX_LENGTH, args.audio_dim)
    assert mask.dtype == mx.int32 and np.array(mask).all()  # the registers fill every padded position
    assert np.isfinite(np.array(video)).all() and np.isfinite(np.array(audio)).all()


def test_encode_prompts_frees_gemma(encoder: PromptEncoder) -> None:
    """The negative-prompt path: both prompts in one Gemma batch, then Gemma is freed."""
    prompt, negative = "A cat walks on the beach at sunset.", "blurry, low quality"
    expected = [encoder.encode_prompt(p) for p in (prompt, negative)]
    positive_out, negative_out = encoder.encode_prompts([prompt, negative])
    for got, want in zip((positive_out, negative_out), expected, strict=True):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(np.array(a), np.array(b), atol=1e-5)
    assert not np.allclose(np.array(positive_out.video_encoding), np.array(negative_out.video_encoding))
    assert encoder.text_encoder is None
    with pytest.raises(ValueError, match="Gemma was freed"):
        encoder.encode_prompt(prompt)


def test_encode_prompts_enhances_the_first_prompt(encoder: PromptEncoder) -> None:
    """``enhance_first_prompt`` encodes the cleaned enhancement (here every token ends it: the empty prompt)."""
    gemma = copy.copy(encoder.text_encoder)
    gemma.generation_config = {**gemma.generation_config, "eos_token_id": list(range(gemma.model.args.vocab_size))}
    encoder.text_encoder = gemma
    assert generate_enhanced_prompt(gemma, "a cat", seed=3) == ""
    expected = encoder.encode_prompt("")
    (enhanced,) = encoder.encode_prompts(["a cat"], enhance_first_prompt=True, enhance_prompt_seed=3)
    np.testing.assert_allclose(np.array(enhanced.video_encoding), np.array(expected.video_encoding), atol=1e-5)


def test_empty_prompt_list(encoder: PromptEncoder) -> None:
    with pytest.raises(ValueError, match="prompts is empty"):
        encoder.encode_prompts([])
