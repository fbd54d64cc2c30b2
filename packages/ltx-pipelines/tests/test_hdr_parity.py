"""HDR colour math against Lightricks v1.2.0 (tools/parity/goldens_hdr.py): LogC3 / ACEScct curves both ways,
``to_hdr_linear`` for every curve and output primaries, the HLG signal (BT.2020, white at 0.75, roll-off) and the
BT.2020 10-bit limited YUV 4:2:0 codes. Float32 here vs the reference's float64 within 1e-4·max|ref| (measured
≤ 9e-7); the YUV codes equal the reference's float32 codes."""

from __future__ import annotations

import numpy as np
import pytest

from mlx_ltx_pipelines.hdr import HDRTransfer, Primaries, hlg_signal, rgb_to_yuv420p10, transfer_from_lora_metadata

from ltx_testing import assert_parity, group, load, manifest

FAMILY = "hdr"
REL = 1e-4
CASES = manifest(FAMILY)["cases"]


def _case(name: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    tensors = load(FAMILY, CASES[name]["file"])
    return group(tensors, "inputs"), tensors


@pytest.mark.parametrize("transfer", list(HDRTransfer), ids=lambda t: t.value)
def test_curves(transfer: HDRTransfer) -> None:
    inputs, tensors = _case("curves")
    linear, codes = inputs["linear"].astype(np.float32), inputs["codes"].astype(np.float32)
    ref = group(tensors, "outputs_f64")
    assert_parity(transfer.compress(linear), ref[f"{transfer.value}.compress"], REL, "compress")
    assert_parity(transfer.decompress(codes), ref[f"{transfer.value}.decompress"], REL, "decompress")


@pytest.mark.parametrize("primaries", list(Primaries), ids=lambda p: p.value)
@pytest.mark.parametrize("transfer", list(HDRTransfer), ids=lambda t: t.value)
def test_to_hdr_linear(transfer: HDRTransfer, primaries: Primaries) -> None:
    inputs, tensors = _case("to_hdr_linear")
    ours = transfer.to_linear(inputs["codes"].astype(np.float32), primaries)
    assert ours.dtype == np.float32
    assert_parity(ours, group(tensors, "outputs_f64")[f"{transfer.value}.{primaries.value}"], REL, "to_linear")


@pytest.mark.parametrize("primaries", list(Primaries), ids=lambda p: p.value)
def test_hlg_signal(primaries: Primaries) -> None:
    inputs, tensors = _case("hlg_signal")
    ours = hlg_signal(inputs["linear"].astype(np.float32), primaries)
    assert_parity(ours, group(tensors, "outputs_f64")[f"{primaries.value}.signal"], REL, "hlg")


def test_yuv420p10_codes() -> None:
    inputs, tensors = _case("yuv420p10")
    ours = rgb_to_yuv420p10(inputs["rgb"])
    ref = group(tensors, "outputs")
    for name, plane in zip("yuv", ours, strict=True):
        assert plane.dtype == np.uint16
        np.testing.assert_array_equal(plane, ref[name], err_msg=name)


def test_working_space_round_trip() -> None:
    linear = np.array([0.0, 0.005, 0.18, 1.0, 8.0], np.float32)[:, None].repeat(3, 1)
    for transfer in HDRTransfer:
        back = transfer.to_linear(transfer.to_working_space(linear))
        np.testing.assert_allclose(back, linear, rtol=2e-4, atol=1e-6)


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({}, None),
        ({"hdr_transform": "acescct"}, HDRTransfer.ACESCCT),
        ({"hdr_transform": "true"}, HDRTransfer.LOGC3),
        ({"use_hdr_transform": "true"}, HDRTransfer.LOGC3),
        ({"hdr_transform": "", "use_hdr_transform": ""}, None),
    ],
)
def test_lora_metadata(metadata: dict[str, str], expected: HDRTransfer | None) -> None:
    assert transfer_from_lora_metadata(metadata) is expected


def test_unknown_lora_transfer_is_one_line() -> None:
    with pytest.raises(ValueError, match=r"hdr_transform='pq': expected logc3 or acescct"):
        transfer_from_lora_metadata({"hdr_transform": "pq"})
