#!/usr/bin/env python
"""Goldens for mlx_ltx_pipelines: schedules, diffusion steps, guiders, whole denoising loops, LoRA fusion and
conditioning states, from the official Lightricks ltx_core + ltx_pipelines (v1.2.0 API).

Nothing here re-implements the reference: schedules, steps, guiders, noiser, latent tools, conditioning items,
denoisers and loops are the official objects. The tiny transformer of the loops is ``ltx2_av`` with the weights
that goldens_transformer.py wrote for the same --seed (generate those first into the same --out).

Usage: python goldens_pipelines.py --out DIR --seed N --ltx-core-src CHECKOUT
  CHECKOUT = a Lightricks/LTX-2 checkout (400fd31 = v1.2.0): both packages/ltx-core/src and
  packages/ltx-pipelines/src are put first on sys.path. PyPI 1.0.0's ltx_pipelines has another denoiser API.

Files written to DIR/pipelines/ (tensors in the reference's layout: video latents (B, C, F, H, W), audio
latents (B, C, T, mel), tokens (B, T, C), positions (B, n_dims, T, 2)):
  samplers.safetensors     LTX2Scheduler / LinearQuadraticScheduler / distilled sigma schedules, one Euler and one
                           res_2s step, res_2s coefficients and SDE coefficients, the res_2s noise normalisation,
                           MultiModalGuider (defaults, HQ), CFG, CFG*, STG, APG and stateful APG outputs
  loops.safetensors        whole loops with the tiny ltx2_av model in float64 (ground truth, stored as float32):
                           euler_distilled (8 distilled sigmas, SimpleDenoiser), euler_guided (LTX2Scheduler(4),
                           GuidedDenoiser with CFG/STG/modality/rescale), res2s (LTX2Scheduler(3), the SDE noise
                           draws recorded in call order), a2v (stage-2 sigmas, audio frozen); euler_guided also
                           keeps the state after every step; the initial noise is given and the official noiser
                           builds the states from it (float32 inputs; the reference's own f32-vs-f64 gap is in
                           the manifest)
  lora_a/lora_b.safetensors  LoRA files in the Lightricks key format (bf16; lora_b carries
                           reference_downscale_factor=2 metadata); lora_fused.safetensors: the official
                           SingleGPUModelBuilder.lora() result on the bf16 base (fused keys only, bf16)
  conditioning__<case>.safetensors  states from the official latent tools + conditioning items + GaussianNoiser
                           with given noise: latent, clean_latent, denoise_mask, positions, attention_mask,
                           timesteps / Modality sigma, and the state after clear_conditioning
  temporal__<case>.safetensors  the state a DFR temporal x2 round (dfr_pipeline.py, v1.2.0) denoises, for base
                           frame rates 24 / 30 / 50: doubled frames, positions at the capped conditioning fps, the
                           upsampled latent noised to the round's first sigma with the frame-0 image; the manifest
                           holds the round's sigmas, ancestral eta and fps cap (the constants of dfr_pipeline)
  manifest.json            every case: kind, file, parameters needed to rebuild it
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from dataclasses import asdict
from typing import Any

if "--ltx-core-src" in sys.argv:
    _src = os.path.abspath(sys.argv[sys.argv.index("--ltx-core-src") + 1])
    if os.path.isdir(os.path.join(_src, "packages", "ltx-core", "src")):
        sys.path.insert(0, os.path.join(_src, "packages", "ltx-pipelines", "src"))
        _src = os.path.join(_src, "packages", "ltx-core", "src")
    sys.path.insert(0, _src)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch
from ltx_core.components.diffusion_steps import EulerDiffusionStep, Res2sDiffusionStep
from ltx_core.components.guiders import (
    CFGGuider,
    CFGStarRescalingGuider,
    LegacyStatefulAPGGuider,
    LtxAPGGuider,
    MultiModalGuider,
    MultiModalGuiderFactory,
    MultiModalGuiderParams,
    STGGuider,
)
from ltx_core.components.noisers import GaussianNoiser
from ltx_core.components.patchifiers import AudioPatchifier, VideoLatentPatchifier
from ltx_core.components.schedulers import LinearQuadraticScheduler, LTX2Scheduler
from ltx_core.conditioning import (
    ConditioningItemAttentionStrengthWrapper,
    VideoConditionByKeyframeIndex,
    VideoConditionByLatentIndex,
    VideoConditionByReferenceLatent,
)
from ltx_core.model.transformer import X0Model
from ltx_core.tools import AudioLatentTools, VideoLatentTools
from ltx_core.types import AudioLatentShape, VideoLatentShape, VideoPixelShape
from safetensors import safe_open
from safetensors.torch import save_file

try:
    from ltx_pipelines.iclora_utils import downsample_mask_video_to_latent
    from ltx_pipelines.utils import constants as C
    from ltx_pipelines.utils import samplers as SM
    from ltx_pipelines.utils.blocks import _build_state
    from ltx_pipelines.utils.denoisers import GuidedDenoiser, SimpleDenoiser
    from ltx_pipelines.utils.helpers import create_noised_state, modality_from_latent_state, timesteps_from_mask
    from ltx_pipelines.utils.res2s import get_res2s_coefficients
    from ltx_pipelines.utils.types import ModalitySpec
except ImportError as e:  # 1.0.0 has no denoisers module
    raise SystemExit(
        f"goldens_pipelines.py needs Lightricks v1.2.0 ltx_pipelines (--ltx-core-src CHECKOUT): {e}"
    ) from e

from goldens_transformer import CKPT_PREFIX, CONFIGS, build_model

torch.set_grad_enabled(False)
SEED = 0
FPS = 24.0
CTX_LEN = 12


def S(base: int) -> int:
    return base + 7919 * SEED


def gen(base: int) -> torch.Generator:
    return torch.Generator().manual_seed(S(base))


def f32(t: dict[str, torch.Tensor], keep_f64: bool = False) -> dict[str, torch.Tensor]:
    """Ground truth stored as float32 (bf16 stays bf16; float64 stays float64 with keep_f64; ints become float32)."""
    kept = (torch.bfloat16, torch.float64) if keep_f64 else (torch.bfloat16,)
    return {k: (v if v.dtype in kept else v.float()).clone().contiguous() for k, v in t.items()}


def params_dict(p: MultiModalGuiderParams) -> dict[str, Any]:
    d = asdict(p)
    d["stg_blocks"] = list(d["stg_blocks"] or [])
    return d


def video_tools(frames: int, height: int, width: int, channels: int = 128) -> VideoLatentTools:
    shape = VideoLatentShape.from_pixel_shape(VideoPixelShape(1, frames, height, width, FPS), latent_channels=channels)
    return VideoLatentTools(VideoLatentPatchifier(patch_size=1), shape, FPS)


def audio_tools(frames: int) -> AudioLatentTools:
    return AudioLatentTools(
        AudioPatchifier(patch_size=1), AudioLatentShape.from_video_pixel_shape(VideoPixelShape(1, frames, 64, 64, FPS))
    )


class GivenNoiser(GaussianNoiser):
    """The official GaussianNoiser with its draws replaced by given tensors (in call order: video, then audio)."""

    def __init__(self, draws: list[torch.Tensor]):
        super().__init__(torch.Generator())
        self.draws = list(draws)

    def _sample_noise(self, latent_state: Any) -> torch.Tensor:
        n = self.draws.pop(0)
        assert n.shape == latent_state.latent.shape, (n.shape, latent_state.latent.shape)
        return n.to(latent_state.latent.dtype)


def state_tensors(prefix: str, st: Any) -> dict[str, torch.Tensor]:
    out = {
        f"{prefix}.latent": st.latent,
        f"{prefix}.clean_latent": st.clean_latent,
        f"{prefix}.denoise_mask": st.denoise_mask,
        f"{prefix}.positions": st.positions,
    }
    if st.attention_mask is not None:
        out[f"{prefix}.attention_mask"] = st.attention_mask
    return out


# ----------------------------------------------------------------------------------------------
# samplers: schedules, single steps, guiders
# ----------------------------------------------------------------------------------------------
def run_samplers(out: str, manifest: dict) -> None:
    t: dict[str, torch.Tensor] = {}
    for steps in (1, 2, 8, 15, 20, 30, 40):
        t[f"ltx2_scheduler.default_tokens.steps{steps}"] = LTX2Scheduler().execute(steps=steps)
    lat = torch.empty(1, 128, 16, 16, 24)  # the HQ pipeline passes its stage-1 latent: 6144 tokens
    for steps in (15, 30):
        t[f"ltx2_scheduler.tokens6144.steps{steps}"] = LTX2Scheduler().execute(steps=steps, latent=lat)
    t["ltx2_scheduler.nostretch.steps30"] = LTX2Scheduler().execute(steps=30, stretch=False)
    t["ltx2_scheduler.terminal0.05.steps12"] = LTX2Scheduler().execute(steps=12, terminal=0.05)
    for steps in (1, 8, 30):
        t[f"linear_quadratic.steps{steps}"] = LinearQuadraticScheduler().execute(steps=steps)
    t["distilled_sigmas"] = torch.tensor(C.DISTILLED_SIGMA_VALUES)
    t["stage2_distilled_sigmas"] = torch.tensor(C.STAGE_2_DISTILLED_SIGMA_VALUES)
    manifest["cases"]["schedules"] = {
        "kind": "schedules",
        "file": "samplers.safetensors",
        "keys": sorted(k for k in t if k.startswith(("ltx2_scheduler", "linear_quadratic", "distilled", "stage2"))),
    }

    g = gen(7)
    x, den, noise = (torch.randn(1, 20, 8, generator=g) for _ in range(3))
    sig = t["distilled_sigmas"]
    t.update({"step.sample": x, "step.denoised": den, "step.noise": noise})  # sigmas: distilled_sigmas
    t["euler.out_step2"] = EulerDiffusionStep().step(x, den, sig, 2)
    t["euler.out_step6"] = EulerDiffusionStep().step(x, den, sig, 6)
    t["res2s_step.out_step2"] = Res2sDiffusionStep().step(x, den, sig, 2, noise)
    t["res2s_step.out_step2_eta0.8"] = Res2sDiffusionStep().step(x, den, sig, 2, noise, eta=0.8)
    t["res2s_step.out_step7"] = Res2sDiffusionStep().step(x, den, sig, 7, noise)  # sigma_next = 0 -> denoised
    sde = [
        Res2sDiffusionStep.get_sde_coeff(
            torch.tensor(s, dtype=torch.float64), sigma_up=torch.tensor(s * 0.5, dtype=torch.float64)
        )
        for s in (0.9, 0.3, 0.0011)
    ]
    t["res2s.sde_coeff"] = torch.tensor([[float(v) for v in c] for c in sde], dtype=torch.float64)
    s = t["ltx2_scheduler.tokens6144.steps15"].double()
    s = torch.cat([s[:-1], torch.tensor([0.0011, 0.0], dtype=torch.float64)])
    hs = -torch.log(s[1:] / s[:-1])
    t["res2s.coeffs_a21_b1_b2.hq15"] = torch.tensor(
        [get_res2s_coefficients(h, {}, 0.5) for h in hs[:-1].tolist()], dtype=torch.float64
    )
    t["res2s.h.hq15"] = hs
    raw = torch.randn(1, 3, 5, 8, generator=g, dtype=torch.float64)
    t["res2s_noise.raw"] = raw
    t["res2s_noise.normalized"] = SM._channelwise_normalize((raw - raw.mean()) / raw.std())
    manifest["cases"]["steps"] = {
        "kind": "steps",
        "file": "samplers.safetensors",
        "sde_coeff_sigmas": [0.9, 0.3, 0.0011],
        "eta": [0.5, 0.8],
    }

    cond, unc, ptb, mod = (torch.randn(1, 30, 16, generator=g) for _ in range(4))
    t.update(
        {"guider.cond": cond, "guider.uncond_text": unc, "guider.uncond_perturbed": ptb, "guider.uncond_modality": mod}
    )
    mm = {
        "multimodal_video_defaults": (C.LTX_2_PARAMS.video_guider_params, True),
        "multimodal_audio_defaults": (C.LTX_2_PARAMS.audio_guider_params, True),
        "multimodal_hq_video": (C.LTX_2_3_HQ_PARAMS.video_guider_params, False),  # STG off: no perturbed pass
    }
    for name, (p, with_ptb) in mm.items():
        t[f"guider.{name}"] = MultiModalGuider(p).calculate(cond, unc, ptb if with_ptb else 0.0, mod)
    t["guider.cfg3_delta"] = CFGGuider(3.0).delta(cond, unc)
    t["guider.cfgstar3_delta"] = CFGStarRescalingGuider(3.0).delta(cond, unc)
    t["guider.stg1_delta"] = STGGuider(1.0).delta(cond, ptb)
    t["guider.apg3_eta0.5_thr2_delta"] = LtxAPGGuider(3.0, eta=0.5, norm_threshold=2.0).delta(cond, unc)
    t["guider.apg3_eta1_thr0_delta"] = LtxAPGGuider(3.0).delta(cond, unc)
    legacy = LegacyStatefulAPGGuider(2.0, eta=0.7, norm_threshold=5.0, momentum=0.5)
    t["guider.legacy_apg_call1"] = legacy.delta(cond, unc)
    t["guider.legacy_apg_call2"] = legacy.delta(unc, mod)
    bins = {
        1.0: MultiModalGuiderParams(cfg_scale=3.0),
        0.5: MultiModalGuiderParams(cfg_scale=2.0),
        0.1: MultiModalGuiderParams(cfg_scale=1.5),
    }
    factory = MultiModalGuiderFactory.from_dict(bins)
    probe = [1.2, 1.0, 0.7, 0.5, 0.3, 0.1, 0.05, 0.0]
    manifest["cases"]["guiders"] = {
        "kind": "guiders",
        "file": "samplers.safetensors",
        "multimodal": {name: {"params": params_dict(p), "with_perturbed": wp} for name, (p, wp) in mm.items()},
        "legacy_apg": {"scale": 2.0, "eta": 0.7, "norm_threshold": 5.0, "momentum": 0.5},
        "factory_bins": {str(k): v.cfg_scale for k, v in bins.items()},
        "factory_probe": {str(s): factory.params(s).cfg_scale for s in probe},
    }
    save_file(f32(t, keep_f64=True), os.path.join(out, "samplers.safetensors"))


# ----------------------------------------------------------------------------------------------
# whole loops with the tiny ltx2_av model
# ----------------------------------------------------------------------------------------------
LOOP_PIXELS = (17, 64, 96)  # latent 3 x 2 x 3 = 18 video tokens, 18 audio tokens


def tiny_model(goldens_root: str) -> torch.nn.Module:
    cfg, conf = CONFIGS["ltx2_av"]
    model = build_model(cfg, conf)
    with safe_open(os.path.join(goldens_root, "transformer", "ltx2_av.weights.safetensors"), "pt") as f:
        sd = {k[len(CKPT_PREFIX) :]: f.get_tensor(k) for k in f.keys()}
    model.load_state_dict(sd)
    return model.eval()


def run_loops(out: str, goldens_root: str, manifest: dict) -> None:
    vt, at = video_tools(*LOOP_PIXELS), audio_tools(LOOP_PIXELS[0])
    g = gen(31337)
    inp: dict[str, torch.Tensor] = {
        "inputs.video.noise": torch.randn(1, vt.target_shape.token_count(), 128, generator=g),
        "inputs.audio.noise": torch.randn(1, at.target_shape.token_count(), 128, generator=g),
        "inputs.video.frame0_latent": torch.randn(
            1, 128, 1, vt.target_shape.height, vt.target_shape.width, generator=g
        ),
        "inputs.audio.initial_latent": torch.randn(*at.target_shape.to_torch_shape(), generator=g),
    }
    for k in ("v_ctx_pos", "v_ctx_neg", "a_ctx_pos", "a_ctx_neg"):
        inp[f"inputs.{k}"] = torch.randn(1, CTX_LEN, CONFIGS["ltx2_av"][0]["caption_channels"], generator=g)
    sd_noise = gen(555)
    vp = MultiModalGuiderParams(cfg_scale=3.0, stg_scale=1.0, rescale_scale=0.7, modality_scale=3.0, stg_blocks=[1])
    ap = MultiModalGuiderParams(cfg_scale=7.0, stg_scale=1.0, rescale_scale=0.7, modality_scale=3.0, stg_blocks=[1])
    sigmas = {
        "euler_distilled": torch.tensor(C.DISTILLED_SIGMA_VALUES),
        "euler_guided": LTX2Scheduler().execute(steps=4),
        "res2s": LTX2Scheduler().execute(steps=3),
        "a2v": torch.tensor(C.STAGE_2_DISTILLED_SIGMA_VALUES),
    }
    # The SDE draws are made once (float64, official normalisation), rounded to the stored float32 and replayed in
    # both precisions, so the float32 and float64 runs and the port consume exactly the stored values.
    draws: list[torch.Tensor] = []

    def run(dtype: torch.dtype) -> dict[str, torch.Tensor]:
        x0 = X0Model(tiny_model(goldens_root).to(dtype))
        ctx = {k: inp[f"inputs.{k}"].to(dtype) for k in ("v_ctx_pos", "v_ctx_neg", "a_ctx_pos", "a_ctx_neg")}
        frame0 = [VideoConditionByLatentIndex(inp["inputs.video.frame0_latent"].to(dtype), 1.0, 0)]
        cpu = torch.device("cpu")
        res: dict[str, torch.Tensor] = {}
        for loop, sig in sigmas.items():
            noiser = GivenNoiser([inp["inputs.video.noise"], inp["inputs.audio.noise"]])
            if loop == "a2v":  # A2VidPipelineTwoStage stage 2: video noised at sigma_0, audio frozen
                vs = _build_state(ModalitySpec(conditionings=frame0, noise_scale=float(sig[0])), vt, noiser, dtype, cpu)
                audio = ModalitySpec(
                    frozen=True, noise_scale=0.0, initial_latent=inp["inputs.audio.initial_latent"].to(dtype)
                )
                as_ = _build_state(audio, at, noiser, dtype, cpu)
            else:
                vs = create_noised_state(vt, frame0, noiser, dtype, cpu)
                as_ = create_noised_state(at, [], noiser, dtype, cpu)
            if loop == "euler_guided":
                vg, ag = MultiModalGuider(vp, ctx["v_ctx_neg"]), MultiModalGuider(ap, ctx["a_ctx_neg"])
                den = GuidedDenoiser(ctx["v_ctx_pos"], ctx["a_ctx_pos"], vg, ag)
            else:
                den = SimpleDenoiser(ctx["v_ctx_pos"], ctx["a_ctx_pos"])
            counted = CountingDenoiser(den)
            if loop == "res2s":
                used = {"i": 0}

                def noise_fn(x: torch.Tensor, _g: torch.Generator, used: dict = used) -> torch.Tensor:
                    if used["i"] == len(draws):  # first (float64) run draws; later runs replay
                        draws.append(SM._get_new_noise(x, sd_noise).float())
                    used["i"] += 1
                    return draws[used["i"] - 1].double()

                v, a = SM.res2s_audio_video_denoising_loop(
                    sig, vs, as_, Res2sDiffusionStep(), x0, counted, new_noise_fn=noise_fn, model_dtype=dtype
                )
            else:
                stepper = RecordingEuler()
                v, a = SM.euler_denoising_loop(sig, vs, as_, stepper, x0, counted)
                for i in range(len(sig) - 1 if loop == "euler_guided" else 0):  # video, then audio at every step
                    res[f"{loop}.step{i}.video"], res[f"{loop}.step{i}.audio"] = stepper.outputs[2 * i : 2 * i + 2]
            res[f"{loop}.sigmas"] = sig
            res[f"{loop}.video"], res[f"{loop}.audio"] = v.latent, a.latent
            res[f"{loop}.num_denoiser_calls"] = torch.tensor(counted.calls)
        return res

    r64 = run(torch.float64)  # draws are made here
    r32 = run(torch.float32)
    t = dict(inp)
    t.update({k: v for k, v in r64.items()})
    t.update({f"res2s.noise.{i:02d}": d for i, d in enumerate(draws)})
    save_file(f32(t), os.path.join(out, "loops.safetensors"))
    common = {
        "file": "loops.safetensors",
        "config": "ltx2_av",
        "weights": "transformer/ltx2_av.weights.safetensors",
        "pixel_shape": list(LOOP_PIXELS),
        "fps": FPS,
    }
    diffs = {
        k: float((r32[k].double() - r64[k].double()).abs().max())
        for k in r64
        if k.endswith((".video", ".audio")) and "step" not in k
    }
    for loop, sig in sigmas.items():
        info = dict(
            common,
            kind="loop",
            loop=loop,
            sigmas=[float(s) for s in sig],
            num_denoiser_calls=int(r64[f"{loop}.num_denoiser_calls"]),
        )
        info["reference_f32_vs_f64_max_abs"] = {k: v for k, v in diffs.items() if k.startswith(loop + ".")}
        info["output_abs_max"] = {m: float(r64[f"{loop}.{m}"].abs().max()) for m in ("video", "audio")}
        if loop == "euler_guided":
            info.update(video_guider=params_dict(vp), audio_guider=params_dict(ap))
        if loop == "res2s":
            info.update(
                num_noise_draws=len(draws), noise_order="per step: substep video, substep audio, step video, step audio"
            )
        if loop == "a2v":
            info.update(audio_frozen=True, video_noise_scale=float(sig[0]))
        manifest["cases"][f"loop_{loop}"] = info
        print(f"[loop_{loop}] calls={info['num_denoiser_calls']} ref f32-vs-f64 {info['reference_f32_vs_f64_max_abs']}")


class CountingDenoiser:
    """Counts the official denoiser's calls (one per model evaluation point)."""

    def __init__(self, den: Any):
        self.den, self.calls = den, 0

    def __call__(self, transformer, video_state, audio_state, sigmas, step_index):
        self.calls += 1
        return self.den(transformer, video_state, audio_state, sigmas, step_index)


class RecordingEuler(EulerDiffusionStep):
    """The official Euler step, recording every output (the loop steps video, then audio)."""

    def __init__(self) -> None:
        self.outputs: list[torch.Tensor] = []

    def step(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        out = super().step(*args, **kwargs)
        self.outputs.append(out)
        return out


# ----------------------------------------------------------------------------------------------
# LoRA fusion (official SingleGPUModelBuilder.lora path, bf16 base weights)
# ----------------------------------------------------------------------------------------------
LORA_MODULES = (
    "attn1.to_q",
    "attn1.to_k",
    "attn1.to_v",
    "attn1.to_out.0",
    "attn2.to_k",
    "ff.net.0.proj",
    "ff.net.2",
    "audio_attn1.to_q",
    "audio_to_video_attn.to_q",
    "video_to_audio_attn.to_k",
)


def run_lora(out: str, goldens_root: str, manifest: dict) -> None:
    from ltx_core.loader import LTXV_LORA_COMFY_RENAMING_MAP
    from ltx_core.loader.single_gpu_model_builder import SingleGPUModelBuilder
    from ltx_core.model.transformer import LTXV_MODEL_COMFY_RENAMING_MAP, LTXModelConfigurator

    cfg = CONFIGS["ltx2_av"][0]
    with safe_open(os.path.join(goldens_root, "transformer", "ltx2_av.weights.safetensors"), "pt") as f:
        w = {k: f.get_tensor(k) for k in f.keys()}
    wb = {k: v.to(torch.bfloat16).contiguous() for k, v in w.items()}
    g = gen(4242)
    loras = []
    with tempfile.TemporaryDirectory() as tmp:
        base_path = os.path.join(tmp, "ltx2_av.weights_bf16.safetensors")
        save_file(wb, base_path, metadata={"config": json.dumps({"transformer": cfg}), "model_version": "tiny-test"})
        for tag, rank, strength, meta in (
            ("lora_a", 4, 0.7, None),
            ("lora_b", 2, -0.5, {"reference_downscale_factor": "2"}),
        ):
            sd = {}
            for i in range(cfg["num_layers"]):
                for mod in LORA_MODULES:
                    out_f, in_f = w[f"{CKPT_PREFIX}transformer_blocks.{i}.{mod}.weight"].shape
                    sd[f"diffusion_model.transformer_blocks.{i}.{mod}.lora_A.weight"] = (
                        torch.randn(rank, in_f, generator=g) / math.sqrt(in_f)
                    ).to(torch.bfloat16)
                    sd[f"diffusion_model.transformer_blocks.{i}.{mod}.lora_B.weight"] = (
                        torch.randn(out_f, rank, generator=g) * 0.1
                    ).to(torch.bfloat16)
            path = os.path.join(out, f"{tag}.safetensors")
            save_file(sd, path, metadata=meta)
            loras.append((path, strength))
        builder = SingleGPUModelBuilder(
            model_class_configurator=LTXModelConfigurator,
            model_path=base_path,
            model_sd_ops=LTXV_MODEL_COMFY_RENAMING_MAP,
        )
        for path, strength in loras:
            builder = builder.lora(path, strength, LTXV_LORA_COMFY_RENAMING_MAP)
        fused = builder.build(device=torch.device("cpu"), dtype=torch.bfloat16).state_dict()
    res, changed = {}, 0
    for k, v in fused.items():
        ck = CKPT_PREFIX + k
        if not torch.equal(v, wb[ck]):
            changed += 1
        if "transformer_blocks." in ck and any(f".{m}.weight" in ck for m in LORA_MODULES):
            res[f"fused.{ck}"] = v.contiguous()
    assert changed <= len(res), "the official fusion changed a weight outside the LoRA modules"
    save_file(res, os.path.join(out, "lora_fused.safetensors"))
    manifest["cases"]["lora_fused"] = {
        "kind": "lora",
        "file": "lora_fused.safetensors",
        "config": "ltx2_av",
        "base": "transformer/ltx2_av.weights.safetensors (cast to bfloat16)",
        "base_dtype": "bfloat16",
        "loras": [{"file": os.path.basename(p), "strength": s} for p, s in loras],
        "reference_downscale_factor": 2,
        "key_format": "diffusion_model.<module path>.lora_A.weight (rank, in) / .lora_B.weight (out, rank)",
        "formula": "W' = W + sum_i strength_i * B_i @ A_i (no alpha/rank scaling; bf16 accumulation)",
        "num_fused_keys": len(res),
    }
    print(f"[lora_fused] {len(res)} fused keys")


# ----------------------------------------------------------------------------------------------
# conditioning states
# ----------------------------------------------------------------------------------------------
def run_conditioning(out: str, manifest: dict) -> None:
    g = gen(9001)
    rn = lambda *s: torch.randn(*s, generator=g)
    sigma = torch.tensor([0.6])
    CH = 16  # video latent channels: the conditioning mechanics do not depend on the width (real: 128)

    def finish(
        case: str,
        tools: Any,
        items_doc: list[dict],
        inputs: dict,
        vs: Any,
        extra: dict | None = None,
        info: dict | None = None,
    ) -> None:
        t = dict(inputs)
        t.update(state_tensors("state", vs))
        t["state.timesteps"] = timesteps_from_mask(vs.denoise_mask, sigma)
        mod = modality_from_latent_state(vs, torch.zeros(1, CTX_LEN, 24), sigma)
        t["modality.sigma"], t["modality.timesteps"] = mod.sigma, mod.timesteps
        cleared = tools.clear_conditioning(vs)
        t["cleared.denoise_mask"], t["cleared.positions"] = cleared.denoise_mask, cleared.positions
        t["cleared.unpatchified"] = tools.unpatchify(cleared).latent
        t.update(extra or {})
        save_file(f32(t), os.path.join(out, f"conditioning__{case}.safetensors"))
        manifest["cases"][f"cond_{case}"] = dict(
            kind="conditioning",
            file=f"conditioning__{case}.safetensors",
            sigma=float(sigma),
            fps=FPS,
            video_channels=CH,
            items=items_doc,
            **(info or {}),
        )
        print(
            f"[cond_{case}] tokens={vs.latent.shape[1]} attention_mask={None if vs.attention_mask is None else tuple(vs.attention_mask.shape)}"
        )

    # I2V: images replace latent frames 0 (strength 1) and 2 (strength 0.5)
    px = (17, 64, 96)
    vt = video_tools(*px, CH)
    h, w = vt.target_shape.height, vt.target_shape.width
    inputs = {
        "inputs.image0": rn(1, CH, 1, h, w),
        "inputs.image2": rn(1, CH, 1, h, w),
        "inputs.noise": rn(1, vt.target_shape.token_count(), CH),
    }
    items = [
        VideoConditionByLatentIndex(inputs["inputs.image0"], 1.0, 0),
        VideoConditionByLatentIndex(inputs["inputs.image2"], 0.5, 2),
    ]
    vs = create_noised_state(vt, items, GivenNoiser([inputs["inputs.noise"]]), torch.float32, torch.device("cpu"))
    doc = [
        {"type": "latent_index", "latent": "inputs.image0", "strength": 1.0, "latent_idx": 0},
        {"type": "latent_index", "latent": "inputs.image2", "strength": 0.5, "latent_idx": 2},
    ]
    finish("i2v", vt, doc, inputs, vs, info={"pixel_shape": list(px), "noise_scale": 1.0})

    # Keyframes at pixel frames 0 (plain), 8 (attention strength 0.5) and 16 (per-token attention strengths),
    # plus the frame-0 image replacing latent frame 0; noise_scale 0.909375 (stage-2 style).
    inputs = {f"inputs.keyframe{f}": rn(1, CH, 1, h, w) for f in (0, 8, 16)}
    inputs["inputs.image0"] = rn(1, CH, 1, h, w)
    inputs["inputs.attention16"] = torch.rand(1, h * w, generator=g)
    total = vt.target_shape.token_count() + 3 * h * w
    inputs["inputs.noise"] = rn(1, total, CH)
    items = [
        VideoConditionByLatentIndex(inputs["inputs.image0"], 0.9, 0),
        VideoConditionByKeyframeIndex(inputs["inputs.keyframe0"], frame_idx=0, strength=1.0),
        ConditioningItemAttentionStrengthWrapper(
            VideoConditionByKeyframeIndex(inputs["inputs.keyframe8"], frame_idx=8, strength=0.8), attention_mask=0.5
        ),
        ConditioningItemAttentionStrengthWrapper(
            VideoConditionByKeyframeIndex(inputs["inputs.keyframe16"], frame_idx=16, strength=1.0),
            attention_mask=inputs["inputs.attention16"],
        ),
    ]
    vs = create_noised_state(
        vt, items, GivenNoiser([inputs["inputs.noise"]]), torch.float32, torch.device("cpu"), noise_scale=0.909375
    )
    doc = [
        {"type": "latent_index", "latent": "inputs.image0", "strength": 0.9, "latent_idx": 0},
        {"type": "keyframe", "latent": "inputs.keyframe0", "frame_idx": 0, "strength": 1.0},
        {"type": "keyframe", "latent": "inputs.keyframe8", "frame_idx": 8, "strength": 0.8, "attention_mask": 0.5},
        {
            "type": "keyframe",
            "latent": "inputs.keyframe16",
            "frame_idx": 16,
            "strength": 1.0,
            "attention_mask": "inputs.attention16",
        },
    ]
    finish("keyframes", vt, doc, inputs, vs, info={"pixel_shape": list(px), "noise_scale": 0.909375})

    # IC-LoRA: reference video at half resolution (downscale factor 2), strength 1, attention strength 0.6,
    # after a frame-0 image; the attention mask of a pixel-space mask video is downsampled separately.
    px = (17, 128, 192)
    vt = video_tools(*px, CH)
    h, w = vt.target_shape.height, vt.target_shape.width
    inputs = {"inputs.image0": rn(1, CH, 1, h, w), "inputs.reference": rn(1, CH, 3, h // 2, w // 2)}
    inputs["inputs.noise"] = rn(1, vt.target_shape.token_count() + 3 * (h // 2) * (w // 2), CH)
    items = [
        VideoConditionByLatentIndex(inputs["inputs.image0"], 1.0, 0),
        ConditioningItemAttentionStrengthWrapper(
            VideoConditionByReferenceLatent(inputs["inputs.reference"], downscale_factor=2, strength=1.0),
            attention_mask=0.6,
        ),
    ]
    vs = create_noised_state(vt, items, GivenNoiser([inputs["inputs.noise"]]), torch.float32, torch.device("cpu"))
    masks = {}
    for name, pix, lat in (
        ("even", (1, 1, 9, 8, 12), (1, 128, 2, 2, 3)),
        ("uneven", (1, 1, 17, 10, 14), (1, 128, 3, 4, 6)),
    ):
        m = torch.rand(*pix, generator=g)
        masks[f"mask_{name}.pixel"] = m
        masks[f"mask_{name}.latent"] = downsample_mask_video_to_latent(m, VideoLatentShape(*lat))
    doc = [
        {"type": "latent_index", "latent": "inputs.image0", "strength": 1.0, "latent_idx": 0},
        {
            "type": "reference",
            "latent": "inputs.reference",
            "downscale_factor": 2,
            "strength": 1.0,
            "attention_mask": 0.6,
        },
    ]
    finish(
        "ic_lora",
        vt,
        doc,
        inputs,
        vs,
        extra=masks,
        info={
            "pixel_shape": list(px),
            "noise_scale": 1.0,
            "mask_latent_shapes": {"even": [2, 2, 3], "uneven": [3, 4, 6]},
        },
    )

    # A2V: video noised, audio frozen (initial latent, noise scale 0, denoise mask 0, Modality.sigma 0)
    px = (17, 64, 96)
    vt, at = video_tools(*px, CH), audio_tools(px[0])
    inputs = {
        "inputs.audio_latent": rn(*at.target_shape.to_torch_shape()),
        "inputs.video_noise": rn(1, vt.target_shape.token_count(), CH),
        "inputs.audio_noise": rn(1, at.target_shape.token_count(), 128),
    }
    noiser = GivenNoiser([inputs["inputs.video_noise"], inputs["inputs.audio_noise"]])
    vs = _build_state(ModalitySpec(), vt, noiser, torch.float32, torch.device("cpu"))
    as_ = _build_state(
        ModalitySpec(frozen=True, noise_scale=0.0, initial_latent=inputs["inputs.audio_latent"]),
        at,
        noiser,
        torch.float32,
        torch.device("cpu"),
    )
    amod = modality_from_latent_state(as_, torch.zeros(1, CTX_LEN, 24), sigma)
    extra = state_tensors("audio", as_)
    extra.update({"audio.modality.sigma": amod.sigma, "audio.modality.timesteps": amod.timesteps})
    extra["audio.cleared.unpatchified"] = at.unpatchify(at.clear_conditioning(as_)).latent
    finish(
        "a2v",
        vt,
        [],
        inputs,
        vs,
        extra=extra,
        info={
            "pixel_shape": list(px),
            "noise_scale": 1.0,
            "audio": {"frozen": True, "noise_scale": 0.0, "initial_latent": "inputs.audio_latent"},
        },
    )


def run_temporal(out: str, manifest: dict) -> None:
    from ltx_pipelines import dfr_pipeline as DFR

    g = gen(9101)
    rn = lambda *s: torch.randn(*s, generator=g)
    CH, base_frames, height, width = 16, 9, 64, 96
    sigmas = C.DISTILLED_SIGMAS[4:].to(torch.float32)  # dfr_pipeline.py: temporal_sigmas
    for fps in (24.0, 30.0, 50.0):
        # One round (dfr_pipeline.py:396-414): N -> 2(N - 1) + 1 frames, fps x2, positions at min(fps, cap).
        frames, round_fps = 2 * (base_frames - 1) + 1, 2 * fps
        cond_fps = min(round_fps, DFR._MAX_CONDITIONING_FPS)
        shape = VideoPixelShape(batch=1, frames=frames, height=height, width=width, fps=cond_fps)
        vt = VideoLatentTools(
            VideoLatentPatchifier(patch_size=1), VideoLatentShape.from_pixel_shape(shape, latent_channels=CH), cond_fps
        )
        h, w = vt.target_shape.height, vt.target_shape.width
        inputs = {
            "inputs.upsampled": rn(1, CH, vt.target_shape.frames, h, w),  # the temporal upsampler's output
            "inputs.image0": rn(1, CH, 1, h, w),
            "inputs.noise": rn(1, vt.target_shape.token_count(), CH),
        }
        spec = ModalitySpec(
            conditionings=[VideoConditionByLatentIndex(inputs["inputs.image0"], 1.0, 0)],
            noise_scale=sigmas[0].item(),
            initial_latent=inputs["inputs.upsampled"],
        )
        vs = _build_state(spec, vt, GivenNoiser([inputs["inputs.noise"]]), torch.float32, torch.device("cpu"))
        t = {**inputs, **state_tensors("state", vs), "sigmas": sigmas}
        case = f"fps{fps:g}"
        save_file(f32(t), os.path.join(out, f"temporal__{case}.safetensors"))
        manifest["cases"][f"temporal_{case}"] = dict(
            kind="temporal",
            file=f"temporal__{case}.safetensors",
            base_pixel_shape=[base_frames, height, width],
            base_fps=fps,
            frames=frames,
            playback_fps=round_fps,
            conditioning_fps=cond_fps,
            noise_scale=sigmas[0].item(),
            sigmas=sigmas.tolist(),
            eta=DFR._TEMPORAL_ANCESTRAL_ETA,
            max_conditioning_fps=DFR._MAX_CONDITIONING_FPS,
            video_channels=CH,
            items=[{"type": "latent_index", "latent": "inputs.image0", "strength": 1.0, "latent_idx": 0}],
        )
        print(f"[temporal_{case}] frames={frames} cond_fps={cond_fps} tokens={vs.latent.shape[1]}")


def main() -> None:
    global SEED
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out", default="/tmp/ltx_goldens", help="goldens root; reads OUT/transformer, writes OUT/pipelines/"
    )
    ap.add_argument("--seed", type=int, default=0, help="shifts every seed (use the seed of the transformer goldens)")
    ap.add_argument("--ltx-core-src", required=True, help="Lightricks/LTX-2 checkout at v1.2.0 (400fd31)")
    ap.add_argument(
        "--only", default="", help="comma-separated parts out of: samplers, loops, lora, conditioning, temporal"
    )
    args = ap.parse_args()
    SEED = args.seed
    out = os.path.join(args.out, "pipelines")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    import ltx_core
    import ltx_pipelines

    manifest: dict[str, Any] = {
        "family": "pipelines",
        "seed": SEED,
        "source": f"ltx_core + ltx_pipelines source tree {os.path.relpath(args.ltx_core_src)} (Lightricks/LTX-2 @ 400fd31)",
        "ltx_core_path": os.path.dirname(ltx_core.__file__),
        "ltx_pipelines_path": os.path.dirname(ltx_pipelines.__file__),
        "torch": torch.__version__,
        "cases": {},
    }
    path = os.path.join(out, "manifest.json")
    only = [s for s in args.only.split(",") if s]
    if only and os.path.exists(path):
        manifest["cases"] = json.load(open(path))["cases"]
    parts = {
        "samplers": lambda: run_samplers(out, manifest),
        "loops": lambda: run_loops(out, args.out, manifest),
        "lora": lambda: run_lora(out, args.out, manifest),
        "conditioning": lambda: run_conditioning(out, manifest),
        "temporal": lambda: run_temporal(out, manifest),
    }
    for name, fn in parts.items():
        if not only or name in only:
            fn()
    with open(path, "w") as f:
        json.dump(manifest, f, indent=1, default=str)
    size = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    print(f"wrote {out} ({size / 1e6:.3f} MB)")


if __name__ == "__main__":
    main()
