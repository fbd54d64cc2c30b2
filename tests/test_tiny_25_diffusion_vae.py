"""LTX-2.5's diffusion-VAE file (``CausalDiffusionVAE``: conv encoder + diffusion decoder) converts into the
"video_encoder" / "video_decoder" folders, streamed tensor by tensor: fused QKV split into its row thirds, static
gates folded into the Linears they scale (float32, then the output dtype), the preview head dropped; both load
strictly. Expectations are computed here from the writer's own tensors, not through the converter's rules."""

from __future__ import annotations

import json
from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest
from mlx.utils import tree_flatten
from safetensors.numpy import load_file

from mlx_ltx_cli.tiny25_vae import FILE, GATES, write_tiny_diffusion_vae
from mlx_ltx_convert.convert import convert


@pytest.fixture(scope="module")
def vae_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_diffusion_vae(tmp_path_factory.mktemp("vae25") / FILE)


def expected_decoder(shipped: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The decoder's MLX weights from the shipped tensors, written out longhand."""
    out = {}
    for key, value in shipped.items():
        if key.startswith("per_channel_statistics."):
            if key.endswith(("mean-of-means", "std-of-means")):
                out[key] = value
            continue
        key = key.removeprefix("decoder.").replace("t_embedder.mlp.0.", "t_embedder.timestep_embedder.linear_1.")
        key = key.replace("t_embedder.mlp.2.", "t_embedder.timestep_embedder.linear_2.")
        if key.startswith("coarse_") or key.rsplit(".", 1)[-1] in GATES or key.startswith("encoder."):
            continue
        if ".attn.qkv." in key:
            stem, leaf = key.rsplit(".", 1)
            d = value.shape[0] // 3
            for i, name in enumerate(("to_q", "to_k", "to_v")):
                out[f"{stem}.{name}.{leaf}"] = value[i * d : (i + 1) * d]
            continue
        for gate, linear in GATES.items():
            block, _, rest = key.rpartition("." + linear + ".")
            if block and rest in ("weight", "bias"):
                g = shipped[f"decoder.{block}.{gate}"].astype(np.float32)
                value = (g[:, None] if value.ndim == 2 else g) * value.astype(np.float32)
        out[key] = value
    return out


def test_converts_into_encoder_and_diffusion_decoder_folders(vae_file: Path, tmp_path: Path) -> None:
    from mlx_ltx_core.model.video_vae.loading import load_diffusion_video_decoder, load_video_encoder

    out = tmp_path / "model"
    index = convert([vae_file], out).index
    assert set(index["components"]) == {"video_encoder", "video_decoder"}
    config = json.loads((out / "video_decoder" / "config.json").read_text())
    assert config["_class_name"] == "CausalDiffusionVAE"
    decoder = load_diffusion_video_decoder(out / "video_decoder")  # strict: every key, shape and dtype
    ours = {k: np.array(v) for k, v in tree_flatten(decoder.parameters())}
    expected = expected_decoder(load_file(str(vae_file)))
    assert ours.keys() == expected.keys()
    for key, value in expected.items():
        np.testing.assert_array_equal(ours[key], value, err_msg=key)
    encoder = load_video_encoder(out / "video_encoder")
    latent = encoder(mx.zeros((1, 9, 64, 64, 3)))
    assert latent.shape[-1] == 8


def test_bfloat16_file_folds_gates_in_float32(vae_file: Path, tmp_path: Path) -> None:
    """A bf16 file (as shipped): W ← bf16(g·f32(W)), the reference's fold, bit for bit."""
    shipped = load_file(str(vae_file))
    bf16 = {k: mx.array(v).astype(mx.bfloat16) for k, v in shipped.items()}
    source = tmp_path / "bf16.safetensors"
    metadata = json.loads(json.dumps(dict(_metadata(vae_file))))
    mx.save_safetensors(str(source), bf16, metadata=metadata)
    out = tmp_path / "model"
    convert([source], out)
    stored = mx.load(str(out / "video_decoder" / "model.safetensors"))
    key = next(k for k in stored if k.endswith(".attn.proj.weight"))
    block = key.removesuffix(".attn.proj.weight")
    w = bf16[f"decoder.{key}"].astype(mx.float32)
    g = bf16[f"decoder.{block}.gate_msa"].astype(mx.float32)
    assert stored[key].dtype == mx.bfloat16
    np.testing.assert_array_equal(
        np.array(stored[key].astype(mx.float32)), np.array((g[:, None] * w).astype(mx.bfloat16).astype(mx.float32))
    )


def _metadata(path: Path) -> dict[str, str]:
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        return f.metadata()
