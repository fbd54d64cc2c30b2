"""Neighborhood attention and the 2.5 NA blocks against the reference's float64 goldens (family vae25).

Every NA implementation (reference gather, blocked-dense at several block sizes, the Metal kernel where a Metal GPU
exists) runs every na3d case; the modules run the det-attention, NABlock and chunked_eager residual cases.
Tolerance 1e-4·max|ref|.
"""

from __future__ import annotations

from functools import partial

import mlx.core as mx
import numpy as np
import pytest

from mlx_ltx_core.model.video_vae import na_metal
from mlx_ltx_core.model.video_vae.na_blocks import NABlock, NeighborhoodAttention3D, w_chunked_attention_residual
from mlx_ltx_core.model.video_vae.neighborhood_attention import (
    na3d,
    na3d_blocked,
    na3d_reference,
    score_chunks,
    window_starts,
)

from ltx_testing import assert_parity, group, load, manifest

REL = 1e-4
FAMILY = "vae25"


def _cases(prefix: str) -> list[tuple[str, dict]]:
    return sorted((k, v) for k, v in manifest(FAMILY)["cases"].items() if k.startswith(prefix))


def _tensors(info: dict, prefix: str) -> dict[str, mx.array]:
    return {k: mx.array(v.astype(np.float32)) for k, v in group(load(FAMILY, info["file"]), prefix).items()}


NA3D = _cases("na3d_")
IMPLS = {
    "reference": na3d_reference,
    "blocked_auto": na3d_blocked,
    "blocked_1": partial(na3d_blocked, blocks=(1, 1, 1)),
    "blocked_2x3x4": partial(na3d_blocked, blocks=(2, 3, 4)),
    "blocked_whole": partial(na3d_blocked, blocks=(16, 16, 16)),
    # Chunked score budgets (na3d_volume with (1, 2, 2) blocks: 1152 score elements a block, grid 4×5×5): one block a
    # call, part of a W row (3 + 2), whole rows of part of a plane (2 + 2 + 1), whole planes (2 + 2).
    "blocked_chunk_1": partial(na3d_blocked, blocks=(1, 2, 2), score_budget=1),
    "blocked_chunk_w": partial(na3d_blocked, blocks=(1, 2, 2), score_budget=3 * 1152),
    "blocked_chunk_h": partial(na3d_blocked, blocks=(1, 2, 2), score_budget=12 * 1152),
    "blocked_chunk_t": partial(na3d_blocked, blocks=(1, 2, 2), score_budget=60 * 1152),
    "dispatch": na3d,
    "metal": na_metal.na3d_metal,
}


@pytest.mark.parametrize("impl", list(IMPLS))
@pytest.mark.parametrize(("name", "info"), NA3D, ids=[c[0] for c in NA3D])
def test_na3d(name: str, info: dict, impl: str) -> None:
    if impl == "metal" and not na_metal.usable(mx.zeros((1,))):
        pytest.skip("no Metal GPU: the kernel path runs only on Apple silicon")
    x = _tensors(info, "inputs")
    out = IMPLS[impl](x["q"], x["k"], x["v"], info["kernel_size"])
    assert out.dtype == mx.float32
    assert_parity(out, np.asarray(_tensors(info, "outputs")["out"]), REL, f"{name} {impl}")


def test_score_chunks_bound_one_call() -> None:
    assert score_chunks((4, 8, 10), 100, budget=350) == (1, 1, 3)  # part of a W row
    assert score_chunks((4, 8, 10), 100, budget=2500) == (1, 2, 10)  # whole W rows
    assert score_chunks((4, 8, 10), 100, budget=17000) == (2, 8, 10)  # whole planes
    assert score_chunks((4, 8, 10), 100, budget=1) == (1, 1, 1)


def test_window_starts_shift_inward() -> None:
    assert window_starts(7, 5).tolist() == [0, 0, 0, 1, 2, 2, 2]
    assert window_starts(3, 7).tolist() == [0, 0, 0]  # K' = L


def test_na3d_refuses_even_kernels() -> None:
    q = mx.zeros((1, 3, 3, 3, 1, 8))
    with pytest.raises(ValueError, match="odd"):
        na3d_blocked(q, q, q, (3, 2, 3))


def test_the_metal_path_needs_a_metal_gpu() -> None:
    if not mx.metal.is_available():
        assert not na_metal.usable(mx.zeros((1, 8)))
    assert not na_metal.usable(mx.zeros((1, 512)))  # head_dim above the kernel's register arrays


def _load(module, info: dict, strip: str = "") -> None:
    weights = [(k.removeprefix(strip), v) for k, v in _tensors(info, "weights").items()]
    module.load_weights(weights, strict=True)


DET = _cases("na_attention_det") + _cases("na_block_det")


@pytest.mark.parametrize(("name", "info"), DET, ids=[c[0] for c in DET])
def test_det_modules(name: str, info: dict) -> None:
    cls = NeighborhoodAttention3D if info["module"] == "NeighborhoodAttention3D" else NABlock
    module = cls(info["dim"], info["kernel_size"], info["head_dim"])
    _load(module, info)
    out = module(_tensors(info, "inputs")["x"])
    assert_parity(out, np.asarray(_tensors(info, "outputs")["out"]), REL, name)


CHUNKED = _cases("na_chunked_")


@pytest.mark.parametrize(("name", "info"), CHUNKED, ids=[c[0] for c in CHUNKED])
def test_chunked_residual(name: str, info: dict) -> None:
    import mlx.nn as nn

    attn = NeighborhoodAttention3D(info["dim"], info["kernel_size"], info["head_dim"])
    norm = nn.RMSNorm(info["dim"], eps=1e-6)
    weights = _tensors(info, "weights")
    attn.load_weights([(k[5:], v) for k, v in weights.items() if k.startswith("attn.")], strict=True)
    norm.load_weights([("weight", weights["norm1.weight"])], strict=True)
    x = _tensors(info, "inputs")
    out = w_chunked_attention_residual(x["x"], attn, norm, x["scale"], x["shift"], info["w_chunks"])
    assert_parity(out, np.asarray(_tensors(info, "outputs")["out"]), REL, name)
