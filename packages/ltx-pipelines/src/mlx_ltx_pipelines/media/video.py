"""MP4 writing (H.264 yuv420p + AAC, frames streamed chunk by chunk) and video reading, through ffmpeg.

Frames are converted to YUV with the BT.709 matrix (limited range) and the stream is tagged BT.709 (primaries,
transfer, matrix, range): players otherwise guess, and browsers decode untagged HD as BT.709 (green
(30, 200, 30) from a BT.601 encode plays as (16, 173, 31)).

Writes are atomic: everything goes to a hidden temporary file in the destination folder, renamed when complete;
an error or Ctrl-C leaves nothing behind.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import tempfile
import threading
import wave
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import IO

import mlx.core as mx
import numpy as np

from mlx_ltx_pipelines.errors import ParameterError
from mlx_ltx_pipelines.media.ffmpeg_binary import ffmpeg_exe

# Written into the H.264 VUI (and the MP4 'colr' box), so players decode with the matrix we encoded with.
BT709_TAGS = {"colorspace": "bt709", "color_primaries": "bt709", "color_trc": "bt709", "color_range": "tv"}


def to_uint8_frames(video: mx.array | np.ndarray) -> np.ndarray:
    """Decoder output in [-1, 1], (F, H, W, 3) or (1, F, H, W, 3) → uint8 (F, H, W, 3), truncated as the reference."""
    x = np.asarray(video.astype(mx.float32) if isinstance(video, mx.array) else video, dtype=np.float32)
    if x.ndim == 5:
        x = x[0]
    return (np.clip((x + 1.0) / 2.0, 0.0, 1.0) * 255.0).astype(np.uint8)


def frame_rate_text(fps: float) -> str:
    """ffmpeg's rate: an NTSC rate (23.976, 29.97, 59.94, …: N·1000/1001 to 3 decimals) as N000/1001, else the
    shortest fraction (24 → 24/1, 12.5 → 25/2)."""
    from fractions import Fraction

    ntsc = round(fps * 1.001)
    if fps != int(fps) and abs(fps - ntsc * 1000 / 1001) < 5e-4 * max(1.0, fps / 30):
        return f"{ntsc * 1000}/1001"
    rate = Fraction(fps).limit_denominator(1001)
    return f"{rate.numerator}/{rate.denominator}"


def audio_samples_for(num_frames: int, fps: float, sample_rate: int) -> int:
    """Samples that cover exactly ``num_frames`` video frames."""
    return round(num_frames * sample_rate / fps)


class VideoWriter:
    """Stream RGB frames into an H.264 MP4; ``close(audio=...)`` muxes AAC audio trimmed to the video's length.

    with VideoWriter("out.mp4", fps=24) as w:
        for chunk in decoder_chunks:   # uint8 (F, H, W, 3)
            w.write(chunk)
        w.close(audio=(waveform, 48000))   # waveform (channels, samples) float in [-1, 1]
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float,
        crf: int | None = None,
        overwrite: bool = False,
        metadata: dict[str, str] | None = None,
    ):
        self.path, self.fps, self.crf = Path(path), fps, crf
        self.metadata = dict(metadata or {})  # MP4 tags (prompt, seed, …), read back by ``video_metadata``
        if self.path.exists() and not overwrite:
            raise ParameterError("overwrite", f"{self.path} already exists; pass overwrite=True or choose another path")
        if not self.path.parent.is_dir():
            raise ValueError(f"{self.path.parent}: output folder does not exist; create it or choose another path")
        fd, self._tmp_name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.stem}.", suffix=".mp4")
        os.close(fd)
        self._proc: subprocess.Popen | None = None
        self._readers: list[_Reader] = []  # ffmpeg's progress (frames encoded) and its error output
        self.frames_written = 0
        self._size: tuple[int, int] | None = None

    def write(self, frames: np.ndarray) -> None:
        """uint8 (F, H, W, 3) frames (or one (H, W, 3) frame); every chunk must have the same size."""
        frames = np.asarray(frames, dtype=np.uint8)
        frames = frames[None] if frames.ndim == 3 else frames
        h, w = frames.shape[1:3]
        if self._proc is None:
            if h % 2 or w % 2:
                raise ValueError(f"frame size {w}x{h} must be even for yuv420p H.264")
            self._size = (h, w)
            self._proc = self._start(h, w)
        elif (h, w) != self._size:
            first_h, first_w = self._size or (h, w)
            raise ValueError(f"frame size {w}x{h} differs from the first chunk's {first_w}x{first_h}")
        try:
            _pipe(self._proc.stdin).write(np.ascontiguousarray(frames).tobytes())
        except BrokenPipeError:  # ffmpeg stopped (e.g. a full disk): its own error says why
            self._proc.wait()
            for reader in self._readers:
                reader.join()
            raise self._failure(self._readers[1].text) from None
        self.frames_written += frames.shape[0]

    @property
    def frames_encoded(self) -> int:
        """Frames the encoder has finished so far (ffmpeg's progress report; it runs behind ``write``)."""
        return self._readers[0].frames if self._readers else 0

    def close(
        self, audio: tuple[np.ndarray, int] | None = None, progress: Callable[[str, int, int], None] | None = None
    ) -> Path:
        """Finish the video, mux ``audio`` (waveform (channels, samples), sample rate) and rename into place.

        ``progress(stage, frames, frames written)``: "h264" follows the encoder's tail (the frames not yet
        encoded when the last one was written), "mux" the pass that adds the AAC track (frames copied)."""
        if self._proc is None:
            raise ValueError("no frames were written")
        total, report = self.frames_written, progress or (lambda _stage, _done, _total: None)
        _pipe(self._proc.stdin).close()
        if _follow(self._proc, self._readers, lambda n: report("h264", min(n, total), total)) != 0:
            raise self._failure(self._readers[1].text)
        report("h264", total, total)
        if audio is not None:
            self._mux_audio(*audio, lambda n: report("mux", min(n, total - 1), total))
        os.replace(self._tmp_name, self.path)
        if audio is not None:
            report("mux", total, total)
        return self.path

    def _failure(self, errors: str) -> Exception:
        """ffmpeg's error as an exception: a full disk or quota is the OSError a Python write would raise."""
        for code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            if os.strerror(code).lower() in errors.lower():
                return OSError(code, os.strerror(code), str(self.path))
        return RuntimeError(f"ffmpeg failed encoding {self.path}: {errors[-500:]}")

    def abort(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            for reader in self._readers:
                reader.join()
            for pipe in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
                if pipe is not None and not pipe.closed:
                    pipe.close()
        Path(self._tmp_name).unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None or Path(self._tmp_name).exists():
            self.abort()

    def _start(self, h: int, w: int) -> subprocess.Popen:
        import ffmpeg

        opts: dict[str, str | int] = {
            "vcodec": "libx264",
            "pix_fmt": "yuv420p",
            **BT709_TAGS,
            "movflags": "+faststart+use_metadata_tags" if self.metadata else "+faststart",
            "loglevel": "error",
        }
        if self.crf is not None:
            opts["crf"] = self.crf
        stream = ffmpeg.input(
            "pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{w}x{h}", framerate=frame_rate_text(self.fps)
        )
        stream = stream.filter("scale", out_color_matrix="bt709", out_range="tv")  # ffmpeg's default is BT.601
        # ffmpeg ≥ 7 tags the stream from the frames' properties and ignores the encoder options: set both.
        stream = stream.filter("setparams", colorspace="bt709", color_primaries="bt709", color_trc="bt709", range="tv")
        args = stream.output(self._tmp_name, **opts).overwrite_output().get_args()
        at = args.index(self._tmp_name)  # output options go before the output file
        args[at:at] = _metadata_args(self.metadata)
        proc, self._readers = _start_ffmpeg(args, stdin=True)
        return proc

    def _mux_audio(self, waveform: np.ndarray, sample_rate: int, on_frames: Callable[[int], None]) -> None:
        import ffmpeg

        samples = audio_samples_for(self.frames_written, self.fps, sample_rate)
        with tempfile.TemporaryDirectory(dir=self.path.parent) as tmp:
            wav = Path(tmp) / "audio.wav"
            write_wav(wav, fit_length(np.asarray(waveform, np.float32), samples), sample_rate)
            muxed = Path(tmp) / "muxed.mp4"
            video_in, audio_in = ffmpeg.input(self._tmp_name), ffmpeg.input(str(wav))
            args = ffmpeg.output(
                video_in.video,
                audio_in.audio,
                str(muxed),
                vcodec="copy",
                acodec="aac",
                # the edit list that hides the AAC priming counts in the movie timescale (default 1000: the
                # track came out up to a millisecond short): at the sample rate it keeps every sample
                movie_timescale=sample_rate,
                movflags="+faststart+use_metadata_tags",
                loglevel="error",
            ).get_args()
            proc, readers = _start_ffmpeg(args)
            if _follow(proc, readers, on_frames) != 0:
                raise self._failure(readers[1].text)
            os.replace(muxed, self._tmp_name)


PROGRESS_PERIOD = 0.2  # seconds between ffmpeg's progress reports (and the polls of close)


def _start_ffmpeg(args: list[str], stdin: bool = False) -> tuple[subprocess.Popen, list[_Reader]]:
    """ffmpeg with ``-progress pipe:1`` (key=value blocks on stdout, frame=N among them, every stats period);
    a thread drains stdout and another stderr, so neither pipe fills while frames are written."""
    report = ["-progress", "pipe:1", "-nostats", "-stats_period", str(PROGRESS_PERIOD)]
    pipe = subprocess.PIPE
    proc = subprocess.Popen(
        [ffmpeg_exe(), *report, *args], stdin=pipe if stdin else subprocess.DEVNULL, stdout=pipe, stderr=pipe
    )
    return proc, [_Reader(_pipe(proc.stdout), progress=True), _Reader(_pipe(proc.stderr))]


def _follow(proc: subprocess.Popen, readers: list[_Reader], on_frames: Callable[[int], None]) -> int:
    """Wait for ``proc``, telling ``on_frames`` its frame count every stats period; its exit code. The readers'
    pipes are closed after."""
    while True:
        on_frames(readers[0].frames)
        try:
            code = proc.wait(timeout=PROGRESS_PERIOD)
            break
        except subprocess.TimeoutExpired:
            continue
    for reader in readers:
        reader.join()
        reader.stream.close()
    return code


class _Reader(threading.Thread):
    """Drains one ffmpeg pipe: ``frames`` (the last ``frame=N`` of a ``-progress`` stream) or ``text``."""

    def __init__(self, stream: IO[bytes], progress: bool = False):
        super().__init__(daemon=True)
        self.stream, self.progress, self.frames, self.text = stream, progress, 0, ""
        self.start()

    def run(self) -> None:
        chunks = []
        for line in iter(self.stream.readline, b""):
            if self.progress and line.startswith(b"frame="):
                self.frames = int(line[6:].strip() or 0)
            elif not self.progress:
                chunks.append(line.decode(errors="replace"))
        self.text = "".join(chunks)


def _metadata_args(metadata: dict[str, str]) -> list[str]:
    """ffmpeg options writing ``metadata`` as MP4 tags (any key: ``use_metadata_tags``)."""
    if not metadata:
        return []
    args = []
    for key, value in metadata.items():
        args += ["-metadata", f"{key}={' '.join(str(value).split())}"]  # one line each
    return args


def video_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The MP4's global tags (``VideoWriter(metadata=...)``: prompt, seed, pipeline, model, version), from ffmpeg."""
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise ValueError(f"video {path}: cannot be read ({done.stderr.strip()[-200:]}); pass an MP4 file")
    tags = {}
    for line in done.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith(";"):
            tags[key] = re.sub(r"\\(.)", r"\1", value)  # ffmetadata escapes = ; # \ with a backslash
    return tags


def fit_length(waveform: np.ndarray, samples: int) -> np.ndarray:
    """(channels, n) → (channels, samples): trimmed, or zero-padded at the end."""
    if waveform.ndim == 1:
        waveform = waveform[None]
    if waveform.shape[1] >= samples:
        return waveform[:, :samples]
    return np.pad(waveform, ((0, 0), (0, samples - waveform.shape[1])))


def write_wav(path: str | os.PathLike, waveform: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM WAV from a float (channels, samples) waveform, clipped to [-1, 1] (×32767 like the reference)."""
    pcm = (np.clip(waveform, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(pcm.shape[0])
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes(np.ascontiguousarray(pcm.T).tobytes())


def write_video(
    path: str | os.PathLike,
    chunks: Iterable[np.ndarray],
    fps: float,
    audio: tuple[np.ndarray, int] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write uint8 (F, H, W, 3) chunks (e.g. streamed from the tiled decoder) and optional audio as one MP4."""
    with VideoWriter(path, fps, overwrite=overwrite) as writer:
        for chunk in chunks:
            writer.write(chunk)
        return writer.close(audio)


def video_info(path: str | os.PathLike) -> tuple[int, int, float]:
    """(width, height, fps) of the first video stream, from ffmpeg's own header (no ffprobe needed)."""
    from imageio_ffmpeg._parsing import parse_ffmpeg_header

    if not os.path.isfile(path):
        raise ValueError(f"video {path}: no such file; pass the path of an MP4/MOV/WebM video")
    header = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    try:
        meta = parse_ffmpeg_header(header)
        (width, height), fps = meta["size"], float(meta["fps"])
    except (ValueError, KeyError, IndexError, AttributeError) as e:  # imageio's parser fails on some headers
        raise ValueError(f"video {path}: cannot be decoded (no video stream); pass a video file ffmpeg reads") from e
    return width, height, fps


def read_video(
    path: str | os.PathLike, max_frames: int | None = None
) -> tuple[Generator[np.ndarray, None, None], float]:
    """(iterator of uint8 (H, W, 3) frames, fps). A missing or unreadable file is a one-line ValueError."""
    width, height, fps = video_info(path)
    cmd = [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24"]
    cmd += [*(["-frames:v", str(max_frames)] if max_frames else []), "pipe:"]

    def frames() -> Generator[np.ndarray, None, None]:
        size = width * height * 3
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
            stdout = _pipe(proc.stdout)
            try:
                while len(raw := stdout.read(size)) == size:
                    yield np.frombuffer(raw, np.uint8).reshape(height, width, 3)
            finally:
                proc.kill()

    return frames(), fps


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    """A pipe of a process started with it (Popen types every pipe as optional)."""
    assert stream is not None
    return stream
