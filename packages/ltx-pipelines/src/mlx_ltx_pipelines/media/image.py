"""Image conditioning input: decode, H.264 degradation, resize-and-center-crop, [-1, 1] (ports media_io.py)."""

from __future__ import annotations

import math
import os
import tempfile
from typing import TYPE_CHECKING, TypeAlias

import mlx.core as mx
import numpy as np

from mlx_ltx_pipelines.media.ffmpeg_binary import ffmpeg_exe

if TYPE_CHECKING:
    from PIL import Image

# The reference degrades conditioning images through one H.264 frame at this CRF (0 disables).
DEFAULT_IMAGE_CRF = 33
# Transparent pixels are composited on white, as a page shows them (not black, as a bare alpha drop does).
BACKGROUND = (255, 255, 255)

# A file path, a PIL image, or an (H, W, 3) uint8 array / float array in [0, 1].
ImageInput: TypeAlias = "str | os.PathLike[str] | Image.Image | np.ndarray"


def decode_image(image: ImageInput) -> np.ndarray:
    """(H, W, 3) uint8 RGB from a path, a PIL image or an (H, W, 3) uint8 / float [0, 1] array.

    EXIF orientation is applied. Every Pillow mode becomes RGB: 16-bit greyscale (I;16, and I holding 0..65535)
    ÷ 257, float (F) from [0, 1], palette through its colours, CMYK / YCbCr / LAB by Pillow, and alpha or palette
    transparency composited on white (``BACKGROUND``). A missing, unreadable or unconvertible input is a one-line
    ValueError naming it, its mode and what to do.
    """
    from PIL import Image, UnidentifiedImageError

    if isinstance(image, np.ndarray):
        return array_to_rgb(image, "image array")
    if isinstance(image, Image.Image):
        return pil_to_rgb(image, "PIL image")
    if not isinstance(image, str | os.PathLike):
        raise ValueError(f"image {image!r}: pass a file path, a PIL image or an (H, W, 3) uint8 / float array")
    if not os.path.isfile(image):
        raise ValueError(f"image {image}: no such file; pass the path of a PNG/JPEG/WebP image")
    try:
        with Image.open(image) as img:
            return pil_to_rgb(img, f"image {image}")
    except (UnidentifiedImageError, OSError) as e:
        reason = e.__class__.__name__
        raise ValueError(f"image {image}: cannot be decoded ({reason}); pass a PNG/JPEG/WebP image") from e


def pil_to_rgb(img: Image.Image, name: str) -> np.ndarray:
    """A PIL image of any mode, upright per its EXIF orientation, as (H, W, 3) uint8 RGB (see ``decode_image``)."""
    from PIL import Image, ImageOps

    img = ImageOps.exif_transpose(img) or img
    if img.mode == "F":
        return _grey(_unit_float_to_uint8(np.asarray(img), f"{name} (mode F)"))
    if img.mode.startswith("I"):  # I;16 variants and 32-bit I (Pillow's 16-bit TIFFs / older 16-bit PNGs)
        return _grey(_sixteen_bit_to_uint8(np.asarray(img), f"{name} (mode {img.mode})"))
    if img.has_transparency_data:
        background = Image.new("RGBA", img.size, (*BACKGROUND, 255))
        return np.asarray(Image.alpha_composite(background, img.convert("RGBA")).convert("RGB"))
    try:
        return np.asarray(img.convert("RGB"))
    except ValueError as e:
        raise ValueError(f"{name}: mode {img.mode} cannot be converted to RGB ({e}); save it as an RGB PNG/JPEG") from e


def array_to_rgb(array: np.ndarray, name: str) -> np.ndarray:
    """An (H, W, 3) uint8 array as is, or a float one in [0, 1] × 255 rounded; any other array is refused."""
    if array.ndim != 3 or array.shape[2] != 3 or not (array.dtype == np.uint8 or array.dtype.kind == "f"):
        raise ValueError(
            f"{name}: shape {array.shape} dtype {array.dtype}; pass an (H, W, 3) uint8 array or float array in [0, 1]"
        )
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    return _unit_float_to_uint8(array, name)


def _unit_float_to_uint8(values: np.ndarray, name: str) -> np.ndarray:
    finite = np.isfinite(values).all()
    if not finite or (values.size and (values.min() < 0.0 or values.max() > 1.0)):
        span = f"{values.min():g}..{values.max():g}" if finite else "NaN or infinite values"
        raise ValueError(f"{name}: float pixels must be in [0, 1], got {span}; scale them to [0, 1] (or pass uint8)")
    return np.round(values.astype(np.float64) * 255.0).astype(np.uint8)


def _sixteen_bit_to_uint8(values: np.ndarray, name: str) -> np.ndarray:
    low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
    if low < 0 or high > 65535:
        raise ValueError(f"{name}: integer pixels span {low}..{high}, beyond 16 bits; save it as an 8- or 16-bit image")
    return np.round(values.astype(np.float64) / 257.0).astype(np.uint8)  # 65535 / 257 = 255


def _grey(values: np.ndarray) -> np.ndarray:
    return np.repeat(values[..., None], 3, axis=-1)


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


def load_image_conditioning(image: ImageInput, height: int, width: int, crf: float = DEFAULT_IMAGE_CRF) -> mx.array:
    """The conditioning image (a path, PIL image or array, see ``decode_image``) as a one-frame video
    (1, 1, height, width, 3) in [-1, 1]."""
    pixels = degrade_h264(decode_image(image), crf)
    return normalize_pixels(resize_and_center_crop(pixels, height, width))[None]
