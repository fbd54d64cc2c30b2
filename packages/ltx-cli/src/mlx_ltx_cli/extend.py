"""`ltx extend VIDEO --seconds N [--backward]`: continue a video chunk by chunk with carried frames
(mlx_ltx_pipelines.pipelines.extend)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlx_ltx_cli import tasks as T
from mlx_ltx_cli.errors import cli_errors


@T.task_command
def extend(
    o: T.TaskOptions,
    video: Annotated[Path, typer.Argument(help="The video to continue (8k+1 frames, sides multiples of 32).")],
    seconds: Annotated[float, typer.Option("--seconds", help="How many seconds to add.")],
    backward: Annotated[bool, typer.Option("--backward", help="Add the seconds before the start instead.")] = False,
    output_path: Annotated[
        Path | None, typer.Option("--output-path", "-o", help="MP4 to write (default VIDEO_extended.mp4).")
    ] = None,
    chunk_frames: Annotated[
        int | None,
        typer.Option(help="Frames denoised at once, 8k+1 (default 121): the memory of one such generation."),
    ] = None,
    carry_frames: Annotated[
        int | None, typer.Option(help="Frames of the current video each chunk continues from, 8k+1 (default 25).")
    ] = None,
    audio: Annotated[bool, typer.Option("--audio/--no-audio", help="Extend the sound track too.")] = True,
    tiling: T.Tiling = "auto",
) -> None:
    """Add --seconds to VIDEO (its frames and sound are kept as they are): each chunk of --chunk-frames keeps the
    last (--backward: first) --carry-frames of the current video clean and generates the rest, as the reference's
    extension (the trainer's prefix / suffix conditions)."""
    with cli_errors(o.verbose):
        from mlx_ltx_pipelines.pipelines.extend import ExtendPipeline, ExtendRequest, check_extend

        o.tiling = tiling
        T.check_options(o, "the added seconds")
        output = output_path or Path(f"{video.stem}_extended.mp4")
        T.check_input_video(video)
        T.check_output(output, (".mp4",), o.overwrite)
        request = ExtendRequest(
            video,
            o.prompt or "",
            seconds,
            backward,
            o.seed,
            chunk_frames,
            carry_frames,
            audio,
            o.enhance_prompt,
            tiling,
            **o.guidance(),
        )
        source = check_extend(request)  # before any model is resolved or loaded
        resolved = T.resolve(o)
        pipeline = ExtendPipeline(resolved.folder, resolved.text_encoder, **T.pipeline_options(o))
        pipeline.check(request)
        T.preflight(o, pipeline.estimate(request, source), pipeline.ledger)

        def save(result, progress):
            meta = T.provenance(o, "extend", result.seed)
            result.save(output, overwrite=o.overwrite, progress=progress, metadata=meta)

        T.run_task(o, output, lambda progress: pipeline.run(request, source, progress), save)
