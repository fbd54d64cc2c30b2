"""`ltx generate --audio-only -o out.wav|.flac` (text-to-audio) and `ltx foley VIDEO` (video-to-audio): sound without
generating video (mlx_ltx_pipelines.pipelines.audio_only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mlx_ltx_cli import tasks as T
from mlx_ltx_cli.errors import cli_errors

AUDIO_SUFFIXES = (".wav", ".flac")
# `ltx generate` options that make or condition video: text-to-audio refuses them.
VIDEO_OPTIONS = (
    ("image", "--image"),
    ("audio_file", "--audio-file"),
    ("video_conditioning", "--video-conditioning"),
    ("height", "--height"),
    ("width", "--width"),
    ("output_audio", "--output-audio"),
    ("distilled_lora", "--distilled-lora"),
)


def run_text_to_audio(o: Any) -> None:
    """`ltx generate --audio-only`: ``o`` is its GenerateOptions."""
    from mlx_ltx_cli.request import _check_guidance, audio_guider_params
    from mlx_ltx_pipelines.pipelines.audio_only import T2AOneStagePipeline
    from mlx_ltx_pipelines.request import GenerationRequest
    from mlx_ltx_pipelines.validation import check_frame_rate, check_num_frames

    if o.pipeline not in ("distilled", "dev"):
        raise ValueError(
            f"--audio-only is one stage on the audio stream: --pipeline distilled (8 steps) or dev (guided), not "
            f"{o.pipeline}"
        )
    for name, flag in VIDEO_OPTIONS:
        if getattr(o, name):
            raise ValueError(f"{flag} conditions or writes video, and --audio-only makes none: drop {flag}")
    for flag, on in (
        ("--no-audio", o.audio is False),
        ("--save-frames", o.save_frames),
        ("--save-latents", o.save_latents),
    ):
        if on:
            raise ValueError(f"{flag} does not apply to --audio-only (it writes one sound file)")
    dev = o.pipeline == "dev"
    t = T.TaskOptions.of({**vars(o), "dev": dev, "tiling": "auto"})
    T.connect_ranks(t)  # `ltx generate --audio-only` on several ranks: every rank runs the sound, rank 0 writes
    T.check_options(t, "the sound")
    _check_guidance(o, _Class(dev))
    if o.num_frames is not None:
        check_num_frames(o.num_frames)
    if o.fps is not None:
        check_frame_rate(o.fps)
    output = Path(o.output_path or "output.wav")
    T.check_output(output, AUDIO_SUFFIXES, o.overwrite)
    resolved = T.resolve(t)
    pipeline = T2AOneStagePipeline(resolved.folder, resolved.text_encoder, **T.pipeline_options(t, o.lora_strength))
    fields: dict[str, Any] = {}
    if dev:
        fields = {"negative_prompt": o.negative_prompt, "num_inference_steps": o.steps}
        fields["audio_guider_params"] = audio_guider_params(o, pipeline.params.audio_guider_params)
    request = GenerationRequest(
        prompt=o.prompt or "",
        seed=o.seed,
        num_frames=o.num_frames,
        frame_rate=o.fps,
        enhance_prompt=o.enhance_prompt,
        **fields,
    )
    pipeline.check(request)

    T.run_task(
        t,
        output,
        lambda progress: pipeline(request, progress=progress),
        lambda r, _: r.save(output, overwrite=o.overwrite),
    )


class _Class:
    """What ``request._check_guidance`` reads of a pipeline class."""

    needs_distilled_lora = False
    lora_strengths = (None, 1.0)

    def __init__(self, guided: bool):
        self.guided = guided


@T.task_command
def foley(
    o: T.TaskOptions,
    video: Annotated[Path, typer.Argument(help="The (silent) video to make the sound of: 8k+1 frames, sides ÷32.")],
    output_path: Annotated[
        Path | None, typer.Option("--output-path", "-o", help="MP4 to write (default VIDEO_foley.mp4).")
    ] = None,
    output_audio: Annotated[Path | None, typer.Option(help="Also write the sound as a .wav or .flac.")] = None,
) -> None:
    """Video-to-audio (Foley): generate the sound of VIDEO, its frames frozen at their latents (the trainer's
    video_to_audio); the MP4 holds the video's own frames and the new sound."""
    with cli_errors(o.verbose):
        from mlx_ltx_pipelines.pipelines.audio_only import FoleyRequest, VideoToAudioPipeline
        from mlx_ltx_pipelines.source_video import read_source_video

        T.check_options(o, "the sound")
        output = output_path or Path(f"{video.stem}_foley.mp4")
        T.check_input_video(video)
        T.check_output(output, (".mp4",), o.overwrite)
        if output_audio is not None:
            T.check_output(output_audio, AUDIO_SUFFIXES, o.overwrite, "--output-audio")
        request = FoleyRequest(video, o.prompt or "", o.seed, o.enhance_prompt, **o.guidance())
        source = read_source_video(video)  # its rules (8k+1 frames, sides ÷32) before any model is resolved
        resolved = T.resolve(o)
        pipeline = VideoToAudioPipeline(resolved.folder, resolved.text_encoder, **T.pipeline_options(o))
        pipeline.check(request)
        T.preflight(o, pipeline.stage_estimates(source.shape, True, "auto"), pipeline.ledger)

        def save(result, progress):
            from mlx_ltx_pipelines.media_result import AudioResult

            result.save(
                output, overwrite=o.overwrite, progress=progress, metadata=T.provenance(o, "foley", result.seed)
            )
            if output_audio is not None and result.audio is not None:
                waveform, sample_rate = result.audio
                AudioResult(waveform, sample_rate, result.seed).save(output_audio, overwrite=o.overwrite)

        T.run_task(o, output, lambda progress: pipeline.run(request, source, progress), save)
