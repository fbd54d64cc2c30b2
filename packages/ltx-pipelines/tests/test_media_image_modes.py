"""Image decoding: EXIF orientation, every Pillow mode to RGB, transparency on white, and in-memory inputs (PIL
images, uint8 / float arrays) equal to the same file's path."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mlx_ltx_pipelines.media import BACKGROUND, decode_image, load_image_conditioning
from mlx_ltx_pipelines.pipelines.base import check_images
from mlx_ltx_pipelines.pipelines.latent_upscale import UpscaleRequest, read_frames
from mlx_ltx_pipelines.stages import ImageConditioningInput

RED, BLUE = (255, 0, 0), (0, 0, 255)


def _close(pixel, expected, levels: int = 3) -> bool:
    return bool(np.abs(np.asarray(pixel, int) - np.asarray(expected, int)).max() <= levels)


def test_a_jpeg_with_exif_orientation_6_decodes_upright(tmp_path):
    stored = np.zeros((32, 64, 3), np.uint8)  # 64 wide: red left half, blue right half, as the sensor wrote it
    stored[:, :32], stored[:, 32:] = RED, BLUE
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    path = tmp_path / "phone.jpg"
    Image.fromarray(stored).save(path, exif=exif, quality=95)
    upright = decode_image(path)
    assert upright.shape == (64, 32, 3)
    assert _close(upright[8, 16], RED, 8) and _close(upright[56, 16], BLUE, 8)  # the left edge is now the top


def test_a_16_bit_greyscale_png_keeps_its_grey(tmp_path):
    path = tmp_path / "grey16.png"
    levels = np.array([[0, 32896, 65535, 257 * 100]], np.uint16)  # black, mid-grey, white, level 100
    Image.fromarray(levels).save(path)
    with Image.open(path) as img:
        assert img.mode == "I;16"
    np.testing.assert_array_equal(decode_image(path)[0], [[0] * 3, [128] * 3, [255] * 3, [100] * 3])


def test_transparent_pixels_of_an_rgba_png_become_the_documented_background(tmp_path):
    rgba = np.array([[[10, 20, 30, 0], [200, 0, 0, 255], [0, 0, 0, 128]]], np.uint8)
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    out = decode_image(path)[0]
    assert BACKGROUND == (255, 255, 255)
    assert tuple(out[0]) == BACKGROUND and tuple(out[1]) == (200, 0, 0)
    assert _close(out[2], (127, 127, 127), 1)  # half-transparent black over white


@pytest.mark.parametrize("transparent", [True, False])
def test_a_palette_png_with_and_without_transparency(tmp_path, transparent):
    img = Image.new("P", (2, 1))
    img.putpalette([0, 255, 0, *RED] + [0] * 762)
    img.putpixel((0, 0), 0)
    img.putpixel((1, 0), 1)
    path = tmp_path / "palette.png"
    img.save(path, **({"transparency": 0} if transparent else {}))
    out = decode_image(path)[0]
    assert tuple(out[0]) == (BACKGROUND if transparent else (0, 255, 0))
    assert tuple(out[1]) == RED


def test_a_cmyk_jpeg_becomes_rgb(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(path, quality=95)  # pure red in ink
    with Image.open(path) as img:
        assert img.mode == "CMYK"
    assert _close(decode_image(path)[8, 8], RED, 4)


# Every Pillow mode as an in-memory image; the expected RGB of its pixel.
MODES = [
    ("1", 1, (255, 255, 255)),
    ("L", 77, (77, 77, 77)),
    ("LA", (0, 0), BACKGROUND),
    ("LA", (50, 255), (50, 50, 50)),
    ("I;16", 257 * 200, (200, 200, 200)),
    ("I", 65535, (255, 255, 255)),
    ("I", 257 * 64, (64, 64, 64)),
    ("F", 0.5, (128, 128, 128)),
    ("RGB", (1, 2, 3), (1, 2, 3)),
    ("RGBA", (9, 9, 9, 0), BACKGROUND),
    ("CMYK", (0, 0, 0, 0), (255, 255, 255)),
    ("YCbCr", (128, 128, 128), (128, 128, 128)),
]


@pytest.mark.parametrize(("mode", "value", "rgb"), MODES, ids=[f"{m}-{v}" for m, v, _ in MODES])
def test_every_pillow_mode_converts_to_rgb(mode, value, rgb):
    out = decode_image(Image.new(mode, (3, 2), value))
    assert out.shape == (2, 3, 3) and out.dtype == np.uint8
    assert _close(out[1, 2], rgb, 1), (mode, tuple(out[1, 2]))


def test_what_cannot_be_converted_is_refused_with_one_line(tmp_path):
    cases = [
        (Image.new("I", (2, 2), 70000), r"PIL image \(mode I\): integer pixels span 70000..70000, beyond 16 bits"),
        (Image.new("F", (2, 2), 255.0), r"PIL image \(mode F\): float pixels must be in \[0, 1\], got 255..255"),
        (np.zeros((4, 4), np.uint8), r"image array: shape \(4, 4\) dtype uint8; pass an \(H, W, 3\) uint8 array"),
        (np.zeros((4, 4, 4), np.uint8), r"image array: shape \(4, 4, 4\)"),
        (np.zeros((4, 4, 3), np.int64), r"dtype int64; pass an \(H, W, 3\) uint8 array or float array in \[0, 1\]"),
        (np.full((4, 4, 3), 2.0), r"image array: float pixels must be in \[0, 1\], got 2..2; scale them"),
        (np.full((4, 4, 3), np.nan), r"image array: float pixels must be in \[0, 1\], got NaN or infinite values"),
        (5, r"image 5: pass a file path, a PIL image or an \(H, W, 3\) uint8 / float array"),
    ]
    for image, message in cases:
        with pytest.raises(ValueError, match=message) as err:
            decode_image(image)
        assert "\n" not in str(err.value)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_pil_and_array_inputs_equal_the_path_input(tmp_path, suffix):
    rng = np.random.default_rng(0)
    path = tmp_path / f"photo{suffix}"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)).save(path, exif=exif)
    from_path = decode_image(path)
    assert from_path.shape == (40, 24, 3)
    with Image.open(path) as img:
        np.testing.assert_array_equal(decode_image(img), from_path)  # the PIL image's EXIF is honoured too
    np.testing.assert_array_equal(decode_image(from_path), from_path)
    np.testing.assert_array_equal(decode_image(from_path / 255.0), from_path)
    np.testing.assert_array_equal(decode_image((from_path / 255.0).astype(np.float32)), from_path)
    conditioned = np.array(load_image_conditioning(path, 32, 32))
    np.testing.assert_array_equal(np.array(load_image_conditioning(from_path, 32, 32)), conditioned)


def test_requests_take_in_memory_images_and_refuse_bad_arrays_before_any_model_loads(tmp_path):
    image = np.zeros((64, 96, 3), np.uint8)
    check_images([ImageConditioningInput(image), ImageConditioningInput(Image.new("RGB", (8, 8)), 4)], 9)
    with pytest.raises(ValueError, match=r"image array: shape \(64, 96\)"):
        check_images([ImageConditioningInput(image[..., 0])], 9)
    request = UpscaleRequest(image)
    assert request.is_image
    frames, fps = read_frames(request.source)
    assert frames.shape == (1, 64, 96, 3) and fps is None
