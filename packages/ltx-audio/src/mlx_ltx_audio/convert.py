"""Checkpoint → MLX layout of the audio components; lives in mlx-ltx-core (``mlx_ltx_core.audio_convert``) so that
ltx-convert needs no audio package. Re-exported here for the audio package's users."""

from mlx_ltx_core.audio_convert import ACTIVATION_FILTER, COMPONENTS, component_key, torch_to_mlx

__all__ = ["ACTIVATION_FILTER", "COMPONENTS", "component_key", "torch_to_mlx"]
