"""HDR colour math of the HDR IC-LoRA output (ports ltx_core/hdr.py and ltx_core/color/{primaries,yuv,hlg}.py, v1.2.0).

The HDR LoRA makes the VAE produce a compressed working-space signal in [0, 1] (LogC3 EI 800, or ACEScct);
``to_hdr_linear`` decompresses it to scene-linear light (Rec.709 primaries by default). For a player, linear light
becomes an HLG signal (BT.2100 / ARIB STD-B67: BT.2020 primaries, diffuse white at ``white_signal``, highlights
rolled off toward 1) and then 10-bit limited-range BT.2020 YUV 4:2:0 (``rgb_to_yuv420p10``). Frames are
channels-last ``(..., 3)`` float32 numpy arrays, as the media writers take them.
"""

from __future__ import annotations

import enum
import math

import numpy as np

# ARRI LogC3 (EI 800).
_LOGC3_A, _LOGC3_B, _LOGC3_C, _LOGC3_D = 5.555556, 0.052272, 0.247190, 0.385537
_LOGC3_E, _LOGC3_F, _LOGC3_CUT = 5.367655, 0.092809, 0.010591
# ACEScct (AMPAS S-2016-001).
_CCT_A, _CCT_B, _CCT_X_BREAK, _CCT_Y_BREAK = 10.5402377416545, 0.0729055341958355, 0.0078125, 0.155251141552511
_CCT_LOG_M, _CCT_LOG_B = 17.52, 9.72
# ARIB STD-B67 (HLG) OETF.
HLG_A, HLG_B, HLG_C = 0.17883277, 0.28466892, 0.55991073

# Linear primaries: ACEScg (AP1, D60) → Rec.709 (D65); Rec.709 → Rec.2020 (BT.2087); ACEScg → Rec.2020 (Bradford).
ACESCG_TO_REC709 = np.array(
    [[1.70505, -0.62179, -0.08326], [-0.13026, 1.14080, -0.01055], [-0.02400, -0.12897, 1.15297]], np.float32
)
REC709_TO_ACESCG = np.linalg.inv(ACESCG_TO_REC709.astype(np.float64)).astype(np.float32)
REC709_TO_REC2020 = np.array(
    [[0.62740389, 0.32928304, 0.04331307], [0.06909729, 0.91954040, 0.01136232], [0.01639144, 0.08801331, 0.89559525]],
    np.float32,
)
ACESCG_TO_REC2020 = np.array(
    [
        [1.02582475, -0.02005319, -0.00577156],
        [-0.00223437, 1.00458650, -0.00235213],
        [-0.00501335, -0.02529007, 1.03030342],
    ],
    np.float32,
)
# BT.2020 non-constant-luminance RGB → Y'CbCr.
_KR, _KG, _KB = 0.2627, 0.6780, 0.0593
BT2020_YUV = np.array(
    [[_KR, _KG, _KB], [-_KR / 1.8814, -_KG / 1.8814, 0.5], [0.5, -_KG / 1.4746, -_KB / 1.4746]], np.float32
)


def _apply(matrix: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    return rgb @ matrix.T.astype(rgb.dtype)


class Primaries(enum.Enum):
    """Linear-light primaries of an HDR signal (Rec.2020 is only a conversion target, for HLG)."""

    REC709 = "rec709"
    ACESCG = "acescg"

    @property
    def exr_chromaticities(self) -> tuple[float, ...]:
        """The EXR ``chromaticities`` attribute (R, G, B, white x/y)."""
        if self is Primaries.REC709:
            return (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290)
        return (0.713, 0.293, 0.165, 0.830, 0.128, 0.044, 0.32168, 0.33767)

    def to(self, target: Primaries, rgb: np.ndarray) -> np.ndarray:
        if self is target:
            return rgb
        return _apply(ACESCG_TO_REC709 if self is Primaries.ACESCG else REC709_TO_ACESCG, rgb)

    def to_rec2020(self, rgb: np.ndarray) -> np.ndarray:
        return _apply(REC709_TO_REC2020 if self is Primaries.REC709 else ACESCG_TO_REC2020, rgb)


class HDRTransfer(enum.Enum):
    """The VAE's HDR working-space curve: linear [0, ∞) ↔ [0, 1]."""

    LOGC3 = "logc3"
    ACESCCT = "acescct"

    @property
    def display_name(self) -> str:
        """The EXR ``colorSpace`` tag of frames kept in this curve's codes."""
        return "LogC3" if self is HDRTransfer.LOGC3 else "ACEScct"

    @property
    def native_primaries(self) -> Primaries:
        return Primaries.REC709 if self is HDRTransfer.LOGC3 else Primaries.ACESCG

    def compress(self, linear: np.ndarray) -> np.ndarray:
        x = np.maximum(linear, 0.0)
        if self is HDRTransfer.LOGC3:
            log = _LOGC3_C * np.log10(_LOGC3_A * x + _LOGC3_B) + _LOGC3_D
            out = np.where(x >= _LOGC3_CUT, log, _LOGC3_E * x + _LOGC3_F)
        else:
            log = (np.log2(np.maximum(x, 1e-12)) + _CCT_LOG_B) / _CCT_LOG_M
            out = np.where(x > _CCT_X_BREAK, log, _CCT_A * x + _CCT_B)
        return np.clip(out, 0.0, 1.0).astype(linear.dtype)

    def decompress(self, codes: np.ndarray) -> np.ndarray:
        c = np.clip(codes, 0.0, 1.0)
        if self is HDRTransfer.LOGC3:
            log = (np.power(10.0, (c - _LOGC3_D) / _LOGC3_C) - _LOGC3_B) / _LOGC3_A
            out = np.where(c >= _LOGC3_E * _LOGC3_CUT + _LOGC3_F, log, (c - _LOGC3_F) / _LOGC3_E)
        else:
            out = np.where(c > _CCT_Y_BREAK, np.power(2.0, c * _CCT_LOG_M - _CCT_LOG_B), (c - _CCT_B) / _CCT_A)
        return out.astype(codes.dtype)

    def to_working_space(self, linear: np.ndarray, source: Primaries = Primaries.REC709) -> np.ndarray:
        """Scene-linear light in ``source`` primaries → this curve's [0, 1] codes (in its native primaries)."""
        return self.compress(np.maximum(source.to(self.native_primaries, linear), 0.0))

    def to_linear(self, codes: np.ndarray, out: Primaries = Primaries.REC709) -> np.ndarray:
        """[0, 1] codes → scene-linear light in ``out`` primaries (negative light clipped)."""
        return np.maximum(self.native_primaries.to(out, self.decompress(codes)), 0.0)


def transfer_from_lora_metadata(metadata: dict[str, str]) -> HDRTransfer | None:
    """The HDR LoRA's curve from its safetensors metadata, as the reference reads it: a non-empty
    ``hdr_transform`` ("logc3" / "acescct"; "true" means LogC3) or any non-empty ``use_hdr_transform`` makes it an
    HDR LoRA (LogC3 unless named); None otherwise."""
    name = metadata.get("hdr_transform", "")
    if not (name or metadata.get("use_hdr_transform")):
        return None
    if not name or name == "true":
        return HDRTransfer.LOGC3
    try:
        return HDRTransfer(name)
    except ValueError:
        raise ValueError(f"HDR LoRA metadata hdr_transform={name!r}: expected logc3 or acescct") from None


def hlg_inverse_oetf(signal: float) -> float:
    return signal * signal / 3.0 if signal <= 0.5 else (math.exp((signal - HLG_C) / HLG_A) + HLG_B) / 12.0


def hlg_signal(
    linear: np.ndarray,
    primaries: Primaries = Primaries.REC709,
    white_signal: float = 0.75,
    rolloff_k: float | None = None,
) -> np.ndarray:
    """Scene-linear light → HLG signal in [0, 1] on BT.2020 primaries: 1.0 (diffuse white) lands on
    ``white_signal``, brighter light rolls off exponentially toward 1 (the reference's master grade)."""
    white = hlg_inverse_oetf(white_signal)
    k = rolloff_k if rolloff_k is not None else white / (1.0 - white)
    lin = np.nan_to_num(np.maximum(primaries.to_rec2020(linear.astype(np.float32)), 0.0), nan=0.0, neginf=0.0)
    x = np.where(lin <= 1.0, lin * white, 1.0 - (1.0 - white) * np.exp(-k * (lin - 1.0)))
    sqrt = np.sqrt(np.maximum(3.0 * x, 0.0))
    log = HLG_A * np.log(np.maximum(12.0 * x - HLG_B, 1e-12)) + HLG_C
    return np.clip(np.where(x <= 1.0 / 12.0, sqrt, log), 0.0, 1.0).astype(np.float32)


def rgb_to_yuv420p10(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.2020 NCL RGB in [0, 1], (..., H, W, 3) with even H and W → planar uint16 Y (…, H, W), U, V (…, H/2, W/2):
    10-bit limited range, chroma averaged over 2×2 (the reference's avg-pool)."""
    h, w = rgb.shape[-3:-1]
    if h % 2 or w % 2:
        raise ValueError(f"frame size {w}x{h} must be even for 4:2:0")
    yuv = _apply(BT2020_YUV, rgb.astype(np.float32))
    uv = yuv[..., 1:].reshape(*yuv.shape[:-3], h // 2, 2, w // 2, 2, 2).mean(axis=(-4, -2))
    y = yuv[..., 0] * (219 * 4) + 16 * 4
    uv = uv * (224 * 4) + 128 * 4

    def code(plane: np.ndarray) -> np.ndarray:
        return np.clip(np.round(plane), 0, 1023).astype(np.uint16)

    return code(y), code(uv[..., 0]), code(uv[..., 1])


def srgb_preview(linear: np.ndarray) -> np.ndarray:
    """Linear Rec.709 → sRGB-encoded [0, 1] at exposure 0 (clipped), the reference's SDR preview of EXR frames."""
    x = np.clip(linear, 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(x, 1.0 / 2.4) - 0.055).astype(np.float32)
