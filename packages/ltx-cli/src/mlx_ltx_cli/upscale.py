"""`ltx upscale`: the output checks and the files around ``LatentUpscalePipeline`` (encode → ×2 / ×1.5 → refine →
decode)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run_upscale(
    source: Path,
    output: Path,
    resolved: Any,
    refine: bool,
    prompt: str | None,
    seed: int,
    overwrite: bool,
    progress,
    spatial_upscale: float = 2.0,
) -> Path:
    from mlx_ltx_pipelines.pipelines import LatentUpscalePipeline, UpscaleRequest

    if output.exists() and not overwrite:
        raise ValueError(f"{output} already exists; pass --overwrite or choose another --output")
    request = UpscaleRequest(source, refine=refine, prompt=prompt, seed=seed, spatial_upscale=spatial_upscale)
    pipeline = LatentUpscalePipeline(resolved.folder, resolved.text_encoder)
    pipeline.check(request)
    if (output.suffix.lower() == ".png") != request.is_image:
        raise ValueError(f"--output {output}: write a .png for an image input and an .mp4 for a video input")
    result = pipeline(request, progress=progress)
    if request.is_image:
        return _write_png(output, result, progress)
    return result.save(output, overwrite=overwrite, progress=progress)


def _write_png(output: Path, result: Any, progress) -> Path:
    from PIL import Image

    (frame,) = [f for chunk in result.video_chunks(progress) for f in chunk]
    progress("write", 0, 1)
    tmp = output.with_name(f".{output.name}.partial.png")
    Image.fromarray(frame).save(tmp)
    tmp.replace(output)
    progress("write", 1, 1)
    return output
