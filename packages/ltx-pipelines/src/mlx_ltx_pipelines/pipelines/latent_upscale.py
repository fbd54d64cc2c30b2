"""An image or a video ×2 (or ×1.5) through the latent upsampler, optionally refined by the distilled stage 2
(no reference counterpart: the reference upsamples latents only inside its two-stage pipelines)."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

import mlx.core as mx
import numpy as np

from mlx_ltx_pipelines.denoisers import SimpleDenoiser
from mlx_ltx_pipelines.errors import ParameterError
from mlx_ltx_pipelines.media.image import ImageInput, decode_image, normalize_pixels
from mlx_ltx_pipelines.model_ledger import ModelLedger
from mlx_ltx_pipelines.noisers import GaussianNoiser
from mlx_ltx_pipelines.pipelines.base import Pipeline, RefineInputs
from mlx_ltx_pipelines.result import GenerationResult
from mlx_ltx_pipelines.stages import Progress, encode_prompts, free, no_progress, upsample
from mlx_ltx_pipelines.types import VIDEO_SCALE_FACTORS, VideoPixelShape
from mlx_ltx_pipelines.validation import spatial_ratio

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
DEFAULT_FRAME_RATE = 24.0  # of an image input (a video keeps its own)


@dataclass(frozen=True)
class UpscaleRequest:
    """What to upscale: ``source`` (an image or video file, or an in-memory image: a PIL image or an (H, W, 3)
    uint8 / float [0, 1] array); ``spatial_upscale`` picks the x2 or x1.5 upsampler; ``refine`` adds 3 distilled
    steps guided by ``prompt``."""

    source: ImageInput
    refine: bool = False
    prompt: str | None = None
    seed: int = 10  # the refinement's noise (and the decoder's, as the generation pipelines)
    spatial_upscale: float = 2.0

    @property
    def is_image(self) -> bool:
        return not is_path(self.source) or Path(self.source).suffix.lower() in IMAGE_SUFFIXES


class LatentUpscalePipeline:
    """VAE encode → ×2 / ×1.5 latent upsampler → (distilled refinement) → a result that decodes on demand."""

    name = "upscale"

    def __init__(
        self,
        model_path: str | os.PathLike,
        text_encoder_path: str | os.PathLike | None = None,
        *,
        dtype: mx.Dtype | None = None,
        low_memory: bool = False,
    ):
        self.ledger = ModelLedger(Path(model_path), text_encoder_path, dtype, low_memory=low_memory)

    def check(self, request: UpscaleRequest) -> None:
        """One-line errors naming the parameter, before any model is loaded."""
        if not is_path(request.source):
            decode_image(request.source)  # an in-memory image: refused now if it cannot be converted
        elif not Path(request.source).is_file():
            raise ParameterError("source", f"{request.source}: no such file; pass an image or a video")
        if request.refine and not (request.prompt or "").strip():
            raise ParameterError("prompt", 'refine=True needs the prompt of the video: pass prompt="..."')
        spatial_ratio(request.spatial_upscale)
        self.ledger.upsampler_folder(request.spatial_upscale)

    def __call__(self, request: UpscaleRequest, *, progress: Progress = no_progress) -> GenerationResult:
        self.check(request)
        seed = request.seed
        progress("load", 0, 1)
        frames, fps = read_frames(request.source)
        progress("load", 1, 1)
        # 1. Encode, 2. ×2 in latent space, 3. optional refinement; the result decodes (4.) when written.
        progress("encode", 0, 1)
        encoder = self.ledger.video_encoder()
        latent = encoder(normalize_pixels(crop_for_upscale(frames, request.spatial_upscale))[None])
        mx.eval(latent)
        del encoder
        free()
        progress("encode", 1, 1)
        latent = upsample(self.ledger, latent, progress, request.spatial_upscale)
        frame_rate = fps or DEFAULT_FRAME_RATE
        if request.refine:
            latent = self._refine(latent, request.prompt or "", seed, frame_rate, progress)
        audio = audio_track(Path(request.source)) if fps is not None and is_path(request.source) else None
        return GenerationResult(self.ledger, latent, None, frame_rate, seed, "auto", audio)

    def _refine(self, latent: mx.array, prompt: str, seed: int, fps: float, progress: Progress) -> mx.array:
        """Stage 2 of the distilled pipeline on the upsampled latent (3 steps from sigma 0.909375, no audio)."""
        ((v_ctx, _a_ctx),) = encode_prompts(self.ledger, [prompt], False, seed, progress)
        _, frames, h, w, _ = latent.shape
        t, s = VIDEO_SCALE_FACTORS.time, VIDEO_SCALE_FACTORS.height
        shape = VideoPixelShape(1, t * (frames - 1) + 1, s * h, s * w, fps)
        model = self.ledger.transformer()
        denoiser = SimpleDenoiser(v_ctx, None)
        inputs = RefineInputs(shape, latent, None, (), False, GaussianNoiser(seed), denoiser, stage="refine")
        out, _ = Pipeline.refine(model, inputs, progress)
        del model
        free()
        return out


def crop_for_upscale(frames: np.ndarray, spatial_upscale: float = 2.0) -> np.ndarray:
    """Center-crop (F, H, W, 3) to multiples of 32 (the VAE's spatial stride); of 64 for ×1.5, whose latent must
    be even for the output to be exactly 1.5× the input."""
    den = spatial_ratio(spatial_upscale)[1]
    s = VIDEO_SCALE_FACTORS.height * den
    h, w = frames.shape[1] // s * s, frames.shape[2] // s * s
    if h == 0 or w == 0:
        raise ParameterError(
            "source", f"input is {frames.shape[2]}x{frames.shape[1]}: at least {s}x{s} pixels are needed"
        )
    if (h, w) != frames.shape[1:3]:
        warnings.warn(
            f"input is {frames.shape[2]}x{frames.shape[1]}: center-cropped to {w}x{h} (multiples of {s}, the VAE's "
            f"stride{' x2 for x1.5' if den > 1 else ''}); the output is {round(w * spatial_upscale)}x"
            f"{round(h * spatial_upscale)}",
            stacklevel=2,
        )
    top, left = (frames.shape[1] - h) // 2, (frames.shape[2] - w) // 2
    return frames[:, top : top + h, left : left + w]


def is_path(source: ImageInput) -> TypeGuard[str | os.PathLike[str]]:
    return isinstance(source, str | os.PathLike)


def read_frames(source: ImageInput) -> tuple[np.ndarray, float | None]:
    """(F, H, W, 3) uint8 frames and the frame rate (None for an image); a video is cut to 8k+1 frames."""
    from mlx_ltx_pipelines.media import read_video

    if not is_path(source) or Path(source).suffix.lower() in IMAGE_SUFFIXES:
        return decode_image(source)[None], None
    stream, fps = read_video(source)
    frames = np.stack(list(stream))
    usable = VIDEO_SCALE_FACTORS.usable_frames(len(frames))  # the causal VAE takes 8k+1 frames
    if usable != len(frames):
        warnings.warn(
            f"video {source}: {len(frames)} frames; the last {len(frames) - usable} are dropped (the VAE takes 8k+1 "
            f"frames: {usable})",
            stacklevel=2,
        )
    return frames[:usable], fps


def audio_track(path: Path) -> tuple[np.ndarray, int] | None:
    """A video's sound (waveform (2, n), rate), kept in the upscaled MP4; None for a silent video."""
    from mlx_ltx_audio import AudioFileError, load_audio

    try:
        audio = load_audio(path)
    except AudioFileError:
        return None
    return np.asarray(audio.waveform, np.float32), int(audio.sampling_rate)


__all__ = ["IMAGE_SUFFIXES", "LatentUpscalePipeline", "UpscaleRequest"]
