"""A tiny LTX-2.5 diffusion-VAE file (``CausalDiffusionVAE``) in the shipped form, for conversion tests.

The shipped ``ltx-2.5-video-vae-bf16.safetensors`` holds the conv encoder (``encoder.*``), the diffusion decoder
(``decoder.*``) and the statistics (``per_channel_statistics.*``), with the decoder's attention QKV fused and its
timestep MLP named ``t_embedder.mlp.{0,2}`` (shared/reference/ltx-2.5.md §5.9). This writer adds what the reference's
loader also handles: static gates (folded into the Linears they scale at conversion) and the preview head it drops.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mlx_ltx_cli.tiny import _checked_torch_layout, _parameters
from mlx_ltx_core.tiny_configs import tiny_config

DIFFUSION_VAE = tiny_config("model_2.5", "diffusion_vae")
FILE = "ltx-2.5-tiny-video-vae.safetensors"
# gate → the Linear (under the same block) it scales
GATES = {"gate_msa": "attn.proj", "gate_mlp": "mlp.w_down", "gate_ctx": "context_proj"}
_T_EMBEDDER = {
    "t_embedder.timestep_embedder.linear_1.": "t_embedder.mlp.0.",
    "t_embedder.timestep_embedder.linear_2.": "t_embedder.mlp.2.",
}


def shipped_decoder_tensors(decoder: dict[str, np.ndarray], seed: int = 0) -> dict[str, np.ndarray]:
    """The ``DiffusionVideoDecoder``'s parameters (MLX keys) as the shipped file stores them, plus random static gates
    for every Linear the reference folds one into and a ``coarse_head`` the reference drops."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for key, value in decoder.items():
        if key.startswith("per_channel_statistics."):
            out[key] = value
            continue
        stem, leaf = key.rsplit(".", 1)
        if stem.endswith(".attn.qkv.to_q"):  # to_q/to_k/to_v → one fused qkv, rows in that order
            base = stem.removesuffix(".to_q")
            fused = [decoder[f"{base}.{name}.{leaf}"] for name in ("to_q", "to_k", "to_v")]
            out[f"decoder.{base}.{leaf}"] = np.concatenate(fused)
            continue
        if stem.endswith((".attn.qkv.to_k", ".attn.qkv.to_v")):
            continue
        for new, old in _T_EMBEDDER.items():
            key = key.replace(new, old)
        out[f"decoder.{key}"] = value
        for gate, linear in GATES.items():
            if stem.endswith("." + linear) and leaf == "weight":
                block = stem[: -len(linear) - 1]
                out[f"decoder.{block}.{gate}"] = (0.5 + rng.random(value.shape[0])).astype(np.float32)
    out["decoder.coarse_head.weight"] = rng.normal(0, 0.1, (3, 16)).astype(np.float32)
    return out


def write_tiny_diffusion_vae(path: Path, seed: int = 0) -> Path:
    """The tiny diffusion-VAE file (float32, ``__metadata__`` as the reference reads it)."""
    from safetensors.numpy import save_file

    from mlx_ltx_convert.components import by_name

    encoder_spec, decoder_spec = by_name("video_encoder"), by_name("diffusion_video_decoder")
    assert encoder_spec is not None and decoder_spec is not None
    encoder = _parameters(encoder_spec, DIFFUSION_VAE, seed)
    decoder = _parameters(decoder_spec, DIFFUSION_VAE, seed + 1)
    decoder |= {k: v for k, v in encoder.items() if k.startswith("per_channel_statistics.")}  # one copy for both
    tensors = {
        ("" if k.startswith("per_channel_statistics.") else "encoder.") + k: _checked_torch_layout(encoder_spec, k, v)
        for k, v in encoder.items()
    }
    tensors |= shipped_decoder_tensors(decoder, seed + 2)
    metadata = {"config": json.dumps({"vae": DIFFUSION_VAE}), "model_version": "2.5.0"}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=metadata)
    return path
