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


# Latent tokens of the largest video anyone could denoise: 4x a 20 s 4K clip at 50 fps (~1M tokens). Beyond it one
# attention matrix alone (T² scores per head) is petabytes, so the size is refused by arithmetic, before any estimate
# walks the decode tiles or any array is allocated (`-n 800000001` used to hang there).
MAX_VIDEO_TOKENS = 2**22


def check_video_size(height: int | None, width: int | None, num_frames: int) -> None:
    """The video's latent token count, (frames/8 + 1)·(H/32)·(W/32), is at most ``MAX_VIDEO_TOKENS`` (a size left
    None counts as the smallest, 32)."""
    f = VIDEO_SCALE_FACTORS
    h, w = (max(int(v or f.height) // f.height, 1) for v in (height, width))
    tokens = f.latent_frames(num_frames) * h * w
    if tokens > MAX_VIDEO_TOKENS:
        size = f"height={height} width={width} " if height and width else ""
        least = "" if size else "at least "
        raise ValueError(
            f"{size}num_frames={num_frames}: {least}{tokens:,} latent tokens, more than the {MAX_VIDEO_TOKENS:,} any "
            "machine can denoise; choose a smaller size or fewer frames"
        )
