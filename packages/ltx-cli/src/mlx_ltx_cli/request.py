"""`ltx generate` options → checks (one line each, before any model loads) → a pipeline and its GenerationRequest."""

from __future__ import annotations

import dataclasses
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlx_ltx_cli.argv import split
from mlx_ltx_cli.checks import (
    check_audio,
    check_cache,
    check_checkpoint,
    check_finite,
    check_image,
    check_number,
    check_output_name,
    check_seed,
    check_video,
    check_writable,
)
from mlx_ltx_cli.resolve import TINY_MODELS

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
    spatial_upscale: float | None = None
    temporal_upscale: bool = False
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
    revision: str | None = None
    text_encoder_repo: str | None = None
    text_encoder_path: str | None = None
    quantize: int | None = None
    dtype: str = "keep"
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
    audio_cfg_scale: float | None = None
    audio_cfg_rescale: float | None = None
    audio_stg_scale: float | None = None
    audio_stg_blocks: str | None = None
    audio_modality_scale: float | None = None
    apg: bool = False
    lora_path: list[str] | None = None
    lora_strength: float = 1.0
    distilled_lora: str | None = None
    lora_strength_stage_1: float | None = None
    lora_strength_stage_2: float | None = None
    lora_mode: str = "auto"
    memory_limit: float | None = None
    verify: bool = False
    low_memory: bool = False
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
        option = f"--image {parts[0]} FRAME_IDX STRENGTH"
        frame = check_number(parts[1], option, "FRAME_IDX", int) if len(parts) == 3 else 0
        strength = check_number(parts[2], option, "STRENGTH") if len(parts) == 3 else default_strength
        strength = _in_unit(strength, "--image strength")
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
        strength = check_number(parts[1], f"--lora-path {parts[0]} STRENGTH", "STRENGTH") if len(parts) > 1 else None
        loras.append((parts[0], default_strength if strength is None else strength))
    return loras


def parse_blocks(text: str, flag: str = "--stg-blocks") -> list[int]:
    if not re.fullmatch(r"\s*\d+(\s*,\s*\d+)*\s*", text):
        raise ValueError(f"{flag} {text!r}: give comma-separated block numbers, e.g. 28 or 28,29")
    return [int(b) for b in text.split(",")]


def output_paths(o: GenerateOptions) -> Path:
    if o.output_path is not None and o.auto_output_name:
        raise ValueError("--output-path and --auto-output-name exclude each other; pass one")
    if o.auto_output_name:
        slug = re.sub(r"[^a-z0-9]+", "-", (o.prompt or "").lower()).strip("-")[:60] or "video"
        stem = f"{slug}-{o.seed if o.seed is not None else 10}"
        path, n = Path(f"{stem}.mp4"), 2
        while path.exists() and not o.overwrite:  # a rerun is numbered: slug-seed-2.mp4, -3, …
            path, n = Path(f"{stem}-{n}.mp4"), n + 1
    else:
        path = Path(o.output_path or "output.mp4")
    if path.suffix.lower() != ".mp4":
        raise ValueError(f"--output-path {path}: must end in .mp4")
    if path.parent.resolve().is_dir():
        check_output_name(path, "--output-path")
    if path.exists() and not o.overwrite:
        raise ValueError(f"{path} already exists; pass --overwrite or choose another --output-path")
    check_writable(path, "--output-path")
    return path


def pipeline_class(name: str) -> Any:
    """The pipeline class of ``--pipeline NAME`` (``mlx_ltx_pipelines.pipelines.BY_NAME``)."""
    from mlx_ltx_pipelines.pipelines import BY_NAME

    if name not in BY_NAME:
        raise ValueError(f"--pipeline {name!r}: choose one of {', '.join(BY_NAME)}")
    return BY_NAME[name]


def tiling_names() -> tuple[str, ...]:
    from mlx_ltx_core.model.video_vae import TILING_PRESETS

    return ("auto", *TILING_PRESETS)


COMPUTE_DTYPES = ("keep", "bfloat16", "float16", "float32")
LORA_MODES = ("auto", "fused", "unfused")  # mlx_ltx_pipelines.lora.LORA_MODES (not imported: no MLX before checks)


def check(o: GenerateOptions) -> Path:
    """Everything that can be checked without a model; returns the output path."""
    from mlx_ltx_pipelines.validation import (
        check_frame_rate,
        check_num_frames,
        check_temporal_upscale,
        check_video_size,
    )

    if not o.prompt or not o.prompt.strip():
        raise ValueError('no prompt: pass --prompt/-p "what the video shows"')
    check_finite(o)
    check_seed(o.seed)
    if o.memory_limit is not None and o.memory_limit < 0:
        raise ValueError(f"--memory-limit={o.memory_limit} must be >= 0 GB (0 disables the check)")
    cls = pipeline_class(o.pipeline)
    if o.tiling not in tiling_names():
        raise ValueError(f"--tiling {o.tiling!r}: choose one of {', '.join(tiling_names())}")
    if o.conditioning_mode not in ("replace", "guide"):
        raise ValueError(f"--conditioning-mode {o.conditioning_mode!r}: choose replace or guide")
    _check_upscale(o, cls)
    if o.height is not None or o.width is not None:
        if o.height is None or o.width is None:
            raise ValueError("pass both --height and --width (or neither, for the model's defaults)")
        cls.check_size(o.height, o.width, o.spatial_upscale or 2.0)
    if o.num_frames is not None:
        check_num_frames(o.num_frames)
        if o.temporal_upscale:
            check_temporal_upscale(o.num_frames)
    check_video_size(o.height, o.width, o.num_frames or 1)  # a size not given counts as the smallest
    if o.fps is not None:
        check_frame_rate(o.fps)
    _check_conditioning(o)
    _check_guidance(o, cls)
    if o.quantize not in (None, 4, 8):
        raise ValueError(f"--quantize={o.quantize}: use 4 or 8")
    if o.dtype not in COMPUTE_DTYPES:
        raise ValueError(f"--dtype {o.dtype!r}: choose one of {', '.join(COMPUTE_DTYPES)}")
    if o.lora_mode not in LORA_MODES:
        raise ValueError(f"--lora-mode {o.lora_mode!r}: choose one of {', '.join(LORA_MODES)}")
    local = next((v for v in (o.model, o.checkpoint_path) if v and (v in TINY_MODELS or Path(v).exists())), None)
    if o.revision is not None and local is not None and not o.model_repo:
        raise ValueError(
            f"--revision {o.revision} picks a version of a Hugging Face repo, and {local} is local: drop --revision "
            "(or pass the repo id)"
        )
    converted = o.model is not None and (o.model in TINY_MODELS or Path(o.model).is_dir())
    if o.quantize is not None and o.checkpoint_path is None and converted:
        raise ValueError(
            f"--quantize {o.quantize} quantizes a checkpoint as it is converted, and --model {o.model} is already "
            f"converted: convert the checkpoint with `ltx convert CHECKPOINT -o DIR --quantize {o.quantize}` and "
            "pass --model DIR (or drop --quantize)"
        )
    if o.output_audio is not None and o.output_audio.suffix.lower() != ".wav":
        raise ValueError(f"--output-audio {o.output_audio}: must end in .wav")
    if o.output_audio is not None and o.audio is False:
        raise ValueError("--output-audio writes the generated audio, and --no-audio generates none: drop one of them")
    for path, _, _ in parse_images(o.image or [], o.image_strength, o.num_frames or DEFAULT_NUM_FRAMES):
        check_image(path, "--image")
    if o.enhance_prompt and o.image:
        warnings.warn(
            "--enhance-prompt rewrites the prompt with the text-to-video system prompt, without seeing --image "
            "(image-aware enhancement comes with the LTX-2.5 pipelines); the rewritten prompt is printed",
            stacklevel=2,
        )
    if o.stg_blocks:
        parse_blocks(o.stg_blocks)
    if o.audio_stg_blocks:
        parse_blocks(o.audio_stg_blocks, "--audio-stg-blocks")
    _check_files(o)
    return output_paths(o)


def _check_files(o: GenerateOptions) -> None:
    """LoRA and checkpoint files from their headers, and the cache a checkpoint, repo or `tiny` is built into."""
    from mlx_ltx_cli.resolve import cache_root
    from mlx_ltx_core.repo_id import parse_repo_id
    from mlx_ltx_pipelines.lora import check_lora_file

    lora_paths = parse_loras(o.lora_path or [], o.lora_strength)
    lora_paths += parse_loras([o.distilled_lora], 1.0) if o.distilled_lora else []
    for path, _ in lora_paths:
        if not Path(path).exists() and (parse_repo_id(path) is None or _looks_like_a_file(path)):
            raise ValueError(f"LoRA {path}: no such file or folder; pass a .safetensors file, its folder or a repo id")
        if Path(path).is_file():
            check_lora_file(Path(path))
    for option, value in (("--checkpoint-path", o.checkpoint_path), ("--model", o.model)):
        if value:
            check_checkpoint(value, option)
    if not (o.model and Path(o.model).is_dir()):
        check_cache(cache_root())


def _looks_like_a_file(path: str) -> bool:
    """A local path rather than a repo id: ``./x``, ``/x``, ``~/x``, or ``DIR/FILE.EXT`` (a repo file is
    ``OWNER/NAME/FILE.EXT``, three parts)."""
    if path.startswith(("./", "../", "/", "~")) or "\\" in path:
        return True
    return len(path.split("/")) == 2 and Path(path).suffix.lower() in (".safetensors", ".ckpt", ".pt", ".bin")


def _check_upscale(o: GenerateOptions, cls: Any) -> None:
    """--spatial-upscale is 2 or 1.5; both upscale options need a pipeline with a second stage."""
    if o.spatial_upscale is not None and o.spatial_upscale not in (2.0, 1.5):
        raise ValueError(f"--spatial-upscale {o.spatial_upscale:g}: choose 2 or 1.5 (the latent upscalers that exist)")
    for flag, value in (("--spatial-upscale", o.spatial_upscale), ("--temporal-upscale", o.temporal_upscale or None)):
        if value is not None and not cls.takes("spatial_upscale"):
            raise ValueError(
                f"{flag} upscales between two stages, and --pipeline {o.pipeline} has one: use one of "
                f"{', '.join(name for name, c in _classes().items() if c.takes('spatial_upscale'))}"
            )


def _check_conditioning(o: GenerateOptions) -> None:
    if o.audio and o.audio_file is not None:
        raise ValueError("--audio and --audio-file exclude each other: --audio-file keeps that audio instead")
    if o.audio_file is not None:
        _existing(o.audio_file, "audio file", "--audio-file")
    if o.audio_start_time != 0 and o.audio_file is None:
        raise ValueError("--audio-start-time applies with --audio-file (seconds into that file); pass --audio-file")
    if o.audio_start_time < 0:
        raise ValueError(f"--audio-start-time={o.audio_start_time} must be >= 0")
    if o.audio_file is not None:
        check_audio(o.audio_file, o.audio_start_time, "--audio-file")
    if (o.pipeline == "ic-lora") != (o.video_conditioning is not None):
        raise ValueError("--video-conditioning PATH STRENGTH goes with --pipeline ic-lora (and it needs one)")
    if o.video_conditioning is not None:
        _existing(o.video_conditioning[0], "video", "--video-conditioning")
        _in_unit(o.video_conditioning[1], "--video-conditioning strength")
        check_video(o.video_conditioning[0], "--video-conditioning")
    if o.pipeline == "ic-lora" and not o.lora_path:
        raise ValueError("--pipeline ic-lora needs the IC-LoRA: pass --lora-path PATH")
    if o.pipeline == "keyframe" and not o.image:
        raise ValueError("--pipeline keyframe interpolates between images: pass --image PATH FRAME_IDX STRENGTH")


def _check_guidance(o: GenerateOptions, cls: Any) -> None:
    if not cls.guided:
        for flag, value in (
            ("--cfg-scale", o.cfg_scale),
            ("--stg-scale", o.stg_scale),
            ("--steps", o.steps),
            ("--negative-prompt", o.negative_prompt),
            ("--apg", o.apg or None),
            ("--audio-cfg-scale", o.audio_cfg_scale),
            ("--audio-stg-scale", o.audio_stg_scale),
        ):
            if value is not None:
                raise ValueError(f"{flag} applies to the guided dev pipelines, not --pipeline {o.pipeline}")
    for flag, value in (
        ("--modality-scale", o.modality_scale),
        ("--cfg-rescale", o.cfg_rescale),
        ("--stg-blocks", o.stg_blocks),
        ("--audio-cfg-rescale", o.audio_cfg_rescale),
        ("--audio-stg-blocks", o.audio_stg_blocks),
        ("--audio-modality-scale", o.audio_modality_scale),
    ):
        if value is not None and not cls.guided:
            raise ValueError(
                f"{flag} applies to the guided pipelines ({_names('guided')}), not --pipeline {o.pipeline}"
            )
    if o.distilled_lora is not None and not cls.needs_distilled_lora:
        raise ValueError(
            f"--distilled-lora applies to the two-stage dev pipelines ({_names('needs_distilled_lora')}), "
            f"not --pipeline {o.pipeline}"
        )
    if o.steps is not None and o.steps < 1:
        raise ValueError(f"--steps={o.steps} must be >= 1")
    if o.cfg_rescale is not None:
        _in_unit(o.cfg_rescale, "--cfg-rescale")
    if o.audio_cfg_rescale is not None:
        _in_unit(o.audio_cfg_rescale, "--audio-cfg-rescale")
    for s, name in (
        (o.lora_strength_stage_1, "--lora-strength-stage-1"),
        (o.lora_strength_stage_2, "--lora-strength-stage-2"),
    ):
        if s is not None and not cls.needs_distilled_lora:
            raise ValueError(f"{name} applies to the two-stage dev pipelines, not --pipeline {o.pipeline}")


def _names(attribute: str) -> str:
    """The --pipeline names whose class sets ``attribute`` (``guided``, ``needs_distilled_lora``)."""
    return ", ".join(name for name, cls in _classes().items() if getattr(cls, attribute, False))


def _classes() -> dict[str, Any]:
    from mlx_ltx_pipelines.pipelines import BY_NAME

    return BY_NAME


def guider_params(o: GenerateOptions, defaults: Any) -> Any:
    """The video guider: the defaults with --cfg-scale, --cfg-rescale, --stg-scale, --stg-blocks,
    --modality-scale and --apg applied."""
    changes = {
        "cfg_scale": o.cfg_scale,
        "rescale_scale": o.cfg_rescale,
        "stg_scale": o.stg_scale,
        "stg_blocks": parse_blocks(o.stg_blocks) if o.stg_blocks else None,
        "modality_scale": o.modality_scale,
        "apg": APG if o.apg else None,
    }
    return dataclasses.replace(defaults, **{k: v for k, v in changes.items() if v is not None})


def audio_guider_params(o: GenerateOptions, defaults: Any) -> Any:
    """The audio guider: the defaults with --audio-cfg-scale, --audio-cfg-rescale, --audio-stg-scale,
    --audio-stg-blocks and --audio-modality-scale (video→audio; the reference's --v2a-guidance-scale) applied."""
    changes = {
        "cfg_scale": o.audio_cfg_scale,
        "rescale_scale": o.audio_cfg_rescale,
        "stg_scale": o.audio_stg_scale,
        "stg_blocks": parse_blocks(o.audio_stg_blocks, "--audio-stg-blocks") if o.audio_stg_blocks else None,
        "modality_scale": o.audio_modality_scale,
    }
    return dataclasses.replace(defaults, **{k: v for k, v in changes.items() if v is not None})


def build_pipeline(o: GenerateOptions, resolved: Any) -> Any:
    """The pipeline of ``--pipeline`` with its LoRAs (and, for the tiny model, defaults that fit it)."""
    from mlx_ltx_pipelines.lora import load_lora

    cls = pipeline_class(o.pipeline)
    loras = [load_lora(path, s) for path, s in parse_loras(o.lora_path or [], o.lora_strength)]
    init: dict[str, Any] = {"loras": loras, "lora_mode": o.lora_mode, "low_memory": o.low_memory}
    if o.dtype != "keep":
        import mlx.core as mx

        init["compute_dtype"] = getattr(mx, o.dtype)
    if cls.needs_distilled_lora:
        init["distilled_lora"] = _distilled_lora(o, resolved.folder)
        if o.lora_strength_stage_1 is not None or o.lora_strength_stage_2 is not None:
            first, second = cls.lora_strengths
            init["distilled_lora_strengths"] = (
                o.lora_strength_stage_1 if o.lora_strength_stage_1 is not None else first,
                o.lora_strength_stage_2 if o.lora_strength_stage_2 is not None else second,
            )
    pipeline = cls(resolved.folder, resolved.text_encoder, **init)
    return pipeline.with_params(_tiny_params(pipeline.params)) if resolved.tiny else pipeline


def build_request(o: GenerateOptions, pipeline: Any) -> Any:
    """The GenerationRequest of the options (same field names across pipelines)."""
    from mlx_ltx_pipelines.request import GenerationRequest
    from mlx_ltx_pipelines.stages import AudioConditioningInput, ImageConditioningInput, VideoConditioningInput

    p = pipeline.params
    images = parse_images(o.image or [], o.image_strength, o.num_frames or p.num_frames)
    fields: dict[str, Any] = {}
    if o.audio_file is not None:
        fields["audio"] = AudioConditioningInput(str(o.audio_file), o.audio_start_time)
    if pipeline.guided:
        fields.update(num_inference_steps=o.steps, video_guider_params=guider_params(o, p.video_guider_params))
        fields["audio_guider_params"] = audio_guider_params(o, p.audio_guider_params)
        fields["negative_prompt"] = o.negative_prompt
    if o.video_conditioning is not None:
        fields["video_conditioning"] = [VideoConditioningInput(*o.video_conditioning)]
    return GenerationRequest(
        prompt=o.prompt or "",
        seed=o.seed,
        height=o.height,
        width=o.width,
        num_frames=o.num_frames,
        frame_rate=o.fps,
        images=[ImageConditioningInput(*i) for i in images],
        image_mode="guide" if o.conditioning_mode == "guide" else "replace",
        generate_audio=o.audio is not False,
        enhance_prompt=o.enhance_prompt,
        tiling=o.tiling,
        spatial_upscale=o.spatial_upscale or 2.0,
        temporal_upscale=o.temporal_upscale,
        **fields,
    )


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


def _tiny_params(p: Any) -> Any:
    """Defaults that fit the tiny model: a small size, 3 steps, and its last block (of 2) for STG."""
    import dataclasses as dc

    return dc.replace(
        p,
        height=128,
        width=192,
        num_frames=9,
        num_inference_steps=3,
        video_guider_params=dc.replace(p.video_guider_params, stg_blocks=(1,)),
        audio_guider_params=dc.replace(p.audio_guider_params, stg_blocks=(1,)),
    )
