"""The conditioning-item protocol and its error (ports ltx_core/conditioning/item.py and exceptions.py)."""

from __future__ import annotations

from typing import Protocol, TypeVar

from mlx_ltx_pipelines.latent_tools import VideoLatentTools
from mlx_ltx_pipelines.types import LatentState


class ConditioningError(ValueError):
    """A conditioning input that does not fit the latent it conditions."""


Tools_contra = TypeVar("Tools_contra", contravariant=True)


class ConditioningItem(Protocol[Tools_contra]):
    """Modifies a (patchified) latent state; items that add tokens append them after the existing ones.
    Generic in the latent tools it applies to (every item in this package conditions video)."""

    def apply_to(self, latent_state: LatentState, latent_tools: Tools_contra) -> LatentState:
        """Return the conditioned state."""
        ...


def check_strength(strength: float, what: str = "strength") -> float:
    """Conditioning strengths live in [0, 1]: 1 keeps the conditioning latent clean, 0 lets it be denoised."""
    if not 0.0 <= float(strength) <= 1.0:
        raise ConditioningError(
            f"{what}={strength} must be in [0, 1] (1 = keep the conditioning clean, 0 = denoise it fully)"
        )
    return float(strength)


def check_latent(latent_shape: tuple[int, ...], tools: VideoLatentTools, what: str, same_size: bool) -> None:
    """A video conditioning latent (B, F, H, W, C) must match the target's batch and channels (and H, W)."""
    b, _, h, w, c = latent_shape
    t = tools.target_shape
    want, got = (t.batch, t.channels), (b, c)
    if same_size:
        want, got = (*want, t.height, t.width), (*got, h, w)
    if want != got:
        axes = "(batch, channels, height, width)" if same_size else "(batch, channels)"
        raise ConditioningError(
            f"{what} latent of shape {tuple(latent_shape)} (B, F, H, W, C) has {axes} {got}, "
            f"the target latent has {want}: encode it at the stage's size"
        )
