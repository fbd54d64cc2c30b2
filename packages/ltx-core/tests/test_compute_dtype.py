"""Compute dtype discipline: in a bfloat16 / float16 model every matmul, attention and convolution gets operands
of that dtype, from the inputs the pipelines pass (float32 sampler state, float32 timesteps and prompt).

Recorded at the MLX level (``nn.Linear`` / ``nn.QuantizedLinear`` / ``nn.Conv*`` calls, ``mx.addmm``,
``mx.matmul``, ``mx.quantized_matmul``, ``mx.fast.scaled_dot_product_attention``, ``mx.conv*``) during one
forward. float32 stays where the reference keeps it: timestep sinusoids, RoPE frequencies (then cast), the
fast norms' and attention softmax's accumulation inside the kernels, and the x0 / sampler arithmetic outside.
Also: float16 parity of the transformer against the float64 goldens within the bfloat16 bound.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import mlx.core as mx
import mlx.nn as nn
import pytest
from mlx.utils import tree_map

from mlx_ltx_core.model.transformer import X0Model
from mlx_ltx_core.model.transformer.lora_linear import add_adapters, linear_shape
from mlx_ltx_core.model.transformer.quantization import quantize_transformer

import transformer_goldens as tg
import vae_goldens as vg
from ltx_testing import assert_parity, group, load, manifest

CASES = manifest(tg.FAMILY)["cases"]
FIRST = list({c["config"]: c for c in reversed(CASES)}.values())  # one case per config
DTYPES = [mx.bfloat16, mx.float16]
BF16_REL = 2e-2  # the bfloat16 bound, for float16 too

_FUNCTIONS = [
    (mx, "addmm"),
    (mx, "matmul"),
    (mx, "quantized_matmul"),
    (mx.fast, "scaled_dot_product_attention"),
    (mx, "conv1d"),
    (mx, "conv2d"),
    (mx, "conv3d"),
    (mx, "conv_general"),
]
_LAYERS = [nn.Linear, nn.QuantizedLinear, nn.Conv1d, nn.Conv2d, nn.Conv3d]


@contextmanager
def operand_dtypes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, list[mx.Dtype]]]]:
    """Records (op name, float dtypes of its array operands and parameters) for every call inside."""
    calls: list[tuple[str, list[mx.Dtype]]] = []

    def floats(values) -> list[mx.Dtype]:
        return [v.dtype for v in values if isinstance(v, mx.array) and mx.issubdtype(v.dtype, mx.floating)]

    def wrap(name: str, fn, params: bool):
        def recorded(*args, **kwargs):
            arrays = [*args, *kwargs.values()]
            if params:  # a layer: its input and its float parameters
                layer, *arrays = arrays
                arrays += [v for k, v in layer.items() if isinstance(v, mx.array)]
            calls.append((name, floats(arrays)))
            return fn(*args, **kwargs)

        return recorded

    with monkeypatch.context() as m:
        for module, name in _FUNCTIONS:
            m.setattr(module, name, wrap(name, getattr(module, name), False))
        for cls in _LAYERS:
            m.setattr(cls, "__call__", wrap(cls.__name__, cls.__call__, True))
        yield calls


def _assert_only(calls: list[tuple[str, list[mx.Dtype]]], dtype: mx.Dtype, kinds: set[str]) -> None:
    assert {name for name, _ in calls} >= kinds, {name for name, _ in calls}
    wrong = sorted({f"{name}: {dts}" for name, dts in calls if any(d != dtype for d in dts)})
    assert not wrong, f"operands not in {dtype}: {wrong}"


def _f32_inputs(case: dict):
    """The case's inputs as the pipelines pass them: float32 latents, timesteps, sigma and prompt."""
    return tg.modalities(case, mx.float32)


def _cast(model, dtype: mx.Dtype):
    model.update(tree_map(lambda p: p.astype(dtype) if mx.issubdtype(p.dtype, mx.floating) else p, model.parameters()))
    return model


@pytest.mark.parametrize("dtype", DTYPES, ids=["bfloat16", "float16"])
@pytest.mark.parametrize("case", FIRST, ids=[c["config"] for c in FIRST])
def test_transformer_matmuls_and_attention_in_compute_dtype(case: dict, dtype: mx.Dtype, monkeypatch) -> None:
    model = X0Model(tg.build(case, dtype))
    video, audio = _f32_inputs(case)
    with operand_dtypes(monkeypatch) as calls:
        den_v, den_a = model(video, audio, tg.perturbations(case, model.velocity_model.args.num_layers))
        mx.eval(den_v, den_a)
    _assert_only(calls, dtype, {"Linear", "scaled_dot_product_attention"})
    for den, m in ((den_v, video), (den_a, audio)):  # x0 comes back in the sampler state's float32
        assert den is None or den.dtype == m.latent.dtype == mx.float32


def test_quantized_transformer_in_compute_dtype(monkeypatch) -> None:
    """8-bit layers, with unfused float32 LoRA factors on two of them (stored in the compute dtype)."""
    case = next(c for c in CASES if c["config"] == "ltx23_av")
    model = tg.build(case, mx.bfloat16)
    quantize_transformer(model, group_size=32, bits=8)
    block = model.transformer_blocks[0]
    for layer in (block.attn1.to_q, block.attn2.to_k):
        out, inp = linear_shape(layer)
        add_adapters(layer, [(mx.ones((2, inp)), mx.ones((out, 2)), 0.5)])
    video, audio = _f32_inputs(case)
    with operand_dtypes(monkeypatch) as calls:
        mx.eval(model(video, audio))
    _assert_only(calls, mx.bfloat16, {"QuantizedLinear", "quantized_matmul", "scaled_dot_product_attention"})


UNTILED = [c for c in vg.cases("video_encoder") + vg.cases("video_decoder") if "tiling" not in c[1]]


@pytest.mark.parametrize("dtype", DTYPES, ids=["bfloat16", "float16"])
@pytest.mark.parametrize(("name", "info"), UNTILED, ids=[c[0] for c in UNTILED])
def test_video_vae_convolutions_in_compute_dtype(name: str, info: dict, dtype: mx.Dtype, monkeypatch) -> None:
    component = "video_encoder" if "encoder" in name else "video_decoder"
    model = _cast(vg.build(info, component), dtype)
    inputs = vg.tensors(name, info, "inputs")
    with operand_dtypes(monkeypatch) as calls:
        # float32 pixels into the encoder, the float32 sampler state into the decoder
        out = model(mx.array(inputs["video" if component == "video_encoder" else "latent"]))
        mx.eval(out)
    assert out.dtype == dtype
    _assert_only(calls, dtype, {"conv3d"})


@pytest.mark.parametrize("dtype", DTYPES, ids=["bfloat16", "float16"])
@pytest.mark.parametrize("case", CASES, ids=[f"{c['config']}-{c['case']}" for c in CASES])
def test_half_precision_transformer_parity(case: dict, dtype: mx.Dtype) -> None:
    """bfloat16 / float16 weights, float32 inputs: the velocities within 2e-2 of the float64 goldens (measured:
    bfloat16 7.0e-3 - 1.35e-2, float16 7.7e-4 - 2.1e-3 of max|ref| over the committed cases)."""
    model = tg.build(case, dtype)
    video, audio = _f32_inputs(case)
    vx, ax = model(video, audio, tg.perturbations(case, model.args.num_layers))
    ref = group(load(tg.FAMILY, case["file"]), "outputs_f64")
    for name, value in (("video.velocity", vx), ("audio.velocity", ax)):
        if name in ref:
            assert value is not None and value.dtype == dtype
            assert_parity(value.astype(mx.float32), ref[name], BF16_REL, f"{name} ({dtype})")


def test_float32_inputs_match_cast_inputs() -> None:
    """A bfloat16 model given float32 inputs computes exactly what it computes from inputs cast beforehand."""
    case = next(c for c in CASES if c["config"] == "ltx2_av")
    model = tg.build(case, mx.bfloat16)
    video, audio = _f32_inputs(case)
    cast = [
        replace(m, latent=m.latent.astype(mx.bfloat16), context=m.context.astype(mx.bfloat16)) for m in (video, audio)
    ]
    for x, y in zip(model(video, audio), model(*cast), strict=True):
        assert mx.array_equal(x, y)
