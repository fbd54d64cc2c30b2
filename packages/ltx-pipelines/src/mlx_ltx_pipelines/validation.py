"""Request checks shared by the pipelines (ports ``assert_resolution`` of ltx_pipelines/utils/helpers.py and the
8k+1 frame rule of the causal video VAE): one-line errors naming the value, the rule and a valid choice."""

from __future__ import annotations

from mlx_ltx_core.types import VIDEO_SCALE_FACTORS


def check_num_frames(num_frames: int) -> int:
    """``num_frames`` must be 8k+1 (the VAE keeps frame 0 and compresses the rest 8×)."""
    t = VIDEO_SCALE_FACTORS.time
    if not VIDEO_SCALE_FACTORS.is_valid_num_frames(num_frames):
        lower = max((int(num_frames) - 1) // t, 0) * t + 1
        raise ValueError(f"num_frames={num_frames} must be {t}k+1 (e.g. {lower} or {lower + t})")
    return int(num_frames)


def check_resolution(height: int, width: int, two_stage: bool = False) -> tuple[int, int]:
    """Height and width must be multiples of 32 (the VAE's 32× downscale), or 64 for two-stage pipelines
    (stage 1 runs at half size)."""
    divisor = VIDEO_SCALE_FACTORS.size_multiple(two_stage)
    kind = " for two-stage pipelines" if two_stage else ""
    for name, value in (("height", height), ("width", width)):
        if int(value) != value or value < divisor or value % divisor:
            lower = max(int(value) // divisor, 1) * divisor
            raise ValueError(
                f"{name}={value} must be a multiple of {divisor}{kind} (e.g. {lower} or {lower + divisor})"
            )
    return int(height), int(width)


def check_frame_rate(frame_rate: float) -> float:
    if not frame_rate > 0:
        raise ValueError(f"frame_rate={frame_rate} must be > 0 frames per second")
    return float(frame_rate)
