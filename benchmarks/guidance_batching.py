"""One guided step: the 4 guidance passes (cond, uncond, STG, isolation) as 4 forwards vs one batched forward.

Real head geometry (32 × 128 video, 32 × 64 audio), few layers and tokens so it runs in seconds on a CPU; the ratio
is what transfers (a batched forward reads every weight once instead of four times).

    python benchmarks/guidance_batching.py [--layers 2] [--video-tokens 480] [--text-tokens 256] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time

import mlx.core as mx

from mlx_ltx_core.model.transformer import LTXModel, LTXModelArgs, Modality
from mlx_ltx_core.model.transformer.args import REQUIRED_AV_CONFIG, REQUIRED_CONFIG


def model(layers: int) -> LTXModel:
    config = {
        **REQUIRED_CONFIG,
        **REQUIRED_AV_CONFIG,
        "num_layers": layers,
        "caption_proj_before_connector": True,
        "apply_gated_attention": True,
        "cross_attention_adaln": True,
        "rope_type": "split",
        "av_ca_timestep_scale_multiplier": 1000.0,
    }
    m = LTXModel(LTXModelArgs.from_dict(config))
    mx.eval(m.parameters())
    return m


def modality(batch: int, tokens: int, channels: int, ctx: int, text: int, dims: int) -> Modality:
    start = mx.broadcast_to(mx.arange(tokens, dtype=mx.float32)[None, None, :, None], (batch, dims, tokens, 1))
    return Modality(
        latent=mx.random.normal((batch, tokens, channels)),
        sigma=mx.full((batch,), 0.7),
        timesteps=mx.full((batch, tokens, 1), 0.7),
        positions=mx.concatenate([start, start + 1], axis=-1),
        context=mx.random.normal((batch, text, ctx)),
    )


def timed(fn, repeat: int) -> float:
    mx.eval(fn())
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        mx.eval(fn())
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--video-tokens", type=int, default=480)
    ap.add_argument("--text-tokens", type=int, default=256)
    ap.add_argument("--passes", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    m = model(args.layers)
    audio_tokens = max(1, args.video_tokens // 15)

    def inputs(batch: int) -> tuple[Modality, Modality]:
        return (
            modality(batch, args.video_tokens, 128, 4096, args.text_tokens, 3),
            modality(batch, audio_tokens, 128, 2048, args.text_tokens, 1),
        )

    one = inputs(1)
    stacked = inputs(args.passes)
    separate = timed(lambda: [m(*one) for _ in range(args.passes)], args.repeat)
    batched = timed(lambda: m(*stacked), args.repeat)
    result = {
        "benchmark": "guidance_batching",
        "passes": args.passes,
        "layers": args.layers,
        "video_tokens": args.video_tokens,
        "separate_s": round(separate, 3),
        "batched_s": round(batched, 3),
        "speedup": round(separate / batched, 2),
    }
    print(f"{'passes':<10}{'separate s':>12}{'batched s':>12}{'speedup':>10}")
    print(f"{args.passes:<10}{separate:>12.3f}{batched:>12.3f}{separate / batched:>10.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
