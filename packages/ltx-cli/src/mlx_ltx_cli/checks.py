"""Up-front checks of values and input files that need no model: finite numbers, seeds, image headers, safetensors
files, output names, the cache folder. Each failure is a ValueError naming the option (one line, exit 2)."""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

MAX_SEED = 2**64 - 1  # MLX's random keys are uint64
MIN_IMAGE_SIDE = 2  # a conditioning image is resized to the output size; one pixel has no aspect ratio to keep
SIDE_FILE_MARGIN = 40  # bytes of name that temporary and side files (.latents.safetensors, .XXXXXXXX) add


def check_finite(options: Any) -> None:
    """Every float option is a finite number (NaN strengths wrote a black video; inf overflowed later)."""
    for name, value in vars(options).items():
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError(f"--{name.replace('_', '-')}={v}: must be a finite number")


def check_number(text: str, option: str, what: str, kind: type = float) -> Any:
    """``text`` as an int or a finite float, or a ValueError naming the option and what it expects."""
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(
            f"{option}: {what} {text!r} must be {'a whole number' if kind is int else 'a number'}"
        ) from None
    if kind is float and not math.isfinite(value):
        raise ValueError(f"{option}: {what} {text!r} must be a finite number")
    return value


def check_seed(seed: int | None) -> None:
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ValueError(f"--seed={seed} must be in [0, 2**64 - 1]")


def check_image(path: str | os.PathLike, option: str) -> None:
    """The image's header: decodable, not a decompression bomb, and at least MIN_IMAGE_SIDE pixels a side."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError(
            f"{option} {path}: its header claims more than {Image.MAX_IMAGE_PIXELS} pixels (a decompression bomb?); "
            "pass a smaller image"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise ValueError(f"{option} {path}: the image cannot be decoded ({e}); pass a PNG or JPEG") from None
    if min(width, height) < MIN_IMAGE_SIDE:
        raise ValueError(
            f"{option} {path}: {width}x{height} pixels is too small; an image needs at least "
            f"{MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE}"
        )
    from mlx_ltx_pipelines.media.image import decode_image

    try:  # every pixel, as the pipeline reads it: a truncated file or an unconvertible mode fails here, not later
        decode_image(path)
    except ValueError as e:
        raise ValueError(f"{option} {str(e).removeprefix('image ')}") from None


def check_video(path: str | os.PathLike, option: str) -> None:
    """A video file ffmpeg decodes: a video stream in its header and a first frame."""
    from mlx_ltx_pipelines.media.video import read_video

    try:
        frames, _ = read_video(path, max_frames=1)
    except ValueError as e:
        raise ValueError(f"{option} {str(e).removeprefix('video ')}") from None
    first = next(frames, None)
    frames.close()
    if first is None:
        raise ValueError(f"{option} {path}: no frame can be decoded; pass a video file ffmpeg reads")


def check_audio(path: str | os.PathLike, start_time: float, option: str) -> None:
    """An audio (or video) file with audio to decode at ``start_time`` (a tenth of a second of it is read)."""
    from mlx_ltx_audio.audio_io import load_audio

    try:
        load_audio(path, start_time, max_duration=0.1)
    except ValueError as e:
        raise ValueError(f"{option} {e}") from None


def check_components(folder: Path, hashes: bool = False) -> None:
    """Every component of a model folder has its config, index, and shards with the recorded sizes and keys (no
    weights read): a truncated shard fails here, before any model work, as `ltx info` finds it. ``hashes``
    (--verify) also recomputes every shard's sha256, as `ltx-convert verify` does."""
    from mlx_ltx_core.loader import check_component, model_components

    for name in model_components(folder):
        check_component(folder / name, hashes)


def check_checkpoint(path: str | os.PathLike, option: str) -> None:
    """A local checkpoint file is safetensors (not 0 bytes, not a pickle), read from its header alone."""
    from mlx_ltx_convert.safetensors_io import read_header

    if Path(path).is_file() and Path(path).suffix == ".safetensors":
        try:
            read_header(path)
        except ValueError as e:
            raise ValueError(f"{option} {e}") from None


def check_output_name(path: Path, option: str) -> None:
    """A name the file system takes, with room for the temporary and side files written next to it."""
    try:
        limit = os.pathconf(path.parent.resolve(), "PC_NAME_MAX")
    except (OSError, ValueError):
        return
    size = len(os.fsencode(path.name))
    if size + SIDE_FILE_MARGIN > limit:
        raise ValueError(
            f"{option}: the file name is {size} bytes; this file system allows {limit} (less {SIDE_FILE_MARGIN} for "
            "temporary and side files): choose a shorter name"
        )


def check_writable(path: Path, option: str) -> None:
    """The output's folder exists and takes a new file (and the name fits), before any work is done."""
    if not path.parent.resolve().is_dir():
        raise ValueError(f"{option} {path}: folder {path.parent} does not exist; create it first")
    check_output_name(path, option)
    try:  # the real test of writability (os.access says yes to root on read-only file systems)
        with tempfile.TemporaryFile(dir=path.parent.resolve()):
            pass
    except OSError:
        raise ValueError(f"{option} {path}: folder {path.parent} is not writable; choose another path") from None


def check_cache(root: Path) -> None:
    """``$LTX_CACHE`` (or ~/.cache/mlx-ltx) is a writable folder, or can be made one."""
    existing = next((p for p in (root, *root.parents) if p.exists()), None)
    if existing is None:
        return
    if not existing.is_dir():
        raise ValueError(f"LTX_CACHE={root}: {existing} is a file, not a folder; point LTX_CACHE at a writable folder")
    try:  # the real test of writability (os.access says yes to root on read-only file systems)
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError:
        raise ValueError(
            f"LTX_CACHE={root}: {existing} is not writable; point LTX_CACHE at a writable folder"
        ) from None


def check_lora_targets(path: str, model: Path, option: str) -> None:
    """A local LoRA file's layers (``diffusion_model.<module>.lora_A/B.weight``, from its header) are layers of the
    model's transformer (from its index), so a LoRA for another model is refused before any model loads."""
    from mlx_ltx_convert.safetensors_io import read_header
    from mlx_ltx_core.component_format import read_component
    from mlx_ltx_pipelines.lora import LORA_PREFIX, lora_module, resolve_lora_path

    if not Path(path).exists():
        return  # a repo id: checked when it is downloaded
    try:
        file = resolve_lora_path(path)
        modules = sorted({m for key in read_header(file).tensors if (m := lora_module(key)) is not None})
    except ValueError as e:
        raise ValueError(f"{option} {e}") from None
    layers = read_component(model / "transformer").index["weight_map"]
    missing = [m for m in modules if f"{m}.weight" not in layers]
    if modules and missing:
        which = "none" if len(missing) == len(modules) else f"{len(missing)}"
        verb = "is" if which == "none" else "are not"
        raise ValueError(
            f"{option} {file}: {which} of its {len(modules)} layers (e.g. {LORA_PREFIX}{missing[0]}) {verb} in the "
            f"transformer of {model}: the LoRA is for another model; pass one trained for this model"
        )
