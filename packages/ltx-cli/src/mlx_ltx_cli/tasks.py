"""What the task commands share (`ltx retake`, `ltx extend`, `ltx foley`, `ltx generate --audio-only`): their model,
guidance and output options, the checks that need no model, the model resolution, the memory preflight and the run."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

_MODEL = "Model"
_GUIDE = "Guidance (--dev)"
_HOSTS = "Several Macs"

Model = Annotated[
    str | None,
    typer.Option(
        help="A converted model folder, a Lightricks .safetensors checkpoint, a repo id, or `tiny` (noise, seconds).",
        rich_help_panel=_MODEL,
    ),
]
CheckpointPath = Annotated[
    str | None, typer.Option(help="Lightricks checkpoint (converted once, cached).", rich_help_panel=_MODEL)
]
ModelRepo = Annotated[str | None, typer.Option(help="Hugging Face repo of the model.", rich_help_panel=_MODEL)]
TextEncoderPath = Annotated[str | None, typer.Option(help="Local Gemma 3 12B folder.", rich_help_panel=_MODEL)]
TextEncoderRepo = Annotated[str | None, typer.Option(help="Gemma 3 12B repo id.", rich_help_panel=_MODEL)]
Quantize = Annotated[
    int | None, typer.Option(help="Convert a checkpoint on the fly with 4- or 8-bit weights.", rich_help_panel=_MODEL)
]
Dev = Annotated[
    bool,
    typer.Option(
        "--dev",
        help="A dev (non-distilled) model: LTX2Scheduler steps with CFG/STG guidance, as the reference's "
        "distilled=False (default: the distilled model's 8 steps).",
        rich_help_panel=_GUIDE,
    ),
]
Steps = Annotated[
    int | None, typer.Option("--steps", help="Denoising steps (--dev; default 30).", rich_help_panel=_GUIDE)
]
NegativePrompt = Annotated[str | None, typer.Option(help="What to avoid (--dev).", rich_help_panel=_GUIDE)]
Seed = Annotated[int | None, typer.Option("--seed", "-s", help="Random seed (default 10, as the reference).")]
Prompt = Annotated[str | None, typer.Option("--prompt", "-p", help="What the generated part shows and sounds like.")]
Tiling = Annotated[str, typer.Option(help="VAE decode tiling: auto, none, or a preset (default, aggressive, …).")]
Overwrite = Annotated[bool, typer.Option(help="Replace an existing output file.")]
EnhancePrompt = Annotated[bool, typer.Option(help="Rewrite the prompt with Gemma first.")]
MemoryLimit = Annotated[
    float | None,
    typer.Option(help="Refuse before loading when a stage's estimated peak exceeds this many GB (0 disables)."),
]
LoraPath = Annotated[
    list[str] | None,
    typer.Option(help="LoRA file/folder/repo [STRENGTH] (default 1); repeatable.", rich_help_panel=_MODEL),
]
DType = Annotated[
    str,
    typer.Option(
        help="Compute dtype of the transformer, video VAE and upscaler: keep (as converted), bfloat16, float16 or "
        "float32 (as `ltx generate --dtype`).",
        rich_help_panel=_MODEL,
    ),
]
LoraMode = Annotated[
    str,
    typer.Option(
        help="How LoRAs are applied: auto (fused into float layers, unfused adapters on quantized ones), fused or "
        "unfused.",
        rich_help_panel=_MODEL,
    ),
]
LowMemory = Annotated[
    bool,
    typer.Option(
        "--low-memory",
        help="Keep the transformer's blocks on disk and read them one at a time in each step (as `ltx generate`).",
        rich_help_panel=_MODEL,
    ),
]
Hosts = Annotated[
    str | None,
    typer.Option(
        help="Run on several Macs as one (comma-separated hosts or an mlx.launch hostfile .json), as `ltx generate`.",
        rich_help_panel=_HOSTS,
    ),
]
Backend = Annotated[
    str,
    typer.Option(help="mx.distributed backend with --hosts: ring | jaccl | jaccl-ring | mpi.", rich_help_panel=_HOSTS),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="More detail; tracebacks on errors.")]


# The options every task command takes, after its own: (name, annotation, default); they arrive as ``TaskOptions``.
SHARED: tuple[tuple[str, Any, Any], ...] = (
    ("prompt", Prompt, None),
    ("seed", Seed, None),
    ("dev", Dev, False),
    ("steps", Steps, None),
    ("negative_prompt", NegativePrompt, None),
    ("enhance_prompt", EnhancePrompt, False),
    ("overwrite", Overwrite, False),
    ("model", Model, None),
    ("checkpoint_path", CheckpointPath, None),
    ("model_repo", ModelRepo, None),
    ("text_encoder_path", TextEncoderPath, None),
    ("text_encoder_repo", TextEncoderRepo, None),
    ("quantize", Quantize, None),
    ("lora_path", LoraPath, None),
    ("lora_mode", LoraMode, "auto"),
    ("dtype", DType, "keep"),
    ("low_memory", LowMemory, False),
    ("memory_limit", MemoryLimit, None),
    ("hosts", Hosts, None),
    ("backend", Backend, "ring"),
    ("quiet", Quiet, False),
    ("verbose", Verbose, False),
)


def task_command(command: Callable[..., None]) -> Callable[..., None]:
    """``command(o: TaskOptions, **its own options)`` as a Typer command taking its own options, then ``SHARED``."""
    own = list(inspect.signature(command, eval_str=True).parameters.values())[1:]
    shared = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a) for n, a, d in SHARED]
    names = [p.name for p in own]

    def run(**values: Any) -> None:
        o = TaskOptions.of(values)
        if o.hosts is not None:  # this command again on every host, through mlx.launch
            launch_command(command.__name__, o)
        connect_ranks(o)
        command(o, **{n: values[n] for n in names})

    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + shared
    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]  # what Typer reads
    run.__annotations__ = {p.name: p.annotation for p in params}
    run.__name__, run.__doc__ = command.__name__, command.__doc__
    return run


@dataclass
class TaskOptions:
    """The options every task command takes."""

    prompt: str | None = None
    seed: int | None = None
    model: str | None = None
    checkpoint_path: str | None = None
    model_repo: str | None = None
    text_encoder_path: str | None = None
    text_encoder_repo: str | None = None
    quantize: int | None = None
    lora_path: list[str] | None = None
    dev: bool = False
    steps: int | None = None
    negative_prompt: str | None = None
    enhance_prompt: bool = False
    tiling: str = "auto"
    overwrite: bool = False
    memory_limit: float | None = None
    lora_mode: str = "auto"
    dtype: str = "keep"
    low_memory: bool = False
    hosts: str | None = None
    backend: str = "ring"
    quiet: bool = False
    verbose: bool = False
    group: Any = None  # the mx.distributed group when launched on several ranks (not an option)

    @classmethod
    def of(cls, values: dict[str, Any]) -> TaskOptions:
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})

    def guidance(self) -> dict[str, Any]:
        """The request's guidance fields (only --dev takes them)."""
        return {"negative_prompt": self.negative_prompt, "num_inference_steps": self.steps}


def check_options(o: TaskOptions, command: str) -> None:
    """What needs no model and no input file: prompt, seed, guidance flags, tiling, quantization, memory limit."""
    from mlx_ltx_cli.checks import check_cache, check_seed
    from mlx_ltx_cli.request import COMPUTE_DTYPES, LORA_MODES, tiling_names
    from mlx_ltx_cli.resolve import cache_root

    if not o.prompt or not o.prompt.strip():
        raise ValueError(f'no prompt: pass --prompt/-p "what {command} should make"')
    check_seed(o.seed)
    if not o.dev:
        for flag, value in (("--steps", o.steps), ("--negative-prompt", o.negative_prompt)):
            if value is not None:
                raise ValueError(f"{flag} applies with --dev (a guided dev model), not the distilled default")
    if o.steps is not None and o.steps < 1:
        raise ValueError(f"--steps={o.steps} must be >= 1")
    if o.tiling not in tiling_names():
        raise ValueError(f"--tiling {o.tiling!r}: choose one of {', '.join(tiling_names())}")
    if o.quantize not in (None, 4, 8):
        raise ValueError(f"--quantize={o.quantize}: use 4 or 8")
    if o.dtype not in COMPUTE_DTYPES:
        raise ValueError(f"--dtype {o.dtype!r}: choose one of {', '.join(COMPUTE_DTYPES)}")
    if o.lora_mode not in LORA_MODES:
        raise ValueError(f"--lora-mode {o.lora_mode!r}: choose one of {', '.join(LORA_MODES)}")
    if o.memory_limit is not None and o.memory_limit < 0:
        raise ValueError(f"--memory-limit={o.memory_limit} must be >= 0 GB (0 disables the check)")
    if not (o.model and Path(o.model).is_dir()):
        check_cache(cache_root())
    check_loras(o)


def check_loras(o: TaskOptions) -> None:
    """Each --lora-path exists (or is a repo id) and a file's header is a LoRA's."""
    from mlx_ltx_cli.request import parse_loras
    from mlx_ltx_core.repo_id import parse_repo_id
    from mlx_ltx_pipelines.lora import check_lora_file

    for path, _ in parse_loras(o.lora_path or [], 1.0):
        if not Path(path).exists() and parse_repo_id(path) is None:
            raise ValueError(f"LoRA {path}: no such file or folder; pass a .safetensors file, its folder or a repo id")
        if Path(path).is_file():
            check_lora_file(Path(path))


def pipeline_options(o: TaskOptions, default_strength: float = 1.0) -> dict[str, Any]:
    """The pipeline constructor's model options: distilled or dev, the LoRAs and how they apply, compute dtype,
    low memory."""
    options: dict[str, Any] = {"distilled": not o.dev, "loras": loras(o, default_strength)}
    options |= {"lora_mode": o.lora_mode, "low_memory": o.low_memory}
    if o.dtype != "keep":
        import mlx.core as mx

        options["compute_dtype"] = getattr(mx, o.dtype)
    return options


def launch_command(name: str, o: TaskOptions) -> None:
    """``--hosts``: this command line, less --hosts/--backend, on every host through mlx.launch; exits with its code."""
    import sys

    from mlx_ltx_cli.errors import cli_errors
    from mlx_ltx_cli.ranks import launch_hosts, without_launch_options

    assert o.hosts is not None
    with cli_errors(o.verbose):
        argv = without_launch_options(sys.argv[sys.argv.index(name) + 1 :])
        code = launch_hosts(o.hosts, o.backend, argv, name)
    raise typer.Exit(code)


def connect_ranks(o: TaskOptions) -> None:
    """Launched on several ranks: connect before anything loads (an unreachable host fails fast); rank 0 alone
    prints."""
    from mlx_ltx_cli.errors import cli_errors
    from mlx_ltx_cli.ranks import connect

    with cli_errors(o.verbose):
        o.group = connect()
    if o.group is not None and o.group.rank() != 0:
        o.quiet = True


def loras(o: TaskOptions, default_strength: float = 1.0) -> list[Any]:
    """The --lora-path LoRAs, loaded (fused into the transformer when it loads)."""
    from mlx_ltx_cli.request import parse_loras
    from mlx_ltx_pipelines.lora import load_lora

    return [load_lora(path, strength) for path, strength in parse_loras(o.lora_path or [], default_strength)]


def check_input_video(path: Path, option: str = "VIDEO") -> None:
    from mlx_ltx_cli.checks import check_video

    if not path.is_file():
        raise ValueError(f"{option} {path}: no such video file; check the path")
    check_video(path, option)


def check_output(path: Path, suffixes: tuple[str, ...], overwrite: bool, option: str = "--output-path") -> None:
    """The output's suffix, that it is new (or --overwrite) and that its folder takes files."""
    from mlx_ltx_cli.checks import check_writable

    if path.suffix.lower() not in suffixes:
        raise ValueError(f"{option} {path}: must end in {' or '.join(suffixes)}")
    if path.exists() and not overwrite:
        raise ValueError(f"{path} already exists; pass --overwrite or choose another {option}")
    check_writable(path, option)


def resolve(o: TaskOptions) -> Any:
    """The model folder and text encoder (a checkpoint is converted once); its components' files are checked."""
    from mlx_ltx_cli.checks import check_components
    from mlx_ltx_cli.resolve import resolve_model

    resolved = resolve_model(
        o.model,
        o.checkpoint_path,
        o.model_repo,
        o.text_encoder_path,
        o.text_encoder_repo,
        o.quantize,
        "dev" if o.dev else "distilled",
    )
    check_components(resolved.folder)
    return resolved


def preflight(o: TaskOptions, estimates: list[Any], ledger: Any) -> None:
    """Refuse when a stage's estimated peak exceeds --memory-limit (default: this machine's memory)."""
    from mlx_ltx_cli.run import CONVERTED, MEMORY_FIXES, _machine_memory
    from mlx_ltx_pipelines.preflight import MemoryLimitError, check_memory

    if o.memory_limit == 0:
        return
    limit = int(o.memory_limit * 1e9) if o.memory_limit else _machine_memory()
    quantized = ledger.component("transformer").quantization is not None
    try:
        check_memory(estimates, limit, quantized, o.tiling)
    except MemoryLimitError as e:
        raise ValueError(e.describe(MEMORY_FIXES if o.checkpoint_path else CONVERTED)) from None


def run_task(
    o: TaskOptions,
    output: Path,
    work: Callable[[Any], Any],
    save: Callable[[Any, Any], None],
    extra: dict[str, str] | None = None,
) -> None:
    """``work(progress)`` → a result under the progress display, ``save(result, progress)`` on rank 0 alone (the
    other ranks take part in a distributed decode and write nothing), then the summary line naming ``output``."""
    from mlx_ltx_cli.progress import StageReporter
    from mlx_ltx_cli.ranks import drain, rank_errors, rank_peaks

    with StageReporter(quiet=o.quiet, verbose=o.verbose) as reporter, rank_errors(o.group):
        result = work(reporter)
        if o.group is None or o.group.rank() == 0:
            save(result, reporter)
        else:
            drain(result)
        peaks = rank_peaks(o.group)
    reporter.summary(str(output), {"seed": str(result.seed), **(extra or {}), **peaks})


def provenance(o: TaskOptions, command: str, seed: int) -> dict[str, str]:
    """The MP4 tags (`ltx info FILE.mp4`): prompt, seed, the command, model and version."""
    import importlib.metadata as md

    from mlx_ltx_cli.resolve import DEFAULT_MODEL_REPO

    return {
        "prompt": o.prompt or "",
        "seed": str(seed),
        "pipeline": command,
        "model": o.model or o.checkpoint_path or o.model_repo or DEFAULT_MODEL_REPO,
        "mlx_ltx_version": md.version("mlx-ltx-cli"),
    }
