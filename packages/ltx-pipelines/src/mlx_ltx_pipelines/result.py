"""A finished generation: latents, decoded on demand into frames, waveform and an MP4."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import mlx.core as mx
import numpy as np

from mlx_ltx_core.types import VIDEO_SCALE_FACTORS
from mlx_ltx_pipelines.errors import ParameterError
from mlx_ltx_pipelines.frames_folder import check_frames_folder, frame_name, partial_folder, publish_folder
from mlx_ltx_pipelines.media import VideoWriter
from mlx_ltx_pipelines.media.video import audio_samples_for, fit_length
from mlx_ltx_pipelines.model_ledger import ModelLedger
from mlx_ltx_pipelines.stages import Progress, decode_audio, decode_video, no_progress

LATENTS_FORMAT = "mlx-ltx-latents/1"


@dataclass
class GenerationResult:
    """``video_latent`` (1, F, H, W, C); ``audio_latent`` (1, T, 16, 8) or None; ``input_audio`` (waveform, rate)
    is the A2V input, written to the MP4 instead of the decoded latent (the reference does the same)."""

    ledger: ModelLedger
    video_latent: mx.array
    audio_latent: mx.array | None
    frame_rate: float
    seed: int
    tiling: str = "auto"
    input_audio: tuple[np.ndarray, int] | None = None

    @property
    def num_frames(self) -> int:
        return VIDEO_SCALE_FACTORS.pixel_frames(self.video_latent.shape[1])

    def video_chunks(self, progress: Progress = no_progress) -> Iterator[np.ndarray]:
        """uint8 (frames, H, W, 3) chunks from the tiled decoder; only one chunk is resident at a time."""
        return decode_video(self.ledger, self.video_latent, self.tiling, self.seed, progress)

    def audio(self, progress: Progress = no_progress) -> tuple[np.ndarray, int] | None:
        """(waveform (2, n) float32, sample rate), or None for a video-only generation; n is exactly the video's
        length, round(frames / fps · rate) (the decoder's few samples short are padded with silence)."""
        if self.input_audio is not None:
            waveform, rate = self.input_audio
        elif self.audio_latent is None:
            return None
        else:
            waveform, rate = decode_audio(self.ledger, self.audio_latent, progress)
        return fit_length(waveform, audio_samples_for(self.num_frames, self.frame_rate, rate)), rate

    def save(
        self,
        path: str | os.PathLike,
        *,
        overwrite: bool = False,
        progress: Progress = no_progress,
        metadata: dict[str, str] | None = None,
    ) -> Path:
        """Decode and write one MP4 (H.264 + AAC), streaming frames; nothing is left at ``path`` on failure.
        ``metadata`` becomes the MP4's tags (``media.video_metadata`` reads them)."""
        audio = self.audio(progress)
        with VideoWriter(path, self.frame_rate, overwrite=overwrite, metadata=metadata) as writer:
            for chunk in self.video_chunks(progress):
                writer.write(chunk)
            return writer.close(audio, progress=progress)

    def save_frames(
        self, folder: str | os.PathLike, progress: Progress = no_progress, *, overwrite: bool = False
    ) -> list[Path]:
        """Every frame as a PNG in ``folder``, named frame_00000.png …: written into a hidden sibling and renamed into
        place; an existing folder is replaced (``overwrite``) only when it holds nothing but such frames."""
        from PIL import Image

        folder = Path(folder)
        check_frames_folder(folder, overwrite)
        tmp, count = partial_folder(folder), 0
        try:
            for chunk in self.video_chunks(progress):
                for frame in chunk:
                    Image.fromarray(frame).save(tmp / frame_name(count))
                    count += 1
            publish_folder(tmp, folder, overwrite)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return [folder / frame_name(i) for i in range(count)]

    def save_latents(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """The latents and what decoding needs (frame rate, seed, tiling, model folder) as one safetensors file."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise ParameterError("overwrite", f"{path} already exists; pass overwrite=True or choose another path")
        arrays = {"video_latent": self.video_latent}
        if self.audio_latent is not None:
            arrays["audio_latent"] = self.audio_latent
        if self.input_audio is not None:
            arrays["input_audio"] = mx.array(self.input_audio[0])
        meta = {
            "format": LATENTS_FORMAT,
            "frame_rate": str(self.frame_rate),
            "seed": str(self.seed),
            "tiling": self.tiling,
            "model": str(self.ledger.path.resolve()),
            "input_audio_rate": str(self.input_audio[1] if self.input_audio is not None else 0),
        }
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".safetensors")
        os.close(fd)
        try:
            mx.save_safetensors(tmp, arrays, metadata=meta)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load_latents(
        cls, path: str | os.PathLike, ledger: ModelLedger | None = None, tiling: str | None = None
    ) -> GenerationResult:
        """Read ``save_latents`` output (the model folder recorded there unless ``ledger`` is given)."""
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"{path}: no such latents file; pass a file written by save_latents")
        try:
            # mx.load's stub unions every format it reads; safetensors with metadata load as (arrays, metadata).
            arrays, meta = cast(tuple[dict[str, mx.array], dict[str, str]], mx.load(str(path), return_metadata=True))
        except (RuntimeError, ValueError) as e:
            raise ValueError(
                f"{path}: not a readable safetensors file ({e}); pass a file written by save_latents"
            ) from e
        if meta.get("format") != LATENTS_FORMAT or "video_latent" not in arrays:
            raise ValueError(
                f"{path}: not an mlx-ltx latents file (format {meta.get('format')!r}); "
                "pass a file written by save_latents"
            )
        missing = [k for k in ("frame_rate", "seed", *(() if ledger else ("model",))) if k not in meta]
        if missing:
            raise ValueError(
                f"{path}: the latents file has no {', '.join(missing)} entry in its metadata; pass a file written by "
                "save_latents" + (" (or the model folder)" if "model" in missing else "")
            )
        try:
            frame_rate, seed, rate = (
                float(meta["frame_rate"]),
                int(meta["seed"]),
                int(meta.get("input_audio_rate", "0")),
            )
        except ValueError as e:
            raise ValueError(f"{path}: a metadata entry of the latents file is not a number ({e})") from None
        ledger = ledger or ModelLedger(Path(meta["model"]))
        input_audio = (np.array(arrays["input_audio"]), rate) if "input_audio" in arrays else None
        return cls(
            ledger,
            arrays["video_latent"],
            arrays.get("audio_latent"),
            frame_rate,
            seed,
            tiling or meta.get("tiling", "auto"),
            input_audio,
        )

    def describe(self) -> str:
        return json.dumps({"frames": self.num_frames, "frame_rate": self.frame_rate, "seed": self.seed})
