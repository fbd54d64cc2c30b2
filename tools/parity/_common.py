"""Shared plumbing of the tiny-reference golden generators (video VAE, audio, text).

Each generator builds official ``ltx_core`` modules at tiny size with random weights, runs them in float32 and
float64 on CPU, and writes ``<case>.safetensors`` (``weights.<real checkpoint key>``, ``inputs.*``,
``outputs_f64.*``, ``intermediates.*``) plus ``manifest.json`` into ``--out/<family>/``.

Import this module before ``ltx_core``: it honours ``--ltx-core-src`` by putting that source tree first on
``sys.path`` (a Lightricks/LTX-2 checkout or its ``packages/ltx-core/src``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

if "--ltx-core-src" in sys.argv:
    _src = os.path.abspath(sys.argv[sys.argv.index("--ltx-core-src") + 1])
    if os.path.isdir(os.path.join(_src, "packages", "ltx-core", "src")):
        _src = os.path.join(_src, "packages", "ltx-core", "src")
    sys.path.insert(0, _src)

import torch
from safetensors.torch import save_file

torch.set_grad_enabled(False)

# --seed N shifts every generator seed, so goldens made with another N share no weight or input.
SEED = 0


def S(base: int) -> int:
    return base + 7919 * SEED


def parse_args(description: str, cases: list[str]) -> argparse.Namespace:
    global SEED
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--out", default="/tmp/ltx_goldens", help="goldens root (a family sub-folder is written)")
    ap.add_argument("--seed", type=int, default=0, help="shifts every weight and input seed (0 = committed goldens)")
    ap.add_argument("--only", default="", help=f"comma-separated cases out of: {', '.join(cases)}")
    ap.add_argument("--ltx-core-src", default=None, help="Lightricks/LTX-2 checkout to run instead of PyPI ltx-core")
    args = ap.parse_args()
    SEED = args.seed
    return args


def fill_special_(model: torch.nn.Module, seed: int) -> None:
    """Default torch init (seeded before construction) covers conv/linear weights.
    Here we overwrite everything that is created empty/zero/one by ltx_core so the
    test exercises every term: per-channel statistics (torch.empty in 1.0.0),
    scale-shift tables, noise scales, GroupNorm/RMSNorm affines, snake alpha/beta."""
    g = torch.Generator().manual_seed(S(seed))

    def rn(shape, scale=1.0):
        return torch.randn(shape, generator=g) * scale

    for name, buf in model.named_buffers():
        leaf = name.rsplit(".", 1)[-1]
        if leaf == "mean-of-means":
            buf.copy_(rn(buf.shape, 0.2))
        elif leaf == "std-of-means":
            buf.copy_(0.5 + torch.rand(buf.shape, generator=g))
    for name, p in model.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if "scale_shift_table" in leaf or leaf.startswith("per_channel_scale"):
            p.copy_(rn(p.shape, 0.1))
        elif leaf in ("alpha", "beta"):  # Snake / SnakeBeta (log-scale parameters)
            p.copy_(rn(p.shape, 0.2))
        elif leaf == "timestep_scale_multiplier":
            p.fill_(1000.0)
    for m in model.modules():
        if isinstance(m, torch.nn.GroupNorm) and m.affine:
            m.weight.copy_(1.0 + rn(m.weight.shape, 0.1))
            m.bias.copy_(rn(m.bias.shape, 0.1))
        if isinstance(m, torch.nn.RMSNorm) and m.weight is not None:
            m.weight.copy_(1.0 + rn(m.weight.shape, 0.1))


def record_intermediates(model: torch.nn.Module, names: list[str]) -> tuple[dict, list]:
    store: dict[str, torch.Tensor] = {}
    handles = []
    mods = dict(model.named_modules())
    for n in names:
        if n not in mods:
            continue

        def hook(_m, _inp, out, n=n):
            if isinstance(out, torch.Tensor):
                key = n if n not in store else f"{n}#{sum(k.split('#')[0] == n for k in store)}"
                store[key] = out.detach().float().clone()

        handles.append(mods[n].register_forward_hook(hook))
    return store, handles


def top_level_names(model: torch.nn.Module, depth: int = 1) -> list[str]:
    return [n for n, _ in model.named_modules() if n and n.count(".") < depth]


def state_dict_with_prefix(model: torch.nn.Module, prefix_fn: Callable[[str], str]) -> dict[str, torch.Tensor]:
    return {prefix_fn(k): v.detach().float().contiguous().clone() for k, v in model.state_dict().items()}


def vae_prefix(part: str) -> Callable[[str], str]:
    # ltx_core SDOps: "vae.decoder." -> "", "vae.per_channel_statistics." -> "per_channel_statistics."
    def f(k: str) -> str:
        if k.startswith("per_channel_statistics."):
            return "vae." + k
        return f"vae.{part}." + k

    return f


def audio_vae_prefix(part: str) -> Callable[[str], str]:
    def f(k: str) -> str:
        if k.startswith("per_channel_statistics."):
            return "audio_vae." + k
        return f"audio_vae.{part}." + k

    return f


def run_both(
    model: torch.nn.Module,
    fn: Callable[[torch.nn.Module, torch.dtype], dict[str, torch.Tensor]],
    intermediates: list[str] | None = None,
):
    """Run fn(model, dtype) in float32 (with optional hooks) and float64 (on a double copy)."""
    import copy

    store, handles = record_intermediates(model, intermediates or [])
    out32 = fn(model.float(), torch.float32)
    for h in handles:
        h.remove()
    m64 = copy.deepcopy(model).double()
    out64 = fn(m64, torch.float64)
    return out32, out64, store


MANIFEST: dict[str, Any] = {"torch": torch.__version__, "cases": {}}


def save_case(
    out_dir: str, case: str, weights: dict, inputs: dict, out32: dict, out64: dict, inter: dict, info: dict
) -> None:
    tensors: dict[str, torch.Tensor] = {}
    tensors.update({f"weights.{k}": v for k, v in weights.items()})
    tensors.update({f"inputs.{k}": v.contiguous() for k, v in inputs.items()})
    tensors.update({f"outputs_f32.{k}": v.float().contiguous() for k, v in out32.items()})
    tensors.update(
        {f"outputs_f64.{k}": v.float().contiguous() for k, v in out64.items()}
    )  # the float64 run, stored rounded to float32 (6e-8 relative: far below every tolerance, half the bytes)
    tensors.update({f"intermediates.{k}": v.contiguous() for k, v in inter.items()})
    save_file(tensors, os.path.join(out_dir, f"{case}.safetensors"))
    diffs = {k: float((out32[k].double() - out64[k].double()).abs().max()) if out32[k].numel() else 0.0 for k in out32}
    info = dict(info)
    info.update(
        inputs={k: list(v.shape) for k, v in inputs.items()},
        outputs={k: list(v.shape) for k, v in out64.items()},
        f32_vs_f64_max_abs_diff=diffs,
        output_abs_max={k: float(v.abs().max()) if v.numel() else 0.0 for k, v in out64.items()},
        n_weights=len(weights),
        n_intermediates=len(inter),
    )
    info["file"] = f"{case}.safetensors"
    MANIFEST["cases"][case] = info
    print(f"[{case}] in={info['inputs']} out={info['outputs']} f32-f64 maxdiff={diffs}")


def save_hidden_states(
    out_dir: str, case: str, run: Callable[[torch.dtype], torch.Tensor], ids: torch.Tensor, mask: torch.Tensor, **info
) -> torch.Tensor:
    """A Gemma hidden-states case: ``run(dtype)`` → (B, T, D, L) in float32 and float64 (saved, the ground truth)
    for the token ``ids`` / ``mask`` (B, T); ``info`` goes to the manifest. Returns the float64 states."""
    outs = {dt: run(dt) for dt in (torch.float32, torch.float64)}
    inputs = {"input_ids": ids.to(torch.int32), "attention_mask": mask.to(torch.int32)}
    save_case(out_dir, case, {}, inputs, {}, {"hidden_states_BTDL": outs[torch.float64]}, {}, {})
    diff = float((outs[torch.float32].double() - outs[torch.float64]).abs().max())
    note = info.pop("note")
    MANIFEST["cases"][case].update(
        **info,
        valid_tokens=mask.sum(-1).tolist(),
        f32_vs_f64_max_abs_diff={"hidden_states_BTDL": diff},
        note=note,
    )
    return outs[torch.float64]


def write_manifest(out_dir: str, family: str, only: bool) -> None:
    """Write (or, for a partial --only run, merge into) OUT/<family>/manifest.json."""
    import ltx_core

    MANIFEST.update(family=family, seed=SEED, ltx_core_path=os.path.dirname(ltx_core.__file__))
    path = os.path.join(out_dir, "manifest.json")
    if only and os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
        old["cases"].update(MANIFEST["cases"])
        MANIFEST["cases"] = old["cases"]
    with open(path, "w") as f:
        json.dump(MANIFEST, f, indent=1, default=str)
    print("wrote", out_dir)
