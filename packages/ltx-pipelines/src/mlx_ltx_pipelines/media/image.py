"""Image conditioning input: decode, H.264 degradation, resize-and-center-crop, [-1, 1] (ports media_io.py)."""

from __future__ import annotations

import math
import os
import tempfile

import mlx.core as mx
import numpy as np

from mlx_ltx_pipelines.media.ffmpeg_binary import ffmpeg_exe

# The reference degrades conditioning images through one H.264 frame at this CRF (0 disables).
DEFAULT_IMAGE_CRF = 33


def decode_image(path: str | os.PathLike) -> np.ndarray:
    """(H, W, 3) uint8 RGB; a missing or unreadable file is a one-line ValueError."""
    from PIL import Image, UnidentifiedImageError

    if not os.path.isfile(path):
        raise ValueError(f"image {path}: no such file; pass the path of a PNG/JPEG/WebP image")
    try:
        with Image.open(path) as img:
            return np.array(img.convert("RGB"))
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"image {path}: cannot be decoded ({e.__class__.__name__}); pass a PNG/JPEG/WebP image") from e


def degrade_h264(image: np.ndarray, crf: float = DEFAULT_IMAGE_CRF) -> np.ndarray:
    """Round-trip one frame through libx264 (preset veryfast, yuv420p) like the reference; even-cropped."""
    if crf == 0:
        return image
    import ffmpeg

    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    frame = np.ascontiguousarray(image[:h, :w])
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "frame.mp4")
        (
            ffmpeg.input("pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{w}x{h}", framerate=1)
            .output(path, vcodec="libx264", pix_fmt="yuv420p", crf=crf, preset="veryfast")
            .run(cmd=ffmpeg_exe(), input=frame.tobytes(), quiet=True)
        )
        out, _ = (
            ffmpeg.input(path)
            .output("pipe:", format="rawvideo", pix_fmt="rgb24", vframes=1)
            .run(cmd=ffmpeg_exe(), capture_stdout=True, quiet=True)
        )
    return np.frombuffer(out, np.uint8).reshape(h, w, 3)


def resize_and_center_crop(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """(F, H, W, C) or (H, W, C) → (F, height, width, C) float32: scale to cover, bilinear, center crop.

    Matches torch ``interpolate(mode="bilinear", align_corners=False, antialias=False)`` with ``ceil`` sizes.
    """
    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4:
        raise ValueError(f"expected (F, H, W, C) or (H, W, C) frames, got shape {frames.shape}")
    src_h, src_w = frames.shape[1:3]
    scale = max(height / src_h, width / src_w)
    new_h, new_w = math.ceil(src_h * scale), math.ceil(src_w * scale)
    rows = _bilinear_matrix(src_h, new_h)
    cols = _bilinear_matrix(src_w, new_w)
    resized = np.einsum("yh,fhwc,xw->fyxc", rows, frames, cols, optimize=True)
    top, left = (new_h - height) // 2, (new_w - width) // 2
    return resized[:, top : top + height, left : left + width].astype(np.float32)


def _bilinear_matrix(src: int, dst: int) -> np.ndarray:
    """(dst, src) interpolation weights with half-pixel centers, source coordinates clamped at 0."""
    coord = np.maximum((np.arange(dst, dtype=np.float64) + 0.5) * (src / dst) - 0.5, 0.0)
    i0 = np.minimum(np.floor(coord).astype(np.int64), src - 1)
    i1 = np.minimum(i0 + 1, src - 1)
    frac = coord - i0
    weights = np.zeros((dst, src), dtype=np.float64)
    np.add.at(weights, (np.arange(dst), i0), 1.0 - frac)
    np.add.at(weights, (np.arange(dst), i1), frac)
    return weights.astype(np.float32)


def normalize_pixels(frames: np.ndarray) -> mx.array:
    """uint8-range pixels → [-1, 1] (x / 127.5 − 1)."""
    return mx.array(np.asarray(frames, dtype=np.float32) / 127.5 - 1.0)


def load_image_conditioning(
    path: str | os.PathLike, height: int, width: int, crf: float = DEFAULT_IMAGE_CRF
) -> mx.array:
    """The conditioning image as a one-frame video (1, 1, height, width, 3) in [-1, 1]."""
    image = degrade_h264(decode_image(path), crf)
    return normalize_pixels(resize_and_center_crop(image, height, width))[None]
