"""Which model folder and text encoder a command uses: `tiny`, a converted folder, a checkpoint, or a repo id.

A Lightricks checkpoint (a local .safetensors, a repo or a repo file `OWNER/NAME/FILE.safetensors`) is converted once
into `$LTX_CACHE` (default `$XDG_CACHE_HOME/mlx-ltx`, else ~/.cache/mlx-ltx) and reused; a pre-converted repo (one with
model_index.json) is used as it is. Repos come from huggingface_hub's cache when it holds them (no network, so
HF_HUB_OFFLINE=1 works), else from the hub (mlx_ltx_core.hub_cache).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL_REPO = "Lightricks/LTX-2.3"
DEFAULT_TEXT_ENCODER_REPO = "google/gemma-3-12b-it-qat-q4_0-unquantized"
# `--model tiny` / `tiny-2` (a tiny random LTX-2.3 / LTX-2) and `--model tiny-2.5` (LTX-2.5: its Gemma 4 inside the
# model folder).
TINY_MODELS = ("tiny", "tiny-2", "tiny-2.5")
_PICKLE = (".bin", ".pt", ".pth", ".ckpt")


@dataclass(frozen=True)
class ResolvedModel:
    folder: Path
    text_encoder: str | None
    tiny: bool = False


def cache_root() -> Path:
    """$LTX_CACHE, else mlx-ltx under $XDG_CACHE_HOME (where huggingface_hub also puts its cache), else ~/.cache."""
    if os.environ.get("LTX_CACHE"):
        return Path(os.environ["LTX_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mlx-ltx"


def resolve_model(
    model: str | None,
    checkpoint_path: str | None,
    model_repo: str | None,
    text_encoder_path: str | None,
    text_encoder_repo: str | None,
    quantize: int | None,
    variant: str,
    extra_files: tuple[str, ...] = (),
    revision: str | None = None,
) -> ResolvedModel:
    """The model folder to run and the Gemma to use (path or repo id; None: the folder's own text_encoder, LTX-2.5)."""
    text = text_encoder_path or text_encoder_repo
    if text_encoder_path is not None and not Path(text_encoder_path).is_dir():
        raise ValueError(f"--text-encoder-path {text_encoder_path}: no such folder; pass a Gemma 3 folder")
    if model in ("tiny", "tiny-2"):
        from mlx_ltx_cli.tiny import TINY_MODELS as BUILDS
        from mlx_ltx_cli.tiny import tiny_model

        folder, gemma = tiny_model(progress=print, tiny=BUILDS[model])
        return ResolvedModel(folder, text or str(gemma), tiny=True)
    if model == "tiny-2.5":
        from mlx_ltx_cli.tiny25 import tiny_model_25

        return ResolvedModel(tiny_model_25(progress=print), text, tiny=True)
    source = checkpoint_path or model
    if source is not None:
        folder = _local(source, quantize, extra_files, variant, revision)
        return ResolvedModel(folder, text or _default_text_encoder(folder))
    folder = _repo(model_repo or DEFAULT_MODEL_REPO, quantize, variant, revision)
    return ResolvedModel(folder, text or _default_text_encoder(folder))


def _default_text_encoder(folder: Path) -> str | None:
    """Gemma 3 12B, unless the model folder holds its own text encoder (LTX-2.5's Gemma 4, converted with it)."""
    from mlx_ltx_core.component_format import read_model_index

    components = read_model_index(folder).get("components", {}).values()
    return None if any(c.get("component") == "text_encoder" for c in components) else DEFAULT_TEXT_ENCODER_REPO


def _local(source: str, quantize: int | None, extra_files: tuple[str, ...], variant: str, revision: str | None) -> Path:
    from mlx_ltx_core.component_format import recover_swaps

    path = Path(source)
    recover_swaps(path)  # a killed `ltx convert --overwrite` may have left the model beside its name
    if path.is_dir():
        if not (path / "model_index.json").exists():
            raise ValueError(f"{path}: not a converted model folder (no model_index.json); run `ltx convert` first")
        return path
    if path.suffix in _PICKLE:
        raise ValueError(f"{path}: pickle checkpoints are not loaded (unsafe); use the .safetensors release")
    if path.suffix == ".safetensors" and path.is_file():
        return _convert_cached([path, *map(Path, extra_files)], quantize)
    if path.suffix == ".safetensors":  # OWNER/NAME/FILE.safetensors, as `ltx convert` reads it
        from mlx_ltx_convert.hub import HubRequest, parse_source, resolve

        try:
            parse_source(source)
        except ValueError:
            raise ValueError(
                f"{path}: no such checkpoint file; pass a .safetensors file or a repo file OWNER/NAME/FILE.safetensors"
            ) from None
        paths, origins = resolve([source, *extra_files], HubRequest(), revision)
        return _convert_cached(paths, quantize, origins)
    from mlx_ltx_core.repo_id import parse_repo_id

    repo = parse_repo_id(source)
    if repo is not None and repo.file is None and not path.exists():
        return _repo(repo.repo, quantize, variant, revision)
    raise ValueError(f"{source}: not a model folder, a .safetensors checkpoint or a Hugging Face repo id")


def _convert_cached(paths: list[Path], quantize: int | None, origins: dict[str, str] | None = None) -> Path:
    """Convert once: the cache key is the files' names, sizes and mtimes plus the quantization."""
    from mlx_ltx_convert.convert import convert
    from mlx_ltx_convert.quantize import QuantizeOptions
    from mlx_ltx_convert.report import progress_bar

    stamp = [(p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in paths]
    key = hashlib.sha256(json.dumps([stamp, quantize]).encode()).hexdigest()[:16]
    out = cache_root() / "converted" / f"{paths[0].stem}-{key}"
    if (out / "model_index.json").exists():
        return out
    options = QuantizeOptions(quantize, 64) if quantize else None
    with progress_bar(paths) as advance:
        convert(paths, out, quantize=options, overwrite=True, origins=origins, progress=advance)
    return out


def _repo(repo: str, quantize: int | None, variant: str, revision: str | None) -> Path:
    """A pre-converted repo (it has model_index.json) is used as it is; a Lightricks repo is fetched and converted."""
    from mlx_ltx_convert.hub import HubRequest, resolve
    from mlx_ltx_core.hub_cache import download_snapshot, list_files

    if "model_index.json" in list_files(repo, revision):
        if quantize is not None:
            raise ValueError(
                f"--quantize {quantize} quantizes a checkpoint as it is converted, and {repo} is a converted model: "
                f"convert its checkpoint with `ltx convert CHECKPOINT -o DIR --quantize {quantize}` (or drop it)"
            )
        return download_snapshot(repo, revision)
    request = HubRequest(variant, False, ("spatial-x2",), ("*distilled-lora*",))
    paths, origins = resolve([repo], request, revision)
    return _convert_cached(list(paths), quantize, origins)
