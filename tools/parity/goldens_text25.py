#!/usr/bin/env python
"""Tiny random-weight goldens for the LTX-2.5 prompt encoder: Gemma 4 tower, 2.5 connectors, duration head.

Usage: python goldens_text25.py [--out DIR] [--seed N] --ltx-core-src LTX_SRC
Needs transformers 5.8–5.14 (the reference's pin; 5.15+ cannot build gemma4_unified): its own venv, e.g.
``python3.11 -m venv V && V/bin/pip install torch==2.13.0 transformers==5.14.1 safetensors`` (noxfile: goldens).
Writes DIR/text25/:
- ``tiny_te.safetensors``: a tiny random Gemma 4 (``gemma4_unified``, text only; K = V on the global layers, a
  sliding window shorter than the prompts) in the shipped text-encoder file's layout: Comfy-flat ``model.*`` keys,
  ``__metadata__["gemma_config"]`` with ``gemma_version``, the tokenizer as the ``tokenizer_json`` U8 tensor, the
  ``hf_asset__*`` sidecars, unused vision/audio projector tensors and the ``text_embedding_projection.*`` (bf16).
- ``gemma4_hidden_states.safetensors``: prompts tokenized by v1.2.0's ``LTXGemmaTokenizer`` (BOS prepended, left
  padding) and every hidden state of ``model.model(input_ids, attention_mask, output_hidden_states=True)``.
- ``connectors.weights.safetensors`` (the transformer file's ``model.diffusion_model.*_embeddings_connector.*``) and
  ``text25_connector.safetensors``: v1.2.0's FeatureExtractorV2 + connectors (rope_type absent: v1.2.0's "split")
  on those hidden states.
- ``duration_head.weights.safetensors`` (the shipped duration-head file's layout) and the ``duration_head`` case
  on the connector outputs: both streams, video only, audio only.
"""

from __future__ import annotations

import copy
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common

# isort: split
import numpy as np
import torch
from ltx_core.duration_head import DurationHeadConfigurator
from ltx_core.text_encoders.gemma.embeddings_connector import (
    AudioEmbeddings1DConnectorConfigurator,
    Embeddings1DConnectorConfigurator,
)
from ltx_core.text_encoders.gemma.embeddings_processor import EmbeddingsProcessor
from ltx_core.text_encoders.gemma.feature_extractor import FeatureExtractorV2
from ltx_core.text_encoders.gemma.tokenizer import LTXGemmaTokenizer
from safetensors.torch import save_file
from tiny_configs import tiny_config

from _common import S, save_case, save_hidden_states

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The tiny Gemma-style BPE tokenizer the CLI ships (byte fallback, <pad>=0 <eos>=1 <bos>=2); Gemma 4's emits no BOS.
TOKENIZER = os.path.join(ROOT, "packages", "ltx-cli", "src", "mlx_ltx_cli", "tiny_gemma", "tokenizer.json")
GEMMA_CONFIG = tiny_config("model_2.5", "text_encoder")  # also the tiny LTX-2.5's Gemma 4
CONNECTOR_CONFIG = tiny_config("goldens", "text25", "connector")  # transformer-config keys of the connectors
DURATION_HEAD_CONFIG = tiny_config("goldens", "text25", "duration_head")  # the duration-head file's config
T = 24  # tokenizer max_length of the golden batch (real: 1024)
PROMPTS = [
    "A red fox trots across a snowy meadow at dawn while crows call from the pines, the wind howling over the hill.",
    "  Rain on a \n",
]


def gemma4_tokenizer_json() -> bytes:
    tok = json.load(open(TOKENIZER))
    tok["post_processor"] = None
    return json.dumps(tok).encode()


def hf_tokenizer():
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(gemma4_tokenizer_json().decode()),
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        unk_token="<unk>",
    )


def u8(data: bytes) -> torch.Tensor:
    return torch.from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def build_gemma(seed: int):
    from transformers import Gemma4UnifiedConfig, Gemma4UnifiedForConditionalGeneration

    config = Gemma4UnifiedConfig.from_dict(GEMMA_CONFIG)
    config._attn_implementation = "sdpa"  # the reference's default
    model = Gemma4UnifiedForConditionalGeneration(config).eval()
    g = torch.Generator().manual_seed(S(seed))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:  # Gemma 4 RMSNorm scales by w (not 1 + w)
                w = 1 + torch.randn(p.shape, generator=g) * 0.3
            elif "embed_tokens" in name:
                w = torch.randn(p.shape, generator=g) * 0.5
            else:
                w = torch.randn(p.shape, generator=g) / p.shape[-1] ** 0.5
            p.copy_(w.bfloat16().float())  # bf16-representable, stored as bf16 like the real file
        for name, b in model.named_buffers():
            if name.endswith("layer_scalar"):  # a checkpoint tensor (1 at init): random so that it is exercised
                b.copy_((0.5 + torch.rand(b.shape, generator=g)).bfloat16().float())
    return model


def flat_key(k: str) -> str | None:
    """transformers state-dict key → the shipped TE file's Comfy-flat key (None: not stored)."""
    if k.startswith("model.language_model."):
        return "model." + k[len("model.language_model.") :]
    return None


def case_gemma4(out_dir: str, seed: int) -> tuple[torch.Tensor, torch.Tensor, dict]:
    model = build_gemma(seed)
    tok = LTXGemmaTokenizer(hf_tokenizer(), max_length=T)  # v1.2.0: BOS prepended when missing, left padding
    rows = [tok.tokenize_with_weights(p)["gemma"] for p in PROMPTS]
    ids = torch.tensor([[int(t) for t, _ in r] for r in rows])
    mask = torch.tensor([[int(w) for _, w in r] for r in rows])

    def run(dt: torch.dtype) -> torch.Tensor:
        res = copy.deepcopy(model).to(dt).model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        assert len(res.hidden_states) == GEMMA_CONFIG["text_config"]["num_hidden_layers"] + 1
        assert torch.equal(res.hidden_states[-1], res.last_hidden_state)
        return torch.stack(res.hidden_states, dim=-1)  # (B, T, D, L)

    hidden = save_hidden_states(
        out_dir,
        "gemma4_hidden_states",
        run,
        ids,
        mask,
        text_encoder_file="tiny_te.safetensors",
        gemma_config=GEMMA_CONFIG,
        prompts=PROMPTS,
        max_length=T,
        note="Gemma4UnifiedForConditionalGeneration(...).model(input_ids, attention_mask, output_hidden_states=True), "
        "transformers 5.14 sdpa; stacked on the last dim: scaled embeddings, each layer's output, final norm of the last",
    )
    weights = {flat_key(k): v for k, v in model.state_dict().items() if flat_key(k)}
    return hidden, mask, weights


def case_connectors(out_dir: str, hidden: torch.Tensor, mask: torch.Tensor, seed: int) -> tuple[dict, dict]:
    torch.manual_seed(S(seed))
    d, n_states = hidden.shape[2], hidden.shape[3]
    cfg = CONNECTOR_CONFIG
    fe = FeatureExtractorV2(
        video_aggregate_embed=torch.nn.Linear(d * n_states, cfg["num_attention_heads"] * cfg["attention_head_dim"]),
        embedding_dim=d,
        audio_aggregate_embed=torch.nn.Linear(
            d * n_states, cfg["audio_num_attention_heads"] * cfg["audio_attention_head_dim"]
        ),
    )
    meta = {"config": {"transformer": cfg}}
    vconn = Embeddings1DConnectorConfigurator.from_metadata(meta)  # the reference's reading of the config
    aconn = AudioEmbeddings1DConnectorConfigurator.from_metadata(meta)
    proc = EmbeddingsProcessor(feature_extractor=fe, video_connector=vconn, audio_connector=aconn).eval()
    g = torch.Generator().manual_seed(S(seed) + 1)
    with torch.no_grad():
        for p in proc.parameters():
            p.copy_((torch.randn(p.shape, generator=g) / max(p.shape[-1], 1) ** 0.5).bfloat16().float())
        for c in (vconn, aconn):
            c.learnable_registers.copy_((torch.rand(c.learnable_registers.shape, generator=g) * 2 - 1).bfloat16())
    # The tokenizer pads to T; the connectors need a multiple of their 128 registers: left-pad the batch to 128.
    pad = 128 - hidden.shape[1]
    hs = torch.nn.functional.pad(hidden, (0, 0, 0, 0, pad, 0), value=1e4)  # pad rows: garbage that must not matter
    m = torch.nn.functional.pad(mask, (pad, 0))

    def fn(model, dt):
        out = model.process_hidden_states(tuple(hs.to(dt).unbind(-1)), m, padding_side="left")
        return {"video_encoding": out.video_encoding, "audio_encoding": out.audio_encoding}

    o32 = fn(copy.deepcopy(proc).float(), torch.float32)
    o64 = fn(copy.deepcopy(proc).double(), torch.float64)
    state = proc.state_dict()
    projection = {
        f"text_embedding_projection.{k[len('feature_extractor.') :]}": v
        for k, v in state.items()
        if k.startswith("feature_extractor.")
    }
    connectors = {
        f"model.diffusion_model.{k.split('_', 1)[0]}_embeddings_connector.{k.split('.', 1)[1]}": v
        for k, v in state.items()
        if k.startswith(("video_connector.", "audio_connector."))
    }
    save_file(
        {k: v.bfloat16().contiguous() for k, v in connectors.items()},
        os.path.join(out_dir, "connectors.weights.safetensors"),
        metadata={"format": "pt"},
    )
    save_case(out_dir, "text25_connector", {}, {"attention_mask": m.to(torch.int32)}, {}, o64, {}, {})
    _common.MANIFEST["cases"]["text25_connector"].update(
        f32_vs_f64_max_abs_diff={k: float((o32[k].double() - o64[k]).abs().max()) for k in o64},
        hidden_states="gemma4_hidden_states (outputs_f64), left-padded to the sequence length",
        text_encoder_file="tiny_te.safetensors",
        weights="connectors.weights.safetensors",
        transformer_config=cfg,
        note="EmbeddingsProcessor(FeatureExtractorV2, Embeddings1DConnectorConfigurator.from_metadata x2)"
        ".process_hidden_states(..., padding_side='left'); hidden states of pad rows are 1e4",
    )
    return projection, o64


def write_te_file(out_dir: str, gemma: dict, projection: dict) -> None:
    """The shipped text-encoder file's layout (shared/reference/ltx-2.5.md §3.1), tiny."""
    g = torch.Generator().manual_seed(7)
    unused = {  # present in the shipped file, read by no LTX component
        "vision_model.patch_embedder.weight": torch.randn((4, 6), generator=g),
        "multi_modal_projector.embedding_projection.weight": torch.randn((4, 4), generator=g),
        "audio_projector.embedding_projection.weight": torch.randn((4, 4), generator=g),
    }
    tensors = {k: v.bfloat16().contiguous() for k, v in {**gemma, **projection, **unused}.items()}
    tensors["tokenizer_json"] = u8(gemma4_tokenizer_json())
    sidecars = {
        "tokenizer_config.json": {
            "bos_token": "<bos>",
            "eos_token": "<eos>",
            "pad_token": "<pad>",
            "unk_token": "<unk>",
            "model_max_length": 1024,
            "tokenizer_class": "GemmaTokenizer",
        },
        "processor_config.json": {"processor_class": "Gemma4UnifiedProcessor"},
    }
    for name, value in sidecars.items():
        tensors[f"hf_asset__{name}"] = u8(json.dumps(value).encode())
    save_file(
        tensors,
        os.path.join(out_dir, "tiny_te.safetensors"),
        metadata={"format": "pt", "gemma_config": json.dumps(GEMMA_CONFIG)},
    )


def case_duration_head(out_dir: str, encodings: dict, seed: int) -> None:
    torch.manual_seed(S(seed))
    head = DurationHeadConfigurator.from_metadata({"config": DURATION_HEAD_CONFIG}).eval()
    g = torch.Generator().manual_seed(S(seed) + 1)
    with torch.no_grad():
        for p in head.parameters():
            p.copy_((torch.randn(p.shape, generator=g) * 0.5).bfloat16().float())
    weights = {f"duration_head.{k}": v.bfloat16().contiguous() for k, v in head.state_dict().items()}
    meta = {"format": "pt", "config": json.dumps(DURATION_HEAD_CONFIG), "model_version": "2.5.0"}
    save_file(weights, os.path.join(out_dir, "duration_head.weights.safetensors"), metadata=meta)
    video, audio = encodings["video_encoding"], encodings["audio_encoding"]
    outs32, outs64 = {}, {}
    for name, v, a in (("both", video, audio), ("video_only", video, None), ("audio_only", None, audio)):
        for dt, outs in ((torch.float32, outs32), (torch.float64, outs64)):
            m = copy.deepcopy(head).to(dt)
            outs[f"seconds_{name}"] = m(None if v is None else v.to(dt), None if a is None else a.to(dt))
    save_case(out_dir, "duration_head", {}, {}, outs32, outs64, {}, {})
    _common.MANIFEST["cases"]["duration_head"].update(
        inputs_from="text25_connector (outputs_f64)",
        weights="duration_head.weights.safetensors",
        config=DURATION_HEAD_CONFIG,
        note="DurationHeadConfigurator.from_metadata(...)(video_tokens, audio_tokens) → seconds (B,)",
    )


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0], ["all"])
    out = os.path.join(args.out, "text25")
    os.makedirs(out, exist_ok=True)
    random.seed(S(0))
    hidden, mask, gemma = case_gemma4(out, 2500)
    projection, encodings = case_connectors(out, hidden, mask, 2600)
    write_te_file(out, gemma, projection)
    case_duration_head(out, encodings, 2700)
    _common.write_manifest(out, "text25", False)


if __name__ == "__main__":
    main()
