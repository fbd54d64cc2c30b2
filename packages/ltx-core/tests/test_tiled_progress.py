"""``on_tile(done, total)`` of the tiled decode: told before the first tile and after each one, in order; an untiled
decode is one tile. The frames are the same with and without it."""

from __future__ import annotations

import mlx.core as mx
import numpy as np

from mlx_ltx_core.model.video_vae import SpatialTilingConfig, TemporalTilingConfig, TilingConfig, decode_video
from mlx_ltx_core.model.video_vae.tiled import prepare_tiles_for_decoding

import vae_goldens as vg


def test_every_tile_is_reported_and_the_frames_do_not_change() -> None:
    decoder = vg.build(dict(vg.cases("video_decoder"))["video_decoder_ltx2_tiled"], "video_decoder")
    latent = mx.random.normal((1, 4, 3, 1, 4), key=mx.random.key(0))
    tiling = TilingConfig(SpatialTilingConfig(64, 32), TemporalTilingConfig(24, 8))
    calls: list[tuple[int, int]] = []
    reported = np.concatenate(
        [np.array(c) for c in decode_video(latent, decoder, tiling, None, on_tile=lambda d, t: calls.append((d, t)))]
    )
    plain = np.concatenate([np.array(c) for c in decode_video(latent, decoder, tiling)])
    tiles = len(prepare_tiles_for_decoding((4, 3, 1), tiling))
    assert tiles > 2 and calls == [(i, tiles) for i in range(tiles + 1)]
    np.testing.assert_array_equal(reported, plain)
    untiled: list[tuple[int, int]] = []
    list(decode_video(latent, decoder, None, None, on_tile=lambda done, total: untiled.append((done, total))))
    assert untiled == [(0, 1), (1, 1)]
