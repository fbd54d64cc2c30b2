"""One rank of test_sequence_parallel.py's decode test: tiled decodes with the tiles spread over the ranks.

Spatial + temporal tiles (several tiles per temporal group, more groups than ranks), plain and with noise drawn
from a seeded generator at every tile (as a timestep-conditioned decoder injects it): every rank's chunks equal
the one-process decode within ``BOUND``·max|ref| (the blend sums add the same tiles in another order); rank 0
prints ``case max_rel chunks``.
"""

from __future__ import annotations

import sys

import mlx.core as mx
import numpy as np

from mlx_ltx_core.model.video_vae import SpatialTilingConfig, TemporalTilingConfig, TilingConfig, random_noise
from mlx_ltx_core.model.video_vae.tiled import tiled_decode

import vae_goldens as vg

BOUND = 1e-5
DECODERS = dict(vg.cases("video_decoder"))
TILING = TilingConfig(SpatialTilingConfig(64, 32), TemporalTilingConfig(16, 8))


def noisy(decoder, seed: int):
    """The decoder plus a draw from a seeded generator per tile: the tile order decides each tile's noise."""
    draw = random_noise(seed)
    return lambda tile: (lambda out: out + 0.1 * draw(tuple(out.shape), out.dtype))(decoder(tile))


def main() -> int:
    world = mx.distributed.init()
    decoder = vg.build(DECODERS["video_decoder_ltx2_tiled"], "video_decoder")
    latent = mx.random.normal((1, 5, 3, 1, 4), key=mx.random.key(0))
    for name in ("tiled", "noise"):
        make = (lambda: noisy(decoder, 7)) if name == "noise" else (lambda: decoder)
        one = [np.array(c) for c in tiled_decode(make(), latent, TILING)]
        split = [np.array(c) for c in tiled_decode(make(), latent, TILING, group=world)]
        assert [c.shape for c in split] == [c.shape for c in one], name
        ref = np.concatenate(one, axis=1)
        rel = float(np.abs(np.concatenate(split, axis=1) - ref).max() / np.abs(ref).max())
        assert rel <= BOUND, f"{name}: {rel:.2e} of max|ref|"
        if world.rank() == 0:
            print(f"{name} {rel:.3e} {len(one)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
