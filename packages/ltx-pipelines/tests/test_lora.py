"""LoRA loading (file, folder) and fusion (bf16 against the reference's fused weights; quantized; weight dicts)."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest
from mlx.utils import tree_flatten

from mlx_ltx_core.model.transformer import quantize_transformer
from mlx_ltx_pipelines import LoRA, fuse_loras, load_lora, reference_downscale_factor

from ltx_testing import assert_parity
from pipelines_goldens import case, cases, path, tiny_transformer
from transformer_goldens import build

PREFIX = "model.diffusion_model."


def _loras(name: str) -> list[LoRA]:
    return [load_lora(path(spec["file"]), spec["strength"]) for spec in case(name)["loras"]]


def _bf16_model(config: str):
    return build({"config": config, "weights": f"{config}.weights.safetensors"}, dtype=mx.bfloat16)


@pytest.mark.parametrize("name", cases("lora"))
def test_fused_bf16_weights_match_reference(name: str) -> None:
    info = case(name)
    model = _bf16_model(info["config"])
    base = dict(tree_flatten(model.parameters()))
    loras = _loras(name)
    fused = dict(tree_flatten(fuse_loras(model, loras).parameters()))
    expected = mx.load(path(info["file"]))
    assert len(expected) == info["num_fused_keys"]
    for key, ref in expected.items():
        module = key[len("fused." + PREFIX) : -len(".weight")]
        ours = fused[f"{module}.weight"]
        assert ours.dtype == mx.bfloat16
        # ours: W + Σ s·B@A in float32, rounded once to bf16 ...
        delta = sum(
            x.strength * (x.factors[module][1].astype(mx.float32) @ x.factors[module][0].astype(mx.float32))
            for x in loras
        )
        assert mx.array_equal(ours, (base[f"{module}.weight"].astype(mx.float32) + delta).astype(mx.bfloat16)), key
        # ... the reference accumulates the deltas in bf16: the two agree to bf16 rounding (≤ 2 ulps of the largest)
        assert_parity(ours.astype(mx.float32), np.array(ref.astype(mx.float32)), 2.0**-7, key)
    touched = {k[len("fused." + PREFIX) :] for k in expected}
    for key, value in base.items():  # every other weight is the base's
        if key not in touched:
            assert mx.array_equal(fused[key], value), key
    assert reference_downscale_factor(loras) == info["reference_downscale_factor"]
    assert [lora.reference_downscale_factor for lora in loras] == [1, 2]


def test_weight_dict_and_model_fusion_agree() -> None:
    loras = _loras(cases("lora")[0])
    weights = dict(tree_flatten(_bf16_model("ltx2_av").parameters()))
    from_dict = fuse_loras(weights, loras)
    from_model = dict(tree_flatten(fuse_loras(_bf16_model("ltx2_av"), loras).parameters()))
    assert from_dict.keys() == weights.keys()
    assert all(mx.array_equal(from_dict[k], from_model[k]) for k in weights)
    assert not mx.array_equal(
        from_dict["transformer_blocks.0.attn1.to_q.weight"], weights["transformer_blocks.0.attn1.to_q.weight"]
    )


def test_quantized_fusion_requantizes_with_the_layer_recipe() -> None:
    loras = _loras(cases("lora")[0])
    model = tiny_transformer("ltx2_av")
    quantize_transformer(model, bits=8, group_size=32)
    before = dict(tree_flatten(model.parameters()))
    fused = dict(tree_flatten(fuse_loras(model, loras).parameters()))
    key = "transformer_blocks.1.ff.net.2"
    assert fused[f"{key}.weight"].dtype == mx.uint32 and fused[f"{key}.scales"].shape == before[f"{key}.scales"].shape

    def dequantized(w: dict) -> mx.array:
        return mx.dequantize(w[f"{key}.weight"], w[f"{key}.scales"], w[f"{key}.biases"], group_size=32, bits=8)

    delta = sum(
        x.strength * (x.factors[key][1].astype(mx.float32) @ x.factors[key][0].astype(mx.float32)) for x in loras
    )
    target = dequantized(before) + delta  # W' = dequantize(W) + Σ s·B@A, re-quantized with the layer's 8 bits / 32
    requantized = mx.quantize(target, group_size=32, bits=8)
    assert all(
        mx.array_equal(a, b)
        for a, b in zip(requantized, (fused[f"{key}.{n}"] for n in ("weight", "scales", "biases")), strict=True)
    )
    step = float(mx.max(fused[f"{key}.scales"]))
    assert float(mx.max(mx.abs(dequantized(fused) - target))) <= step  # within one quantization step
    assert float(mx.max(mx.abs(dequantized(fused) - dequantized(before)))) > step  # and the LoRA did change it
    audio_q = "transformer_blocks.0.audio_attn1.to_q.weight"  # input width 16: left unquantized, fused in float
    assert fused[audio_q].dtype == mx.float32 and not mx.array_equal(fused[audio_q], before[audio_q])


def test_load_from_folder_and_errors(tmp_path: Path) -> None:
    name = cases("lora")[0]
    src = Path(path(case(name)["loras"][0]["file"]))
    folder = tmp_path / "lora"
    folder.mkdir()
    shutil.copy(src, folder / src.name)
    lora = load_lora(folder, 0.5)
    assert lora.strength == 0.5 and lora.source.endswith(src.name) and len(lora.factors) == 20
    shutil.copy(src, folder / "second.safetensors")
    with pytest.raises(ValueError, match=r"must hold exactly one \.safetensors file"):
        load_lora(folder)
    with pytest.raises(ValueError, match="is not a file, a folder or a Hugging Face repo id"):
        load_lora(tmp_path / "missing.safetensors")


def _write(tmp_path: Path, tensors: dict[str, mx.array], metadata: dict | None = None) -> Path:
    file = tmp_path / "other.safetensors"
    mx.save_safetensors(str(file), tensors, metadata=metadata or {})
    return file


def test_lora_for_another_model_is_one_line_error(tmp_path: Path) -> None:
    model = tiny_transformer("ltx2_av")
    a, b = mx.zeros((2, 32)), mx.zeros((32, 2))
    unknown = _write(
        tmp_path,
        {"diffusion_model.blocks.0.attn.q.lora_A.weight": a, "diffusion_model.blocks.0.attn.q.lora_B.weight": b},
    )
    with pytest.raises(
        ValueError, match=r"diffusion_model\.blocks\.0\.attn\.q\.lora_A\.weight targets .* another model"
    ):
        fuse_loras(model, [load_lora(unknown)])
    before = dict(tree_flatten(model.parameters()))
    fuse_loras(model, [load_lora(unknown)], strict=False)  # the reference's behaviour: skipped
    assert all(mx.array_equal(v, before[k]) for k, v in tree_flatten(model.parameters()))
    k = "diffusion_model.transformer_blocks.0.attn1.to_q"
    wrong = _write(tmp_path, {f"{k}.lora_A.weight": mx.zeros((2, 48)), f"{k}.lora_B.weight": b})
    with pytest.raises(ValueError, match=r"to_q\.lora_A\.weight \(2, 48\) .* do not fit .* \(32, 32\)"):
        fuse_loras(model, [load_lora(wrong)])
    half = _write(tmp_path, {f"{k}.lora_A.weight": a})
    with pytest.raises(ValueError, match=r"to_q\.lora_B\.weight is missing"):
        load_lora(half)
    other = _write(tmp_path, {"text_encoder.layers.0.weight": a})
    with pytest.raises(ValueError, match=r"key text_encoder\.layers\.0\.weight is not a LoRA factor"):
        load_lora(other)


def test_conflicting_reference_downscale_factors(tmp_path: Path) -> None:
    factors = {"m": (mx.zeros((1, 2)), mx.zeros((2, 1)))}
    two, three = (
        LoRA("a", 1.0, factors, {"reference_downscale_factor": "2"}),
        LoRA("b", 1.0, factors, {"reference_downscale_factor": "3"}),
    )
    assert reference_downscale_factor([LoRA("c", 1.0, factors), two]) == 2
    with pytest.raises(ValueError, match="LoRAs disagree on reference_downscale_factor: a has 2, b has 3"):
        reference_downscale_factor([two, three])


@pytest.mark.parametrize("suffix", [".ckpt", ".pt", ".pth", ".bin", ".npz"])
def test_pickle_formats_are_refused_by_name(tmp_path: Path, suffix: str) -> None:
    from mlx_ltx_pipelines.errors import ParameterError

    file = tmp_path / f"lora{suffix}"
    file.write_bytes(b"PK\x03\x04")
    with pytest.raises(ParameterError, match=rf"pickle-based \{suffix} is not loaded: convert it to \.safetensors"):
        load_lora(file)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "0 bytes, not a safetensors file"), (b"\x80\x04K\x01.", "a pickle file, not safetensors")],
)
def test_a_safetensors_name_on_other_bytes_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    file = tmp_path / "lora.safetensors"
    file.write_bytes(content)
    with pytest.raises(ValueError, match=message) as raised:
        load_lora(file)
    assert getattr(raised.value, "parameter", None) == "loras"


def test_a_lora_without_factors_is_refused(tmp_path: Path) -> None:
    only_alpha = _write(tmp_path, {"diffusion_model.transformer_blocks.0.attn1.to_q.alpha": mx.ones((1,))})
    with pytest.raises(ValueError, match="holds no LoRA tensors"):
        load_lora(only_alpha)
