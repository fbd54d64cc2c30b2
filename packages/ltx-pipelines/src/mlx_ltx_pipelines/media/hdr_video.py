"""HDR outputs through ffmpeg: a 10-bit HLG HEVC master (BT.2020) and linear EXR frames.

``HlgVideoWriter`` streams scene-linear frames into HEVC Main10 (libx265, yuv420p10le) tagged BT.2020 primaries,
ARIB STD-B67 (HLG) transfer, BT.2020 NCL matrix, limited range, as the reference's HLG master; the YUV codes are
ours (``hdr.rgb_to_yuv420p10``), so ffmpeg only encodes. ``write_exr_frames`` writes half-float ZIP EXR frames
with the ``chromaticities`` and ``colorSpace`` attributes the reference writes (ffmpeg's EXR encoder writes
neither: they are inserted into each header). Both write atomically, as ``VideoWriter`` does. libx265 corrupts its
heap on frames under 64 px a side (seen with Debian's ffmpeg 5.1 and imageio-ffmpeg's 9.0.2): refused by size.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from mlx_ltx_pipelines.hdr import Primaries, hlg_signal, rgb_to_yuv420p10
from mlx_ltx_pipelines.media.ffmpeg_binary import ffmpeg_exe
from mlx_ltx_pipelines.media.video import VideoWriter, _metadata_args, _pipe, _start_ffmpeg, frame_rate_text

HLG_TAGS = {"colorspace": "bt2020nc", "color_primaries": "bt2020", "color_trc": "arib-std-b67", "color_range": "tv"}
MIN_HLG_SIDE = 64
_X265_PARAMS = "colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc:range=limited:repeat-headers=1:info=0"


class HlgVideoWriter(VideoWriter):
    """Scene-linear float32 (F, H, W, 3) frames (``primaries``) → BT.2020 / HLG / 10-bit HEVC MP4 (+ AAC audio)."""

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float,
        primaries: Primaries = Primaries.REC709,
        lossless: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(path, fps, **kwargs)
        self.primaries, self.lossless = primaries, lossless

    def write(self, frames: np.ndarray) -> None:
        frames = np.asarray(frames, dtype=np.float32)
        frames = frames[None] if frames.ndim == 3 else frames
        h, w = frames.shape[1:3]
        if self._proc is None:
            if min(h, w) < MIN_HLG_SIDE:  # libx265 corrupts its heap on frames under one 64-px coding tree unit
                raise ValueError(f"frame size {w}x{h}: the HLG HEVC master needs at least {MIN_HLG_SIDE} px a side")
            self._size = (h, w)
            self._proc = self._start(h, w)
        elif (h, w) != self._size:
            first_h, first_w = self._size or (h, w)
            raise ValueError(f"frame size {w}x{h} differs from the first chunk's {first_w}x{first_h}")
        y, u, v = rgb_to_yuv420p10(hlg_signal(frames, self.primaries))  # raises on odd sizes
        stdin = _pipe(self._proc.stdin)
        for i in range(frames.shape[0]):  # planar yuv420p10le: Y, then U, then V of each frame
            stdin.write(y[i].astype("<u2").tobytes() + u[i].astype("<u2").tobytes() + v[i].astype("<u2").tobytes())
        self.frames_written += frames.shape[0]

    def _start(self, h: int, w: int) -> subprocess.Popen:
        params = _X265_PARAMS + (":lossless=1" if self.lossless else "")
        args = [
            "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p10le", "-s", f"{w}x{h}",
            "-framerate", frame_rate_text(self.fps), "-i", "pipe:",
            "-c:v", "libx265", "-preset", "ultrafast", "-crf", str(self.crf if self.crf is not None else 12),
            "-x265-params", params, "-pix_fmt", "yuv420p10le", "-tag:v", "hvc1",
            *(a for k, v in HLG_TAGS.items() for a in (f"-{k}", v)),
            "-movflags", "+faststart+use_metadata_tags" if self.metadata else "+faststart",
            *_metadata_args(self.metadata), "-y", self._tmp_name,
        ]  # fmt: skip
        proc, self._readers = _start_ffmpeg(args, stdin=True)  # drains ffmpeg's pipes, follows its progress
        return proc


def write_exr_frames(
    frames: Iterable[np.ndarray],
    folder: str | os.PathLike,
    primaries: Primaries = Primaries.REC709,
    color_space: str = "sRGB",
) -> int:
    """Write (F, H, W, 3) float chunks as ``folder/frame_00000.exr``… (half float, ZIP), tagged with ``primaries``
    and ``color_space`` (e.g. "sRGB" for linear Rec.709, "LogC3" for log codes); the folder appears complete or not
    at all. Returns the number of frames."""
    folder = Path(folder)
    if folder.exists():
        raise ValueError(f"{folder} already exists; choose another folder for the EXR frames")
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".partial"))
    count = 0
    try:
        for chunk in frames:
            chunk = np.asarray(chunk, dtype=np.float32)
            for frame in chunk[None] if chunk.ndim == 3 else chunk:
                path = tmp / f"frame_{count:05d}.exr"
                _encode_exr(frame, path)
                tag_exr(path, primaries.exr_chromaticities, color_space)
                count += 1
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return count


def _encode_exr(frame: np.ndarray, path: Path) -> None:
    h, w, _ = frame.shape
    planar = np.ascontiguousarray(frame[..., [1, 2, 0]].transpose(2, 0, 1))  # gbrpf32le: G, B, R planes
    args = [
        "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "gbrpf32le", "-s", f"{w}x{h}", "-i", "pipe:",
        "-c:v", "exr", "-format", "half", "-compression", "zip16", "-frames:v", "1", "-update", "1", "-y", str(path),
    ]  # fmt: skip
    done = subprocess.run([ffmpeg_exe(), *args], input=planar.astype("<f4").tobytes(), capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed writing {path}: {done.stderr.decode(errors='replace')[-300:]}")


def _attribute(name: str, kind: str, value: bytes) -> bytes:
    return name.encode() + b"\0" + kind.encode() + b"\0" + struct.pack("<i", len(value)) + value


def exr_attributes(path: str | os.PathLike) -> dict[str, tuple[str, bytes]]:
    """The header attributes of a scanline EXR file: name → (type, raw value)."""
    data = Path(path).read_bytes()
    return _parse_header(data)[0]


def _parse_header(data: bytes) -> tuple[dict[str, tuple[str, bytes]], int]:
    if data[:4] != b"\x76\x2f\x31\x01":
        raise ValueError("not an OpenEXR file")
    pos, attrs = 8, {}
    while data[pos] != 0:
        name_end = data.index(b"\0", pos)
        kind_end = data.index(b"\0", name_end + 1)
        (size,) = struct.unpack_from("<i", data, kind_end + 1)
        start = kind_end + 5
        attrs[data[pos:name_end].decode()] = (data[name_end + 1 : kind_end].decode(), data[start : start + size])
        pos = start + size
    return attrs, pos  # pos: the header's terminating NUL


def tag_exr(path: str | os.PathLike, chromaticities: tuple[float, ...], color_space: str) -> None:
    """Add ``chromaticities`` and ``colorSpace`` to a scanline EXR header, shifting its line-offset table."""
    path = Path(path)
    data = path.read_bytes()
    attrs, end = _parse_header(data)
    if "chromaticities" in attrs or "colorSpace" in attrs:
        raise ValueError(f"{path}: already tagged")
    _, y0, _, y1 = struct.unpack("<4i", attrs["dataWindow"][1])
    lines = {0: 1, 1: 1, 2: 1, 3: 16, 4: 32, 5: 16, 6: 32, 7: 256, 8: 256}[attrs["compression"][1][0]]
    chunks = -(-(y1 - y0 + 1) // lines)
    extra = _attribute("chromaticities", "chromaticities", struct.pack("<8f", *chromaticities))
    extra += _attribute("colorSpace", "string", color_space.encode())
    table = np.frombuffer(data, "<u8", chunks, end + 1) + len(extra)
    rest = data[end + 1 + 8 * chunks :]
    tmp = path.with_name(f".{path.name}.tagging")
    tmp.write_bytes(data[:end] + extra + b"\0" + table.astype("<u8").tobytes() + rest)
    os.replace(tmp, path)
