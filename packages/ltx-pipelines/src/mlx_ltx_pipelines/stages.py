"""The stages every pipeline is made of (ports the stage helpers of ltx_pipelines/utils/helpers.py).

text → image/audio conditioning → denoise (stage 1) → upsample → denoise (stage 2) → decode. Each stage loads the
components it needs from the ledger and drops them before returning, so one model is resident at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import mlx.core as mx
import numpy as np

from mlx_ltx_core.utils import free as free  # re-exported for the pipelines
from mlx_ltx_pipelines.conditioning import (
    ConditioningItem,
    VideoConditionByKeyframeIndex,
    VideoConditionByLatentIndex,
)
from mlx_ltx_pipelines.denoisers import Denoiser
from mlx_ltx_pipelines.latent_tools import AudioLatentTools, VideoLatentTools
from mlx_ltx_pipelines.media import DEFAULT_IMAGE_CRF, ImageInput, load_image_conditioning
from mlx_ltx_pipelines.model_ledger import ModelLedger
from mlx_ltx_pipelines.noisers import GaussianNoiser
from mlx_ltx_pipelines.patchifiers import AudioPatchifier, VideoLatentPatchifier
from mlx_ltx_pipelines.samplers import EulerSampler, LoopStep, Sampler, run_loop
from mlx_ltx_pipelines.states import ModalitySpec, build_state
from mlx_ltx_pipelines.types import AudioLatentShape, VideoLatentShape, VideoPixelShape

# (stage, steps done, steps total): "text", "stage 1", "upsample", "stage 2", "decode", …
Progress = Callable[[str, int, int], None]


class ImageConditioningInput(NamedTuple):
    """An image at pixel frame ``frame_idx`` (0 = replaces the first latent frame; else appended as a keyframe).

    ``path``: a file path, a PIL image, or an (H, W, 3) uint8 / float [0, 1] array (``media.decode_image``)."""

    path: ImageInput
    frame_idx: int = 0
    strength: float = 1.0
    crf: int | None = None  # the H.264 re-compression; None: the model version's (33, 18 from LTX-2.4 on)


class AudioConditioningInput(NamedTuple):
    """Audio-to-video: this file's audio (from ``start_time``, at most ``max_duration`` s) is kept fixed."""

    path: str
    start_time: float = 0.0
    max_duration: float | None = None


class VideoConditioningInput(NamedTuple):
    """IC-LoRA reference video and its conditioning strength."""

    path: str
    strength: float = 1.0


def no_progress(_stage: str, _done: int, _total: int) -> None:
    return None


def encode_prompts(
    ledger: ModelLedger, prompts: Sequence[str], enhance: bool, seed: int, progress: Progress
) -> list[tuple[mx.array, mx.array]]:
    """Gemma → text projection for every prompt (Gemma freed in between); [(video_context, audio_context)]."""
    progress("text", 0, 1)
    encoder = ledger.prompt_encoder()
    outputs = encoder.encode_prompts(list(prompts), enhance_first_prompt=enhance, enhance_prompt_seed=seed)
    if enhance:  # the CLI prints this logger's records (the prompt the video was made from)
        logging.getLogger("mlx_ltx_pipelines").info("enhanced prompt: %s", getattr(encoder, "enhanced_prompt", ""))
    del encoder
    free()
    progress("text", 1, 1)
    return [(out[0], out[1]) for out in outputs]


def image_conditionings(
    images: Sequence[ImageConditioningInput],
    height: int,
    width: int,
    video_encoder,
    keyframes_only: bool = False,
    crf: int = DEFAULT_IMAGE_CRF,
) -> list[ConditioningItem]:
    """Encode each image at (height, width): frame 0 replaces the first latent frame (unless ``keyframes_only``),
    any other frame index is appended as a keyframe, as the reference's ``combined_image_conditionings``. ``crf``:
    the re-compression of an image that names none (the model version's ``image_crf``)."""
    items: list[ConditioningItem] = []
    for image in images:
        image_crf = crf if image.crf is None else image.crf
        latent = video_encoder(load_image_conditioning(image.path, height, width, image_crf))
        if image.frame_idx == 0 and not keyframes_only:
            items.append(VideoConditionByLatentIndex(latent, image.strength, 0))
        else:
            items.append(VideoConditionByKeyframeIndex(latent, image.frame_idx, image.strength))
    mx.eval([getattr(i, "latent", getattr(i, "keyframes", None)) for i in items])
    return items


AUDIO_LATENT_MEL_BINS = 16  # 64 mel bins / 4


def tools_for(shape: VideoPixelShape, model_args) -> tuple[VideoLatentTools, AudioLatentTools]:
    """The latent tools of a stage's pixel shape for this transformer's latent widths (video C; audio C × 16)."""
    video_shape = VideoLatentShape.from_pixel_shape(shape, latent_channels=model_args.in_channels)
    audio_channels = model_args.audio_in_channels // AUDIO_LATENT_MEL_BINS
    audio_shape = AudioLatentShape.from_video_pixel_shape(shape, channels=audio_channels)
    return VideoLatentTools(VideoLatentPatchifier(1), video_shape, shape.fps), AudioLatentTools(
        AudioPatchifier(1), audio_shape
    )


def denoise(
    model,
    shape: VideoPixelShape,
    video: ModalitySpec | None,
    audio: ModalitySpec | None,
    noiser: GaussianNoiser,
    sigmas: mx.array,
    denoiser: Denoiser,
    progress: Progress,
    stage: str,
    sampler: Sampler = EulerSampler(),  # noqa: B008 - frozen, so one shared default is safe
) -> tuple[mx.array, mx.array | None]:
    """One denoising stage → (video latent (B, F, H, W, C), audio latent (B, T, 16, 8) or None).

    ``sampler`` makes the loop (Euler by default; ``Res2sSampler(seed)`` for res_2s). Appended conditioning
    tokens are dropped at the end. ``video=None`` (text-to-audio) returns an empty video latent (no frames).
    """
    from mlx_ltx_core.model.transformer import X0Model

    vt, at = tools_for(shape, model.args)
    video_state = build_state(video, vt, noiser) if video is not None else None
    audio_state = build_state(audio, at, noiser) if audio is not None else None
    loop = sampler(sigmas, video_state, audio_state, X0Model(model), denoiser)

    def on_step(step: LoopStep) -> None:
        progress(stage, step.step, step.num_steps)

    progress(stage, 0, max(len(sigmas) - 1, 1))
    with model.stage_constants():  # RoPE tables, projected contexts, masks: once for the stage
        video_state, audio_state = run_loop(loop, on_step)
    if video_state is None:
        video_latent = mx.zeros((*vt.target_shape.to_mlx_shape()[:1], 0, *vt.target_shape.to_mlx_shape()[2:]))
    else:
        video_latent = vt.unpatchify(vt.clear_conditioning(video_state)).latent
    audio_latent = at.unpatchify(at.clear_conditioning(audio_state)).latent if audio_state is not None else None
    return video_latent, audio_latent


def upsample(
    ledger: ModelLedger, latent: mx.array, progress: Progress, scale: float = 2.0, temporal: bool = False
) -> mx.array:
    """un-normalise (the VAE encoder's statistics) → the x2 / x1.5 spatial latent upsampler (or, ``temporal``, the
    x2 temporal one: latent frames T → 2T − 1) → normalise."""
    from mlx_ltx_core.model.upsampler import upsample_video

    stage = "t-upsample" if temporal else "upsample"
    progress(stage, 0, 1)
    encoder = ledger.video_encoder()
    upsampler = ledger.temporal_upsampler() if temporal else ledger.spatial_upsampler(scale)
    out = upsample_video(latent[:1], encoder, upsampler)
    mx.eval(out)
    del encoder, upsampler
    free()
    progress(stage, 1, 1)
    return out


OUTPUT_SAMPLE_RATE = 48_000  # of an A2V output track, whatever the input file's rate


def encode_audio_input(
    ledger: ModelLedger, audio: AudioConditioningInput, num_frames: int, frame_rate: float
) -> tuple[mx.array, np.ndarray, int]:
    """A2V input → (frozen latent (1, T, 16, 8) of exactly the video's duration, waveform (2, n), sample rate).

    Audio shorter than the video is padded with silence so that both durations agree, with a warning giving both
    lengths. The returned waveform is the output track: resampled to ``OUTPUT_SAMPLE_RATE`` (48 kHz) whatever the
    file's rate, exactly the video's length.
    """
    import warnings

    from mlx_ltx_audio import Audio, encode_waveform, load_audio
    from mlx_ltx_audio.resample import resample

    duration = num_frames / frame_rate
    wav = load_audio(audio.path, start_time=audio.start_time, max_duration=audio.max_duration or duration)
    samples = round(duration * wav.sampling_rate)
    waveform = np.asarray(wav.waveform, np.float32)[:, :samples]
    if waveform.shape[1] < samples:
        warnings.warn(
            f"audio {audio.path}: {waveform.shape[1] / wav.sampling_rate:.3f} s of audio (from {audio.start_time:g} s) "
            f"for a {duration:.3f} s video; the last {(samples - waveform.shape[1]) / wav.sampling_rate:.3f} s are "
            "silence",
            stacklevel=2,
        )
    waveform = np.pad(waveform, ((0, 0), (0, samples - waveform.shape[1])))
    encoder = ledger.audio_encoder()
    latent = encode_waveform(Audio(waveform, wav.sampling_rate), encoder)
    frames = AudioLatentShape.from_duration(batch=1, duration=duration).frames
    latent = latent[:, :frames]
    mx.eval(latent)
    del encoder
    free()
    track = resample(waveform, wav.sampling_rate, OUTPUT_SAMPLE_RATE).astype(np.float32)
    exact = round(num_frames * OUTPUT_SAMPLE_RATE / frame_rate)
    track = np.pad(track[:, :exact], ((0, 0), (0, max(0, exact - track.shape[1]))))
    return latent, track, OUTPUT_SAMPLE_RATE


def decode_audio(ledger: ModelLedger, latent: mx.array, progress: Progress) -> tuple[np.ndarray, int]:
    """Audio latent → (waveform (2, n) float32, sample rate) through the audio decoder and the vocoder."""
    from mlx_ltx_audio import decode_audio as vae_decode_audio

    progress("audio", 0, 1)
    decoder, vocoder = ledger.audio_decoder(), ledger.vocoder()
    audio = vae_decode_audio(latent, decoder, vocoder)
    del decoder, vocoder
    free()
    progress("audio", 1, 1)
    return np.asarray(audio.waveform, np.float32), int(audio.sampling_rate)


def decode_video(
    ledger: ModelLedger, latent: mx.array, tiling: str, seed: int, progress: Progress
) -> Iterator[np.ndarray]:
    """Video latent → uint8 (frames, H, W, 3) chunks, streamed from the tiled decoder (``tiling``: a preset name);
    ``progress("decode", tiles done, tiles)`` after every tile (an untiled decode is one). Launched on several ranks,
    the tiles are spread over them and every rank gets every chunk."""
    from mlx_ltx_core.model.video_vae import decode_video as vae_decode_video
    from mlx_ltx_core.model.video_vae import random_noise, tiling_for

    decoder = ledger.video_decoder()
    config = tiling_for(tiling, decoder.args, tuple(latent.shape))

    def on_tile(done: int, total: int) -> None:
        progress("decode", done, total)

    for chunk in vae_decode_video(latent, decoder, config, random_noise(seed), ledger.ranks, on_tile):
        yield np.array(chunk)
    del decoder
    free()
