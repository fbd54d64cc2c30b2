"""`ltx decode`, `ltx upscale` and `ltx info`. Heavy imports stay inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlx_ltx_cli.errors import cli_errors


def decode(
    latents: Annotated[
        Path, typer.Argument(help="A .latents.safetensors file written by `ltx generate --save-latents`.")
    ],
    output_path: Annotated[
        Path | None, typer.Option("--output-path", "-o", help="MP4 to write (default: LATENTS.mp4).")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model folder (default: the one recorded in the file).")] = None,
    tiling: Annotated[str | None, typer.Option(help="Decode tiling preset (default: the recorded one).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Decode saved latents into the MP4 (e.g. to resume after a failed decode, or with other tiling)."""
    with cli_errors(verbose):
        from mlx_ltx_cli.checks import check_components, check_writable
        from mlx_ltx_cli.progress import StageReporter
        from mlx_ltx_cli.request import tiling_names
        from mlx_ltx_pipelines.model_ledger import ModelLedger
        from mlx_ltx_pipelines.result import GenerationResult

        if tiling is not None and tiling not in tiling_names():
            raise ValueError(f"--tiling {tiling!r}: choose one of {', '.join(tiling_names())}")
        output = output_path or latents_video_name(latents)
        if output.exists() and not overwrite:
            raise ValueError(f"{output} already exists; pass --overwrite or choose another --output-path")
        check_writable(output, "--output-path")
        ledger = ModelLedger(Path(model)) if model else None
        result = GenerationResult.load_latents(latents, ledger, tiling)
        check_components(result.ledger.path)
        with StageReporter(quiet=quiet, verbose=verbose) as reporter:
            result.save(output, overwrite=overwrite, progress=reporter)
        reporter.summary(str(output))


def latents_video_name(latents: Path) -> Path:
    """fox.v2.latents.safetensors → fox.v2.mp4 (only the suffix `--save-latents` adds is dropped)."""
    name = latents.name
    for suffix in (".latents.safetensors", ".safetensors"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return latents.with_name(name[: -len(suffix)] + ".mp4")
    return latents.with_suffix(".mp4")


def upscale(
    input: Annotated[Path, typer.Option("--input", help="An image (PNG/JPEG) or a video (MP4) to upscale.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="PNG for an image, MP4 for a video.")],
    model: Annotated[
        str | None, typer.Option(help="Model folder (or `tiny`); needs the spatial upscaler of --spatial-upscale.")
    ] = None,
    spatial_upscale: Annotated[
        float, typer.Option(help="2 (default) or 1.5: which latent upscaler (x1.5 crops the input to multiples of 64).")
    ] = 2.0,
    refine: Annotated[
        bool, typer.Option(help="Refine the upscaled latent with 3 distilled steps (needs --prompt).")
    ] = False,
    prompt: Annotated[str | None, typer.Option("--prompt", "-p", help="What the video shows (for --refine).")] = None,
    seed: Annotated[int, typer.Option("--seed", "-s")] = 10,
    text_encoder_path: Annotated[str | None, typer.Option(help="Gemma 3 folder (for --refine).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Upscale an image or a video ×2 (or ×1.5) in latent space: VAE encode → latent upsampler → (refine) → VAE
    decode."""
    with cli_errors(verbose):
        from mlx_ltx_cli.checks import check_components, check_image, check_seed, check_video, check_writable
        from mlx_ltx_cli.progress import StageReporter
        from mlx_ltx_cli.resolve import resolve_model
        from mlx_ltx_cli.upscale import run_upscale

        if refine and not prompt:
            raise ValueError('--refine needs the prompt of the video: pass --prompt/-p "..."')
        check_seed(seed)
        if spatial_upscale not in (2.0, 1.5):
            raise ValueError(
                f"--spatial-upscale {spatial_upscale:g}: choose 2 or 1.5 (the latent upscalers that exist)"
            )
        check_writable(output, "--output")
        from mlx_ltx_pipelines.pipelines.latent_upscale import IMAGE_SUFFIXES

        if input.suffix.lower() in IMAGE_SUFFIXES and input.is_file():
            check_image(input, "--input")
        elif input.is_file():
            check_video(input, "--input")
        resolved = resolve_model(model, None, None, text_encoder_path, None, None, "distilled")
        check_components(resolved.folder)
        with StageReporter(quiet=quiet, verbose=verbose) as reporter:
            run_upscale(input, output, resolved, refine, prompt, seed, overwrite, reporter, spatial_upscale)
        reporter.summary(str(output))


def info(
    model: Annotated[
        str,
        typer.Argument(
            help="A converted model folder (or `tiny`), a Lightricks .safetensors file (header only), or an MP4 "
            "written by `ltx generate` (its prompt, seed, pipeline, model, version)."
        ),
    ],
    verify: Annotated[bool, typer.Option(help="Also recompute every shard's sha256 (reads every byte).")] = False,
) -> None:
    """A model folder's version, components, sizes, quantization and integrity; for a checkpoint file, what it holds
    and what would be converted (its header only: nothing is converted or written)."""
    with cli_errors():
        from mlx_ltx_cli.info import print_checkpoint_info, print_info
        from mlx_ltx_cli.resolve import resolve_model

        if model.endswith(".safetensors") and Path(model).is_file():
            print_checkpoint_info(Path(model))
            return
        if Path(model).suffix.lower() in (".mp4", ".mov") and Path(model).is_file():
            from mlx_ltx_pipelines.media.video import video_metadata

            for key, value in video_metadata(model).items():
                typer.echo(f"{key}: {value}")
            return
        folder = resolve_model(model, None, None, None, None, None, "distilled").folder
        problems = print_info(folder, verify)
        if problems:
            raise ValueError(
                f"{folder}: {len(problems)} of its components failed the check (marked above), the first: {problems[0]}"
            )
