#!/usr/bin/env python
"""Goldens for the editing and audio-only tasks: retake, extend (forward / backward), text-to-audio and video-to-audio
(Foley), from the official Lightricks ltx_core + ltx_pipelines + ltx_trainer (v1.2.0 source).

Each case is one whole denoising loop with the tiny ``ltx2_av`` transformer in float64 (ground truth, stored as
float32), its initial states (latent after the given noise, clean latent, denoise mask, positions) and its final
token latents. The pieces are the reference's own objects:
  retake_*   RetakePipeline's specs: ``TemporalRegionMask(start, end, fps)`` on the source latents (retake.py:267-283)
  extend_*   the trainer's ``prefix`` / ``suffix`` conditions (ValidationRunner._apply_{video,audio}_conditionings):
             carried frames clean at the start (forward) or end (backward) of a longer canvas
  t2a        T2AOneStagePipeline: video absent, audio-only CFG/STG with modality_scale 1 (t2a_one_stage.py:137-160)
  v2a        the trainer's ``video_to_audio``: video frozen at its latents, audio generated
A frozen stream here keeps its latent clean (noise_scale 0, as A2V's frozen audio): the reference's RetakePipeline
passes its default noise_scale 1 for a frozen stream (which its transformer then reads as clean at sigma 0); the
port keeps the stream clean on purpose (see mlx_ltx_pipelines/pipelines/retake.py).

Usage: python goldens_tasks.py --out DIR --seed N --ltx-core-src CHECKOUT   (after goldens_transformer.py --out DIR)
Writes DIR/tasks/tasks.safetensors (inputs, then ``<case>.*``; reference layouts: video latents (B, C, F, H, W), audio (B, C, T, mel), tokens
(B, T, C)) and DIR/tasks/manifest.json.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TQDM_DISABLE", "1")  # the reference loops' progress bars
import sys
import types
from typing import Any

if "--ltx-core-src" in sys.argv:
    _src = os.path.abspath(sys.argv[sys.argv.index("--ltx-core-src") + 1])
    for pkg in ("ltx-trainer", "ltx-pipelines", "ltx-core"):
        sys.path.insert(0, os.path.join(_src, "packages", pkg, "src"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import goldens_pipelines as GP
import torch
from goldens_pipelines import CTX_LEN, FPS, LOOP_PIXELS, CountingDenoiser, GivenNoiser, f32, params_dict, state_tensors
from goldens_transformer import CONFIGS
from ltx_core.components.guiders import MultiModalGuider, MultiModalGuiderParams
from ltx_core.components.schedulers import LTX2Scheduler
from ltx_core.conditioning.types.noise_mask_cond import TemporalRegionMask
from ltx_core.model.transformer import X0Model
from ltx_pipelines.utils import constants as C
from ltx_pipelines.utils import samplers as SM
from ltx_pipelines.utils.blocks import _build_state
from ltx_pipelines.utils.denoisers import GuidedDenoiser, SimpleDenoiser
from ltx_pipelines.utils.types import ModalitySpec
from safetensors.torch import save_file

# Imported last: the trainer's validation module imports torchvision for image resizing, which the conditioning code used here never
# calls; the reference venv has no torchvision, so those three names are stubs.
_tv, _tr, _fn = (
    types.ModuleType(n) for n in ("torchvision", "torchvision.transforms", "torchvision.transforms.functional")
)
_tr.InterpolationMode, _tr.functional, _fn.to_tensor, _tv.transforms = object, _fn, None, _tr  # type: ignore[attr-defined]
sys.modules.setdefault("torchvision", _tv)
sys.modules.setdefault("torchvision.transforms", _tr)
sys.modules.setdefault("torchvision.transforms.functional", _fn)

from ltx_trainer.validation_runner import ValidationRunner  # noqa: E402

torch.set_grad_enabled(False)
CPU = torch.device("cpu")
SPAN = (0.4, 0.7)  # seconds: the last latent frame of the 17-frame video and audio tokens 10..17
CARRY_FRAMES = 9  # pixel frames carried into the extension canvas: 2 latent frames (forward), 1 (backward)
VIDEO_GUIDER = MultiModalGuiderParams(
    cfg_scale=3.0, stg_scale=1.0, rescale_scale=0.7, modality_scale=3.0, stg_blocks=[1]
)
AUDIO_GUIDER = MultiModalGuiderParams(
    cfg_scale=7.0, stg_scale=1.0, rescale_scale=0.7, modality_scale=3.0, stg_blocks=[1]
)
T2A_GUIDER = MultiModalGuiderParams(cfg_scale=7.0, stg_scale=1.0, rescale_scale=0.7, modality_scale=1.0, stg_blocks=[1])
CASES: dict[str, dict[str, Any]] = {
    "retake_distilled": {"video": "retake", "audio": "retake", "schedule": "distilled", "guided": False},
    "retake_guided": {"video": "retake", "audio": "retake", "schedule": "ltx2_3", "guided": True},
    "retake_audio_only": {"video": "frozen", "audio": "retake", "schedule": "distilled", "guided": False},
    "retake_video_only": {"video": "retake", "audio": "frozen", "schedule": "distilled", "guided": False},
    "extend_forward": {"video": "prefix", "audio": "prefix", "schedule": "distilled", "guided": False},
    "extend_backward": {"video": "suffix", "audio": "suffix", "schedule": "distilled", "guided": False},
    "t2a": {"video": None, "audio": "generate", "schedule": "ltx2_3", "guided": True},
    "v2a": {"video": "frozen", "audio": "generate", "schedule": "distilled", "guided": False},
}


def inputs() -> dict[str, torch.Tensor]:
    vt, at = GP.video_tools(*LOOP_PIXELS), GP.audio_tools(LOOP_PIXELS[0])
    v, a = vt.target_shape, at.target_shape
    g = GP.gen(4242)
    carry_v = (CARRY_FRAMES - 1) // 8 + 1
    carry_a = GP.audio_tools(CARRY_FRAMES).target_shape.frames
    t = {
        "inputs.video.noise": torch.randn(1, v.token_count(), 128, generator=g),
        "inputs.audio.noise": torch.randn(1, a.token_count(), 128, generator=g),
        "inputs.video.source": torch.randn(*v.to_torch_shape(), generator=g),  # the video's own latents
        "inputs.audio.source": torch.randn(*a.to_torch_shape(), generator=g),
        "inputs.video.prefix": torch.randn(1, 128, carry_v, v.height, v.width, generator=g),
        "inputs.video.suffix": torch.randn(1, 128, carry_v - 1, v.height, v.width, generator=g),
        "inputs.audio.prefix": torch.randn(1, 8, carry_a, 16, generator=g),
        "inputs.audio.suffix": torch.randn(1, 8, carry_a - 1, 16, generator=g),
    }
    for k in ("video.prefix", "video.suffix", "audio.prefix", "audio.suffix"):  # the trainer casts them to bf16
        t[f"inputs.{k}"] = t[f"inputs.{k}"].bfloat16().float()
    for k in ("v_ctx_pos", "v_ctx_neg", "a_ctx_pos", "a_ctx_neg"):
        t[f"inputs.{k}"] = torch.randn(1, CTX_LEN, CONFIGS["ltx2_av"][0]["caption_channels"], generator=g)
    return t


def trainer_condition(kind: str, modality: str, latent: torch.Tensor) -> tuple[Any, Any]:
    """A validation sample with one prefix/suffix condition on ``modality`` and its encoded media."""
    cond = types.SimpleNamespace(type=kind, video="x.mp4" if modality == "video" else None)
    cond.audio = "x.wav" if modality == "audio" else None
    sample = types.SimpleNamespace(conditions=[cond])
    media = types.SimpleNamespace(conditions={0: types.SimpleNamespace(latent=latent)})
    return sample, media


def state(kind: str | None, modality: str, tools: Any, t: dict, dtype: torch.dtype, noiser: Any) -> Any:
    """The initial state of one modality as the reference task builds it."""
    if kind is None:
        return None
    source = t[f"inputs.{modality}.source"].to(dtype)
    if kind == "retake":
        span = TemporalRegionMask(start_time=SPAN[0], end_time=SPAN[1], fps=FPS)
        return _build_state(ModalitySpec(conditionings=[span], initial_latent=source), tools, noiser, dtype, CPU)
    if kind == "frozen":
        return _build_state(
            ModalitySpec(frozen=True, noise_scale=0.0, initial_latent=source), tools, noiser, dtype, CPU
        )
    if kind == "generate":
        return _build_state(ModalitySpec(), tools, noiser, dtype, CPU)
    # prefix / suffix: ValidationRunner._generate_sample's order (initial state, conditions, noise 1)
    st = tools.create_initial_state(device=CPU, dtype=dtype)
    sample, media = trainer_condition(kind, modality, t[f"inputs.{modality}.{kind}"].to(dtype))
    apply = (
        ValidationRunner._apply_video_conditionings
        if modality == "video"
        else ValidationRunner._apply_audio_conditionings
    )
    st = apply(st, tools, sample, media, CPU)
    return noiser(st, noise_scale=1.0)


def run_case(name: str, spec: dict, t: dict, model: Any, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    vt, at = GP.video_tools(*LOOP_PIXELS), GP.audio_tools(LOOP_PIXELS[0])
    noiser = GivenNoiser(
        [t["inputs.video.noise"], t["inputs.audio.noise"]] if spec["video"] else [t["inputs.audio.noise"]]
    )
    vs = state(spec["video"], "video", vt, t, dtype, noiser)
    as_ = state(spec["audio"], "audio", at, t, dtype, noiser)
    ctx = {k: t[f"inputs.{k}"].to(dtype) for k in ("v_ctx_pos", "v_ctx_neg", "a_ctx_pos", "a_ctx_neg")}
    v_ctx = ctx["v_ctx_pos"] if spec["video"] else None
    if spec["guided"] and spec["video"] is None:
        den: Any = GuidedDenoiser(None, ctx["a_ctx_pos"], None, MultiModalGuider(T2A_GUIDER, ctx["a_ctx_neg"]))
    elif spec["guided"]:
        vg, ag = MultiModalGuider(VIDEO_GUIDER, ctx["v_ctx_neg"]), MultiModalGuider(AUDIO_GUIDER, ctx["a_ctx_neg"])
        den = GuidedDenoiser(v_ctx, ctx["a_ctx_pos"], vg, ag)
    else:
        den = SimpleDenoiser(v_ctx, ctx["a_ctx_pos"])
    sigmas = (
        torch.tensor(C.DISTILLED_SIGMA_VALUES) if spec["schedule"] == "distilled" else LTX2Scheduler().execute(steps=3)
    )
    out = {f"{name}.sigmas": sigmas}
    for m, st in (("video", vs), ("audio", as_)):
        # Not stored: clean latents (the inputs), a frozen stream's latents (its source, checked exactly) and the
        # guided retake's initial states (retake_distilled's).
        if st is not None and spec[m] != "frozen" and name != "retake_guided":
            out.update({k: v for k, v in state_tensors(f"{name}.{m}.initial", st).items() if "clean" not in k})
    counted = CountingDenoiser(den)
    v, a = SM.euler_denoising_loop(sigmas, vs, as_, GP.RecordingEuler(), model, counted)
    for m, st in (("video", v), ("audio", a)):
        if st is not None:
            key = f"{name}.{m}" if spec[m] != "frozen" else f"{name}.{m}.frozen_max_abs_change"
            out[key] = st.latent if spec[m] != "frozen" else (st.latent - st.clean_latent).abs().max()
    out[f"{name}.num_denoiser_calls"] = torch.tensor(counted.calls)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/ltx_goldens", help="goldens root; reads OUT/transformer, writes OUT/tasks/")
    ap.add_argument("--seed", type=int, default=0, help="shifts every seed (use the seed of the transformer goldens)")
    ap.add_argument("--ltx-core-src", required=True, help="Lightricks/LTX-2 checkout at v1.2.0 (400fd31)")
    args = ap.parse_args()
    GP.SEED = args.seed
    out = os.path.join(args.out, "tasks")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    t = inputs()
    x64, x32 = (X0Model(GP.tiny_model(args.out).to(d)) for d in (torch.float64, torch.float32))
    manifest: dict[str, Any] = {
        "family": "tasks",
        "seed": args.seed,
        "source": "ltx_core + ltx_pipelines + ltx_trainer source tree (Lightricks/LTX-2 @ 400fd31)",
        "torch": torch.__version__,
        "cases": {},
    }
    stored = dict(t)
    for name, spec in CASES.items():
        r64, r32 = run_case(name, spec, t, x64, torch.float64), run_case(name, spec, t, x32, torch.float32)
        file = "tasks.safetensors"
        stored.update(r64)
        outputs = [m for m in ("video", "audio") if f"{name}.{m}" in r64]
        assert all(
            float(r64[f"{name}.{m}.frozen_max_abs_change"]) == 0 for m in ("video", "audio") if spec[m] == "frozen"
        )
        manifest["cases"][name] = {
            **spec,
            "kind": "task_loop",
            "file": file,
            "config": "ltx2_av",
            "weights": "transformer/ltx2_av.weights.safetensors",
            "pixel_shape": list(LOOP_PIXELS),
            "fps": FPS,
            "span": list(SPAN),
            "carry_frames": CARRY_FRAMES,
            "sigmas": [float(s) for s in r64[f"{name}.sigmas"]],
            "num_denoiser_calls": int(r64[f"{name}.num_denoiser_calls"]),
            "video_guider": params_dict(VIDEO_GUIDER),
            "audio_guider": params_dict(T2A_GUIDER if spec["video"] is None else AUDIO_GUIDER),
            "output_abs_max": {m: float(r64[f"{name}.{m}"].abs().max()) for m in outputs},
            "reference_f32_vs_f64_max_abs": {
                m: float((r32[f"{name}.{m}"].double() - r64[f"{name}.{m}"]).abs().max()) for m in outputs
            },
        }
        print(
            f"[{name}] calls={manifest['cases'][name]['num_denoiser_calls']} {manifest['cases'][name]['reference_f32_vs_f64_max_abs']}"
        )
    save_file(f32(stored), os.path.join(out, "tasks.safetensors"))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    size = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    print(f"wrote {out} ({size / 1e6:.3f} MB)")


if __name__ == "__main__":
    main()
