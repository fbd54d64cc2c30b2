"""AdaLN on each distinct timestep once, gathered per token: the same bits as the per-token path.

The same bits need a GEMM that gives a row the same bits whatever the number of rows. At the real widths
(4096 video / 2048 audio) the CPU backend does, with its bundled BLAS and with OpenBLAS: tested below with
``mx.array_equal``. OpenBLAS's small-matrix kernels (the tiny golden models) do not: there the golden cases
are compared bit for bit when this backend's GEMM is row-independent at their sizes, else to 1e-6 (their
golden parity is unchanged either way). A GPU GEMM may pick another kernel for 1 row than for N: not
guaranteed there. Patterns: the goldens' stored timesteps and the pipelines' (T2V: one value per sample;
I2V: conditioned tokens 0; a fractional conditioning strength), two samples at different sigmas.
"""

from __future__ import annotations

from dataclasses import replace

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_core.model.transformer.adaln import AdaLayerNormSingle, distinct_rows
from mlx_ltx_core.model.transformer.transformer_args import _timestep

import transformer_goldens as tg
from ltx_testing import manifest

CASES = manifest(tg.FAMILY)["cases"]
IDS = [f"{c['config']}-{c['case']}" for c in CASES]


def _pattern(modality, name: str):
    """The case's modality with pipeline-like timesteps ``mask · σ`` (B, T, 1) instead of the stored ones."""
    if modality is None:
        return None
    b, t = modality.latent.shape[:2]
    mask = np.ones((b, t, 1), np.float32)
    if name == "i2v":
        mask[:, : max(1, t // 3)] = 0.0
    elif name == "strength":
        mask[:, : max(1, t // 3)] = 0.2
    sigma = np.linspace(0.9, 0.4, b, dtype=np.float32).reshape(b, 1, 1)
    dtype = modality.latent.dtype
    return replace(modality, timesteps=mx.array(mask * sigma).astype(dtype), sigma=mx.array(sigma.reshape(b)))


def _forward(case: dict, dtype: mx.Dtype, distinct: bool, pattern: str | None) -> dict[str, mx.array]:
    model = tg.build(case, dtype)
    model.distinct_timesteps = distinct
    video, audio = tg.modalities(case, dtype)
    if pattern is not None:
        video, audio = _pattern(video, pattern), _pattern(audio, pattern)
    out: dict[str, mx.array] = {}
    vx, ax = model(video, audio, tg.perturbations(case, model.args.num_layers), intermediates=out)
    out.update({k: v for k, v in (("video.velocity", vx), ("audio.velocity", ax)) if v is not None})
    return out


@pytest.mark.parametrize("pattern", [None, "t2v", "i2v", "strength"])
@pytest.mark.parametrize("dtype", [mx.float32, mx.bfloat16], ids=["float32", "bfloat16"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_distinct_timesteps_are_bit_identical_to_per_token(case: dict, dtype: mx.Dtype, pattern: str | None) -> None:
    per_token = _forward(case, dtype, distinct=False, pattern=pattern)
    distinct = _forward(case, dtype, distinct=True, pattern=pattern)
    assert sorted(distinct) == sorted(per_token)
    exact = _row_independent_gemm(tg.build(case, dtype))
    for name, value in per_token.items():
        assert distinct[name].shape == value.shape and distinct[name].dtype == value.dtype, name
        if exact:
            assert mx.array_equal(distinct[name], value, equal_nan=True), name
        else:
            a, b = np.array(distinct[name].astype(mx.float32)), np.array(value.astype(mx.float32))
            assert np.allclose(a, b, rtol=1e-6, atol=1e-6 * max(1.0, float(np.abs(b).max()))), name


def _row_independent_gemm(model) -> bool:
    """Whether every AdaLN linear of ``model`` gives a row the same bits alone as among 64 rows."""
    adalns = [m for _, m in model.named_modules() if isinstance(m, AdaLayerNormSingle)]
    linears = [
        lin for a in adalns for lin in (a.emb.timestep_embedder.linear_1, a.emb.timestep_embedder.linear_2, a.linear)
    ]
    for lin in linears:
        x = mx.random.normal((64, lin.weight.shape[1]), key=mx.random.key(0)).astype(lin.weight.dtype)
        if not mx.array_equal(lin(x[:1]), lin(x)[:1]):
            return False
    return True


@pytest.mark.parametrize("width", [4096, 2048])
def test_real_width_adaln_is_bit_identical(width: int) -> None:
    """LTX-2.3 width, 9·D modulation: T2V (one value), I2V (conditioned tokens 0) and a strength, 2 samples."""
    mx.random.seed(0)
    adaln = AdaLayerNormSingle(width, 9)
    mask = np.ones((2, 48, 1), np.float32)
    mask[1, :16] = 0.0
    mask[1, 16:20] = 0.25
    scaled = mx.array(mask * np.array([0.9, 0.6], np.float32).reshape(2, 1, 1)) * 1000.0
    per_token = _timestep(adaln, scaled, 2, mx.float32)
    distinct = _timestep(adaln, scaled, 2, mx.float32, distinct_rows(scaled.reshape(-1)))
    assert distinct_rows(scaled.reshape(-1))[0].size == 4
    for a, b in zip(distinct, per_token, strict=True):
        assert a.shape == b.shape and mx.array_equal(a, b)


def test_distinct_rows_dedups_by_bits_and_gathers_back() -> None:
    values = mx.array([0.7, 0.0, 0.7, 0.2, 0.0, -0.0, 0.7], mx.float32)
    rows, inverse = distinct_rows(values)
    assert rows.dtype == values.dtype and inverse.dtype == mx.uint32
    assert rows.size == 4  # 0.0 and -0.0 differ in bits, so their sinusoids would too
    assert mx.array_equal(rows[inverse].view(mx.uint32), values.view(mx.uint32))


def test_distinct_rows_keeps_bfloat16() -> None:
    values = mx.full((6,), 0.3, mx.bfloat16)
    rows, inverse = distinct_rows(values)
    assert rows.shape == (1,) and rows.dtype == mx.bfloat16
    assert mx.array_equal(rows[inverse], values)
