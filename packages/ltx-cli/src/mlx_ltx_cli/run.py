"""`ltx generate` after parsing: check and claim every output, resolve the model, check the request, refuse what
does not fit memory, generate, write the files apart and publish them together (outputs.py)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from mlx_ltx_cli.checks import check_components, check_lora_targets
from mlx_ltx_cli.outputs import Output, Staged, check_outputs, staged_outputs
from mlx_ltx_cli.request import GenerateOptions, build_pipeline, build_request, check, parse_loras, pipeline_class


def run_generate(o: GenerateOptions) -> None:
    from mlx_ltx_cli.ranks import connect, rank_errors

    group = connect()  # launched on several ranks: connect before anything loads
    if group is not None and group.rank() != 0:
        o = dataclasses.replace(o, quiet=True)  # rank 0 alone prints
    with rank_errors(group):
        _generate(o, group)


def _generate(o: GenerateOptions, group: Any) -> None:
    from mlx_ltx_cli.progress import StageReporter
    from mlx_ltx_cli.ranks import drain, rank_peaks
    from mlx_ltx_cli.resolve import resolve_model

    output = check(o)
    writer = group is None or group.rank() == 0  # rank 0 alone checks, claims and writes the outputs
    outputs = planned_outputs(o, output) if writer else []
    check_outputs(outputs, o.overwrite)  # every output, before any work
    with staged_outputs(outputs, o.overwrite) as staged:  # claimed: a second `ltx generate` to them fails now
        variant = "dev" if pipeline_class(o.pipeline).guided else "distilled"
        resolved = resolve_model(
            o.model,
            o.checkpoint_path,
            o.model_repo,
            o.text_encoder_path,
            o.text_encoder_repo,
            o.quantize,
            variant,
            revision=o.revision,
        )
        if o.verify and not o.quiet:
            print(f"verifying the sha256 of every shard of {resolved.folder} (--verify)", flush=True)
        check_components(resolved.folder, hashes=o.verify)
        check_loras(o, resolved.folder)
        pipeline = build_pipeline(o, resolved)
        request = build_request(o, pipeline)
        pipeline.check(request)
        preflight(o, pipeline, request)
        if not o.quiet:
            _show_pipeline_log()
        with StageReporter(quiet=o.quiet, verbose=o.verbose) as reporter:
            result = pipeline(request, progress=reporter)
            if writer:
                write_outputs(o, result, staged, reporter)
                staged.publish()
            else:
                drain(result)
    reporter.summary(str(output), {"seed": str(result.seed), **rank_peaks(group)})


def check_loras(o: GenerateOptions, folder: Path) -> None:
    """Each local --lora-path / --distilled-lora file names layers this model's transformer has (headers only)."""
    for option, values in (
        ("--lora-path", o.lora_path or []),
        ("--distilled-lora", [o.distilled_lora] if o.distilled_lora else []),
    ):
        for path, _ in parse_loras(values, 1.0):
            check_lora_targets(path, folder, option)


def planned_outputs(o: GenerateOptions, output: Path) -> list[Output]:
    """The files of this run: the MP4, then the latents, the frames folder and the WAV when asked for."""
    outputs = [Output(output, "--output-path")]
    if o.save_latents:
        outputs.append(Output(output.with_suffix(".latents.safetensors"), "--save-latents"))
    if o.save_frames:
        outputs.append(Output(frames_folder(output), "--save-frames", folder=True))
    if o.output_audio is not None:
        outputs.append(Output(o.output_audio, "--output-audio"))
    return outputs


def _show_pipeline_log() -> None:
    """The pipelines' INFO records (e.g. the enhanced prompt) as plain lines on stdout."""
    import logging
    import sys

    logger = logging.getLogger("mlx_ltx_pipelines")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def preflight(o: GenerateOptions, pipeline: Any, request: Any) -> None:
    """Refuse a generation whose estimated peak memory exceeds --memory-limit (default: this machine's memory)."""
    from mlx_ltx_pipelines.preflight import MemoryLimitError, check_memory

    if o.memory_limit == 0:
        return
    limit = int(o.memory_limit * 1e9) if o.memory_limit else _machine_memory()
    quantized = pipeline.ledger.component("transformer").quantization is not None
    try:
        check_memory(pipeline.denoise_estimates(request), limit, quantized, request.tiling)  # arithmetic first
        check_memory(pipeline.estimate(request), limit, quantized, request.tiling)
    except MemoryLimitError as e:
        fixes = MEMORY_FIXES if o.checkpoint_path or (o.model and o.model.endswith(".safetensors")) else CONVERTED
        raise ValueError(e.describe(fixes)) from None


# The CLI's wording of the preflight's fixes (mlx_ltx_pipelines.preflight.FIXES).
MEMORY_FIXES = {
    "low_memory": "--low-memory",
    "quantize": "--quantize 8 (or 4)",
    "size": "a smaller --height/--width or --num-frames",
    "tiling": "--tiling aggressive",
    "limit": "raise --memory-limit",
}
# A model already converted (a folder, a repo, `tiny`) is quantized by converting it again.
CONVERTED = {**MEMORY_FIXES, "quantize": "a model converted with `ltx convert CHECKPOINT -o DIR --quantize 8` (or 4)"}


def _machine_memory() -> int:
    import mlx.core as mx

    info = mx.device_info() if hasattr(mx, "device_info") else {}
    total = info.get("max_recommended_working_set_size") or info.get("memory_size")
    return int(total or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def frames_folder(output: Path) -> Path:
    return output.parent / f"{output.stem}_frames"


def provenance(o: GenerateOptions, result: Any) -> dict[str, str]:
    """The MP4 tags of a generation: prompt, seed, pipeline, model and the mlx-ltx version (`ltx info FILE.mp4`)."""
    import importlib.metadata as md

    from mlx_ltx_cli.resolve import DEFAULT_MODEL_REPO

    model = o.model or o.checkpoint_path or o.model_repo or DEFAULT_MODEL_REPO
    return {
        "prompt": o.prompt or "",
        "seed": str(result.seed),
        "pipeline": o.pipeline,
        "model": model + (f"@{o.revision}" if o.revision else ""),
        "mlx_ltx_version": md.version("mlx-ltx-cli"),
    }


def write_outputs(o: GenerateOptions, result: Any, staged: Staged, progress: Any) -> None:
    """The MP4 (streamed unless --no-stream), then latents, frames and the WAV if asked, each into its staging
    folder (``staged.publish()`` renames them into place together)."""
    from mlx_ltx_pipelines.media import VideoWriter, write_wav

    video, *extra = staged.outputs
    metadata = provenance(o, result)
    if o.stream:
        result.save(staged.path(video), overwrite=True, progress=progress, metadata=metadata)
    else:
        chunks = list(result.video_chunks(progress))
        audio = result.audio(progress)
        with VideoWriter(staged.path(video), result.frame_rate, overwrite=True, metadata=metadata) as writer:
            for chunk in chunks:
                writer.write(chunk)
            writer.close(audio, progress=progress)
    for out in extra:
        if out.option == "--save-latents":
            result.save_latents(staged.path(out), overwrite=True)
        elif out.option == "--save-frames":
            result.save_frames(staged.path(out), progress, overwrite=True)
        else:
            audio = result.audio()
            if audio is None:
                raise ValueError("--output-audio: this generation has no audio (--no-audio)")
            write_wav(staged.path(out), *audio)
