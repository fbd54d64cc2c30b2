"""The decode peak estimate behind ``--tiling auto`` against measured peaks (mx.get_peak_memory), within ±20%.

The real LTX-2 / LTX-2.3 decoder block lists at a narrow width (base channels 8, real 128) so each decode takes
seconds; benchmarks/vae_estimate_grid.py covers real widths and more sizes.
"""

from __future__ import annotations

import mlx.core as mx
import pytest

from mlx_ltx_core.model.video_vae import (
    TILING_PRESETS,
    VideoDecoder,
    VideoDecoderArgs,
    estimate_decode_peak_bytes,
    measure_decode_peak_bytes,
)
from mlx_ltx_core.model.video_vae.args import REAL_DECODER_CONFIGS

POINTS = [  # (decoder, frames, height, width, tiling preset or None)
    ("ltx2", 33, 256, 384, None),
    ("ltx2", 65, 256, 384, "default"),  # two temporal groups: the carried overlap
    ("ltx23", 33, 256, 384, None),
    ("ltx23", 33, 256, 384, "aggressive"),  # spatial and temporal tiles
]


@pytest.mark.parametrize(("name", "frames", "height", "width", "preset"), POINTS)
def test_estimate_within_20_percent(name: str, frames: int, height: int, width: int, preset: str | None) -> None:
    args = VideoDecoderArgs.from_dict({**REAL_DECODER_CONFIGS[name], "decoder_base_channels": 8})
    decoder = VideoDecoder(args)
    mx.eval(decoder.parameters())
    shape = (1, (frames - 1) // 8 + 1, height // 32, width // 32, 128)
    latent = mx.random.normal(shape, key=mx.random.key(0))
    mx.eval(latent)
    tiling = TILING_PRESETS[preset] if preset else None
    ratio = estimate_decode_peak_bytes(args, shape, tiling) / measure_decode_peak_bytes(decoder, latent, tiling)
    assert 0.8 <= ratio <= 1.2, f"estimate / measured peak = {ratio:.2f}"
