"""The compiled elementwise chains compute what their plain versions compute (float32 and bfloat16)."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_core.model.transformer import ops


def _inputs(dtype: mx.Dtype) -> dict[str, tuple]:
    keys = iter(mx.random.split(mx.random.key(1), 8))

    def rnd(*shape):
        return mx.random.normal(shape, key=next(keys)).astype(dtype)

    x, scale, shift = rnd(2, 5, 64), rnd(2, 5, 64), rnd(2, 1, 64)  # shift broadcast over tokens, as per-sample rows
    q, cos, sin = rnd(2, 4, 5, 16), rnd(1, 4, 5, 8), rnd(1, 4, 5, 8)
    return {
        "modulate": (ops.modulate_plain, ops.modulate, (x, scale, shift, 1e-6)),
        "scale_shift": (ops.scale_shift_plain, ops.scale_shift, (x, scale, shift)),
        "head_gate": (ops.head_gate_plain, ops.head_gate, (x, rnd(2, 5, 4), 4)),
        "split_rope": (ops.split_rope_plain, ops.split_rope, (q, cos, sin)),
        "interleaved_rope": (ops.interleaved_rope_plain, ops.interleaved_rope, (x, scale, shift)),
        "gated_residual": (ops.gated_residual_plain, ops.gated_residual, (x, scale, shift)),
    }


@pytest.mark.parametrize(("dtype", "tol"), [(mx.float32, 1e-6), (mx.bfloat16, 1e-2)], ids=["float32", "bfloat16"])
def test_compiled_chains_match_plain(dtype: mx.Dtype, tol: float) -> None:
    for name, (plain, compiled, args) in _inputs(dtype).items():
        ref, out = plain(*args), compiled(*args)
        assert out.dtype == ref.dtype == dtype and out.shape == ref.shape, name
        ref32, out32 = np.array(ref.astype(mx.float32)), np.array(out.astype(mx.float32))
        assert np.abs(out32 - ref32).max() <= tol * np.abs(ref32).max(), name
