"""`ltx generate` options → checks (one line each, before any model loads) → one pipeline call → files."""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlx_ltx_cli.argv import split

PIPELINE_CLASSES = {
    "distilled": "DistilledPipeline",
    "dev": "TI2VidOneStagePipeline",
    "dev-two-stage": "TI2VidTwoStagesPipeline",
    "dev-two-stage-hq": "TI2VidTwoStagesHQPipeline",
    "keyframe": "KeyframeInterpolationPipeline",
    "ic-lora": "ICLoraPipeline",
}
GUIDED = {"dev", "dev-two-stage", "dev-two-stage-hq", "keyframe"}
NEEDS_DISTILLED_LORA = {"dev-two-stage", "dev-two-stage-hq", "keyframe"}
TILING = ("auto", "none", "default", "aggressive", "conservative", "spatial", "temporal")
APG = (0.0, 0.0)  # (eta, norm threshold): keep only the guidance orthogonal to the prediction
DEFAULT_NUM_FRAMES = 121  # both model versions' default


@dataclass
class GenerateOptions:
    prompt: str | None = None
    pipeline: str = "distilled"
    height: int | None = None
    width: int | None = None
    num_frames: int | None = None
    seed: int | None = None
    fps: float | None = None
    output_path: Path | None = None
    auto_output_name: bool = False
    overwrite: bool = False
    save_frames: bool = False
    save_latents: bool = False
    output_audio: Path | None = None
    tiling: str = "auto"
    stream: bool = True
    model: str | None = None
    model_repo: str | None = None
    checkpoint_path: str | None = None
    text_encoder_repo: str | None = None
    text_encoder_path: str | None = None
    quantize: int | None = None
    enhance_prompt: bool = False
    negative_prompt: str | None = None
    image: list[str] | None = None
    image_strength: float = 1.0
    conditioning_mode: str = "replace"
    audio: bool | None = None
    audio_file: Path | None = None
    audio_start_time: float = 0.0
    video_conditioning: tuple[str, float] | None = None
    steps: int | None = None
    cfg_scale: float | None = None
    cfg_rescale: float | None = None
    stg_scale: float | None = None
    stg_blocks: str | None = None
    modality_scale: float | None = None
    apg: bool = False
    lora_path: list[str] | None = None
    lora_strength: float = 1.0
    distilled_lora: str | None = None
    lora_strength_stage_1: float | None = None
    lora_strength_stage_2: float | None = None
    memory_limit: float | None = None
    quiet: bool = False
    verbose: bool = False


def _in_unit(value: float, name: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}={value} must be in [0, 1]")
    return value


def _existing(path: str | os.PathLike, what: str, flag: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise ValueError(f"{flag} {p}: no such {what}; check the path")
    return p


def parse_images(values: list[str], default_strength: float, num_frames: int) -> list[tuple[str, int, float]]:
    images = []
    for value in values:
        parts = split(value)
        if len(parts) == 2:
            raise ValueError(f"--image {' '.join(parts)}: give PATH alone or PATH FRAME_IDX STRENGTH")
        path = str(_existing(parts[0], "image", "--image"))
        frame = int(parts[1]) if len(parts) == 3 else 0
        strength = _in_unit(float(parts[2]) if len(parts) == 3 else default_strength, "--image strength")
        if not 0 <= frame < num_frames:
            raise ValueError(f"--image frame index {frame} must be in [0, {num_frames - 1}] (--num-frames)")
        images.append((path, frame, strength))
    if len({f for _, f, _ in images}) != len(images):
        raise ValueError("two --image options use the same frame index; give one image per frame")
    return images


def parse_loras(values: list[str], default_strength: float) -> list[tuple[str, float]]:
    loras = []
    for value in values:
        parts = split(value)
        loras.append((parts[0], float(parts[1]) if len(parts) > 1 else default_strength))
    return loras


def parse_blocks(text: str) -> list[int]:
    if not re.fullmatch(r"\s*\d+(\s*,\s*\d+)*\s*", text):
        raise ValueError(f"--stg-blocks {text!r}: give comma-separated block numbers, e.g. 28 or 28,29")
    return [int(b) for b in text.split(",")]


def output_paths(o: GenerateOptions) -> Path:
    if o.output_path is not None and o.auto_output_name:
        raise ValueError("--output-path and --auto-output-name exclude each other; pass one")
    if o.auto_output_name:
        slug = re.sub(r"[^a-z0-9]+", "-", (o.prompt or "").lower()).strip("-")[:60] or "video"
        path = Path(f"{slug}-{o.seed if o.seed is not None else 10}.mp4")
    else:
        path = Path(o.output_path or "output.mp4")
    if path.suffix.lower() != ".mp4":
        raise ValueError(f"--output-path {path}: must end in .mp4")
    if path.exists() and not o.overwrite:
        raise ValueError(f"{path} already exists; pass --overwrite or choose another --output-path")
    if not path.parent.resolve().is_dir():
        raise ValueError(f"--output-path {path}: folder {path.parent} does not exist; create it first")
    try:  # the real test of writability (os.access says yes to root on read-only file systems)
        with tempfile.TemporaryFile(dir=path.parent.resolve()):
            pass
    except OSError:
        raise ValueError(f"--output-path {path}: folder {path.parent} is not writable; choose another path") from None
    return path


def check(o: GenerateOptions) -> Path:
    """Everything that can be checked without a model; returns the output path."""
    from mlx_ltx_core.repo_id import parse_repo_id
    from mlx_ltx_pipelines.validation import check_frame_rate, check_num_frames, check_resolution

    if not o.prompt or not o.prompt.strip():
        raise ValueError('no prompt: pass --prompt/-p "what the video shows"')
    if o.pipeline not in PIPELINE_CLASSES:
        raise ValueError(f"--pipeline {o.pipeline!r}: choose one of {', '.join(PIPELINE_CLASSES)}")
    if o.tiling not in TILING:
        raise ValueError(f"--tiling {o.tiling!r}: choose one of {', '.join(TILING)}")
    if o.conditioning_mode not in ("replace", "guide"):
        raise ValueError(f"--conditioning-mode {o.conditioning_mode!r}: choose replace or guide")
    if o.height is not None or o.width is not None:
        if o.height is None or o.width is None:
            raise ValueError("pass both --height and --width (or neither, for the model's defaults)")
        check_resolution(o.height, o.width, two_stage=o.pipeline != "dev")
    if o.num_frames is not None:
        check_num_frames(o.num_frames)
    if o.fps is not None:
        check_frame_rate(o.fps)
    if o.audio and o.audio_file is not None:
        raise ValueError("--audio and --audio-file exclude each other: --audio-file keeps that audio instead")
    if o.audio_file is not None:
        _existing(o.audio_file, "audio file", "--audio-file")
    if o.audio_start_time < 0:
        raise ValueError(f"--audio-start-time={o.audio_start_time} must be >= 0")
    if (o.pipeline == "ic-lora") != (o.video_conditioning is not None):
        raise ValueError("--video-conditioning PATH STRENGTH goes with --pipeline ic-lora (and it needs one)")
    if o.video_conditioning is not None:
        _existing(o.video_conditioning[0], "video", "--video-conditioning")
        _in_unit(o.video_conditioning[1], "--video-conditioning strength")
    if o.pipeline == "ic-lora" and not o.lora_path:
        raise ValueError("--pipeline ic-lora needs the IC-LoRA: pass --lora-path PATH")
    if o.pipeline == "keyframe" and not o.image:
        raise ValueError("--pipeline keyframe interpolates between images: pass --image PATH FRAME_IDX STRENGTH")
    if o.pipeline not in GUIDED:
        for flag, value in (
            ("--cfg-scale", o.cfg_scale),
            ("--stg-scale", o.stg_scale),
            ("--steps", o.steps),
            ("--negative-prompt", o.negative_prompt),
            ("--apg", o.apg or None),
        ):
            if value is not None:
                raise ValueError(f"{flag} applies to the guided dev pipelines, not --pipeline {o.pipeline}")
    if o.steps is not None and o.steps < 1:
        raise ValueError(f"--steps={o.steps} must be >= 1")
    if o.cfg_rescale is not None:
        _in_unit(o.cfg_rescale, "--cfg-rescale")
    if o.quantize not in (None, 4, 8):
        raise ValueError(f"--quantize={o.quantize}: use 4 or 8")
    for s, name in (
        (o.lora_strength_stage_1, "--lora-strength-stage-1"),
        (o.lora_strength_stage_2, "--lora-strength-stage-2"),
    ):
        if s is not None and o.pipeline not in NEEDS_DISTILLED_LORA:
            raise ValueError(f"{name} applies to the two-stage dev pipelines, not --pipeline {o.pipeline}")
    if o.output_audio is not None and o.output_audio.suffix.lower() != ".wav":
        raise ValueError(f"--output-audio {o.output_audio}: must end in .wav")
    parse_images(o.image or [], o.image_strength, o.num_frames or DEFAULT_NUM_FRAMES)
    if o.stg_blocks:
        parse_blocks(o.stg_blocks)
    for path, _ in parse_loras(o.lora_path or [], o.lora_strength):
        if not Path(path).exists() and parse_repo_id(path) is None:
            raise ValueError(f"LoRA {path}: no such file or folder; pass a .safetensors file, its folder or a repo id")
    return output_paths(o)


def guider_params(o: GenerateOptions, defaults: Any) -> Any:
    changes = {
        "cfg_scale": o.cfg_scale,
        "rescale_scale": o.cfg_rescale,
        "stg_scale": o.stg_scale,
        "stg_blocks": parse_blocks(o.stg_blocks) if o.stg_blocks else None,
        "modality_scale": o.modality_scale,
        "apg": APG if o.apg else None,
    }
    return dataclasses.replace(defaults, **{k: v for k, v in changes.items() if v is not None})


def run_generate(o: GenerateOptions) -> None:
    from mlx_ltx_cli.progress import StageReporter
    from mlx_ltx_cli.resolve import resolve_model

    output = check(o)
    resolved = resolve_model(
        o.model,
        o.checkpoint_path,
        o.model_repo,
        o.text_encoder_path,
        o.text_encoder_repo,
        o.quantize,
        "dev" if o.pipeline in GUIDED else "distilled",
    )
    pipeline, call = build_call(o, resolved)
    preflight(o, pipeline, call)
    with StageReporter(quiet=o.quiet, verbose=o.verbose) as reporter:
        result = pipeline(**call, progress=reporter)
        write_outputs(o, result, output, reporter)
    reporter.summary(str(output), {"seed": str(result.seed)})


def build_call(o: GenerateOptions, resolved: Any) -> tuple[Any, dict[str, Any]]:
    """The pipeline object and its keyword arguments (same names across pipelines)."""
    import mlx_ltx_pipelines.pipelines as pipelines
    from mlx_ltx_pipelines.lora import load_lora
    from mlx_ltx_pipelines.stages import AudioConditioningInput, ImageConditioningInput, VideoConditioningInput

    cls = getattr(pipelines, PIPELINE_CLASSES[o.pipeline])
    loras = [load_lora(path, s) for path, s in parse_loras(o.lora_path or [], o.lora_strength)]
    init: dict[str, Any] = {"loras": loras}
    if o.pipeline in NEEDS_DISTILLED_LORA:
        init["distilled_lora"] = _distilled_lora(o, resolved.folder)
        if o.lora_strength_stage_1 is not None or o.lora_strength_stage_2 is not None:
            first, second = cls.lora_strengths
            init["distilled_lora_strengths"] = (
                o.lora_strength_stage_1 if o.lora_strength_stage_1 is not None else first,
                o.lora_strength_stage_2 if o.lora_strength_stage_2 is not None else second,
            )
    pipeline = cls(resolved.folder, resolved.text_encoder, **init)
    if resolved.tiny:
        _fit_tiny_guidance(pipeline)
    p = pipeline.params
    num_frames = o.num_frames or p.num_frames
    images = parse_images(o.image or [], o.image_strength, num_frames)
    call: dict[str, Any] = {
        "prompt": o.prompt,
        "seed": o.seed,
        "height": o.height,
        "width": o.width,
        "num_frames": o.num_frames,
        "frame_rate": o.fps,
        "images": [ImageConditioningInput(*i) for i in images],
        "generate_audio": o.audio is not False,
        "enhance_prompt": o.enhance_prompt,
        "tiling": o.tiling,
    }
    if o.audio_file is not None:
        call["audio"] = AudioConditioningInput(str(o.audio_file), o.audio_start_time)
    if o.pipeline in GUIDED:
        call.update(num_inference_steps=o.steps, video_guider_params=guider_params(o, p.video_guider_params))
        if o.negative_prompt is not None:
            call["negative_prompt"] = o.negative_prompt
    if o.pipeline == "ic-lora":
        call["video_conditioning"] = [VideoConditioningInput(*o.video_conditioning)]
    if o.conditioning_mode == "guide":
        pipeline.keyframes_only = True  # every image is appended as a guiding keyframe, none replaces a frame
    return pipeline, call


def preflight(o: GenerateOptions, pipeline: Any, call: dict[str, Any]) -> None:
    """Refuse a generation whose estimated peak memory exceeds --memory-limit (default: this machine's memory)."""
    from mlx_ltx_pipelines.preflight import check_memory, decode_estimate, denoise_estimate

    if o.memory_limit == 0:
        return
    r = pipeline.request(
        call["seed"],
        call["height"],
        call["width"],
        call["num_frames"],
        call["frame_rate"],
        call["images"],
        call.get("audio"),
        call["generate_audio"],
    )
    params = call.get("video_guider_params")
    passes = 1
    if params is not None:
        passes += (params.cfg_scale != 1.0) + (params.stg_scale != 0.0) + (params.modality_scale != 1.0)
    with_audio = call["generate_audio"] or call.get("audio") is not None
    estimates = [denoise_estimate(pipeline.ledger, r.small, passes, with_audio)]
    if r.full != r.small:
        estimates.append(denoise_estimate(pipeline.ledger, r.full, 1, with_audio))
    estimates.append(decode_estimate(pipeline.ledger, r.full, o.tiling))
    limit = int(o.memory_limit * 1e9) if o.memory_limit else _machine_memory()
    quantized = pipeline.ledger.component("transformer").quantization is not None
    check_memory(estimates, limit, quantized)


def _machine_memory() -> int:
    import mlx.core as mx

    info = mx.device_info() if hasattr(mx, "device_info") else {}
    total = info.get("max_recommended_working_set_size") or info.get("memory_size")
    return int(total or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def _distilled_lora(o: GenerateOptions, folder: Path) -> Any:
    from mlx_ltx_pipelines.lora import load_lora

    if o.distilled_lora is not None:
        ((path, strength),) = parse_loras([o.distilled_lora], 1.0)
        return load_lora(path, strength)
    found = sorted((folder / "loras").glob("*distilled-lora*")) if (folder / "loras").is_dir() else []
    if not found:
        raise ValueError(
            f"--pipeline {o.pipeline} needs the distilled LoRA: pass --distilled-lora PATH, or convert the model "
            "with its ltx-2.3-22b-distilled-lora-384.safetensors"
        )
    return load_lora(found[0], 1.0)


def _fit_tiny_guidance(pipeline: Any) -> None:
    """The tiny model has 2 blocks: its default STG block is its last one."""
    import dataclasses as dc

    p = pipeline.params
    pipeline.params = dc.replace(
        p,
        height=128,
        width=192,
        num_frames=9,
        num_inference_steps=3,
        video_guider_params=dc.replace(p.video_guider_params, stg_blocks=(1,)),
        audio_guider_params=dc.replace(p.audio_guider_params, stg_blocks=(1,)),
    )


def write_outputs(o: GenerateOptions, result: Any, output: Path, progress: Any) -> None:
    """The MP4 (streamed unless --no-stream), then frames, latents and the WAV if asked."""
    from mlx_ltx_pipelines.media import VideoWriter, write_wav

    if o.save_latents:
        result.save_latents(output.with_suffix(".latents.safetensors"), overwrite=o.overwrite)
    if o.stream:
        result.save(output, overwrite=o.overwrite, progress=progress)
    else:
        chunks = list(result.video_chunks(progress))
        audio = result.audio(progress)
        with VideoWriter(output, result.frame_rate, overwrite=o.overwrite) as writer:
            for chunk in chunks:
                writer.write(chunk)
            writer.close(audio)
    if o.save_frames:
        result.save_frames(output.parent / f"{output.stem}_frames", progress)
    if o.output_audio is not None:
        audio = result.audio()
        if audio is None:
            raise ValueError("--output-audio: this generation has no audio (--no-audio)")
        write_wav(o.output_audio, *audio)
