#!/usr/bin/env python
"""Tiny random-weight goldens for the LTX-2 / LTX-2.3 prompt encoder (feature extractors, connectors, Gemma 3).

Usage: python goldens_text.py [--out DIR] [--seed N] [--only text_connector,gemma,full_size_keys]
(ltx-core 1.0.0 from PyPI: the Gemma case uses its LTXVGemmaTokenizer and configurators.)
Writes DIR/text/:
- ``text_connector_{v1,v2}.safetensors``: ``inputs.*``, ``outputs_f64.*`` (float64 run, the ground truth) and
  ``intermediates.*`` (float64 run stored as float32); the weights, rounded to bfloat16 as in the real checkpoints,
  go to ``text_connector_{v1,v2}.weights.safetensors`` under their real checkpoint keys.
- ``tiny_gemma/``: a tiny random Gemma 3 (``Gemma3ForConditionalGeneration``, sliding window smaller than the
  prompts, tiny SigLIP tower) in the layout of ``google/gemma-3-12b-it-qat-q4_0-unquantized`` (config.json in the
  transformers 4.5x format, keys ``language_model.model.*``, bfloat16 weights) with a tiny Gemma tokenizer
  (``GemmaTokenizer``: BPE with byte fallback, ``<pad>=0 <eos>=1 <bos>=2``, Gemma 3's chat template).
- ``gemma_hidden_states.safetensors``: the prompts tokenized by ltx-core's ``LTXVGemmaTokenizer`` (left padding,
  BOS) and every hidden state of ``model.model(input_ids, attention_mask, output_hidden_states=True)``.
- ``manifest.json``: every case, plus the full-size text-projection keys and shapes of LTX-2 and LTX-2.3.
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
import torch
from ltx_core.model.transformer.rope import LTXRopeType
from ltx_core.text_encoders.gemma.embeddings_connector import Embeddings1DConnector
from ltx_core.text_encoders.gemma.embeddings_processor import EmbeddingsProcessor
from ltx_core.text_encoders.gemma.feature_extractor import FeatureExtractorV1, FeatureExtractorV2
from safetensors.torch import save_file
from tiny_configs import tiny_config

from _common import S, fill_special_, record_intermediates, save_case, save_hidden_states, state_dict_with_prefix

# ----------------------------------------------------------------------------
# text connector (feature extractor + Embeddings1DConnector), tiny
# ----------------------------------------------------------------------------


def _connector(heads: int, head_dim: int, gated: bool) -> Embeddings1DConnector:
    return Embeddings1DConnector(
        attention_head_dim=head_dim,
        num_attention_heads=heads,
        num_layers=2,
        positional_embedding_max_pos=[4096],
        num_learnable_registers=128,  # the configurator's (and real checkpoints') value
        rope_type=LTXRopeType.SPLIT,
        double_precision_rope=True,
        apply_gated_attention=gated,
    )


def connector_prefix(k: str) -> str:
    """EmbeddingsProcessor state-dict key → real checkpoint key (inverse of EMBEDDINGS_PROCESSOR_KEY_OPS)."""
    if k.startswith("feature_extractor."):
        return "text_embedding_projection." + k[len("feature_extractor.") :]
    if k.startswith("video_connector."):
        return "model.diffusion_model.video_embeddings_connector." + k[len("video_connector.") :]
    return "model.diffusion_model.audio_embeddings_connector." + k[len("audio_connector.") :]


# The transformer-config keys that drive each tiny processor (what the text_projection component's config holds).
TINY_CONNECTOR_CONFIGS = tiny_config("goldens", "text_connector")  # "v1" (LTX-2), "v2" (LTX-2.3)


def case_text_connector(out_dir: str, version: str, seed: int) -> None:
    torch.manual_seed(S(seed))
    D, L, T = 16, 4, 256  # gemma hidden (real 3840), hidden states incl. embeddings (real 49), seq (real 1024)
    if version == "v1":  # LTX-2 19B: one aggregate embed, connectors as wide as Gemma, no gate
        fe = FeatureExtractorV1(aggregate_embed=torch.nn.Linear(D * L, D, bias=False), is_av=True)
        vconn, aconn = _connector(2, 8, False), _connector(2, 8, False)
    else:  # LTX-2.3 22B: per-token RMS norm, video/audio aggregate embeds, gated attention
        fe = FeatureExtractorV2(
            video_aggregate_embed=torch.nn.Linear(D * L, 32, bias=True),
            embedding_dim=D,
            audio_aggregate_embed=torch.nn.Linear(D * L, 16, bias=True),
        )
        vconn, aconn = _connector(4, 8, True), _connector(2, 8, True)
    proc = EmbeddingsProcessor(feature_extractor=fe, video_connector=vconn, audio_connector=aconn).eval()
    fill_special_(proc, seed + 1)
    with torch.no_grad():
        for c in (vconn, aconn):  # registers are created bf16 in 1.0.0; make them f32 random
            c.learnable_registers.data = torch.rand(c.learnable_registers.shape) * 2 - 1
        for p in proc.parameters():  # bf16-representable weights, stored as bf16 like the real checkpoints
            p.copy_(p.bfloat16().float())
    g = torch.Generator().manual_seed(S(seed) + 2)
    hs = torch.randn((1, T, D, L), generator=g) * 3
    valid = 37 + S(seed) % 11
    mask = torch.zeros((1, T), dtype=torch.int64)
    mask[:, T - valid :] = 1  # LEFT padding (tokenizer padding_side="left", max_length=1024)
    hs[:, : T - valid] = 1e4  # padded rows: garbage that must not matter

    def fn(m, dt):
        out = m.process_hidden_states(tuple(hs.to(dt).unbind(-1)), mask, padding_side="left")
        return {
            "video_encoding": out.video_encoding,
            "audio_encoding": out.audio_encoding,
            "binary_mask": out.attention_mask.to(dt),
        }

    names = [f"{c}_connector.transformer_1d_blocks.0" for c in ("video", "audio")] + [
        "feature_extractor.aggregate_embed",
        "feature_extractor.video_aggregate_embed",
        "feature_extractor.audio_aggregate_embed",
    ]
    o32 = fn(proc.float(), torch.float32)
    m64 = copy.deepcopy(proc).double()
    inter, handles = record_intermediates(m64, names)  # float64 run, stored as float32
    o64 = fn(m64, torch.float64)
    for h in handles:
        h.remove()

    case = f"text_connector_{version}"
    weights = {k: v.bfloat16() for k, v in state_dict_with_prefix(proc, connector_prefix).items()}
    save_file(weights, os.path.join(out_dir, f"{case}.weights.safetensors"), metadata={"format": "pt"})
    # Only the valid (last) rows of the hidden states: the reference masks the padded ones out, so the test fills
    # them with anything (and checks that nothing changes).
    inputs = {"hidden_states_valid_BTDL": hs[:, T - valid :], "attention_mask": mask.float()}
    save_case(out_dir, case, {}, inputs, {}, o64, inter, {})
    _common.MANIFEST["cases"][case].update(
        constructor=f"EmbeddingsProcessor(FeatureExtractor{version.upper()}, Embeddings1DConnector x2)",
        weights=f"{case}.weights.safetensors",
        transformer_config=TINY_CONNECTOR_CONFIGS[version],
        gemma={"hidden_size": D, "num_hidden_states": L},
        valid_tokens=valid,
        f32_vs_f64_max_abs_diff={k: float((o32[k].double() - o64[k]).abs().max()) for k in o64},
        note="hidden_states = stack of Gemma hidden states (embeddings + every layer) on the last dim; "
        "V1 (19B) then needs the transformer's caption_projection (PixArtAlphaTextProjection), not included here",
    )


# ----------------------------------------------------------------------------
# tiny Gemma 3 in the Hugging Face layout of the reference's Gemma
# ----------------------------------------------------------------------------

GEMMA3_CHAT_TEMPLATE = (  # verbatim from Gemma 3's tokenizer_config.json
    "{{ bos_token }}\n{%- if messages[0]['role'] == 'system' -%}\n    {%- if messages[0]['content'] is string -%}\n"
    "        {%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}\n    {%- else -%}\n"
    "        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\\n\\n' -%}\n    {%- endif -%}\n"
    '    {%- set loop_messages = messages[1:] -%}\n{%- else -%}\n    {%- set first_user_prefix = "" -%}\n'
    "    {%- set loop_messages = messages -%}\n{%- endif -%}\n{%- for message in loop_messages -%}\n"
    "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}\n"
    '        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}\n'
    "    {%- endif -%}\n    {%- if (message['role'] == 'assistant') -%}\n        {%- set role = \"model\" -%}\n"
    "    {%- else -%}\n        {%- set role = message['role'] -%}\n    {%- endif -%}\n"
    "    {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else \"\") }}\n"
    "    {%- if message['content'] is string -%}\n        {{ message['content'] | trim }}\n"
    "    {%- elif message['content'] is iterable -%}\n        {%- for item in message['content'] -%}\n"
    "            {%- if item['type'] == 'image' -%}\n                {{ '<start_of_image>' }}\n"
    "            {%- elif item['type'] == 'text' -%}\n                {{ item['text'] | trim }}\n"
    "            {%- endif -%}\n        {%- endfor -%}\n    {%- else -%}\n"
    '        {{ raise_exception("Invalid content type") }}\n    {%- endif -%}\n'
    "    {{ '<end_of_turn>\\n' }}\n{%- endfor -%}\n{%- if add_generation_prompt -%}\n"
    "    {{'<start_of_turn>model\\n'}}\n{%- endif -%}\n"
)

PROMPT_POOL = [
    "A red fox trots across a snowy meadow at dawn while crows call from the pines.",
    "Close-up of hands kneading dough on a floured wooden table, soft kitchen light.",
    "A lighthouse on a rocky cliff, waves crashing below, seagulls crying in the wind.",
    "Two friends laugh on a park bench as autumn leaves fall around them.",
    "A cat walks on the beach at sunset.",
    "Rain on a city street at night, neon signs reflecting in puddles, distant thunder.",
    "An old man plays a violin in a quiet subway station.",
    "A hummingbird hovers near a purple flower.",
]
# As google's generation_config.json (sampling defaults merged into generate()), with the tiny end-of-turn id.
GENERATION_CONFIG = {
    "bos_token_id": 2,
    "do_sample": True,
    "eos_token_id": [1, 6],
    "pad_token_id": 0,
    "top_k": 64,
    "top_p": 0.95,
}
SPECIALS = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>"]
GEMMA_T = 24  # tokenizer max_length of the golden batch (real: 1024)


def build_tiny_tokenizer(folder: str):
    """A real ``GemmaTokenizer`` with a tiny BPE vocab (deterministic: trained on fixed text)."""
    from ltx_core.text_encoders.gemma.encoders.base_encoder import _load_system_prompt
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers.models.gemma.tokenization_gemma import GemmaTokenizer

    corpus = [*PROMPT_POOL, _load_system_prompt("gemma_t2v_system_prompt.txt")]
    bpe = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    bpe.normalizer = normalizers.Replace(" ", "▁")
    bpe.pre_tokenizer = pre_tokenizers.Split(pattern="▁", behavior="merged_with_next")
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=256, show_progress=False))
    model = json.loads(bpe.to_str())["model"]
    vocab = {s: i for i, s in enumerate(SPECIALS)}  # Gemma's ids: <pad>=0 <eos>=1 <bos>=2 <unk>=3
    vocab.update({f"<0x{b:02X}>": len(SPECIALS) + b for b in range(256)})  # byte fallback: never <unk>
    for token in sorted(model["vocab"], key=model["vocab"].get):
        vocab.setdefault(token, len(vocab))
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    tok = GemmaTokenizer(vocab=vocab, merges=merges, add_bos_token=True, add_eos_token=False)
    tok.add_special_tokens({"additional_special_tokens": ["<start_of_turn>", "<end_of_turn>"]})
    tok.chat_template = GEMMA3_CHAT_TEMPLATE
    tok.save_pretrained(folder)
    return tok


def tiny_gemma_config(vocab_size: int) -> dict:
    """config.json in the transformers 4.5x format of google/gemma-3-12b-it-qat-q4_0-unquantized, shrunk."""
    return {
        "architectures": ["Gemma3ForConditionalGeneration"],
        "boi_token_index": vocab_size + 1,
        "eoi_token_index": vocab_size + 2,
        "eos_token_id": [1, 6],  # <eos>, <end_of_turn> (real: [1, 106])
        "image_token_index": vocab_size + 3,  # out of vocab like the real one is not; never in text prompts
        "initializer_range": 0.02,
        "mm_tokens_per_image": 4,
        "model_type": "gemma3",
        "text_config": {
            "attention_bias": False,
            "attn_logit_softcapping": None,
            "final_logit_softcapping": None,
            "head_dim": 16,
            "hidden_activation": "gelu_pytorch_tanh",
            "hidden_size": 32,
            "intermediate_size": 64,
            "max_position_embeddings": 131072,
            "model_type": "gemma3_text",
            "num_attention_heads": 2,
            "num_hidden_layers": 4,
            "num_key_value_heads": 1,
            "query_pre_attn_scalar": 24,  # != head_dim, so the attention scale is exercised (real: 256 = head_dim)
            "rms_norm_eps": 1e-6,
            "rope_local_base_freq": 10000.0,
            "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
            "rope_theta": 1000000.0,
            "sliding_window": 8,  # smaller than the prompts (real: 1024)
            "sliding_window_pattern": 2,  # layers 0, 2 local; 1, 3 global (real: every 6th global)
            "vocab_size": vocab_size,
        },
        "torch_dtype": "bfloat16",
        "transformers_version": "4.50.0.dev0",
        "vision_config": {
            "hidden_size": 8,
            "image_size": 28,
            "intermediate_size": 16,
            "model_type": "siglip_vision_model",
            "num_attention_heads": 2,
            "num_hidden_layers": 1,
            "patch_size": 14,
            "vision_use_head": False,
        },
    }


def google_key(k: str) -> str:
    """transformers 5 state-dict key → the key in google's Gemma 3 safetensors (transformers 4.5x layout)."""
    for new, old in (
        ("model.language_model.", "language_model.model."),
        ("model.vision_tower.", "vision_tower.vision_model."),
        ("model.multi_modal_projector.", "multi_modal_projector."),
    ):
        if k.startswith(new):
            return old + k[len(new) :]
    return k


def write_tiny_gemma(folder: str, seed: int) -> tuple[dict, object]:
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    os.makedirs(folder, exist_ok=True)
    tok = build_tiny_tokenizer(folder)
    config = tiny_gemma_config(len(tok) + 8)  # the embedding table is larger than the vocab, as in the real one
    model = Gemma3ForConditionalGeneration(Gemma3Config.from_dict(config)).eval()
    g = torch.Generator().manual_seed(S(seed))
    weights = {}
    for name, p in model.state_dict().items():
        if name == "lm_head.weight":  # tied to embed_tokens; google's checkpoint does not store it
            continue
        if "norm" in name and name.endswith("weight"):  # Gemma RMSNorm scales by (1 + w)
            w = torch.randn(p.shape, generator=g) * 0.3
        elif "bias" in name or "norm" in name:
            w = torch.randn(p.shape, generator=g) * 0.1
        elif "embed_tokens" in name:
            w = torch.randn(p.shape, generator=g) * 0.5
        else:
            w = torch.randn(p.shape, generator=g) / max(p[0].numel(), 1) ** 0.5
        weights[google_key(name)] = w.bfloat16().contiguous()
    save_file(weights, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    with open(os.path.join(folder, "generation_config.json"), "w") as f:
        json.dump(GENERATION_CONFIG, f, indent=1)
    return config, tok


def case_gemma(out_dir: str, seed: int) -> None:
    from ltx_core.text_encoders.gemma.tokenizer import LTXVGemmaTokenizer
    from transformers import Gemma3ForConditionalGeneration

    folder = os.path.join(out_dir, "tiny_gemma")
    config, _ = write_tiny_gemma(folder, seed + 1)
    rng = random.Random(S(seed))
    prompts = rng.sample(PROMPT_POOL, 3)
    prompts[0] = " ".join([prompts[0], *rng.sample(PROMPT_POOL, 2)])  # longer than max_length: truncated
    prompts[2] = "  " + " ".join(prompts[2].split()[:3]) + " \n"  # short (mostly padding), stripped by the tokenizer
    tokenizer = LTXVGemmaTokenizer(folder, GEMMA_T)  # ltx-core 1.0.0's own wrapper (left padding, pad = <pad>)
    pairs = [tokenizer.tokenize_with_weights(p)["gemma"] for p in prompts]
    ids = torch.tensor([[int(t) for t, _ in row] for row in pairs])
    mask = torch.tensor([[int(w) for _, w in row] for row in pairs])

    def run(dt: torch.dtype) -> torch.Tensor:
        model, info = Gemma3ForConditionalGeneration.from_pretrained(folder, dtype=dt, output_loading_info=True)
        assert not any(info.values()), info  # the folder loads strictly in transformers
        assert model.config._attn_implementation == "sdpa"  # the reference's default
        # Exactly the reference's call (GemmaTextEncoder.encode): the inner model, no lm_head.
        res = model.model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        hs = res.hidden_states
        assert len(hs) == config["text_config"]["num_hidden_layers"] + 1
        assert torch.equal(hs[-1], res.last_hidden_state)  # the last one is after the final norm
        return torch.stack(hs, dim=-1)  # (B, T, D, L)

    save_hidden_states(
        out_dir,
        "gemma_hidden_states",
        run,
        ids,
        mask,
        folder="tiny_gemma",
        prompts=prompts,
        max_length=GEMMA_T,
        note="model.model(input_ids, attention_mask, output_hidden_states=True) of Gemma3ForConditionalGeneration "
        "(sdpa: queries that see no key, i.e. left pads, get zero attention output); hidden states stacked on the "
        "last dim: scaled embeddings, each layer's output, and the final-norm output of the last layer",
    )


# ----------------------------------------------------------------------------
# full-size text projection keys (reference built on the meta device)
# ----------------------------------------------------------------------------


# The connector keys of the real checkpoints' transformer config (shared/reference/vae-audio-text-io.md §4; the
# LTX-2 values are the configurator's defaults, the 2.3 ones third-party quotes): full_size_keys.py lacks them.
CONNECTOR_KEYS = {
    "ltx-2": {"connector_positional_embedding_max_pos": [4096]},
    "ltx-2.3": {
        "connector_num_attention_heads": 32,
        "connector_attention_head_dim": 128,
        "connector_num_layers": 8,
        "audio_connector_num_attention_heads": 32,
        "audio_connector_attention_head_dim": 64,
        "audio_connector_num_layers": 8,
        "connector_apply_gated_attention": True,
        "connector_positional_embedding_max_pos": [4096],
    },
}
CONNECTOR_KEYS["ltx-2.5"] = CONNECTOR_KEYS["ltx-2.3"]  # 2.5's connectors are 2.3's (shared/reference/ltx-2.5.md §2.2)


def full_size_keys() -> dict:
    from full_size_keys import MODELS
    from ltx_core.text_encoders.gemma.encoders.encoder_configurator import EmbeddingsProcessorConfigurator

    out = {}
    for version, model in MODELS.items():
        cfg = {**model["metadata"]["transformer"], **CONNECTOR_KEYS[version]}
        with torch.device("meta"):
            proc = EmbeddingsProcessorConfigurator.from_config({"transformer": cfg})
        keys = {}
        for name, p in proc.state_dict().items():
            if ".transformer_1d_blocks." in name and ".transformer_1d_blocks.0." not in name:
                continue
            keys[connector_prefix(name).replace(".transformer_1d_blocks.0.", ".transformer_1d_blocks.{i}.")] = list(
                p.shape
            )
        layers = {c: len(getattr(proc, f"{c}_connector").transformer_1d_blocks) for c in ("video", "audio")}
        out[version] = {"transformer_config": cfg, "num_layers": layers, "keys": keys}
    return out


CASES = ["text_connector", "gemma", "full_size_keys"]


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
    if want("gemma"):
        case_gemma(out, 1300)
    if want("full_size_keys"):
        _common.MANIFEST["full_size_keys"] = full_size_keys()
    elif os.path.exists(os.path.join(out, "manifest.json")):  # a partial run keeps the recorded listing
        with open(os.path.join(out, "manifest.json")) as f:
            _common.MANIFEST["full_size_keys"] = json.load(f).get("full_size_keys", {})
    _common.write_manifest(out, "text", bool(only))


if __name__ == "__main__":
    main()
