"""`ltx generate`: the options, checked and turned into one pipeline request (request.py), run by run.py.

The --pipeline help names every entry of ``mlx_ltx_pipelines.pipelines.BY_NAME`` (a test keeps them in step;
importing it here would load MLX on every `ltx --help`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlx_ltx_cli.errors import cli_errors

_MODEL = "Model"
_OUT = "Output"
_COND = "Conditioning"
_GUIDE = "Guidance (dev pipelines)"
_LORA = "LoRA"
_UPSCALE = "Upscaling (two-stage pipelines)"
_HOSTS = "Several Macs"


def generate(
    prompt: Annotated[str | None, typer.Option("--prompt", "-p", help="What the video shows and sounds like.")] = None,
    pipeline: Annotated[
        str,
        typer.Option(
            help="distilled (8+3 steps) | dev (one guided stage) | dev-two-stage | dev-two-stage-hq (res_2s) | "
            "keyframe (interpolate --image keyframes) | ic-lora (--video-conditioning + IC-LoRA)."
        ),
    ] = "distilled",
    height: Annotated[
        int | None, typer.Option("--height", "-H", help="Output height, multiple of 64 (32 for dev).")
    ] = None,
    width: Annotated[
        int | None, typer.Option("--width", "-W", help="Output width, multiple of 64 (32 for dev).")
    ] = None,
    num_frames: Annotated[
        int | None, typer.Option("--num-frames", "-n", help="Frames, 8k+1 (e.g. 25, 121), before --temporal-upscale.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", "-s", help="Random seed (default 10, as the reference).")
    ] = None,
    fps: Annotated[float | None, typer.Option("--fps", "--frame-rate", help="Frame rate (default 24).")] = None,
    spatial_upscale: Annotated[
        float | None,
        typer.Option(
            help="Two-stage pipelines: the latent upscaler between the stages, 2 (default) or 1.5 (stage 1 at 2/3 "
            "of the output size: -H/-W multiples of 96; default size 1152x768). Needs the model's x1.5 upscaler.",
            rich_help_panel=_UPSCALE,
        ),
    ] = None,
    temporal_upscale: Annotated[
        bool,
        typer.Option(
            help="Two-stage pipelines: double the frame rate after stage 2 (temporal x2 upscaler + 4 refining "
            "steps): -n frames at --fps become 2(n-1)+1 frames at 2x fps, same duration.",
            rich_help_panel=_UPSCALE,
        ),
    ] = False,
    output_path: Annotated[
        Path | None,
        typer.Option("--output-path", "-o", help="MP4 to write (default output.mp4).", rich_help_panel=_OUT),
    ] = None,
    auto_output_name: Annotated[
        bool, typer.Option(help="Name the MP4 after the prompt (and seed).", rich_help_panel=_OUT)
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output file.", rich_help_panel=_OUT)] = False,
    save_frames: Annotated[
        bool, typer.Option(help="Also write every frame as PNG into OUTPUT_frames/.", rich_help_panel=_OUT)
    ] = False,
    save_latents: Annotated[
        bool,
        typer.Option(
            help="Also write the latents (OUTPUT.latents.safetensors; see `ltx decode`).", rich_help_panel=_OUT
        ),
    ] = False,
    output_audio: Annotated[
        Path | None, typer.Option(help="Also write the audio track as a WAV file.", rich_help_panel=_OUT)
    ] = None,
    tiling: Annotated[
        str,
        typer.Option(
            help="VAE decode tiling: auto (the least that fits memory), none, or a preset of the video VAE "
            "(default, aggressive, …; a wrong name lists them).",
            rich_help_panel=_OUT,
        ),
    ] = "auto",
    stream: Annotated[
        bool,
        typer.Option(
            help="Write decoded chunks as they come (--no-stream decodes everything first).", rich_help_panel=_OUT
        ),
    ] = True,
    model: Annotated[
        str | None,
        typer.Option(
            help="A converted model folder, a Lightricks .safetensors checkpoint (local or "
            "OWNER/NAME/FILE.safetensors), a repo id, or `tiny` / `tiny-2` / `tiny-2.5`: a tiny random "
            "LTX-2.3 / LTX-2 / LTX-2.5 (built once, seconds on a CPU; its output is noise) to check an install.",
            rich_help_panel=_MODEL,
        ),
    ] = None,
    model_repo: Annotated[
        str | None, typer.Option(help="Hugging Face repo (Lightricks' or pre-converted).", rich_help_panel=_MODEL)
    ] = None,
    checkpoint_path: Annotated[
        str | None,
        typer.Option(
            help="Lightricks checkpoint, local or OWNER/NAME/FILE.safetensors (converted once, cached).",
            rich_help_panel=_MODEL,
        ),
    ] = None,
    revision: Annotated[
        str | None,
        typer.Option(help="Branch, tag or commit of a Hugging Face model repo (default main).", rich_help_panel=_MODEL),
    ] = None,
    text_encoder_repo: Annotated[str | None, typer.Option(help="Gemma 3 12B repo id.", rich_help_panel=_MODEL)] = None,
    text_encoder_path: Annotated[
        str | None, typer.Option(help="Local Gemma 3 12B folder.", rich_help_panel=_MODEL)
    ] = None,
    quantize: Annotated[
        int | None,
        typer.Option(help="Convert a checkpoint on the fly with 4- or 8-bit weights.", rich_help_panel=_MODEL),
    ] = None,
    dtype: Annotated[
        str,
        typer.Option(
            help="Compute dtype of the transformer, video VAE and upscaler: keep (as converted: bfloat16 for the "
            "released checkpoints), bfloat16, float16 (opt-in; the text encoder and audio stay as converted) or "
            "float32.",
            rich_help_panel=_MODEL,
        ),
    ] = "keep",
    enhance_prompt: Annotated[bool, typer.Option(help="Rewrite the prompt with Gemma first.")] = False,
    negative_prompt: Annotated[
        str | None, typer.Option(help="What to avoid (dev pipelines).", rich_help_panel=_GUIDE)
    ] = None,
    image: Annotated[
        list[str] | None,
        typer.Option(
            "--image",
            "-i",
            help="Conditioning image: PATH (first frame) or PATH FRAME_IDX STRENGTH; repeatable for keyframes.",
            rich_help_panel=_COND,
        ),
    ] = None,
    image_strength: Annotated[
        float, typer.Option(help="Strength of an --image given without one.", rich_help_panel=_COND)
    ] = 1.0,
    conditioning_mode: Annotated[
        str,
        typer.Option(
            help="replace (image replaces its latent frame) | guide (appended keyframe).", rich_help_panel=_COND
        ),
    ] = "replace",
    audio: Annotated[
        bool | None,
        typer.Option(
            "--audio/--no-audio", "-a", help="Generate synchronized audio (default on).", rich_help_panel=_COND
        ),
    ] = None,
    audio_file: Annotated[
        Path | None,
        typer.Option(help="Audio-to-video: keep this audio (WAV/FLAC/MP3/OGG/video).", rich_help_panel=_COND),
    ] = None,
    audio_start_time: Annotated[float, typer.Option(help="Seconds into --audio-file.", rich_help_panel=_COND)] = 0.0,
    video_conditioning: Annotated[
        tuple[str, float] | None, typer.Option(help="IC-LoRA reference: PATH STRENGTH.", rich_help_panel=_COND)
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option("--steps", "--num-inference-steps", help="Stage-1 steps (dev pipelines).", rich_help_panel=_GUIDE),
    ] = None,
    cfg_scale: Annotated[
        float | None, typer.Option("--cfg-scale", "--guidance-scale", help="Video CFG scale.", rich_help_panel=_GUIDE)
    ] = None,
    cfg_rescale: Annotated[
        float | None, typer.Option(help="Rescale toward the conditioned std (0..1).", rich_help_panel=_GUIDE)
    ] = None,
    stg_scale: Annotated[float | None, typer.Option(help="Video STG scale (0 = off).", rich_help_panel=_GUIDE)] = None,
    stg_blocks: Annotated[
        str | None, typer.Option(help="Comma-separated video STG blocks, e.g. 28.", rich_help_panel=_GUIDE)
    ] = None,
    modality_scale: Annotated[
        float | None, typer.Option(help="Audio→video isolation scale (1 = off).", rich_help_panel=_GUIDE)
    ] = None,
    audio_cfg_scale: Annotated[
        float | None, typer.Option(help="Audio CFG scale (1 = off).", rich_help_panel=_GUIDE)
    ] = None,
    audio_cfg_rescale: Annotated[
        float | None, typer.Option(help="Audio rescale toward the conditioned std (0..1).", rich_help_panel=_GUIDE)
    ] = None,
    audio_stg_scale: Annotated[
        float | None, typer.Option(help="Audio STG scale (0 = off).", rich_help_panel=_GUIDE)
    ] = None,
    audio_stg_blocks: Annotated[
        str | None, typer.Option(help="Comma-separated audio STG blocks, e.g. 28.", rich_help_panel=_GUIDE)
    ] = None,
    audio_modality_scale: Annotated[
        float | None, typer.Option(help="Video→audio isolation scale (1 = off).", rich_help_panel=_GUIDE)
    ] = None,
    apg: Annotated[
        bool, typer.Option(help="Adaptive projected guidance instead of plain CFG (video).", rich_help_panel=_GUIDE)
    ] = False,
    lora_path: Annotated[
        list[str] | None, typer.Option(help="LoRA file/folder/repo [STRENGTH]; repeatable.", rich_help_panel=_LORA)
    ] = None,
    lora_strength: Annotated[
        float, typer.Option(help="Strength of a --lora-path given without one.", rich_help_panel=_LORA)
    ] = 1.0,
    distilled_lora: Annotated[
        str | None,
        typer.Option(
            help="Distilled LoRA [STRENGTH] for the two-stage dev pipelines (default: the model folder's).",
            rich_help_panel=_LORA,
        ),
    ] = None,
    lora_strength_stage_1: Annotated[
        float | None,
        typer.Option(
            "--lora-strength-stage-1", help="Distilled LoRA strength in stage 1 (HQ: 0.25).", rich_help_panel=_LORA
        ),
    ] = None,
    lora_strength_stage_2: Annotated[
        float | None,
        typer.Option(
            "--lora-strength-stage-2", help="Distilled LoRA strength in stage 2 (1; HQ 0.5).", rich_help_panel=_LORA
        ),
    ] = None,
    audio_only: Annotated[
        bool,
        typer.Option(
            "--audio-only",
            help="Text-to-audio: no video; -o is a .wav or .flac lasting --num-frames / --fps seconds (--pipeline "
            "distilled or dev).",
            rich_help_panel=_OUT,
        ),
    ] = False,
    lora_mode: Annotated[
        str,
        typer.Option(
            help="How LoRAs are applied: auto (fused into float layers, unfused adapters on quantized ones, whose "
            "re-quantization could lose a small LoRA), fused or unfused.",
            rich_help_panel=_LORA,
        ),
    ] = "auto",
    memory_limit: Annotated[
        float | None,
        typer.Option(
            help="Refuse before loading when a stage's estimated peak exceeds this many GB (default: this machine's "
            "memory; 0 disables).",
            rich_help_panel=_MODEL,
        ),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            help="Recompute every shard's sha256 against the model folder's index before use (reads every byte; "
            "catches corruption, not tampering: the index is not signed).",
            rich_help_panel=_MODEL,
        ),
    ] = False,
    low_memory: Annotated[
        bool,
        typer.Option(
            "--low-memory",
            help="Keep the transformer's blocks on disk and read them one at a time in each step: weights in memory "
            "≈ the non-block part + two blocks (LTX-2.3 bf16: ≈2.4 GB, not 37 GB); every step reads the blocks again.",
            rich_help_panel=_MODEL,
        ),
    ] = False,
    hosts: Annotated[
        str | None,
        typer.Option(
            help="Run on several Macs as one (comma-separated hosts, or an mlx.launch hostfile .json): the same "
            "command runs on each through mlx.launch, the video tokens are split between them, rank 0 writes.",
            rich_help_panel=_HOSTS,
        ),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            help="mx.distributed backend with --hosts: ring (TCP) | jaccl (Thunderbolt RDMA) | jaccl-ring | mpi.",
            rich_help_panel=_HOSTS,
        ),
    ] = "ring",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More detail; tracebacks on errors.")] = False,
) -> None:
    """Generate a video with synchronized audio from a prompt (and images, audio or a reference video).

    The first run of `ltx generate --model tiny -p "test"` checks an install end to end in seconds; its random
    weights make noise.
    """
    if hosts is not None:
        import sys

        from mlx_ltx_cli.ranks import launch_hosts, without_launch_options

        with cli_errors(verbose):
            code = launch_hosts(hosts, backend, without_launch_options(sys.argv[sys.argv.index("generate") + 1 :]))
        raise typer.Exit(code)
    with cli_errors(verbose):
        from mlx_ltx_cli.request import GenerateOptions
        from mlx_ltx_cli.run import run_generate

        options = GenerateOptions(**{k: v for k, v in locals().items() if k in GenerateOptions.__dataclass_fields__})
        if audio_only:
            from mlx_ltx_cli.audio_only import run_text_to_audio

            return run_text_to_audio(options)
        run_generate(options)
