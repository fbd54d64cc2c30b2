"""A finished edit held as frames and samples (extend, Foley): written as one MP4, or a sound as WAV / FLAC."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlx_ltx_pipelines.errors import ParameterError
from mlx_ltx_pipelines.media import VideoWriter
from mlx_ltx_pipelines.stages import Progress, no_progress

CHUNK = 16  # frames per write: the encoder gets them as a stream


@dataclass(eq=False)
class MediaResult:
    """``frames`` (F, H, W, 3) uint8 at ``frame_rate``; ``audio`` (waveform (2, n), rate) or None."""

    frames: np.ndarray
    frame_rate: float
    seed: int
    audio: tuple[np.ndarray, int] | None = None

    @property
    def num_frames(self) -> int:
        return len(self.frames)

    def save(
        self,
        path: str | os.PathLike,
        *,
        overwrite: bool = False,
        progress: Progress = no_progress,
        metadata: dict[str, str] | None = None,
    ) -> Path:
        """One MP4 (H.264 + AAC); nothing is left at ``path`` on failure."""
        with VideoWriter(path, self.frame_rate, overwrite=overwrite, metadata=metadata) as writer:
            for i in range(0, len(self.frames), CHUNK):
                writer.write(self.frames[i : i + CHUNK])
                progress("write", min(i + CHUNK, len(self.frames)), len(self.frames))
            return writer.close(self.audio)


@dataclass(eq=False)
class AudioResult:
    """A generated sound: ``waveform`` (2, n) float32 at ``sample_rate``."""

    waveform: np.ndarray
    sample_rate: int
    seed: int

    @property
    def duration(self) -> float:
        return self.waveform.shape[1] / self.sample_rate

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """16-bit PCM ``.wav`` or ``.flac``, written beside ``path`` and renamed into place."""
        from mlx_ltx_pipelines.media import write_wav
        from mlx_ltx_pipelines.media.ffmpeg_binary import ffmpeg_exe

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".wav", ".flac"):
            raise ParameterError("path", f"{path}: write a .wav or a .flac")
        if path.exists() and not overwrite:
            raise ParameterError("overwrite", f"{path} already exists; pass overwrite=True or choose another path")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".wav")
        os.close(fd)
        out = Path(tmp).with_suffix(".flac") if suffix == ".flac" else Path(tmp)
        try:
            write_wav(tmp, self.waveform, self.sample_rate)
            if suffix == ".flac":
                cmd = [ffmpeg_exe(), "-v", "error", "-y", "-i", tmp, "-c:a", "flac", str(out)]
                subprocess.run(cmd, check=True, capture_output=True)
            os.replace(out, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
            out.unlink(missing_ok=True)
        return path
