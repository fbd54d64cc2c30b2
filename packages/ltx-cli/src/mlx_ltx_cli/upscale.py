"""`ltx upscale`: an image or a video ×2 through the latent upsampler (optionally refined by the distilled stage 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlx.core as mx
import numpy as np

_IMAGE = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


def _crop_to_32(frames: np.ndarray) -> np.ndarray:
    """Center-crop (F, H, W, 3) to multiples of 32 (the VAE's spatial stride)."""
    from mlx_ltx_core.types import VIDEO_SCALE_FACTORS as S

    h, w = S.floor_size(frames.shape[1]), S.floor_size(frames.shape[2])
    if h == 0 or w == 0:
        raise ValueError(
            f"input is {frames.shape[2]}x{frames.shape[1]}: at least {S.height}x{S.width} pixels are needed"
        )
    top, left = (frames.shape[1] - h) // 2, (frames.shape[2] - w) // 2
    return frames[:, top : top + h, left : left + w]


def _read(path: Path) -> tuple[np.ndarray, float | None]:
    from mlx_ltx_core.types import VIDEO_SCALE_FACTORS
    from mlx_ltx_pipelines.media import decode_image, read_video

    if path.suffix.lower() in _IMAGE:
        return decode_image(path)[None], None
    frames, fps = read_video(path)
    frames = np.stack(list(frames))
    usable = VIDEO_SCALE_FACTORS.usable_frames(len(frames))  # the causal VAE takes 8k+1 frames
    return frames[:usable], fps


def run_upscale(
    source: Path, output: Path, resolved: Any, refine: bool, prompt: str | None, seed: int, overwrite: bool, progress
) -> Path:
    from mlx_ltx_pipelines.media import write_video
    from mlx_ltx_pipelines.media.image import normalize_pixels
    from mlx_ltx_pipelines.model_ledger import ModelLedger
    from mlx_ltx_pipelines.result import GenerationResult
    from mlx_ltx_pipelines.stages import free, upsample

    if output.exists() and not overwrite:
        raise ValueError(f"{output} already exists; pass --overwrite or choose another --output")
    if not source.is_file():
        raise ValueError(f"--input {source}: no such file; pass an image or a video")
    frames, fps = _read(source)
    is_image = fps is None
    if (output.suffix.lower() == ".png") != is_image:
        raise ValueError(f"--output {output}: write a .png for an image input and an .mp4 for a video input")
    ledger = ModelLedger(resolved.folder, resolved.text_encoder)
    # 1. Encode, 2. ×2 in latent space, 3. optional refinement, 4. decode.
    encoder = ledger.video_encoder()
    latent = encoder(normalize_pixels(_crop_to_32(frames))[None])
    mx.eval(latent)
    del encoder
    free()
    latent = upsample(ledger, latent, progress)
    if refine:
        latent = _refine(ledger, latent, prompt, seed, fps or 24.0, progress)
    result = GenerationResult(ledger, latent, None, fps or 24.0, seed, "auto")
    if is_image:
        from PIL import Image

        (frame,) = [f for chunk in result.video_chunks(progress) for f in chunk]
        tmp = output.with_name(f".{output.name}.partial.png")
        Image.fromarray(frame).save(tmp)
        tmp.replace(output)
        return output
    return write_video(output, result.video_chunks(progress), fps, _audio_track(source), overwrite=overwrite)


def _audio_track(path: Path) -> tuple[np.ndarray, int] | None:
    from mlx_ltx_audio import AudioFileError, load_audio

    try:
        audio = load_audio(path)
    except AudioFileError:
        return None  # a video without sound
    return np.asarray(audio.waveform, np.float32), int(audio.sampling_rate)


def _refine(ledger, latent: mx.array, prompt: str, seed: int, fps: float, progress) -> mx.array:
    """Stage 2 of the distilled pipeline on the upsampled latent (3 steps from sigma 0.909375, no audio)."""
    from mlx_ltx_pipelines.denoisers import SimpleDenoiser
    from mlx_ltx_pipelines.noisers import GaussianNoiser
    from mlx_ltx_pipelines.schedulers import stage_2_distilled_sigmas
    from mlx_ltx_pipelines.stages import denoise, encode_prompts, free
    from mlx_ltx_pipelines.states import ModalitySpec
    from mlx_ltx_pipelines.types import VIDEO_SCALE_FACTORS, VideoPixelShape

    ((v_ctx, _a_ctx),) = encode_prompts(ledger, [prompt], False, seed, progress)
    _, frames, h, w, _ = latent.shape
    s = VIDEO_SCALE_FACTORS
    shape = VideoPixelShape(1, s.pixel_frames(frames), s.height * h, s.width * w, fps)
    sigmas = stage_2_distilled_sigmas()
    model = ledger.transformer()
    spec = ModalitySpec(noise_scale=float(sigmas[0]), initial_latent=latent)
    out, _ = denoise(
        model, shape, spec, None, GaussianNoiser(seed), sigmas, SimpleDenoiser(v_ctx, None), progress, "refine"
    )
    del model
    free()
    return out
