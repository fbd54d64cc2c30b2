"""`ltx retake VIDEO --start S --end E -p …`: regenerate a time span of a video and/or its sound, keep the rest
(mlx_ltx_pipelines.pipelines.retake)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlx_ltx_cli import tasks as T
from mlx_ltx_cli.errors import cli_errors


@T.task_command
def retake(
    o: T.TaskOptions,
    video: Annotated[Path, typer.Argument(help="The video to edit (8k+1 frames, sides multiples of 32).")],
    start: Annotated[float, typer.Option("--start", help="Start of the span to regenerate, in seconds.")],
    end: Annotated[float, typer.Option("--end", help="End of the span (exclusive), in seconds.")],
    output_path: Annotated[
        Path | None, typer.Option("--output-path", "-o", help="MP4 to write (default VIDEO_retake.mp4).")
    ] = None,
    video_only: Annotated[
        bool, typer.Option("--video-only", help="Regenerate the span's frames; keep the sound.")
    ] = False,
    audio_only: Annotated[
        bool, typer.Option("--audio-only", help="Regenerate the span's sound; keep the frames.")
    ] = False,
    tiling: T.Tiling = "auto",
) -> None:
    """Regenerate [--start, --end) seconds of VIDEO from a prompt; the frames and sound outside the span keep their
    latents (the reference's retake: one stage over the source's latents, the span's tokens denoised)."""
    with cli_errors(o.verbose):
        from mlx_ltx_pipelines.pipelines.retake import RetakePipeline, RetakeRequest, check_retake

        o.tiling = tiling
        T.check_options(o, "the span")
        if video_only and audio_only:
            raise ValueError("--video-only and --audio-only exclude each other (neither: regenerate both)")
        output = output_path or Path(f"{video.stem}_retake.mp4")
        T.check_input_video(video)
        T.check_output(output, (".mp4",), o.overwrite)
        request = RetakeRequest(
            video,
            o.prompt or "",
            start,
            end,
            o.seed,
            not audio_only,
            not video_only,
            o.enhance_prompt,
            tiling,
            **o.guidance(),
        )
        source = check_retake(request)  # the span and the source, before any model is resolved or loaded
        resolved = T.resolve(o)
        pipeline = RetakePipeline(resolved.folder, resolved.text_encoder, **T.pipeline_options(o))
        pipeline.check(request)
        T.preflight(o, pipeline.estimate(request, source), pipeline.ledger)

        def save(result, progress):
            meta = T.provenance(o, "retake", result.seed)
            result.save(output, overwrite=o.overwrite, progress=progress, metadata=meta)

        T.run_task(o, output, lambda progress: pipeline.run(request, source, progress), save)
