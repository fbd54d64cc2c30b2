"""Developer sessions. `uv run nox` runs the default ones (every package's tests, lint and the type check).

- tests(package=...): one fresh env per package with only that package and its declared dependencies
  (from uv.lock) plus its `test` dependency group (pytest; mlx-ltx-convert for the packages whose goldens are
  read through its layout rules), so an undeclared import fails there. `workspace` runs the root tests/.
- lint(package=...): ruff check + ruff format --check.
- typecheck: pyright (pinned in the `typecheck` group; [tool.pyright] in pyproject.toml) over every package's src.
- goldens: builds the PyTorch reference in its own pip venv and regenerates the parity goldens.
    nox -s goldens                               # rewrite tests/goldens (seed 0)
    nox -s goldens -- --out /tmp/g --seed 1      # goldens from another seed; then
    LTX_GOLDENS=/tmp/g nox -s tests              # the parity tests must pass unchanged
- bench: runs every benchmarks/*.py script (arguments after -- are passed to each).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.error_on_external_run = True

ROOT = Path(__file__).parent
PACKAGES = ["ltx-core", "ltx-audio", "ltx-text", "ltx-pipelines", "ltx-convert", "ltx-cli", "ltx-trainer"]
# Debian's libopenblas0-pthread: MLX's Linux wheel bundles a naive BLAS; this one makes f32 matmul/conv ~20x faster.
OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"

# The reference (goldens) venv: pip, never uv, because torch must stay out of uv.lock.
REF_VENV = ROOT / "tools" / "parity" / "reference_venv"
REF_TORCH = "torch==2.13.0"
REF_PACKAGES = ["ltx-core==1.0.0", "ltx-pipelines==1.0.0", "openimageio", "cloudpickle"]
# The reference trainer's own dependencies that the trainer goldens import (it is not on PyPI: its source runs).
REF_TRAINER_PACKAGES = ["peft==0.21.2", "accelerate==1.16.0", "pydantic>=2.14", "pyyaml"]
# Lightricks v1.2.0 semantics (A/V cross-attention AdaLN inputs, frozen-modality sigma) for the transformer goldens.
LTX_REPO = "https://github.com/Lightricks/LTX-2"
LTX_COMMIT = "400fd31054597515f47125691032c04b1c3ee24e"
LTX_SRC = ROOT / "tools" / "parity" / ".ltx-src"


def _env() -> dict[str, str]:
    env = {"PYTHONUNBUFFERED": "1"}
    if os.path.exists(OPENBLAS):
        env["LD_PRELOAD"] = OPENBLAS
    return env


def _sync(session: nox.Session, *args: str) -> None:
    """Install from uv.lock into this session's venv (exact: anything else is removed)."""
    env = {"UV_PROJECT_ENVIRONMENT": session.virtualenv.location}
    session.run_install("uv", "sync", "--locked", "--no-default-groups", *args, env=env, external=True)


@nox.session
@nox.parametrize("package", [*PACKAGES, "workspace"])
def tests(session: nox.Session, package: str) -> None:
    """Run one package's tests with only that package installed (workspace: root tests, everything)."""
    if package == "workspace":
        _sync(session, "--all-packages", "--group", "test")
        paths = ["tests"]
    else:
        _sync(session, "--package", f"mlx-{package}", "--group", "test")
        paths = [f"packages/{package}/tests"]
    session.run("pytest", *paths, *session.posargs, env=_env())


@nox.session
@nox.parametrize("package", [*PACKAGES, "workspace"])
def lint(session: nox.Session, package: str) -> None:
    """ruff check and ruff format --check for one package (workspace: tests, tools, benchmarks, noxfile)."""
    _sync(session, "--only-group", "lint")
    paths = ["tests", "tools", "benchmarks", "noxfile.py"] if package == "workspace" else [f"packages/{package}"]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session
def typecheck(session: nox.Session) -> None:
    """pyright over packages/*/src in one env holding all seven packages (their imports resolve to real types)."""
    _sync(session, "--all-packages", "--group", "typecheck")
    session.run("pyright", *session.posargs)


@nox.session(venv_backend="none")
def goldens(session: nox.Session) -> None:
    """Build the reference venv (pip) and regenerate goldens: nox -s goldens -- [--out DIR] [--seed N]."""
    python = _reference_venv(session)
    src = _ltx_checkout(session)
    args = session.posargs or ["--out", str(ROOT / "tests" / "goldens")]
    tools = ROOT / "tools" / "parity"
    # The transformer, pipelines, steps, vae25 and trainer goldens run Lightricks v1.2.0; the pipelines' read the
    # transformer's weights.
    for family in ("transformer", "pipelines", "steps", "vae25", "trainer", "hdr"):
        session.run(str(python), str(tools / f"goldens_{family}.py"), *args, "--ltx-core-src", str(src), env=_env())
    for family in ("vae", "audio", "text", "media"):
        session.run(str(python), str(tools / f"goldens_{family}.py"), *args, env=_env())


# Writes a ~40 GB synthetic checkpoint: run it on purpose (LTX_BENCH_ALL=1 or by hand), not with every bench.
HEAVY_BENCHMARKS = {"convert_full_size.py"}


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmark scripts; each prints a table and one JSON line (LTX_BENCH_ALL=1 adds the heavy ones)."""
    _sync(session, "--all-packages")
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        if script.name in HEAVY_BENCHMARKS and not os.environ.get("LTX_BENCH_ALL"):
            session.log(f"skipping {script.name} (set LTX_BENCH_ALL=1 to run it)")
            continue
        session.run("python", str(script), *session.posargs, env=_env())


def _reference_venv(session: nox.Session) -> Path:
    python = REF_VENV / "bin" / "python"
    if python.exists():
        return python
    session.run("python3.11", "-m", "venv", str(REF_VENV), external=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    # The CPU build of torch first; the constraint keeps ltx-core's dependencies from replacing it.
    session.run(*pip, REF_TORCH, external=True)
    constraints = REF_VENV / "constraints.txt"
    constraints.write_text(REF_TORCH + "\n")
    session.run(*pip, *REF_PACKAGES, *REF_TRAINER_PACKAGES, "-c", str(constraints), external=True)
    # torchaudio 2.11 cannot load its C extension against torch 2.13 CPU; without the .so files it falls
    # back to pure Python, and the parts the goldens use (MelSpectrogram, resample) are pure torch.
    site = next((REF_VENV / "lib").glob("python3*/site-packages"))
    parked = REF_VENV / "torchaudio_so_off"
    parked.mkdir(exist_ok=True)
    for so in (site / "torchaudio" / "lib").glob("*.so"):
        shutil.move(str(so), parked / so.name)
    return python


def _ltx_checkout(session: nox.Session) -> Path:
    """A Lightricks/LTX-2 source tree at LTX_COMMIT: $LTX_SRC if set, else a shallow clone."""
    if os.environ.get("LTX_SRC"):
        return Path(os.environ["LTX_SRC"])
    if not (LTX_SRC / "packages").exists():
        LTX_SRC.mkdir(parents=True, exist_ok=True)
        git = ["git", "-C", str(LTX_SRC)]
        session.run(*git, "init", "--quiet", external=True)
        session.run(*git, "fetch", "--quiet", "--depth", "1", LTX_REPO, LTX_COMMIT, external=True)
        session.run(*git, "checkout", "--quiet", "FETCH_HEAD", external=True)
    return LTX_SRC
