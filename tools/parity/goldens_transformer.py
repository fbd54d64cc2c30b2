#!/usr/bin/env python
"""Tiny random-weight goldens for the LTX-2 / LTX-2.3 / LTX-2.5 audio-video DiT, from the official PyTorch reference.

Nothing here re-implements the model: the transformer is built by the official ``LTXModelConfigurator`` /
``LTXVideoOnlyModelConfigurator`` from a metadata-shaped config, filled with deterministic random weights and run
on CPU in float64 (ground truth), float32 and bfloat16. Inputs (latents, per-token timesteps, RoPE positions,
masks) come from the official ``VideoLatentTools`` / ``AudioLatentTools`` / conditioning items.

The committed goldens are made from Lightricks/LTX-2 at 400fd31 (v1.2.0: the A/V cross-attention AdaLN reads the
modality's own per-token timesteps; a frozen modality passes sigma 0) with ``--ltx-core-src``; without it the
installed PyPI ``ltx-core==1.0.0`` runs. ``nox -s goldens`` does all of this.

Files written to OUT/transformer/:
  <config>.weights.safetensors  float32 weights under the real checkpoint keys (``model.diffusion_model.*``)
                                with a real-style ``__metadata__`` {"config": json({"transformer": cfg})}
  <config>__<case>.safetensors  inputs.* (float32), outputs_f64.* (velocities, float64 run = ground truth, stored as float32),
                                intermediates.* (float64 run, stored as float32: preprocessed inputs ``pre.*``
                                and every block's output ``block<i>.{video,audio}_x``)
  manifest.json                 ``cases`` (every case with its files), configs, constructor calls, the
                                reference's own f32/bf16-vs-f64 errors, weight keys and shapes

Configs (all 2 layers; video 2 heads x 16 = 32 wide; audio 2 heads x 8 = 16 wide):
  ltx2_av      19B-style: caption_projection inside the transformer (caption_channels 24), 6-row AdaLN
               tables, rope "split" + frequencies_precision "float64", av_ca_timestep_scale_multiplier 1000
  ltx23_av     22B / LTX-2.3-style: caption_proj_before_connector (no caption projection),
               apply_gated_attention, cross_attention_adaln (9-row tables, prompt AdaLN), split + float64
  ltx2_av_legacy_defaults   rope "interleaved", float32 rope grid, av_ca 1 (1.0.0's code defaults)
  ltx2_video_only           LTXVideoOnlyModelConfigurator (no audio stream)
  ltx25_av     LTX-2.5-style: ltx23_av + ff_bias false (no video-FF biases) + use_keyframes_abs_pos_embedding
               with a NONZERO random embedding (zero-init would be a no-op); its inputs carry video.keyframes_mask
               from the reference's latent tools (first latent frame; generated keyframe slots)
  ltx25_av_no_prompt_adaln  ltx23_av + use_prompt_adaln_single false + audio_ff_bias false (config knobs of
               v1.2.0 the shipped 2.5 leaves at their defaults)

Cases (per AV config; video latent 3x4x6 = 72 tokens, audio 18 tokens, 128 channels each):
  t2v             B=2, sigmas [0.7, 0.3], no conditioning
  i2v_keyframe    B=1, sigma 0.6; frame-0 latent replaced (denoise mask 0 -> per-token timestep 0),
                  keyframe appended at pixel frame 16 with attention-strength 0.5 (=> self-attn
                  log-bias mask), text context_mask with 4 padded tokens
  stg             B=1, SKIP_VIDEO_SELF_ATTN + SKIP_AUDIO_SELF_ATTN in the last block (STG pass)
  isolated        B=1, SKIP_A2V_CROSS_ATTN + SKIP_V2A_CROSS_ATTN in all blocks (modality-CFG pass)
  mixed_batch     B=3 [none, stg, isolated] -> exercises the per-sample perturbation-mask path
  a2v_frozen      B=1, audio denoise mask 0 (timesteps 0), audio sigma 0 (v1.2.0 frozen modality)
  video_only_call B=1, audio=None (AV model called without audio)
  audio_only_call B=1, video=None (AV model called without video; also checks the AudioOnly model)
  keyframe_slots  B=1 (ltx25_av only), sigma 0.6; VideoGeneratedKeyframeSlots at pixel frame 8 appended (one
                  latent frame of marked tokens) + the always-marked first latent frame

Usage: python goldens_transformer.py [--out DIR] [--seed N] [--ltx-core-src CHECKOUT] [--only cfg,...]
       (--only merges into an existing OUT/transformer/manifest.json: the other configs' files stay untouched)
       python goldens_transformer.py --out DIR --keep-low-precision --verify   # reload via the official loader
"""

from __future__ import annotations

import argparse
import copy
import inspect
import json
import math
import os
import shutil
import sys
from typing import Any

# --ltx-core-src DIR puts another ltx_core source tree (e.g. git HEAD's packages/ltx-core/src) first
# on sys.path, so the same script can produce goldens for a newer ltx_core (see --rerun).
if "--ltx-core-src" in sys.argv:
    _src = os.path.abspath(sys.argv[sys.argv.index("--ltx-core-src") + 1])
    if os.path.isdir(os.path.join(_src, "packages", "ltx-core", "src")):  # a whole Lightricks/LTX-2 checkout
        sys.path.insert(0, os.path.join(_src, "packages", "ltx-pipelines", "src"))
        _src = os.path.join(_src, "packages", "ltx-core", "src")
    sys.path.insert(0, _src)

import torch
from ltx_core.components.patchifiers import AudioPatchifier, VideoLatentPatchifier
from ltx_core.conditioning import (
    ConditioningItemAttentionStrengthWrapper,
    VideoConditionByKeyframeIndex,
    VideoConditionByLatentIndex,
)
from ltx_core.guidance.perturbations import (
    BatchedPerturbationConfig,
    Perturbation,
    PerturbationConfig,
    PerturbationType,
)
from ltx_core.loader.single_gpu_model_builder import SingleGPUModelBuilder
from ltx_core.model.transformer import (
    LTXV_MODEL_COMFY_RENAMING_MAP,
    LTXModelConfigurator,
    LTXVideoOnlyModelConfigurator,
    Modality,
    X0Model,
)
from ltx_core.tools import AudioLatentTools, VideoLatentTools
from ltx_core.types import AudioLatentShape, VideoLatentShape, VideoPixelShape
from safetensors import safe_open
from safetensors.torch import save_file
from tiny_configs import tiny_config  # the script's folder is on sys.path

CKPT_PREFIX = "model.diffusion_model."

# --seed N shifts every generator seed below, so goldens made with another N share no weight or input.
SEED = 0
# --keep-low-precision also stores the reference's float32 and bfloat16 outputs (needed by --verify/--rerun).
KEEP_LOW_PRECISION = False


def S(base: int) -> int:
    return base + 7919 * SEED


# ----------------------------------------------------------------------------------------------
# Configs (the "transformer" section of the checkpoint __metadata__["config"] JSON)
# ----------------------------------------------------------------------------------------------
# In tiny_configs.json (goldens.transformer), with the keys LTXModelConfigurator.check_config_value() insists on:
#  ltx2_av: real 19B at 2 layers, 2 heads x 16 (cross 32 = heads*head_dim), caption 24, audio 2 x 8 (audio heads
#    must equal video heads: cross RoPE); ltx23_av adds caption_proj_before_connector, gated attention and prompt
#    AdaLN; ltx2_av_legacy_defaults: 1.0.0's code defaults written out (interleaved rope, float32 frequency grid);
#    ltx2_video_only: ltx2_av without its audio and A/V keys.
_TINY = tiny_config("goldens", "transformer")
TINY_LTX2_AV, TINY_LTX23_AV = _TINY["ltx2_av"], _TINY["ltx23_av"]
TINY_LTX2_AV_LEGACY, TINY_LTX2_VIDEO_ONLY = _TINY["ltx2_av_legacy_defaults"], _TINY["ltx2_video_only"]
TINY_LTX25_AV, TINY_LTX25_AV_NO_PROMPT_ADALN = _TINY["ltx25_av"], _TINY["ltx25_av_no_prompt_adaln"]

CONFIGS: dict[str, tuple[dict, Any]] = {
    "ltx2_av": (TINY_LTX2_AV, LTXModelConfigurator),
    "ltx23_av": (TINY_LTX23_AV, LTXModelConfigurator),
    "ltx2_av_legacy_defaults": (TINY_LTX2_AV_LEGACY, LTXModelConfigurator),
    "ltx2_video_only": (TINY_LTX2_VIDEO_ONLY, LTXVideoOnlyModelConfigurator),
    # Appended last: each config's seed is 100 + its index here, so the earlier goldens stay bit-identical.
    "ltx25_av": (TINY_LTX25_AV, LTXModelConfigurator),
    "ltx25_av_no_prompt_adaln": (TINY_LTX25_AV_NO_PROMPT_ADALN, LTXModelConfigurator),
}


# ----------------------------------------------------------------------------------------------
# Model construction + deterministic init
# ----------------------------------------------------------------------------------------------
def build_model(cfg: dict, configurator: Any) -> torch.nn.Module:
    """Exactly what SingleGPUModelBuilder.meta_model does, then materialise on CPU."""
    with torch.device("meta"):
        if hasattr(configurator, "from_metadata"):  # ltx_core >= 1.2 (git HEAD)
            model = configurator.from_metadata({"config": {"transformer": cfg}})
        else:  # ltx_core 1.0.0
            model = configurator.from_config({"transformer": cfg})
    return model.to_empty(device="cpu")


def fill_(model: torch.nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(S(seed))

    def rn(shape: torch.Size, scale: float) -> torch.Tensor:
        return torch.randn(shape, generator=g, dtype=torch.float32) * scale

    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("q_norm.weight", "k_norm.weight")):
                p.copy_(1.0 + rn(p.shape, 0.1))
            elif "scale_shift_table" in name:  # per-block / output AdaLN tables
                p.copy_(rn(p.shape, 0.3))
            elif name.endswith(".weight") and p.ndim == 2:
                p.copy_(rn(p.shape, 1.0 / math.sqrt(p.shape[1])))
            elif "to_gate_logits.bias" in name or name == "keyframes_abs_pos_embedding":  # (1, D) keyframe
                p.copy_(rn(p.shape, 0.5))  # marker: zero-initialised by the reference (a no-op), so randomised
                p.copy_(rn(p.shape, 0.5))
            elif name.endswith(".bias"):
                p.copy_(rn(p.shape, 0.05))
            else:
                raise RuntimeError(f"unhandled parameter {name} {tuple(p.shape)}")
        for name, b in model.named_buffers():
            raise RuntimeError(f"unexpected buffer {name}")


def ckpt_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {CKPT_PREFIX + k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


# ----------------------------------------------------------------------------------------------
# Inputs (built with the official latent tools, like ltx_pipelines.utils.helpers does)
# ----------------------------------------------------------------------------------------------
PIXEL = dict(frames=17, height=128, width=192, fps=24.0)  # latent 3 x 4 x 6 -> 72 video tokens
CTX_LEN = 12


def video_tools(batch: int) -> VideoLatentTools:
    shape = VideoLatentShape.from_pixel_shape(
        VideoPixelShape(
            batch=batch, frames=PIXEL["frames"], height=PIXEL["height"], width=PIXEL["width"], fps=PIXEL["fps"]
        ),
        latent_channels=128,
    )
    return VideoLatentTools(VideoLatentPatchifier(patch_size=1), shape, PIXEL["fps"])


def audio_tools(batch: int) -> AudioLatentTools:
    shape = AudioLatentShape.from_video_pixel_shape(
        VideoPixelShape(
            batch=batch, frames=PIXEL["frames"], height=PIXEL["height"], width=PIXEL["width"], fps=PIXEL["fps"]
        )
    )
    return AudioLatentTools(AudioPatchifier(patch_size=1), shape)


def make_case_inputs(case: str, cfg: dict, seed: int) -> dict[str, Any]:
    """Returns a dict with tensors (float32) + python-side metadata for the case."""
    g = torch.Generator().manual_seed(S(seed))
    rn = lambda *s: torch.randn(*s, generator=g, dtype=torch.float32)
    batch = {"t2v": 2, "mixed_batch": 3}.get(case, 1)
    has_audio = "audio_num_attention_heads" in cfg and case != "video_only_call"
    v2 = bool(cfg.get("caption_proj_before_connector", False))
    v_ctx_dim = cfg["num_attention_heads"] * cfg["attention_head_dim"] if v2 else cfg["caption_channels"]

    vt = video_tools(batch)
    vstate = vt.create_initial_state(torch.device("cpu"), torch.float32, rn(*vt.target_shape.to_torch_shape()))
    if case == "keyframe_slots":
        from ltx_core.conditioning.types.keyframe_slots import VideoGeneratedKeyframeSlots  # v1.2.0 only

        vstate = VideoGeneratedKeyframeSlots([8]).apply_to(vstate, vt)
    if case == "i2v_keyframe":
        cond_frame0 = rn(batch, 128, 1, vt.target_shape.height, vt.target_shape.width)
        keyframe = rn(batch, 128, 1, vt.target_shape.height, vt.target_shape.width)
        vstate = VideoConditionByLatentIndex(latent=cond_frame0, strength=1.0, latent_idx=0).apply_to(vstate, vt)
        vstate = ConditioningItemAttentionStrengthWrapper(
            VideoConditionByKeyframeIndex(keyframes=keyframe, frame_idx=16, strength=1.0), attention_mask=0.5
        ).apply_to(vstate, vt)
    sigma = {"t2v": torch.tensor([0.7, 0.3]), "mixed_batch": torch.full((3,), 0.5)}.get(case, torch.tensor([0.6]))
    inputs: dict[str, torch.Tensor] = {
        "video.latent": vstate.latent,
        "video.denoise_mask": vstate.denoise_mask,
        "video.sigma": sigma,
        "video.timesteps": vstate.denoise_mask * sigma.view(-1, 1, 1),  # timesteps_from_mask: (B,T,1)
        "video.positions": vstate.positions.float(),
        "video.context": rn(batch, CTX_LEN, v_ctx_dim),
    }
    if vstate.attention_mask is not None:
        inputs["video.attention_mask"] = vstate.attention_mask
    if cfg.get("use_keyframes_abs_pos_embedding", False):  # only here: the other configs' files stay as they were
        inputs["video.keyframes_mask"] = vstate.keyframes_mask
    if case == "i2v_keyframe":
        cm = torch.ones(batch, CTX_LEN, dtype=torch.int64)
        cm[:, -4:] = 0
        inputs["video.context_mask"] = cm
    if has_audio:
        at = audio_tools(batch)
        astate = at.create_initial_state(torch.device("cpu"), torch.float32, rn(*at.target_shape.to_torch_shape()))
        a_ctx_dim = (
            cfg["audio_num_attention_heads"] * cfg["audio_attention_head_dim"] if v2 else cfg["caption_channels"]
        )
        amask = astate.denoise_mask
        if case == "a2v_frozen":  # denoise_video_only(): audio mask zeroed
            amask = torch.zeros_like(amask)
        inputs.update(
            {
                "audio.latent": astate.latent,
                "audio.denoise_mask": amask,
                # v1.2.0: a frozen modality passes sigma 0 (1.0.0 passed the step sigma)
                "audio.sigma": torch.zeros_like(sigma) if case == "a2v_frozen" else sigma.clone(),
                "audio.timesteps": amask * sigma.view(-1, 1, 1),
                "audio.positions": astate.positions.float(),
                "audio.context": rn(batch, CTX_LEN, a_ctx_dim),
            }
        )
        if case == "i2v_keyframe":
            inputs["audio.context_mask"] = inputs["video.context_mask"].clone()
    if case == "audio_only_call":  # AV model called without video (and the AudioOnly form)
        inputs = {k: v for k, v in inputs.items() if not k.startswith("video.")}
    return inputs


def _batched(pcs: list[PerturbationConfig], num_layers: int, dtype: torch.dtype) -> BatchedPerturbationConfig:
    if "num_blocks" in inspect.signature(BatchedPerturbationConfig.__init__).parameters:  # ltx_core >= 1.2
        return BatchedPerturbationConfig(pcs, num_layers, dtype=dtype)
    return BatchedPerturbationConfig(pcs)


def perturbations_for(
    case: str, num_layers: int, batch: int, dtype: torch.dtype = torch.float32
) -> BatchedPerturbationConfig | None:
    stg = PerturbationConfig(
        [
            Perturbation(type=PerturbationType.SKIP_VIDEO_SELF_ATTN, blocks=[num_layers - 1]),
            Perturbation(type=PerturbationType.SKIP_AUDIO_SELF_ATTN, blocks=[num_layers - 1]),
        ]
    )
    iso = PerturbationConfig(
        [
            Perturbation(type=PerturbationType.SKIP_A2V_CROSS_ATTN, blocks=None),
            Perturbation(type=PerturbationType.SKIP_V2A_CROSS_ATTN, blocks=None),
        ]
    )
    if case == "stg":
        return _batched([stg], num_layers, dtype)
    if case == "isolated":
        return _batched([iso], num_layers, dtype)
    if case == "mixed_batch":
        return _batched([PerturbationConfig.empty(), stg, iso], num_layers, dtype)
    return None


def modalities(inputs: dict[str, torch.Tensor], dtype: torch.dtype) -> tuple[Modality, Modality | None]:
    def mk(prefix: str) -> Modality | None:
        if f"{prefix}.latent" not in inputs:
            return None
        cm = inputs.get(f"{prefix}.context_mask")
        am = inputs.get(f"{prefix}.attention_mask")
        km = inputs.get(f"{prefix}.keyframes_mask")
        extra = {} if km is None else {"keyframes_mask": km.to(dtype)}
        return Modality(
            latent=inputs[f"{prefix}.latent"].to(dtype),
            sigma=inputs[f"{prefix}.sigma"].to(dtype),
            timesteps=inputs[f"{prefix}.timesteps"].to(dtype),
            positions=inputs[f"{prefix}.positions"].to(torch.float64 if dtype == torch.float64 else torch.float32),
            context=inputs[f"{prefix}.context"].to(dtype),
            enabled=True,
            context_mask=cm,
            attention_mask=None if am is None else am.to(dtype),
            **extra,
        )

    return mk("video"), mk("audio")


def _args_tensors(prefix: str, args: Any) -> dict[str, torch.Tensor]:
    out = {}
    for field in (
        "x",
        "context",
        "context_mask",
        "timesteps",
        "embedded_timestep",
        "cross_scale_shift_timestep",
        "cross_gate_timestep",
        "prompt_timestep",
        "self_attention_mask",
    ):
        v = getattr(args, field)
        if v is not None:
            out[f"{prefix}.{field}"] = v.detach().clone()
    for field in ("positional_embeddings", "cross_positional_embeddings"):
        v = getattr(args, field)
        if v is not None:
            out[f"{prefix}.{field}.cos"] = v[0].detach().clone()
            out[f"{prefix}.{field}.sin"] = v[1].detach().clone()
    return out


def run_model(
    model: torch.nn.Module, inputs: dict, dtype: torch.dtype, case: str, num_layers: int, record: bool
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    ptb = perturbations_for(case, num_layers, _first_latent(inputs).shape[0], dtype)
    model = copy.deepcopy(model).to(dtype)  # never cast the master (float32) weights in place
    video, audio = modalities(inputs, dtype)
    inter: dict[str, torch.Tensor] = {}
    hooks = []
    saved = {}
    if record:
        for attr in ("video_args_preprocessor", "audio_args_preprocessor"):
            pre = getattr(model, attr, None)
            if pre is None:
                continue
            orig = pre.prepare
            saved[attr] = orig

            def wrapped(m, c=None, _orig=orig, _name=attr.split("_")[0]):
                args = _orig(m, c)
                inter.update(_args_tensors(f"pre.{_name}", args))
                return args

            pre.prepare = wrapped
        for i, blk in enumerate(model.transformer_blocks):

            def hook(_m, _inp, out, i=i):
                v, a = out
                if v is not None:
                    inter[f"block{i}.video_x"] = v.x.detach().clone()
                if a is not None:
                    inter[f"block{i}.audio_x"] = a.x.detach().clone()

            hooks.append(blk.register_forward_hook(hook))
    try:
        with torch.no_grad():
            vel_v, vel_a = model(video, audio, ptb)
            den_v, den_a = X0Model(model)(video, audio, ptb)
    finally:
        for h in hooks:
            h.remove()
        for attr, orig in saved.items():
            getattr(model, attr).prepare = orig
    out = {}
    for k, v in (
        ("video.velocity", vel_v),
        ("audio.velocity", vel_a),
        ("video.denoised", den_v),
        ("audio.denoised", den_a),
    ):
        if v is not None:
            out[k] = v.detach().clone()
    return out, inter


AV_CASES = ["t2v", "i2v_keyframe", "stg", "isolated", "mixed_batch", "a2v_frozen", "video_only_call", "audio_only_call"]
CASES = {
    "ltx2_av": AV_CASES,
    "ltx23_av": AV_CASES,
    "ltx2_av_legacy_defaults": ["t2v", "i2v_keyframe"],
    "ltx2_video_only": ["t2v", "i2v_keyframe", "stg"],
    "ltx25_av": ["t2v", "i2v_keyframe", "keyframe_slots", "stg", "a2v_frozen", "audio_only_call"],
    "ltx25_av_no_prompt_adaln": ["t2v", "a2v_frozen"],
}
CONSTRUCTOR_DOC = {
    "ltx2_av": "LTXModelConfigurator.from_config({'transformer': cfg}) -> LTXModel(model_type=AudioVideo, ..., "
    "rope_type=LTXRopeType.SPLIT, double_precision_rope=True, av_ca_timestep_scale_multiplier=1000.0, "
    "caption_projection=PixArtAlphaTextProjection(24->32), audio_caption_projection=PixArtAlphaTextProjection(24->16))",
    "ltx23_av": "LTXModelConfigurator.from_config(...) -> LTXModel(..., apply_gated_attention=True, "
    "cross_attention_adaln=True, caption_projection=None, audio_caption_projection=None)",
    "ltx2_av_legacy_defaults": "LTXModelConfigurator.from_config(...) -> LTXModel(..., rope_type=INTERLEAVED, "
    "double_precision_rope=False, av_ca_timestep_scale_multiplier=1)",
    "ltx2_video_only": "LTXVideoOnlyModelConfigurator.from_config(...) -> LTXModel(model_type=VideoOnly, ...)",
    "ltx25_av": "LTXModelConfigurator.from_metadata(...) -> LTXModel(..., ff_bias=False, "
    "use_keyframes_abs_pos_embedding=True) (keyframes_abs_pos_embedding filled with randn*0.5)",
    "ltx25_av_no_prompt_adaln": "LTXModelConfigurator.from_metadata(...) -> LTXModel(..., "
    "use_prompt_adaln_single=False, audio_ff_bias=False) (no prompt_adaln_single modules)",
}


def _maxerr(a: dict, b: dict) -> dict[str, float]:
    return {k: float((a[k].double() - b[k].double()).abs().max()) for k in a}


PERTURBATION_DOC = {
    "stg": "[[SKIP_VIDEO_SELF_ATTN blocks=[L-1], SKIP_AUDIO_SELF_ATTN blocks=[L-1]]]",
    "isolated": "[[SKIP_A2V_CROSS_ATTN blocks=None(all), SKIP_V2A_CROSS_ATTN blocks=None(all)]]",
    "mixed_batch": "[[], <stg>, <isolated>] (one PerturbationConfig per sample)",
}


# Per-token AdaLN outputs are the largest intermediates and repeat one row per timestep value; they are
# kept only where per-token timesteps differ (conditioning tokens, frozen audio) to keep goldens small.
_PER_TOKEN_ADALN = (".timesteps", ".cross_scale_shift_timestep", ".embedded_timestep")
_PER_TOKEN_ADALN_CASES = ("i2v_keyframe", "a2v_frozen")
# The 2.5 configs share the per-token AdaLN path with ltx23_av (covered there): their files keep none of it.
_NO_PER_TOKEN_ADALN_CONFIGS = ("ltx25_av", "ltx25_av_no_prompt_adaln")


def _keep(case: str, key: str, config: str = "") -> bool:
    if case == "mixed_batch" and key.startswith("pre."):  # perturbations act inside blocks only
        return False
    per_token = case in _PER_TOKEN_ADALN_CASES and config not in _NO_PER_TOKEN_ADALN_CONFIGS
    return per_token or not key.endswith(_PER_TOKEN_ADALN)


def _first_latent(inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    return inputs["video.latent"] if "video.latent" in inputs else inputs["audio.latent"]


def _load(path: str) -> dict[str, torch.Tensor]:
    with safe_open(path, "pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}


def run_config(out_dir: str, name: str, seed: int, manifest: dict, ref_dir: str | None = None) -> None:
    """Fresh mode: random weights + inputs.  Rerun mode (ref_dir): weights/inputs/config from ref_dir."""
    cfg, conf = CONFIGS[name]
    if ref_dir is not None:
        cfg = json.load(open(os.path.join(ref_dir, "manifest.json")))["configs"][name]["config"]
    model = build_model(cfg, conf)
    wpath = os.path.join(out_dir, f"{name}.weights.safetensors")
    if ref_dir is None:
        fill_(model, seed)
        weights = ckpt_state_dict(model)
        meta = {"config": json.dumps({"transformer": cfg}), "model_version": "tiny-test"}
        save_file(weights, wpath, metadata=meta)
    else:
        shutil.copyfile(os.path.join(ref_dir, f"{name}.weights.safetensors"), wpath)
        weights = _load(wpath)
        missing, unexpected = model.load_state_dict(
            {k[len(CKPT_PREFIX) :]: v for k, v in weights.items()}, strict=False
        )
        if missing or unexpected:
            raise RuntimeError(f"{name}: missing={missing} unexpected={unexpected}")
    model.eval()
    entry = {
        "config": cfg,
        "constructor": CONSTRUCTOR_DOC[name],
        "num_params": sum(v.numel() for v in weights.values()),
        "weight_keys": {k: list(v.shape) for k, v in weights.items()},
        "cases": {},
    }
    for ci, case in enumerate(CASES[name]):
        if ref_dir is None:
            inputs = make_case_inputs(case, cfg, seed=1000 + 17 * ci)
        else:
            ref = _load(os.path.join(ref_dir, f"{name}__{case}.safetensors"))
            inputs = {k[len("inputs.") :]: v for k, v in ref.items() if k.startswith("inputs.")}
        nl = cfg["num_layers"]
        out32, _ = run_model(model, inputs, torch.float32, case, nl, record=False)
        # intermediates come from the float64 run: they are ground truth like the outputs
        out64, inter = run_model(model, inputs, torch.float64, case, nl, record=True)
        outbf, _ = run_model(model, inputs, torch.bfloat16, case, nl, record=False)
        tensors = {f"inputs.{k}": v.contiguous() for k, v in inputs.items()}
        # denoised = latent - velocity * timesteps is derived from the velocity, so only the velocity is kept;
        # outputs and intermediates are stored rounded to float32 (6e-8 relative, far below every tolerance).
        tensors.update({f"outputs_f64.{k}": v.float().contiguous() for k, v in out64.items() if k.endswith("velocity")})
        tensors.update({f"intermediates.{k}": v.float().contiguous() for k, v in inter.items() if _keep(case, k, name)})
        if KEEP_LOW_PRECISION:  # the reference's own f32/bf16 runs; no parity test reads them
            tensors.update({f"outputs_f32.{k}": v.contiguous() for k, v in out32.items()})
            tensors.update({f"outputs_bf16.{k}": v.float().contiguous() for k, v in outbf.items()})
        save_file(tensors, os.path.join(out_dir, f"{name}__{case}.safetensors"))
        manifest["cases"].append(
            {
                "family": "transformer",
                "config": name,
                "case": case,
                "file": f"{name}__{case}.safetensors",
                "weights": f"{name}.weights.safetensors",
                "batch": int(_first_latent(inputs).shape[0]),
            }
        )
        entry["cases"][case] = {
            "perturbations": PERTURBATION_DOC.get(case),
            "shapes": {k: list(v.shape) for k, v in tensors.items()},
            "max_abs_err_f32_vs_f64": _maxerr(out32, out64),
            "max_abs_err_bf16_vs_f64": _maxerr({k: v.float() for k, v in outbf.items()}, out64),
            "max_abs_f64": {k: float(v.abs().max()) for k, v in out64.items()},
        }
        if ref_dir is not None:
            entry["cases"][case]["max_abs_diff_vs_ref_outputs_f32"] = _maxerr(
                out32, {k: ref[f"outputs_f32.{k}"] for k in out32}
            )
        msg = entry["cases"][case].get(
            "max_abs_diff_vs_ref_outputs_f32", entry["cases"][case]["max_abs_err_f32_vs_f64"]
        )
        print(f"[{name}/{case}] {'vs-ref' if ref_dir else 'f32-vs-f64'} {msg}")
    manifest["configs"][name] = entry


# ----------------------------------------------------------------------------------------------
# Verification through the official loader path
# ----------------------------------------------------------------------------------------------
def verify(out_dir: str) -> None:
    ok = True
    for name in CONFIGS:
        path = os.path.join(out_dir, f"{name}.weights.safetensors")
        _, conf = CONFIGS[name]
        builder = SingleGPUModelBuilder(
            model_class_configurator=conf, model_path=path, model_sd_ops=LTXV_MODEL_COMFY_RENAMING_MAP
        )
        model = builder.build(device=torch.device("cpu"), dtype=torch.float32).eval()
        n_meta = [n for n, p in model.named_parameters() if p.is_meta]
        with safe_open(path, "pt") as f:
            n_keys = len(list(f.keys()))
        for case in CASES[name]:
            with safe_open(os.path.join(out_dir, f"{name}__{case}.safetensors"), "pt") as f:
                data = {k: f.get_tensor(k) for k in f.keys()}
            inputs = {k[len("inputs.") :]: v for k, v in data.items() if k.startswith("inputs.")}
            out, _ = run_model(model, inputs, torch.float64, case, CONFIGS[name][0]["num_layers"], record=False)
            errs = {
                k: float((v - data[f"outputs_f64.{k}"]).abs().max()) for k, v in out.items() if k.endswith("velocity")
            }
            bad = any(e != 0.0 for e in errs.values()) or n_meta
            ok &= not bad
            print(f"verify {name}/{case}: keys={n_keys} meta_params={len(n_meta)} max|diff|={errs}")
    print("VERIFY", "OK" if ok else "FAILED")


def _merged(path: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """--only: the existing manifest at ``path`` with this run's configs (and their cases) replaced or added, so
    new configs join committed goldens without regenerating the others (float64 sums vary ~1e-15 with threads)."""
    if not os.path.exists(path):
        return manifest
    old = json.load(open(path))
    names = set(manifest["configs"])
    old["cases"] = [c for c in old["cases"] if c["config"] not in names] + manifest["cases"]
    old["configs"] = {k: v for k, v in old["configs"].items() if k not in names} | manifest["configs"]
    return old


def main() -> None:
    global SEED, KEEP_LOW_PRECISION
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/ltx_goldens", help="goldens root; this script writes OUT/transformer/")
    ap.add_argument("--seed", type=int, default=0, help="shifts every weight and input seed (0 = committed goldens)")
    ap.add_argument("--keep-low-precision", action="store_true", help="also store the reference f32/bf16 outputs")
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated config names")
    ap.add_argument(
        "--ltx-core-src",
        default=None,
        help="a Lightricks/LTX-2 checkout (or its packages/ltx-core/src) to run instead of the PyPI package",
    )
    ap.add_argument(
        "--rerun", default=None, metavar="REF_DIR", help="reuse weights+inputs from REF_DIR (e.g. with HEAD src)"
    )
    args = ap.parse_args()
    SEED, KEEP_LOW_PRECISION = args.seed, args.keep_low_precision
    args.out = os.path.join(args.out, "transformer")
    if args.rerun is not None:
        args.rerun = os.path.join(args.rerun, "transformer")
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    import ltx_core

    print("ltx_core from", os.path.dirname(ltx_core.__file__))
    if args.verify:
        verify(args.out)
        return
    manifest: dict[str, Any] = {
        "source": "PyPI ltx-core==1.0.0 (== github Lightricks/LTX-2 @ b17ec39 for ltx_core)"
        if args.ltx_core_src is None
        else f"ltx_core source tree {os.path.relpath(args.ltx_core_src)} (nox -s goldens: Lightricks/LTX-2 @ 400fd31)",
        "rerun_of": args.rerun,
        "seed": SEED,
        "cases": [],
        "torch": torch.__version__,
        "pixel_shape": PIXEL,
        "context_len": CTX_LEN,
        "configs": {},
        "notes": [
            "weights.<key> are stored in <config>.weights.safetensors under real checkpoint keys",
            "outputs_f64 / intermediates = float64 run of the float32 weights (ground truth)",
            "video.timesteps = denoise_mask * sigma with shape (B,T,1); Modality.sigma shape (B,)",
            "a2v_frozen: audio.sigma = 0 (v1.2.0 frozen-modality semantics)",
            "positions: video (B,3,T,2) [start,end) in (seconds, pixels, pixels); audio (B,1,T,2) seconds",
            "denoised = latent - velocity * timesteps (X0Model, per token)",
            "f32-vs-f64 error is dominated by RoPE angles (up to ~1.6e4 rad) computed in float32",
        ],
    }
    only = [s for s in args.only.split(",") if s]
    for i, name in enumerate(CONFIGS):
        if only and name not in only:
            continue
        run_config(args.out, name, seed=100 + i, manifest=manifest, ref_dir=args.rerun)
    manifest = _merged(os.path.join(args.out, "manifest.json"), manifest) if only else manifest
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, separators=(",", ":"))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
