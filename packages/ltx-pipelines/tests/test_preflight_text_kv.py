"""The denoise estimate counts the stage's cached text K/V where the model caches them (issue 20 item 1)."""

from __future__ import annotations

from mlx_ltx_pipelines.preflight import text_kv_bytes

LTX2 = {"num_layers": 48, "num_attention_heads": 32, "attention_head_dim": 128, "audio_num_attention_heads": 32}


def test_text_kv_bytes_where_the_context_is_step_independent() -> None:
    # LTX-2 in bf16: 48 blocks × K and V × 1024 tokens × (4096 + 2048) × 2 bytes = 1152 MiB per sample, the figure
    # benchmarks/text_kv_cache.py measures (2304 MiB in float32).
    assert text_kv_bytes(LTX2, 2) == 1152 * 2**20
    assert text_kv_bytes({**LTX2, "cross_attention_adaln": True}, 2) == 0  # LTX-2.3: σ-dependent prompt AdaLN
    static = {**LTX2, "cross_attention_adaln": True, "use_prompt_adaln_single": False}
    assert text_kv_bytes(static, 2) == 1152 * 2**20
