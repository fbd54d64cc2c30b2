"""Conditioning images: resize-and-center-crop and normalisation against the reference, H.264 degradation."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mlx_ltx_pipelines.media import degrade_h264, load_image_conditioning, resize_and_center_crop
from mlx_ltx_pipelines.media.image import normalize_pixels

from ltx_testing import assert_parity, group, load, manifest

CASES = {k: v for k, v in manifest("media")["cases"].items() if k.startswith("resize")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_resize_and_normalize_match_reference(name: str) -> None:
    case = CASES[name]
    tensors = load("media", case["file"])
    ours = normalize_pixels(resize_and_center_crop(group(tensors, "inputs")["pixels"], case["height"], case["width"]))
    ref = group(tensors, "outputs_f64")["normalized"][0].transpose(1, 2, 3, 0)  # (1, C, F, H, W) → (F, H, W, C)
    assert_parity(np.array(ours), ref, 1e-5, name)


def test_h264_degradation_is_close_to_the_reference_round_trip() -> None:
    tensors = load("media", manifest("media")["cases"]["h264_crf33"]["file"])
    pixels, ref = tensors["inputs.pixels"], tensors["outputs.degraded"]
    ours = degrade_h264(pixels, crf=33)
    assert ours.shape == ref.shape == (pixels.shape[0] // 2 * 2, pixels.shape[1] // 2 * 2, 3)
    # Same codec settings; ffmpeg's and PyAV's RGB↔YUV conversions may round differently.
    assert np.abs(ours.astype(int) - ref.astype(int)).mean() < 2.0
    assert np.abs(ours.astype(int) - pixels[: ours.shape[0], : ours.shape[1]].astype(int)).mean() > 1.0  # it degrades
    np.testing.assert_array_equal(degrade_h264(pixels, crf=0), pixels)


def test_load_image_conditioning_from_a_png(tmp_path) -> None:
    path = tmp_path / "image.png"
    Image.fromarray(np.full((50, 70, 3), 255, np.uint8)).save(path)
    image = load_image_conditioning(path, 32, 64, crf=0)
    assert image.shape == (1, 1, 32, 64, 3)
    np.testing.assert_allclose(np.array(image), 1.0, atol=1e-6)


def test_bad_images_fail_with_one_line(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"no such file; pass the path of a PNG/JPEG/WebP image"):
        load_image_conditioning(tmp_path / "missing.png", 32, 32)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG but not really")
    with pytest.raises(ValueError, match="cannot be decoded"):
        load_image_conditioning(junk, 32, 32)
