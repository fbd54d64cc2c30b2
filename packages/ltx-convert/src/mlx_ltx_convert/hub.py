"""Inputs given as Hugging Face repo ids: choose the few files a conversion needs and download only those.

``Lightricks/LTX-2.3`` picks the newest checkpoint of ``--variant`` (dev / distilled, ``--fp8``) plus the requested
upscalers and ``--include`` globs; a split release (``Lightricks/LTX-2.5``: one file per component in subfolders)
picks the variant's transformer file, the conv video VAE and the audio VAE files;
``Lightricks/LTX-2.3/ltx-2.3-22b-dev.safetensors`` names one file. A local path that exists always wins. The choice
(``select_repo_files``) is a pure function of the repo's file list; the files come from huggingface_hub's cache when
it holds them (``mlx_ltx_core.hub_cache``), so a cached repo converts offline.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

from mlx_ltx_convert.errors import ConversionError
from mlx_ltx_convert.safetensors_io import refuse_pickle
from mlx_ltx_core.hub_cache import cache_dir, cached_snapshot, download_file, hub_files, offline, snapshot_files
from mlx_ltx_core.repo_id import parse_repo_id

_CHECKPOINT = re.compile(r"ltx-[\d.]+-\d+b-(dev|distilled)(-fp8)?(?:-(\d+(?:\.\d+)*))?\.safetensors")
_FILE_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")
_UPSCALER = re.compile(r"ltx-[\d.]+-(spatial|temporal)-upscaler-x([\d.]+)-(\d+(?:\.\d+)*)\.safetensors")
# LTX-2.5's split release (shared/reference/ltx-2.5.md §1.1). The diffusion VAE and the NVFP4 transformer are not
# converted yet; the text-encoder file (text_encoders/gemma4-…-with-proj-…) joins when its conversion exists.
_SPLIT_TRANSFORMER = re.compile(r"diffusion_models/ltx-[\d.]+-\d+b-(dev|distilled)-transformer-bf16\.safetensors")
_SPLIT_PARTS = (r"vae/ltx-[\d.]+-video-vae-conv-bf16\.safetensors", r"vae/ltx-[\d.]+-audio-vae-bf16\.safetensors")
_SPLIT_UPSCALER = re.compile(
    r"latent_upscale_models/ltx-[\d.]+-latent-(spatial|temporal)-upscaler-x([\d.]+)-bf16-(\d+(?:\.\d+)*)\.safetensors"
)


@dataclass(frozen=True)
class HubRequest:
    """What to take from a repo given by id alone."""

    variant: str = "distilled"
    fp8: bool = False
    upscalers: tuple[str, ...] = ()  # "spatial-x2", "temporal-x2", … or "all"
    include: tuple[str, ...] = ()  # extra globs, e.g. "*distilled-lora-384*.safetensors"


def _release(version: str | None) -> tuple[int, ...]:
    return tuple(int(x) for x in (version or "1.0").split("."))


def select_repo_files(repo: str, files: list[str], request: HubRequest) -> list[str]:
    """The repo files a conversion needs: the newest matching checkpoint, upscalers and included files."""
    top = [f for f in files if "/" not in f]
    matches = [(m, f) for f in top if (m := _CHECKPOINT.fullmatch(f))]
    if not matches and any(_SPLIT_TRANSFORMER.fullmatch(f) for f in files):
        chosen = _split_release(repo, files, request)
    else:
        wanted = [(m, f) for m, f in matches if m.group(1) == request.variant and bool(m.group(2)) == request.fp8]
        if not wanted:
            kind = f"{request.variant}{' fp8' if request.fp8 else ''}"
            raise ConversionError(f"{repo}: no {kind} checkpoint among {[f for _, f in matches] or top[:8]}")
        chosen = [max(wanted, key=lambda mf: _release(mf[0].group(3)))[1]]
        chosen += _upscalers(repo, top, request.upscalers)
    for pattern in request.include:
        hits = sorted(fnmatch.filter(files, pattern))
        if not hits:
            raise ConversionError(f"{repo}: include pattern {pattern!r} matches no file", "include")
        chosen += [h for h in hits if h not in chosen]
    for name in chosen:
        refuse_pickle(Path(name))
    return chosen


def _split_release(repo: str, files: list[str], request: HubRequest) -> list[str]:
    """The variant's transformer file, the conv video VAE and audio VAE files, the requested upscalers."""
    if request.fp8:
        raise ConversionError(f"{repo}: a split release has no fp8 files; drop --fp8 (--quantize 8 makes it small)")
    transformers = [f for f in files if (m := _SPLIT_TRANSFORMER.fullmatch(f)) and m.group(1) == request.variant]
    if not transformers:
        raise ConversionError(f"{repo}: no {request.variant} transformer among {sorted(files)[:8]}")
    parts = [max(hits) for pattern in _SPLIT_PARTS if (hits := [f for f in files if re.fullmatch(pattern, f)])]
    return [max(transformers), *parts, *_upscalers(repo, files, request.upscalers, _SPLIT_UPSCALER)]


def _upscalers(
    repo: str, files: list[str], requested: tuple[str, ...], pattern: re.Pattern[str] = _UPSCALER
) -> list[str]:
    newest: dict[str, tuple[tuple[int, ...], str]] = {}
    for f in files:
        if m := pattern.fullmatch(f):
            name = f"{m.group(1)}-x{m.group(2)}"
            if name not in newest or _release(m.group(3)) > newest[name][0]:
                newest[name] = (_release(m.group(3)), f)
    names = sorted(newest) if "all" in requested else list(requested)
    missing = [n for n in names if n not in newest]
    if missing:
        raise ConversionError(f"{repo}: no upscaler {missing}; available: {sorted(newest)}")
    return [newest[n][1] for n in names]


def parse_source(source: str) -> tuple[str, str | None] | None:
    """``owner/name[/file]`` → (repo id, file or None); None when ``source`` is a local path.

    A missing path that cannot be a repo id (absolute, ``./…``, or ``dir/file.safetensors``) is an error, not a
    download: prefix ``hf://`` to force the hub.
    """
    if Path(source).exists():
        return None
    local = source.startswith(("/", ".", "~")) or (source.count("/") < 2 and Path(source).suffix in _FILE_SUFFIXES)
    if local and not source.startswith("hf://"):
        raise ConversionError(f"{source}: no such file")
    repo = parse_repo_id(source)
    if repo is None:
        raise ConversionError(f"{source}: no such file, and not a Hugging Face repo id (owner/name[/file])")
    return repo.repo, repo.file


def resolve(sources: list[str], request: HubRequest, revision: str | None = None) -> tuple[list[Path], dict[str, str]]:
    """Local paths for every source (repo files from the Hugging Face cache, or downloaded into it); origins by name."""
    paths: list[Path] = []
    origins: dict[str, str] = {}
    for source in sources:
        parsed = parse_source(source)
        if parsed is None:
            paths.append(Path(source))
            continue
        repo, file = parsed
        if file:
            refuse_pickle(Path(file))
        for name, path in _fetch(repo, file, request, revision):
            paths.append(path)
            origins[Path(name).name] = f"hf://{repo}/{name}@{revision or 'main'}"
    return paths, origins


def _fetch(repo: str, file: str | None, request: HubRequest, revision: str | None) -> list[tuple[str, Path]]:
    """(repo path, local path) of the files to convert: from the cached snapshot when it holds them all (no network
    at all), else listed and downloaded from the hub."""
    folder = cached_snapshot(repo, revision)
    if folder is not None:
        present = snapshot_files(folder)
        try:
            names = [file] if file else select_repo_files(repo, present, request)
        except ConversionError as e:
            if offline():  # the cache holds only some files of this repo, and the hub is off
                message = f"{e} (in the Hugging Face cache {cache_dir()}; HF_HUB_OFFLINE is set)"
                raise ConversionError(message, e.parameter) from e
            names = []
        if names and all(n in present for n in names):
            return [(n, folder / n) for n in names]
    names = [file] if file else select_repo_files(repo, hub_files(repo, revision), request)
    return [(n, download_file(repo, n, revision)) for n in names]
