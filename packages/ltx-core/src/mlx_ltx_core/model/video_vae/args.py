"""Video VAE encoder / decoder arguments from ``config["vae"]`` (ports video_vae/model_configurator.py).

Defaults are the reference configurators' for a missing key: the encoder pads spatially with zeros and the decoder
by reflection unless ``spatial_padding_mode`` is given (LTX-2 metadata omits it; LTX-2.3 says "zeros" for both),
and the decoder is timestep-conditioned unless ``timestep_conditioning`` says otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mlx_ltx_core.utils import known_keys_from_dict

ENCODER_BLOCKS = {  # name -> (stride, multiplies width)
    "res_x": ((1, 1, 1), False),
    "compress_space_res": ((1, 2, 2), True),
    "compress_time_res": ((2, 1, 1), True),
    "compress_all_res": ((2, 2, 2), True),
    "attn": ((1, 1, 1), False),  # v1.2.0 AttnBlock3D (16x16x4 VAE variant)
}
DECODER_BLOCKS = {
    "res_x": (1, 1, 1),
    "compress_space": (1, 2, 2),
    "compress_time": (2, 1, 1),
    "compress_all": (2, 2, 2),
    "attn": (1, 1, 1),
}


# The real decoders (config["vae"] of the LTX-2 and LTX-2.3 checkpoints, block lists as stored), for benchmarks and
# memory estimates without a checkpoint. Both have decoder_base_channels 128.
_RES_X_5 = ["res_x", {"num_layers": 5, "inject_noise": False}]
_ALL_X2_RES = ["compress_all", {"residual": True, "multiplier": 2}]
REAL_DECODER_CONFIGS: dict[str, dict[str, Any]] = {
    "ltx2": {
        "decoder_blocks": [_RES_X_5, _ALL_X2_RES, _RES_X_5, _ALL_X2_RES, _RES_X_5, _ALL_X2_RES, _RES_X_5],
        "spatial_padding_mode": "reflect",
        "timestep_conditioning": False,
    },
    "ltx23": {
        "decoder_blocks": [
            ["res_x", {"num_layers": 4}],
            ["compress_space", {"multiplier": 2}],
            ["res_x", {"num_layers": 6}],
            ["compress_time", {"multiplier": 2}],
            ["res_x", {"num_layers": 4}],
            ["compress_all", {"multiplier": 1}],
            ["res_x", {"num_layers": 2}],
            ["compress_all", {"multiplier": 2}],
            ["res_x", {"num_layers": 2}],
        ],
        "spatial_padding_mode": "zeros",
        "timestep_conditioning": False,
    },
}


def block_list(blocks: list) -> list[tuple[str, dict[str, Any]]]:
    """``[[name, params], ...]`` with an int ``params`` meaning ``{"num_layers": params}``."""
    return [(name, {"num_layers": p} if isinstance(p, int) else dict(p)) for name, p in blocks]


def _raise_unsupported(where: str, bad: list[str]) -> None:
    if bad:
        raise ValueError(f"{where}: unsupported config values: {'; '.join(bad)}")


def _common_checks(args: Any, blocks: list, known: dict, what: str) -> list[str]:
    bad = [
        f"{k}={getattr(args, k)!r} (expected {v!r})"
        for k, v in {"dims": 3, "patch_size": 4, "norm_layer": "pixel_norm"}.items()
        if getattr(args, k) != v
    ]
    if args.spatial_padding_mode not in ("zeros", "reflect"):
        bad.append(f"spatial_padding_mode={args.spatial_padding_mode!r} (expected 'zeros' or 'reflect')")
    bad += [
        f"{what} block {name!r} (supported: {', '.join(known)})" for name, _ in block_list(blocks) if name not in known
    ]
    return bad


@dataclass
class VideoEncoderArgs:
    """``VideoEncoderConfigurator`` inputs; ``from_dict(config["vae"])`` keeps the keys it knows."""

    dims: int = 3
    in_channels: int = 3
    latent_channels: int = 128
    spatial_padding_mode: str = "zeros"
    encoder_blocks: list = field(default_factory=list)
    patch_size: int = 4
    norm_layer: str = "pixel_norm"
    latent_log_var: str = "uniform"

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> VideoEncoderArgs:
        """Flat LTX-2 ``config["vae"]``, or the 2.5 ``CausalDiffusionVAE`` one with its encoder under ``encoder``
        (``blocks`` / ``out_channels`` = latent width; ``_prepare_video_encoder_kwargs`` at v1.2.0)."""
        if "encoder" not in config:
            return known_keys_from_dict(cls, config)
        nested = config["encoder"]
        flat = {k: v for k, v in config.items() if k in ("dims", "latent_channels")}
        flat.update(nested)
        flat["latent_channels"] = nested.get("out_channels", config.get("latent_channels", 128))
        flat["encoder_blocks"] = nested.get("blocks", nested.get("encoder_blocks", []))
        return known_keys_from_dict(cls, flat)

    def __post_init__(self) -> None:
        bad = _common_checks(self, self.encoder_blocks, ENCODER_BLOCKS, "encoder")
        # "constant" (2.5) keeps the N means of the N+1 output channels exactly as "uniform" does.
        if self.latent_log_var not in ("uniform", "constant"):
            bad.append(f"latent_log_var={self.latent_log_var!r} (expected 'uniform' or 'constant')")
        _raise_unsupported("video encoder config", bad)

    @property
    def blocks(self) -> list[tuple[str, dict[str, Any]]]:
        return block_list(self.encoder_blocks)


@dataclass
class VideoDecoderArgs:
    """``VideoDecoderConfigurator`` inputs; ``from_dict(config["vae"])`` keeps the keys it knows."""

    dims: int = 3
    latent_channels: int = 128
    spatial_padding_mode: str = "reflect"
    out_channels: int = 3
    decoder_blocks: list = field(default_factory=list)
    patch_size: int = 4
    norm_layer: str = "pixel_norm"
    causal_decoder: bool = False
    timestep_conditioning: bool = True
    decoder_base_channels: int = 128

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> VideoDecoderArgs:
        return known_keys_from_dict(cls, config)

    def __post_init__(self) -> None:
        bad = _common_checks(self, self.decoder_blocks, DECODER_BLOCKS, "decoder")
        _raise_unsupported("video decoder config", bad)

    @property
    def blocks(self) -> list[tuple[str, dict[str, Any]]]:
        """The decoder's blocks in execution order (the stored list reversed)."""
        return block_list(self.decoder_blocks)[::-1]

    @property
    def bottleneck_channels(self) -> int:
        """``conv_in`` width. ltx-core 1.0.0 hard-codes base x 8; v1.2.0 derives base x (product of the upsampling
        multipliers). Both give x8 on every shipped 2 / 2.3 / 2.5 VAE; they differ only on lists that multiply by less
        (our 1.0.0 tiny goldens, and the 16x16x4 variant). Block lists with v1.2.0-only blocks ("attn") take the
        derived width, the others keep 1.0.0's so its goldens stay exact."""
        if not any(name == "attn" for name, _ in self.blocks):
            return self.decoder_base_channels * 8
        return self.decoder_base_channels * math.prod(
            p.get("multiplier", 1) for name, p in self.blocks if name.startswith("compress_")
        )
