#!/usr/bin/env python
"""Tiny random-weight goldens for the LTX-2 / LTX-2.3 text feature extractors and connectors.

Usage: python goldens_text.py [--out DIR] [--seed N] [--only case1,case2] [--ltx-core-src CHECKOUT]
Writes DIR/text/<case>.safetensors and manifest.json (see _common.py for the layout).
"""

from __future__ import annotations

import math  # noqa: F401
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch
from ltx_core.model.transformer.rope import LTXRopeType
from ltx_core.text_encoders.gemma.embeddings_connector import Embeddings1DConnector
from ltx_core.text_encoders.gemma.embeddings_processor import EmbeddingsProcessor
from ltx_core.text_encoders.gemma.feature_extractor import FeatureExtractorV1, FeatureExtractorV2

import _common
from _common import (
    S,
    fill_special_,
    run_both,
    save_case,
    state_dict_with_prefix,
)

# ----------------------------------------------------------------------------
# text connector (feature extractor + Embeddings1DConnector), tiny
# ----------------------------------------------------------------------------


def case_text_connector(out_dir: str, version: str, seed: int) -> None:
    torch.manual_seed(S(seed))
    D, L, T = 16, 4, 256  # gemma hidden (real 3840), layers incl. embeddings (real 49), seq (real 1024)
    if version == "v1":  # LTX-2 19B
        fe = FeatureExtractorV1(aggregate_embed=torch.nn.Linear(D * L, D, bias=False), is_av=True)
        vconn = Embeddings1DConnector(
            attention_head_dim=8,
            num_attention_heads=2,
            num_layers=2,
            positional_embedding_max_pos=[4096],
            num_learnable_registers=128,
            rope_type=LTXRopeType.SPLIT,
            double_precision_rope=True,
            apply_gated_attention=False,
        )
        aconn = Embeddings1DConnector(
            attention_head_dim=8,
            num_attention_heads=2,
            num_layers=2,
            positional_embedding_max_pos=[4096],
            num_learnable_registers=128,
            rope_type=LTXRopeType.SPLIT,
            double_precision_rope=True,
            apply_gated_attention=False,
        )
    else:  # LTX-2.3 22B: projection before connector, gated attention, separate audio dims
        fe = FeatureExtractorV2(
            video_aggregate_embed=torch.nn.Linear(D * L, 32, bias=True),
            embedding_dim=D,
            audio_aggregate_embed=torch.nn.Linear(D * L, 16, bias=True),
        )
        vconn = Embeddings1DConnector(
            attention_head_dim=8,
            num_attention_heads=4,
            num_layers=2,
            positional_embedding_max_pos=[4096],
            num_learnable_registers=128,
            rope_type=LTXRopeType.SPLIT,
            double_precision_rope=True,
            apply_gated_attention=True,
        )
        aconn = Embeddings1DConnector(
            attention_head_dim=8,
            num_attention_heads=2,
            num_layers=2,
            positional_embedding_max_pos=[4096],
            num_learnable_registers=128,
            rope_type=LTXRopeType.SPLIT,
            double_precision_rope=True,
            apply_gated_attention=True,
        )
    proc = EmbeddingsProcessor(feature_extractor=fe, video_connector=vconn, audio_connector=aconn).eval()
    fill_special_(proc, seed + 1)
    with torch.no_grad():  # registers are created bf16 in 1.0.0; make them f32 random
        for c in (vconn, aconn):
            c.learnable_registers.data = torch.rand(c.learnable_registers.shape) * 2 - 1
    g = torch.Generator().manual_seed(S(seed) + 2)
    hs = torch.randn((1, T, D, L), generator=g) * 3
    valid = 37
    mask = torch.zeros((1, T), dtype=torch.int64)
    mask[:, T - valid :] = 1  # LEFT padding (tokenizer padding_side="left", max_length=1024)

    def fn(m, dt):
        out = m.process_hidden_states(tuple(hs.to(dt).unbind(-1)), mask, padding_side="left")
        return {
            "video_encoding": out.video_encoding,
            "audio_encoding": out.audio_encoding,
            "binary_mask": out.attention_mask.to(dt),
        }

    o32, o64, inter = run_both(
        proc,
        fn,
        [f"{c}_connector.transformer_1d_blocks.{i}" for c in ("video", "audio") for i in range(2)]
        + [
            "feature_extractor.aggregate_embed",
            "feature_extractor.video_aggregate_embed",
            "feature_extractor.audio_aggregate_embed",
        ],
    )

    def pref(k: str) -> str:
        if k.startswith("feature_extractor."):
            return "text_embedding_projection." + k[len("feature_extractor.") :]
        if k.startswith("video_connector."):
            return "model.diffusion_model.video_embeddings_connector." + k[len("video_connector.") :]
        return "model.diffusion_model.audio_embeddings_connector." + k[len("audio_connector.") :]

    save_case(
        out_dir,
        f"text_connector_{version}",
        state_dict_with_prefix(proc, pref),
        {"hidden_states_BTDL": hs, "attention_mask": mask.float()},
        o32,
        o64,
        inter,
        {
            "constructor": f"EmbeddingsProcessor(FeatureExtractor{version.upper()}, Embeddings1DConnector x2)",
            "note": "hidden_states = stack of Gemma hidden states (embeddings + every layer) on last dim; "
            "V1 (19B) then needs the transformer's caption_projection (PixArtAlphaTextProjection) "
            "3840->4096/2048, not included here",
        },
    )


CASES = ["text_connector"]


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0], CASES)
    out = os.path.join(args.out, "text")
    os.makedirs(out, exist_ok=True)
    only = set(filter(None, args.only.split(",")))

    def want(c: str) -> bool:
        return not only or c in only

    if want("text_connector"):
        case_text_connector(out, "v1", 1100)
        case_text_connector(out, "v2", 1200)
    _common.write_manifest(out, "text", bool(only))


if __name__ == "__main__":
    main()
