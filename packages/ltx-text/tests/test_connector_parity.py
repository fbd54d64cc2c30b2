"""Parity of the feature extractors + connectors with the reference's float64 goldens (every manifest case)."""

from __future__ import annotations

import mlx.core as mx
import numpy as np

from mlx_ltx_core.utils import rms_norm

from ltx_testing import assert_parity, max_rel_error

REL = 1e-4


def test_outputs_match_reference(goldens, connector_case: str) -> None:
    model = goldens.build(connector_case)
    out = model(*goldens.inputs(connector_case))
    expected = goldens.tensors(connector_case, "outputs_f64")
    assert_parity(out.video_encoding, expected["video_encoding"], REL, f"{connector_case} video")
    assert_parity(out.audio_encoding, expected["audio_encoding"], REL, f"{connector_case} audio")
    np.testing.assert_array_equal(np.array(out.attention_mask), expected["binary_mask"])
    assert out.attention_mask.dtype == mx.int32


def test_intermediates_match_reference(goldens, connector_case: str) -> None:
    """Feature-extractor outputs and the first block of each connector (localises a mismatch)."""
    model = goldens.build(connector_case)
    hidden, mask = goldens.inputs(connector_case)
    inter = goldens.tensors(connector_case, "intermediates")
    video, audio = model.text_embedding_projection(hidden, mask)
    if "feature_extractor.aggregate_embed" in inter:  # V1: one projection shared by both connectors
        assert_parity(video, inter["feature_extractor.aggregate_embed"], REL, "aggregate_embed")
    else:
        assert_parity(video, inter["feature_extractor.video_aggregate_embed"], REL, "video_aggregate_embed")
        assert_parity(audio, inter["feature_extractor.audio_aggregate_embed"], REL, "audio_aggregate_embed")
    for name, features in (("video", video), ("audio", audio)):
        connector = getattr(model, f"{name}_embeddings_connector")
        x = connector._replace_padded_with_learnable_registers(features, mask)
        block0 = connector.transformer_1d_blocks[0](x, connector._rope(x.shape[1], x.dtype))
        assert_parity(block0, inter[f"{name}_connector.transformer_1d_blocks.0"], REL, f"{name} block 0")


def test_padding_rows_do_not_matter(goldens, connector_case: str) -> None:
    """The reference masks padded tokens out of the normalisation and replaces them by registers."""
    model = goldens.build(connector_case)
    a = model(*goldens.inputs(connector_case, fill=0.0))
    b = model(*goldens.inputs(connector_case, fill=-3e4))
    np.testing.assert_array_equal(np.array(a.video_encoding), np.array(b.video_encoding))
    np.testing.assert_array_equal(np.array(a.audio_encoding), np.array(b.audio_encoding))


def test_registers_fill_from_the_first_padded_position(goldens, connector_case: str) -> None:
    """Valid tokens move to the front in order; position p ≥ n_valid holds register p mod 128."""
    model = goldens.build(connector_case)
    connector = model.video_embeddings_connector
    t, n_valid = 256, goldens.info(connector_case)["valid_tokens"]
    features = mx.broadcast_to(mx.arange(t, dtype=mx.float32)[None, :, None], (1, t, connector.inner_dim))
    mask = (mx.arange(t) >= t - n_valid).astype(mx.int32)[None]
    x = np.array(connector._replace_padded_with_learnable_registers(features, mask))[0]
    np.testing.assert_array_equal(x[:n_valid, 0], np.arange(t - n_valid, t))
    registers = np.array(connector.learnable_registers)
    np.testing.assert_array_equal(x[n_valid:], registers[np.arange(n_valid, t) % 128])


def test_batch_rows_are_independent(goldens, connector_case: str) -> None:
    """Two prompts with different padding in one batch give each prompt's own result."""
    model = goldens.build(connector_case)
    hidden, mask = goldens.inputs(connector_case)
    other = (mx.arange(mask.shape[1]) >= mask.shape[1] - 20).astype(mx.int32)[None]
    batch = model(mx.concatenate([hidden, hidden]), mx.concatenate([mask, other]))
    for i, row_mask in enumerate((mask, other)):
        alone = model(hidden, row_mask)
        assert max_rel_error(batch.video_encoding[i : i + 1], np.array(alone.video_encoding)) < 1e-6
        assert max_rel_error(batch.audio_encoding[i : i + 1], np.array(alone.audio_encoding)) < 1e-6
    assert max_rel_error(batch.video_encoding[1:], np.array(batch.video_encoding[:1])) > 1e-2


def test_bfloat16_runs_close(goldens, connector_case: str) -> None:
    """Tiny bf16 smoke run: same path, loose tolerance."""
    model = goldens.build(connector_case)
    model.set_dtype(mx.bfloat16)
    hidden, mask = goldens.inputs(connector_case)
    out = model(hidden.astype(mx.bfloat16), mask)
    assert out.video_encoding.dtype == mx.bfloat16
    expected = goldens.tensors(connector_case, "outputs_f64")
    assert max_rel_error(out.video_encoding.astype(mx.float32), expected["video_encoding"]) < 5e-2


def test_final_norm_is_weightless_rms(goldens, connector_case: str) -> None:
    out = goldens.build(connector_case)(*goldens.inputs(connector_case))
    video = out.video_encoding
    np.testing.assert_allclose(np.array(rms_norm(video)), np.array(video), atol=1e-5)
