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


# The spatial latent upscalers of the two-stage pipelines, as the ratio output / stage 1 = num / den.
SPATIAL_UPSCALES = {2.0: (2, 1), 1.5: (3, 2)}


def spatial_ratio(spatial_upscale: float) -> tuple[int, int]:
    """(num, den) of a spatial upscale factor: 2 → (2, 1), 1.5 → (3, 2); anything else is a one-line error."""
    if spatial_upscale not in SPATIAL_UPSCALES:
        raise ValueError(f"spatial_upscale={spatial_upscale:g}: choose 2 or 1.5 (the latent upscalers that exist)")
    return SPATIAL_UPSCALES[float(spatial_upscale)]


def stage_1_size(size: int, spatial_upscale: float = 2.0) -> int:
    """Stage 1's height or width for an output ``size``: 1/2 of it (x2 upscaler) or 2/3 (x1.5)."""
    num, den = spatial_ratio(spatial_upscale)
    return size * den // num


def size_multiple(two_stage: bool = False, spatial_upscale: float = 2.0) -> int:
    """What output sizes must be multiples of: 32 (one stage), 64 (x2: stage 1 at half size, a multiple of 32) or
    96 (x1.5: stage 1 at 2/3 size with an even latent, so that 1.5x of it is whole)."""
    return VIDEO_SCALE_FACTORS.height * spatial_ratio(spatial_upscale)[0] if two_stage else VIDEO_SCALE_FACTORS.height


def check_resolution(height: int, width: int, two_stage: bool = False, spatial_upscale: float = 2.0) -> tuple[int, int]:
    """Height and width must be multiples of 32 (the VAE's 32× downscale), or 64 for two-stage pipelines
    (stage 1 runs at half size), or 96 with the x1.5 upscaler (stage 1 at 2/3 size)."""
    divisor = size_multiple(two_stage, spatial_upscale)
    kind = ""
    if two_stage:
        kind = " for two-stage pipelines" if spatial_upscale == 2.0 else " with the x1.5 upscaler (stage 1 at 2/3 size)"
    for name, value in (("height", height), ("width", width)):
        if int(value) != value or value < divisor or value % divisor:
            lower = max(int(value) // divisor, 1) * divisor
            raise ValueError(
                f"{name}={value} must be a multiple of {divisor}{kind} (e.g. {lower} or {lower + divisor})"
            )
    return int(height), int(width)


def check_temporal_upscale(num_frames: int) -> None:
    """The temporal x2 upscaler doubles a video of at least two latent frames (9 pixel frames)."""
    if num_frames < VIDEO_SCALE_FACTORS.time + 1:
        raise ValueError(
            f"num_frames={num_frames}: temporal_upscale doubles a video, it needs at least "
            f"{VIDEO_SCALE_FACTORS.time + 1} frames (e.g. 9 or 121)"
        )


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
