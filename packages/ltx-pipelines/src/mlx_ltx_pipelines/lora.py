"""LoRA files and their fusion into the transformer at load time (ports ltx_core/loader/fuse_loras.py, the
LoRA key map of loader/sd_ops.py and ``read_lora_reference_downscale_factor`` of ltx_pipelines/iclora_utils.py).

``W' = W + Σ_i strength_i · B_i @ A_i`` for every weight a LoRA touches; like the reference, no alpha/rank scaling
is read. ``apply_loras`` (what the pipelines call) fuses into float layers and puts unfused adapters
(``y = W·x + s·B·(A·x)``, mlx_ltx_core's ``lora_linear``) on quantized ones: re-quantizing ``W + s·B·A`` (the
``"fused"`` mode: dequantized, fused, re-quantized with the layer's group size and bits) can lose more than a small
LoRA's whole update.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import mlx.core as mx
import mlx.nn as nn
from mlx.utils import tree_flatten, tree_unflatten

from mlx_ltx_core.component_format import component_name, read_component
from mlx_ltx_core.repo_id import parse_repo_id
from mlx_ltx_pipelines.errors import ParameterError

LORA_PREFIX = "diffusion_model."
PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin", ".pkl", ".npz")  # torch.save / numpy formats: never unpickled
_FACTOR = re.compile(r"^(?:diffusion_model\.)?(?P<path>.+)\.lora_(?P<which>[AB])\.weight$")


@dataclass(frozen=True)
class LoRA:
    """One LoRA: ``factors[module path] = (A (rank, in), B (out, rank))``, its strength and file metadata."""

    source: str
    strength: float
    factors: dict[str, tuple[mx.array, mx.array]]
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def reference_downscale_factor(self) -> int:
        """IC-LoRA reference videos are encoded at 1/factor of the target size (metadata, default 1)."""
        return int(self.metadata.get("reference_downscale_factor", 1))


def resolve_lora_path(source: str | os.PathLike) -> Path:
    """A ``.safetensors`` file, a folder holding exactly one, or (when no such local path exists) a Hugging Face
    repo id ``owner/name`` holding one, or ``owner/name/file.safetensors`` (downloaded to the HF cache)."""
    path = Path(source)
    repo = parse_repo_id(source) if isinstance(source, str) and not path.exists() else None
    if repo is not None and (repo.file is None or repo.file.endswith(".safetensors")):
        from mlx_ltx_core.hub_cache import download_file, download_snapshot

        if repo.file:  # the cache first, the hub when it lacks the file; one line when neither has it
            path = download_file(repo.repo, repo.file, None)
        else:
            path = download_snapshot(repo.repo, None, allow_patterns=["*.safetensors"])
    if path.is_dir():
        files = sorted(path.glob("*.safetensors"))
        if len(files) != 1:
            names = ", ".join(f.name for f in files) or "none"
            raise ValueError(
                f"LoRA folder {path} must hold exactly one .safetensors file (found: {names}); pass the file"
            )
        return files[0]
    if not path.is_file():
        raise ValueError(f"LoRA {source} is not a file, a folder or a Hugging Face repo id")
    return path


def load_lora(source: str | os.PathLike, strength: float = 1.0) -> LoRA:
    """Read a LoRA in the Lightricks format: ``diffusion_model.<module>.lora_A.weight (rank, in)`` and
    ``.lora_B.weight (out, rank)``; ``.alpha`` entries are ignored (the reference does not read them)."""
    path = resolve_lora_path(source)
    check_lora_file(path)
    # mx.load's stub unions every format it reads; safetensors with metadata load as (arrays, metadata).
    tensors, metadata = cast(tuple[dict[str, mx.array], dict[str, str]], mx.load(str(path), return_metadata=True))
    halves: dict[str, dict[str, mx.array]] = {}
    for key, value in tensors.items():
        match = _FACTOR.match(key)
        if match is None:
            if key.endswith(".alpha"):
                continue
            raise ValueError(f"{path.name}: key {key} is not a LoRA factor (<module>.lora_A.weight / .lora_B.weight)")
        halves.setdefault(match["path"], {})[match["which"]] = value
    factors = {}
    for module, pair in halves.items():
        if len(pair) != 2:
            missing = "B" if "A" in pair else "A"
            raise ValueError(f"{path.name}: {LORA_PREFIX}{module}.lora_{missing}.weight is missing")
        factors[module] = (pair["A"], pair["B"])
    if not factors:
        raise ParameterError(
            "loras", f"LoRA {path}: holds no LoRA tensors (<module>.lora_A/B.weight); pass a LoRA file"
        )
    return LoRA(str(path), float(strength), factors, {**_converted_metadata(path), **(metadata or {})})


def lora_module(key: str) -> str | None:
    """The transformer module a LoRA key changes (``diffusion_model.<module>.lora_A.weight`` → ``<module>``), or
    None for a key that is not a LoRA factor."""
    match = _FACTOR.match(key)
    return match["path"] if match else None


def check_lora_file(path: Path) -> None:
    """Refuse, by name and before any parsing, a pickle-based file or one that is not safetensors (0 bytes, ...)."""
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise ParameterError(
            "loras", f"LoRA {path}: pickle-based {path.suffix} is not loaded: convert it to .safetensors"
        )
    with open(path, "rb") as f:
        head = f.read(9)
    if head[:2] == b"PK" or head[:1] == b"\x80":  # a zip (torch.save) or a raw pickle
        raise ParameterError(
            "loras", f"LoRA {path}: a pickle file, not safetensors (not loaded): convert it to .safetensors"
        )
    size = path.stat().st_size
    if len(head) < 9 or head[8:9] != b"{" or int.from_bytes(head[:8], "little") + 8 > size:
        raise ParameterError(
            "loras", f"LoRA {path}: {size} bytes, not a safetensors file (truncated?); pass a .safetensors LoRA"
        )


def _converted_metadata(path: Path) -> dict[str, str]:
    """An ltx-convert LoRA folder keeps the file's metadata (e.g. reference_downscale_factor) in its config.json."""
    if component_name(path.parent) != "lora":
        return {}
    config = read_component(path.parent, "lora").config
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def reference_downscale_factor(loras: Sequence[LoRA]) -> int:
    """The IC-LoRA reference downscale factor of a set of LoRAs (1 if none sets it); different factors conflict."""
    factor, origin = 1, None
    for lora in loras:
        f = lora.reference_downscale_factor
        if f != 1 and factor not in (1, f):
            raise ValueError(
                f"LoRAs disagree on reference_downscale_factor: {origin} has {factor}, {lora.source} has {f}"
            )
        if f != 1:
            factor, origin = f, lora.source
    return factor


def _logical_shape(weights: dict[str, mx.array], module: str, bits: int | None) -> tuple[int, ...]:
    w = weights[f"{module}.weight"]
    if f"{module}.scales" in weights:
        assert bits is not None  # a quantized layer records its bits
        return w.shape[0], w.shape[1] * 32 // bits
    return tuple(w.shape)


def _fitting_factors(
    module: str, shape: tuple[int, ...], loras: Sequence[LoRA]
) -> list[tuple[LoRA, mx.array, mx.array]]:
    """(LoRA, A, B) of every LoRA touching ``module``, after checking each fits its ``shape`` (out, in)."""
    found = []
    for lora in loras:
        if module not in lora.factors:
            continue
        a, b = lora.factors[module]
        if a.ndim != 2 or b.ndim != 2 or (b.shape[0], a.shape[1]) != shape or a.shape[0] != b.shape[1]:
            raise ValueError(
                f"{Path(lora.source).name}: {LORA_PREFIX}{module}.lora_A.weight {tuple(a.shape)} / lora_B.weight "
                f"{tuple(b.shape)} do not fit {module}.weight {shape}: the LoRA is for another model"
            )
        found.append((lora, a, b))
    return found


def _delta(module: str, shape: tuple[int, ...], loras: Sequence[LoRA]) -> mx.array | None:
    """``Σ strength · B @ A`` in float32 for one module, after checking every factor fits ``shape``."""
    delta = None
    for lora, a, b in _fitting_factors(module, shape, loras):
        term = lora.strength * (b.astype(mx.float32) @ a.astype(mx.float32))
        delta = term if delta is None else delta + term
    return delta


def _recipe(quantization: dict | None, module: str) -> dict:
    """``{"group_size", "bits"}`` for all layers, or a per-module mapping of them."""
    quantization = quantization or {}
    return quantization if "bits" in quantization else quantization.get(module, {})


def fuse_lora_weights(
    weights: dict[str, mx.array], loras: Sequence[LoRA], quantization: dict | None = None, strict: bool = True
) -> dict[str, mx.array]:
    """The weights the LoRAs change (MLX keys): float weights fused in float32 and cast back, quantized ones
    (``<module>.scales`` present) dequantized, fused and re-quantized with their group size and bits
    (``quantization``: one ``{"group_size", "bits"}`` or a ``{module: {...}}`` mapping). A LoRA module the
    weights lack is an error, or skipped with ``strict=False`` (the reference skips it silently)."""
    modules = sorted({m for lora in loras if lora.strength != 0 for m in lora.factors})
    fused: dict[str, mx.array] = {}
    for module in modules:
        key = f"{module}.weight"
        if key not in weights and not strict:
            continue
        if key not in weights:
            lora = next(x for x in loras if module in x.factors)
            raise ValueError(
                f"{Path(lora.source).name}: {LORA_PREFIX}{module}.lora_A.weight targets {key}, which this "
                "transformer does not have: the LoRA is for another model"
            )
        quantized = f"{module}.scales" in weights
        quant = _recipe(quantization, module)
        if quantized and "bits" not in quant:
            raise ValueError(f"{key} is quantized: pass quantization={{'group_size': ..., 'bits': ...}}")
        delta = _delta(module, _logical_shape(weights, module, quant.get("bits")), loras)
        if delta is None:
            continue
        if quantized:
            fused.update(_fuse_quantized(weights, module, delta, quant["group_size"], quant["bits"]))
        else:
            fused[key] = (weights[key].astype(mx.float32) + delta).astype(weights[key].dtype)
    return fused


def lora_transform(
    loras: Sequence[LoRA], quantization: dict | None = None
) -> Callable[[dict[str, mx.array]], dict[str, mx.array]]:
    """``weights → weights`` with ``loras`` fused into the modules that part of the transformer holds (a block
    group of the low-memory mode, or the resident rest): ``fuse_lora_weights`` on a subset, so check first."""

    def fuse(weights: dict[str, mx.array]) -> dict[str, mx.array]:
        return {**weights, **fuse_lora_weights(weights, loras, quantization, strict=False)}

    return fuse


def _fuse_quantized(weights: dict[str, mx.array], module: str, delta: mx.array, group_size: int, bits: int) -> dict:
    scales = weights[f"{module}.scales"]
    biases = weights.get(f"{module}.biases")
    w = mx.dequantize(weights[f"{module}.weight"], scales, biases, group_size=group_size, bits=bits)
    q, s, b = mx.quantize(w.astype(mx.float32) + delta, group_size=group_size, bits=bits)
    out = {f"{module}.weight": q, f"{module}.scales": s.astype(scales.dtype)}
    if biases is not None:
        out[f"{module}.biases"] = b.astype(biases.dtype)
    return out


def _model_quantization(model: nn.Module) -> dict[str, dict]:
    """Each quantized layer's own recipe."""
    return {
        path: {"group_size": m.group_size, "bits": m.bits}
        for path, m in model.named_modules()
        if isinstance(m, nn.QuantizedLinear)
    }


def fuse_loras(
    target: nn.Module | dict[str, mx.array],
    loras: Sequence[LoRA],
    quantization: dict | None = None,
    strict: bool = True,
) -> nn.Module | dict[str, mx.array]:
    """Fuse ``loras`` into a loaded ``LTXModel`` (in place; quantized layers keep their recipe) or into an MLX
    weight dict (a new dict returned; pass ``quantization`` if it holds quantized layers)."""
    if not isinstance(target, nn.Module):  # (an nn.Module is a dict too)
        return {**target, **fuse_lora_weights(target, loras, quantization, strict)}
    weights = dict(tree_flatten(target.parameters()))
    fused = fuse_lora_weights(weights, loras, quantization or _model_quantization(target), strict)
    if fused:
        target.update(tree_unflatten(list(fused.items())))
    return target


LORA_MODES = ("auto", "fused", "unfused")


def apply_loras(model: nn.Module, loras: Sequence[LoRA], mode: str = "auto", strict: bool = True) -> nn.Module:
    """Apply ``loras`` to a loaded ``LTXModel`` in place. ``mode``: ``"auto"`` fuses into float layers and adds
    unfused adapters to quantized ones, ``"fused"`` fuses everywhere (quantized layers re-quantized),
    ``"unfused"`` adds adapters everywhere. Errors (and ``strict``) as ``fuse_loras``."""
    loras = [lora for lora in loras if lora.strength != 0]
    rest, unfused = _split(model, loras, mode)
    fuse_loras(model, rest, strict=strict)
    _add_adapters(model, loras, unfused)
    return model


def stream_loras(model: nn.Module, loras: Sequence[LoRA], mode: str = "auto") -> nn.Module:
    """``apply_loras`` for a low-memory ``LTXModel`` (its blocks hold placeholders until a forward reads them):
    every LoRA is checked against the whole model first, the unfused adapters are added (they stay loaded beside
    the streamed weights), the resident layers fused now and the block layers fused into each group as it is read."""
    from mlx_ltx_core.model.transformer.streaming import BlockStream, block_of

    stream = getattr(model, "block_stream", None)
    if not isinstance(stream, BlockStream):
        raise ValueError("stream_loras takes a low-memory transformer (load_transformer(..., low_memory=True))")
    loras = [lora for lora in loras if lora.strength != 0]
    quantization = _model_quantization(model)
    weights = dict(tree_flatten(model.parameters()))  # the blocks' placeholders have the weights' shapes
    fuse_lora_weights(weights, loras, quantization)  # a LoRA that does not fit: refused now (lazy, discarded)
    rest, unfused = _split(model, loras, mode)
    _add_adapters(model, loras, unfused)
    resident = fuse_lora_weights({k: v for k, v in weights.items() if block_of(k) is None}, rest, quantization, False)
    if resident:
        model.update(tree_unflatten(list(resident.items())))
        mx.eval(list(resident.values()))
    stream.transform = lora_transform(rest, quantization)
    return model


def _split(model: nn.Module, loras: Sequence[LoRA], mode: str) -> tuple[list[LoRA], list[str]]:
    """(the LoRAs less the modules ``mode`` leaves unfused, those modules)."""
    if mode not in LORA_MODES:
        raise ParameterError("lora_mode", f"lora_mode={mode!r}: choose one of {', '.join(LORA_MODES)}")
    layers = dict(model.named_modules())
    unfused = sorted(
        m
        for m in {m for lora in loras for m in lora.factors}
        if isinstance(layers.get(m), nn.Linear | nn.QuantizedLinear)
        and (mode == "unfused" or (mode == "auto" and isinstance(layers[m], nn.QuantizedLinear)))
    )
    rest = [LoRA(x.source, x.strength, {k: v for k, v in x.factors.items() if k not in unfused}) for x in loras]
    return rest, unfused


def _add_adapters(model: nn.Module, loras: Sequence[LoRA], modules: Sequence[str]) -> None:
    from mlx_ltx_core.model.transformer.lora_linear import add_adapters, linear_shape

    layers = dict(model.named_modules())
    for module in modules:
        layer = layers[module]
        found = _fitting_factors(module, linear_shape(layer), loras)
        add_adapters(layer, [(a, b, lora.strength) for lora, a, b in found])
