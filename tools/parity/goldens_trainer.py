#!/usr/bin/env python
"""Tiny goldens for the LoRA trainer, from the reference ltx-trainer v1.2.0 source (Lightricks/LTX-2 400fd31).

Runs the reference's own pieces directly (trainer.md §9.1): ``ShiftedLogitNormalTimestepSampler`` /
``UniformTimestepSampler``, ``FlexibleStrategy`` (pydantic ``FlexibleStrategyConfig``), a tiny HEAD ``LTXModel``
wrapped by PEFT ``get_peft_model`` exactly as the trainer's ``_setup_lora``, ``torch.optim.AdamW`` and the
trainer's ``LinearLR`` under a real ``accelerate.Accelerator(gradient_accumulation_steps=2)``. Every random draw
(σ draws, noise, Bernoulli/reference draws) is recorded in consumption order and stored, so the MLX side injects
them (``RecordedDraws``) instead of matching generators, and the σ each sampler call returned (``SigmaRecorder``).
The goldens (velocities, losses, gradients, AdamW steps, norms) are the reference's FLOAT64 run on the same
inputs (the model, PEFT adapters and optimizer ``.double()``; its float32-only timestep sinusoid made float64 by
``float64_timestep_embedding``); its float32 run, CPU with ``mixed_precision: no`` (§9.1), is recorded only as
``reference_f32_vs_f64``. The float64 results are stored rounded to float32 (6e-8 relative, far below the 1e-5
tolerance; half the bytes). Video latents are stored bfloat16 as the reference's preprocessing writes them, audio
latents float32. The contexts are post-connector embeddings (the connectors are not trained and not in the
optimizer; they run before the step).

Needs the trainer's dependencies (peft, accelerate, pydantic): a venv that shadows the reference one, e.g.
  python3.11 -m venv /work/venv-trainer && echo /work/refvenv/lib/python3.11/site-packages > \
      /work/venv-trainer/lib/python3.11/site-packages/refvenv.pth && /work/venv-trainer/bin/pip install peft --no-deps
  /work/venv-trainer/bin/python tools/parity/goldens_trainer.py --ltx-core-src /work/wt/ltx-src --out tests/goldens

Files in OUT/trainer/: model.weights.safetensors (the tiny transformer, Lightricks keys ``model.diffusion_model.*``
and config metadata), sampler.safetensors, <case>.safetensors per strategy mode, adamw.safetensors, manifest.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile

if "--ltx-core-src" in sys.argv:
    _src = os.path.abspath(sys.argv[sys.argv.index("--ltx-core-src") + 1])
    sys.path.insert(0, os.path.join(_src, "packages", "ltx-trainer", "src"))
    sys.path.insert(0, os.path.join(_src, "packages", "ltx-core", "src"))
if "torchaudio" not in sys.modules:  # transformers (via peft) imports it; the reference venv's build is broken
    sys.modules["torchaudio"] = None

import goldens_transformer as gt  # the tiny transformer's construction and deterministic weights
import torch
from _manifest import write_json_manifest
from ltx_core.model.transformer import Modality
from ltx_trainer.timestep_samplers import ShiftedLogitNormalTimestepSampler, UniformTimestepSampler
from ltx_trainer.training_strategies.flexible import FlexibleStrategy, FlexibleStrategyConfig
from peft import LoraConfig, get_peft_model, get_peft_model_state_dict
from safetensors.torch import save_file


def float64_timestep_embedding() -> None:
    """Make the reference's float64 run float64 throughout: its ``get_timestep_embedding`` casts the timesteps to
    float32 (``.float()``) whatever the model dtype, which costs ~6e-5 rad at σ·1000 and would leave the goldens
    one float32 rounding away from float64. For float64 timesteps the same formula runs in float64 instead."""
    import math

    from ltx_core.model.transformer import timestep_embedding as te

    float32_version = te.get_timestep_embedding

    def embedding(timesteps, embedding_dim, flip_sin_to_cos=False, downscale_freq_shift=1, scale=1, max_period=10000):
        if timesteps.dtype != torch.float64:
            return float32_version(timesteps, embedding_dim, flip_sin_to_cos, downscale_freq_shift, scale, max_period)
        half = embedding_dim // 2
        exponent = -math.log(max_period) * torch.arange(half, dtype=torch.float64) / (half - downscale_freq_shift)
        emb = scale * (timesteps[:, None] * torch.exp(exponent)[None, :])
        emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
        if flip_sin_to_cos:
            emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
        return torch.nn.functional.pad(emb, (0, 1, 0, 0)) if embedding_dim % 2 else emb

    te.get_timestep_embedding = embedding


def float64_connector_positions() -> None:
    """The same for the connectors' RoPE: ``Embeddings1DConnector`` builds float32 token positions
    (``torch.arange(..., dtype=float32)``), so even its float64 run forms float32 angles (to 1.6e4 rad). For a
    float64 output dtype the positions are made float64 first."""
    from ltx_core.text_encoders.gemma import embeddings_connector as ec

    float32_version = ec.precompute_freqs_cis

    def precompute(indices_grid, *args, out_dtype, **kwargs):
        if out_dtype == torch.float64:
            indices_grid = indices_grid.double()
        return float32_version(indices_grid, *args, out_dtype=out_dtype, **kwargs)

    ec.precompute_freqs_cis = precompute


float64_timestep_embedding()
float64_connector_positions()
SEED = 0
RANK, ALPHA = 2, 4  # alpha != rank: the alpha/rank scale is exercised
TARGETS = ["to_k", "to_q", "to_v", "to_out.0", "ff.net.0.proj", "ff.net.2", "audio_ff.net.2"]
CTX = 6  # text tokens
VIDEO = dict(frames=2, height=2, width=3)  # latent grid: 12 tokens
REF = dict(frames=2, height=1, width=2)  # IC-LoRA reference grid: 4 tokens
AUDIO_T = 8


def S(base: int) -> int:
    return base + 7919 * SEED


# ------------------------------------------------------------------------------------------------------------
# Recording the draws
# ------------------------------------------------------------------------------------------------------------
class Recorder:
    """Patches torch.randn / rand / randn_like; every tensor they return is kept, in order."""

    def __init__(self):
        self.draws: list[torch.Tensor] = []
        self._orig = (torch.randn, torch.rand, torch.randn_like)

    def __enter__(self):
        def wrap(fn):
            def inner(*a, **k):
                t = fn(*a, **k)
                self.draws.append(t.detach().clone())
                return t

            return inner

        torch.randn, torch.rand, torch.randn_like = (wrap(f) for f in self._orig)
        return self

    def __exit__(self, *exc):
        torch.randn, torch.rand, torch.randn_like = self._orig


class SigmaRecorder:
    """Wraps a timestep sampler; keeps every σ it returns, in call order (one per generated modality). The MLX
    side feeds these σ to its model: σ enters the timestep sinusoid ×1000, so a 1-ulp difference in σ (torch's and
    MLX's float32 sigmoid round differently) moves the velocities by ~4e-5·max|v| — "the loss for fixed σ"."""

    def __init__(self, sampler):
        self.sampler, self.sigmas = sampler, []

    def sample_for(self, latents: torch.Tensor) -> torch.Tensor:
        sigma = self.sampler.sample_for(latents)
        self.sigmas.append(sigma.detach().clone())
        return sigma


def sigma_tensors(prefix: str, sigmas: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{i:03d}": s.float().contiguous() for i, s in enumerate(sigmas)}


def draws_tensors(draws: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"draws.{i:03d}": d.float().contiguous() for i, d in enumerate(draws)}


# ------------------------------------------------------------------------------------------------------------
# Sampler
# ------------------------------------------------------------------------------------------------------------
SAMPLER_N = [1, 64, 1024, 4096, 6120]
SAMPLER_B = 256


def sampler_goldens(out: str) -> dict:
    torch.manual_seed(S(1))
    tensors, info = {}, {}
    s = ShiftedLogitNormalTimestepSampler()
    for n in SAMPLER_N:
        with Recorder() as rec:
            sigma = s.sample(SAMPLER_B, n)
        mu = s._get_shift_for_sequence_length(n)
        tensors |= {f"shifted.{n}.{k}": v for k, v in draws_tensors(rec.draws).items()}
        tensors[f"shifted.{n}.sigma"] = sigma
        info[str(n)] = {
            "mu": mu,
            "p_lo": float(torch.sigmoid(torch.tensor(mu + s.normal_005_percentile))),
            "p_hi": float(torch.sigmoid(torch.tensor(mu + s.normal_999_percentile))),
        }
    u = UniformTimestepSampler(0.2, 0.9)
    with Recorder() as rec:
        tensors["uniform.sigma"] = u.sample(SAMPLER_B)
    tensors |= {f"uniform.{k}": v for k, v in draws_tensors(rec.draws).items()}
    save_file(tensors, os.path.join(out, "sampler.safetensors"))
    return {"file": "sampler.safetensors", "batch": SAMPLER_B, "shifted": info, "uniform": [0.2, 0.9]}


# ------------------------------------------------------------------------------------------------------------
# The tiny model with PEFT LoRA
# ------------------------------------------------------------------------------------------------------------
def tiny_transformer_config() -> dict:
    cfg = copy.deepcopy(gt.TINY_LTX23_AV)
    cfg["num_layers"] = 1
    return cfg


def build_peft_model(cfg: dict, nonzero_b: bool):
    model = gt.build_model(cfg, gt.LTXModelConfigurator)
    gt.fill_(model, 11)
    torch.manual_seed(S(2))  # PEFT draws A from the global CPU generator
    peft = get_peft_model(
        model,
        LoraConfig(r=RANK, lora_alpha=ALPHA, target_modules=TARGETS, lora_dropout=0.0, init_lora_weights=True),
    )
    if nonzero_b:
        g = torch.Generator().manual_seed(S(3))
        with torch.no_grad():
            for name, p in peft.named_parameters():
                if "lora_B" in name:
                    p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    return model, peft


def lora_key(name: str) -> str:
    """base_model.model.X.lora_A.default.weight → X.lora_A (the MLX adapter parameter path)."""
    name = name.replace("base_model.model.", "", 1)
    return name.replace(".default.weight", "")


def lora_params(peft) -> dict[str, torch.Tensor]:
    return {lora_key(n): p.detach().clone() for n, p in peft.named_parameters() if "lora_" in n}


# ------------------------------------------------------------------------------------------------------------
# Strategy cases
# ------------------------------------------------------------------------------------------------------------
def gen(latents_dir: str, conditions: list | None = None) -> dict:
    return {"is_generated": True, "latents_dir": latents_dir, "conditions": conditions or []}


def frozen(latents_dir: str) -> dict:
    return {"is_generated": False, "latents_dir": latents_dir}


MODES: dict[str, dict] = {
    "t2v": {"video": gen("latents"), "audio": gen("audio_latents")},
    "i2v": {"video": gen("latents", [{"type": "first_frame", "probability": 0.5}]), "audio": gen("audio_latents")},
    "video_extend": {
        "video": gen("latents", [{"type": "prefix", "temporal_boundary": 1}]),
        "audio": gen("audio_latents"),
    },
    "video_suffix": {"video": gen("latents", [{"type": "suffix", "temporal_boundary": 1}])},
    "v2v_ic": {
        "video": gen(
            "latents",
            [{"type": "reference", "latents_dir": "reference_latents"}, {"type": "first_frame", "probability": 0.2}],
        )
    },
    "a2v": {"video": gen("latents"), "audio": frozen("audio_latents")},
    "v2a": {"video": frozen("latents"), "audio": gen("audio_latents")},
    "t2a": {"audio": gen("audio_latents")},
    "audio_extend": {"audio": gen("audio_latents", [{"type": "prefix", "temporal_boundary": 3}])},
    "audio_suffix": {"audio": gen("audio_latents", [{"type": "suffix", "temporal_boundary": 3}])},
    "audio_inpainting": {"audio": gen("audio_latents", [{"type": "mask", "mask_dir": "audio_masks"}])},
    "video_inpainting": {"video": gen("latents", [{"type": "mask", "mask_dir": "video_masks"}])},
    "video_outpainting": {
        "video": gen("latents", [{"type": "spatial_crop", "spatial_region": [0, 0, 40, 70], "probability": 0.7}])
    },
    "a2a_ic": {"audio": gen("audio_latents", [{"type": "reference", "latents_dir": "reference_audio_latents"}])},
    "av2av_ic": {
        "video": gen("latents", [{"type": "reference", "latents_dir": "reference_latents"}]),
        "audio": gen("audio_latents", [{"type": "reference", "latents_dir": "reference_audio_latents"}]),
    },
}
BATCH = {"i2v": 2, "video_outpainting": 2, "video_inpainting": 2, "audio_inpainting": 2}
UNIFORM_MODES = {"video_extend"}  # run with flow_matching uniform(0, 1)
GRAD_MODES = {"t2v", "i2v", "v2v_ic", "v2a", "av2av_ic", "audio_extend"}


def video_entry(g: torch.Generator, b: int, grid: dict, fps: float) -> dict:
    lat = torch.randn(b, 128, grid["frames"], grid["height"], grid["width"], generator=g).to(torch.bfloat16)
    n = lambda v: torch.full((b,), v)
    return {"latents": lat, "num_frames": n(grid["frames"]), "height": n(grid["height"]), "width": n(grid["width"]),
            "fps": torch.full((b,), fps, dtype=torch.float64)}  # fmt: skip


def audio_entry(g: torch.Generator, b: int, t: int) -> dict:
    lat = torch.randn(b, 8, t, 16, generator=g)
    return {"latents": lat, "num_time_steps": torch.full((b,), t), "frequency_bins": torch.full((b,), 16)}


def make_batch(mode: str, b: int, g: torch.Generator) -> dict:
    cfg = MODES[mode]
    batch: dict = {
        "conditions": {
            "video_prompt_embeds": torch.randn(b, CTX, 32, generator=g),
            "audio_prompt_embeds": torch.randn(b, CTX, 16, generator=g),
            "prompt_attention_mask": torch.tensor([[1] * CTX] + [[1] * (CTX - 2) + [0, 0]] * (b - 1))[:b],
        }
    }
    if "video" in cfg:
        batch["video_latents"] = video_entry(g, b, VIDEO, 24.0)
    if "audio" in cfg:
        batch["audio_latents"] = audio_entry(g, b, AUDIO_T)
    for m in ("video", "audio"):
        for c in cfg.get(m, {}).get("conditions", []):
            if c["type"] == "reference":
                batch[c["latents_dir"]] = video_entry(g, b, REF, 12.0) if m == "video" else audio_entry(g, b, 5)
            if c["type"] == "mask":
                shape = (b, VIDEO["frames"], VIDEO["height"], VIDEO["width"]) if m == "video" else (b, AUDIO_T)
                batch[c["mask_dir"]] = {"mask": torch.rand(shape, generator=g)}
    return batch


def batch_tensors(batch: dict) -> dict[str, torch.Tensor]:
    out = {}
    for k, v in batch.items():
        for kk, t in v.items():
            out[f"batch.{k}.{kk}"] = t.float().contiguous() if t.dtype in (torch.bfloat16, torch.float64) else t
    return out


def f32_modality(m: Modality | None) -> Modality | None:
    if m is None:
        return None
    return Modality(enabled=True, latent=m.latent.float(), sigma=m.sigma.float(), timesteps=m.timesteps.float(),
                    positions=m.positions, context=m.context, context_mask=m.context_mask)  # fmt: skip


def f64_modality(m: Modality | None) -> Modality | None:
    if m is None:
        return None
    return Modality(enabled=True, latent=m.latent.double(), sigma=m.sigma.double(), timesteps=m.timesteps.double(),
                    positions=m.positions.double(), context=m.context.double(), context_mask=m.context_mask)  # fmt: skip


def modality_tensors(prefix: str, m: Modality | None) -> dict[str, torch.Tensor]:
    if m is None:
        return {}
    return {
        f"{prefix}.latent": m.latent.float().contiguous(),
        f"{prefix}.sigma": m.sigma.float().contiguous(),
        f"{prefix}.timesteps": m.timesteps.float().contiguous(),
        f"{prefix}.positions": m.positions.float().contiguous(),
    }


def rel_error(ours: torch.Tensor, ref: torch.Tensor) -> float:
    return float((ours.detach().double() - ref.detach()).abs().max() / ref.detach().abs().max())


def rel_error_tree(ours: dict[str, torch.Tensor], ref: dict[str, torch.Tensor]) -> float:
    """max |ours − ref| over every tensor, relative to the largest |ref| of all."""
    scale = max(float(v.abs().max()) for v in ref.values())
    return max(float((ours[k].double() - ref[k]).abs().max()) for k in ref) / scale


def strategy_case(mode: str, cfg: dict, out: str, idx: int) -> dict:
    b = BATCH.get(mode, 1)
    g = torch.Generator().manual_seed(S(100 + idx))
    batch = make_batch(mode, b, g)
    strategy = FlexibleStrategy(FlexibleStrategyConfig(name="flexible", **MODES[mode]))
    sampler = SigmaRecorder(UniformTimestepSampler() if mode in UNIFORM_MODES else ShiftedLogitNormalTimestepSampler())
    _, peft = build_peft_model(cfg, nonzero_b=True)
    torch.manual_seed(S(200 + idx))
    with Recorder() as rec:
        inputs = strategy.prepare_training_inputs(batch, sampler)
    # The goldens are the reference's float64 run (same inputs); its float32 run is kept only to record how far
    # the reference's own float32 arithmetic is from them (reference_f32_vs_f64).
    vp, ap = peft(video=f32_modality(inputs.video), audio=f32_modality(inputs.audio), perturbations=None)
    peft64 = copy.deepcopy(peft).double()
    vp64, ap64 = peft64(video=f64_modality(inputs.video), audio=f64_modality(inputs.audio), perturbations=None)
    per_sample64 = strategy.compute_loss(vp64, ap64, inputs)
    per_sample = strategy.compute_loss(vp, ap, inputs)
    f32_error = {
        name: rel_error(p32, p64)
        for name, p32, p64 in (("video_pred", vp, vp64), ("audio_pred", ap, ap64), ("loss", per_sample, per_sample64))
        if p32 is not None
    }
    tensors = batch_tensors(batch) | draws_tensors(rec.draws) | sigma_tensors("sigmas", sampler.sigmas)
    tensors |= modality_tensors("inputs.video", inputs.video) | modality_tensors("inputs.audio", inputs.audio)
    for name in ("video_targets", "audio_targets", "video_loss_mask", "audio_loss_mask"):
        if (t := getattr(inputs, name)) is not None:
            tensors[f"inputs.{name}"] = t.float().contiguous()
    for name, t in (("video_pred", vp64), ("audio_pred", ap64), ("loss", per_sample64)):
        if t is not None:
            tensors[f"outputs.{name}"] = t.detach().float().contiguous()  # float64 run, stored as float32
    if mode in GRAD_MODES:
        per_sample64.mean().backward()
        per_sample.mean().backward()
        g64 = {lora_key(n): p.grad for n, p in peft64.named_parameters() if "lora_" in n and p.grad is not None}
        g32 = {lora_key(n): p.grad for n, p in peft.named_parameters() if "lora_" in n and p.grad is not None}
        f32_error["grads"] = rel_error_tree(g32, g64)
        for n, p in peft64.named_parameters():
            if "lora_" in n:  # a modality the case does not run leaves its adapters without a gradient: zero
                grad = torch.zeros_like(p) if p.grad is None else p.grad.detach()
                tensors[f"grads.{lora_key(n)}"] = grad.float().contiguous()
    file = f"{mode}.safetensors"
    save_file(tensors, os.path.join(out, file))
    return {
        "file": file,
        "strategy": MODES[mode],
        "sampler": "uniform" if mode in UNIFORM_MODES else "shifted_logit_normal",
        "batch": b,
        "draws": len(rec.draws),
        "grads": mode in GRAD_MODES,
        "loss_mean": float(per_sample64.detach().mean()),
        "reference_f32_vs_f64": f32_error,
    }


# ------------------------------------------------------------------------------------------------------------
# Connectors inside the step (trainer.py 365-387): the batch holds pre-connector text features
# ------------------------------------------------------------------------------------------------------------
CONNECTORS = {"video": {"heads": 2, "head_dim": 16}, "audio": {"heads": 2, "head_dim": 8}}
CONNECTOR_ARGS = {"num_layers": 1, "positional_embedding_max_pos": [4096], "num_learnable_registers": 3,
                  "rope_type": "split", "double_precision_rope": True, "apply_gated_attention": True}  # fmt: skip


def build_processor():
    """The reference's EmbeddingsProcessor without a feature extractor (the trainer drops it), tiny connectors."""
    from ltx_core.model.transformer.rope import LTXRopeType
    from ltx_core.text_encoders.gemma.embeddings_connector import Embeddings1DConnector
    from ltx_core.text_encoders.gemma.embeddings_processor import EmbeddingsProcessor

    args = {**CONNECTOR_ARGS, "rope_type": LTXRopeType(CONNECTOR_ARGS["rope_type"])}
    torch.manual_seed(S(400))
    conn = {m: Embeddings1DConnector(attention_head_dim=c["head_dim"], num_attention_heads=c["heads"], **args)
            for m, c in CONNECTORS.items()}  # fmt: skip
    proc = EmbeddingsProcessor(video_connector=conn["video"], audio_connector=conn["audio"]).eval()
    g = torch.Generator().manual_seed(S(401))
    with torch.no_grad():  # every parameter random (norm gains near 1, learnable registers included)
        for name, p in proc.named_parameters():
            r = torch.randn(p.shape, generator=g)
            p.copy_(
                r / p.shape[1] ** 0.5
                if p.ndim == 2 and "registers" not in name
                else 1 + 0.1 * r
                if "norm" in name
                else 0.3 * r
            )
    return proc


def connector_case(cfg: dict, out: str) -> dict:
    """t2v, batch 2 (the second prompt left-padded by 2), conditions = pre-connector features: the reference's
    ``_training_step`` runs the connectors, then the strategy, model, loss and backward."""
    from ltx_core.text_encoders.gemma.embeddings_processor import convert_to_additive_mask

    g = torch.Generator().manual_seed(S(500))
    batch = make_batch("t2v", 2, g)
    batch["conditions"]["prompt_attention_mask"] = torch.tensor([[1] * CTX, [0, 0] + [1] * (CTX - 2)])
    features = {k: v.clone() for k, v in batch["conditions"].items()}
    proc = build_processor()
    strategy = FlexibleStrategy(FlexibleStrategyConfig(name="flexible", **MODES["t2v"]))
    sampler = SigmaRecorder(ShiftedLogitNormalTimestepSampler())
    _, peft = build_peft_model(cfg, nonzero_b=True)
    peft64, proc64 = copy.deepcopy(peft).double(), copy.deepcopy(proc).double()

    def step(model, processor, dtype, record: bool):
        cond = {k: v.to(dtype) if v.is_floating_point() else v for k, v in features.items()}
        additive = convert_to_additive_mask(cond["prompt_attention_mask"], cond["video_prompt_embeds"].dtype)
        video, audio, mask = processor.create_embeddings(
            cond["video_prompt_embeds"], cond["audio_prompt_embeds"], additive
        )
        b = {
            **batch,
            "conditions": {"video_prompt_embeds": video, "audio_prompt_embeds": audio, "prompt_attention_mask": mask},
        }
        torch.manual_seed(S(501))
        with Recorder() as rec:
            inputs = strategy.prepare_training_inputs(b, sampler)
        cast = f64_modality if dtype == torch.float64 else f32_modality
        vp, ap = model(video=cast(inputs.video), audio=cast(inputs.audio), perturbations=None)
        per_sample = strategy.compute_loss(vp, ap, inputs)
        per_sample.mean().backward()
        return {"video": video, "audio": audio, "mask": mask, "video_pred": vp, "audio_pred": ap, "loss": per_sample,
                "draws": rec.draws, "inputs": inputs}  # fmt: skip

    r64 = step(peft64, proc64, torch.float64, True)
    sigmas = list(sampler.sigmas)
    r32 = step(peft, proc, torch.float32, False)
    tensors = (
        batch_tensors({**batch, "conditions": features}) | draws_tensors(r64["draws"]) | sigma_tensors("sigmas", sigmas)
    )
    tensors |= {f"connectors.{k}": v.detach().float().contiguous() for k, v in proc.state_dict().items()}
    tensors |= {
        f"outputs.{k}": r64[k].detach().float().contiguous()
        for k in ("video", "audio", "video_pred", "audio_pred", "loss")
    }
    tensors["outputs.mask"] = r64["mask"].float()
    g64 = {lora_key(n): p.grad for n, p in peft64.named_parameters() if "lora_" in n}
    tensors |= {f"grads.{k}": (torch.zeros_like(v) if v is None else v.detach()).float() for k, v in g64.items()}
    g32 = {lora_key(n): p.grad for n, p in peft.named_parameters() if "lora_" in n and p.grad is not None}
    save_file(tensors, os.path.join(out, "connectors.safetensors"))
    return {"file": "connectors.safetensors", "strategy": MODES["t2v"], "batch": 2, "connectors": CONNECTORS,
            "connector_args": CONNECTOR_ARGS, "reference_f32_vs_f64": {
                **{k: rel_error(r32[k], r64[k]) for k in ("video", "audio", "video_pred", "audio_pred", "loss")},
                "grads": rel_error_tree(g32, {k: v for k, v in g64.items() if v is not None})}}  # fmt: skip


# ------------------------------------------------------------------------------------------------------------
# AdamW + accumulation + clipping + LinearLR under Accelerate
# ------------------------------------------------------------------------------------------------------------
ADAMW = {"learning_rate": 1e-2, "steps": 3, "gradient_accumulation_steps": 2, "max_grad_norm": 0.05,
         "scheduler_type": "linear"}  # fmt: skip


def adamw_run(cfg: dict, batches: list[dict], double: bool) -> dict:
    """3 optimizer steps × accumulation 2 under Accelerate; ``double`` runs the model and optimizer in float64
    (same seeds, so the same draws) to measure the reference's own float32 rounding."""
    from accelerate import Accelerator
    from torch.optim import AdamW
    from torch.optim.lr_scheduler import LinearLR

    _, peft = build_peft_model(cfg, nonzero_b=False)  # PEFT's own init: B = 0
    init = lora_params(peft)
    if double:
        peft = peft.double()
    cast = f64_modality if double else f32_modality
    strategy = FlexibleStrategy(FlexibleStrategyConfig(name="flexible", **MODES["t2v"]))
    sampler = SigmaRecorder(ShiftedLogitNormalTimestepSampler())
    accelerator = Accelerator(
        mixed_precision="no", gradient_accumulation_steps=ADAMW["gradient_accumulation_steps"], cpu=True
    )
    params = [p for p in peft.parameters() if p.requires_grad]
    optimizer = AdamW(params, lr=ADAMW["learning_rate"])
    scheduler = LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=ADAMW["steps"])
    peft, optimizer, scheduler = accelerator.prepare(peft, optimizer, scheduler)
    torch.manual_seed(S(301))
    run: dict = {
        "init": init,
        "draws": [],
        "sigmas": [],
        "grads": [],
        "lrs": [],
        "norms": [],
        "losses": [],
        "steps": [],
    }
    for micro in range(ADAMW["steps"] * ADAMW["gradient_accumulation_steps"]):
        batch = batches[micro % 2]
        with accelerator.accumulate(peft):
            with Recorder() as rec:
                inputs = strategy.prepare_training_inputs(batch, sampler)
            run["draws"].append(rec.draws)
            run["sigmas"].append(sampler.sigmas[-2:])  # video, audio
            vp, ap = peft(video=cast(inputs.video), audio=cast(inputs.audio), perturbations=None)
            loss = strategy.compute_loss(vp, ap, inputs)
            run["losses"].append(float(loss.detach().mean()))
            accelerator.backward(loss.mean())
            run["grads"].append(
                {lora_key(n): p.grad.detach().clone() for n, p in peft.named_parameters() if "lora_" in n}
            )
            if accelerator.sync_gradients:
                run["norms"].append(float(accelerator.clip_grad_norm_(params, ADAMW["max_grad_norm"])))
                run["lrs"].append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            optimizer.zero_grad()
            scheduler.step()
            if accelerator.sync_gradients:
                run["steps"].append(lora_params(peft))
    return run


def adamw_case(cfg: dict, out: str) -> dict:
    g = torch.Generator().manual_seed(S(300))
    batches = [make_batch("t2v", 1, g) for _ in range(2)]
    run64 = adamw_run(cfg, batches, double=True)  # the goldens
    run = adamw_run(cfg, batches, double=False)  # only for the reference's own float32 error
    tensors = {f"init.{k}": v for k, v in run64["init"].items()}
    tensors |= {f"sample{i}.{k}": v for i, b in enumerate(batches) for k, v in batch_tensors(b).items()}
    for i, step in enumerate(run64["steps"]):
        tensors |= {f"step{i + 1}.{k}": v.float() for k, v in step.items()}  # float64 run, stored as float32
    for micro, draws in enumerate(run64["draws"]):
        tensors |= {f"micro{micro}.{k}": v for k, v in draws_tensors(draws).items()}
        tensors |= sigma_tensors(f"micro{micro}.sigmas", run64["sigmas"][micro])
        # this micro-batch's gradient (of loss/accumulation): the accumulated .grad minus the one before it; float32,
        # as it enters the MLX side's float32 accumulator
        before = run64["grads"][micro - 1] if micro % ADAMW["gradient_accumulation_steps"] else {}
        grads = {k: (g - before[k] if before else g).float() for k, g in run64["grads"][micro].items()}
        tensors |= {f"micro{micro}.grads.{k}": g for k, g in grads.items()}
    save_file(tensors, os.path.join(out, "adamw.safetensors"))
    relative = lambda a, b: [abs(x - y) / abs(y) for x, y in zip(a, b, strict=True)]
    return {"file": "adamw.safetensors", "mode": "t2v", "strategy": MODES["t2v"], "optimization": ADAMW,
            "micro_batches": [m % 2 for m in range(len(run64["draws"]))], "learning_rates": run64["lrs"],
            "grad_norms": run64["norms"], "losses": run64["losses"],
            "reference_f32_vs_f64": {
                "steps": [rel_error_tree(a, b) for a, b in zip(run["steps"], run64["steps"], strict=True)],
                "grad_norms": relative(run["norms"], run64["norms"]),
                "losses": relative(run["losses"], run64["losses"])},
            "optimizer": "torch.optim.AdamW(params, lr) defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 0.01"}  # fmt: skip


SCHEDULERS = [
    ("constant", 8, {}),
    ("linear", 8, {}),
    ("linear", 8, {"start_factor": 0.5, "end_factor": 0.2}),
    ("cosine", 8, {}),
    ("cosine_with_restarts", 12, {}),
    ("cosine_with_restarts", 12, {"T_0": 2, "T_mult": 2, "eta_min": 1e-5}),
    ("polynomial", 8, {"power": 2.0}),
    ("step", 8, {}),
]


def scheduler_goldens() -> list[dict]:
    """The learning rate of every optimizer step k = 0 … steps + 2 from the trainer's own ``_create_scheduler``."""
    import ast
    import inspect
    from types import SimpleNamespace

    import ltx_trainer
    from torch.optim import lr_scheduler

    # ltx_trainer.trainer imports wandb, rich, … : run its _create_scheduler's own source with torch's schedulers
    source = open(os.path.join(os.path.dirname(ltx_trainer.__file__), "trainer.py")).read()
    cls = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == "LtxvTrainer")
    fn = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "_create_scheduler")
    namespace = {**vars(lr_scheduler), "torch": torch}
    exec(compile(ast.Module([fn], type_ignores=[]), "ltx_trainer/trainer.py", "exec"), namespace)
    create_scheduler = namespace["_create_scheduler"]
    assert inspect.isfunction(create_scheduler)
    out = []
    for kind, steps, params in SCHEDULERS:
        opt_cfg = SimpleNamespace(scheduler_type=kind, steps=steps, scheduler_params=dict(params))
        fake = SimpleNamespace(_config=SimpleNamespace(optimization=opt_cfg))
        optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
        scheduler = create_scheduler(fake, optimizer)
        lrs = []
        for _ in range(steps + 3):
            lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
        out.append({"scheduler_type": kind, "steps": steps, "scheduler_params": params, "learning_rate": 1e-3,
                    "learning_rates": lrs})  # fmt: skip
    return out


def saved_keys(cfg: dict) -> list[str]:
    """The key list the trainer's _save_checkpoint writes for this model and these targets."""
    _, peft = build_peft_model(cfg, nonzero_b=False)
    state = get_peft_model_state_dict(peft)
    return sorted(f"diffusion_model.{k.replace('base_model.model.', '', 1)}" for k in state)


def main() -> None:
    global SEED
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/ltx_goldens")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ltx-core-src", default=None, help="Lightricks/LTX-2 checkout (its ltx-core and ltx-trainer)")
    args = ap.parse_args()
    SEED = gt.SEED = args.seed
    out = os.path.abspath(os.path.join(args.out, "trainer"))
    os.makedirs(out, exist_ok=True)
    cfg = tiny_transformer_config()
    model = gt.build_model(cfg, gt.LTXModelConfigurator)
    gt.fill_(model, 11)
    save_file(gt.ckpt_state_dict(model), os.path.join(out, "model.weights.safetensors"),
              metadata={"config": json.dumps({"transformer": cfg})})  # fmt: skip
    # the adapters every strategy case runs with (PEFT init of A, B non-zero so every gradient is non-trivial)
    save_file(lora_params(build_peft_model(cfg, nonzero_b=True)[1]), os.path.join(out, "lora.safetensors"))
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as empty:
        os.chdir(empty)  # the strategy's reference-scale inference globs the working directory (trainer.md §3.10)
        try:
            cases = {mode: strategy_case(mode, cfg, out, i) for i, mode in enumerate(MODES)}
            adamw = adamw_case(cfg, out)
            connectors = connector_case(cfg, out)
        finally:
            os.chdir(cwd)
    manifest = {
        "about": __doc__.splitlines()[0],
        "seed": SEED,
        "weights": "model.weights.safetensors",
        "lora_weights": "lora.safetensors",
        "lora": {"rank": RANK, "alpha": ALPHA, "target_modules": TARGETS, "dropout": 0.0},
        "sampler": sampler_goldens(out),
        "cases": cases,
        "adamw": adamw,
        "connectors": connectors,
        "saved_keys": saved_keys(cfg),
        "schedulers": scheduler_goldens(),
    }
    write_json_manifest(out, manifest)


if __name__ == "__main__":
    main()
