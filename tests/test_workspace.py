"""Workspace invariants: seven src-layout packages, each typed, versioned, with a README module map that is true."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["ltx-core", "ltx-audio", "ltx-text", "ltx-pipelines", "ltx-convert", "ltx-cli", "ltx-trainer"]


def _modules(package: str) -> list[str]:
    src = ROOT / "packages" / package / "src" / f"mlx_{package.replace('-', '_')}"
    return sorted(
        str(p.relative_to(src).with_suffix("")).replace("/", ".") for p in src.rglob("*.py") if p.name != "__init__.py"
    )


@pytest.mark.parametrize("package", PACKAGES)
def test_package_layout(package: str) -> None:
    folder = ROOT / "packages" / package
    meta = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    assert meta["name"] == f"mlx-{package}"
    src = folder / "src" / f"mlx_{package.replace('-', '_')}"
    assert (src / "py.typed").exists()
    init = (src / "__init__.py").read_text()
    assert f'__version__ = "{meta["version"]}"' in init
    assert "__all__" in init
    assert (folder / "tests").is_dir()


@pytest.mark.parametrize("package", PACKAGES)
def test_readme_module_map_is_true(package: str) -> None:
    """Every module in src/ appears in the package README (as `name.py` or its dotted path)."""
    readme = (ROOT / "packages" / package / "README.md").read_text()
    missing = [m for m in _modules(package) if f"{m.replace('.', '/')}.py" not in readme and f"`{m}`" not in readme]
    assert not missing, f"packages/{package}/README.md does not mention {missing}"


def test_convert_stays_light() -> None:
    """ltx-convert must install on a build machine without the audio, text and pipelines packages."""
    deps = tomllib.loads((ROOT / "packages/ltx-convert/pyproject.toml").read_text())["project"]["dependencies"]
    heavy = [d for d in deps if d.split()[0].split(">")[0] in ("mlx-ltx-audio", "mlx-ltx-text", "mlx-ltx-pipelines")]
    assert not heavy, heavy


def _locked_version(name: str) -> str:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == name)


def test_pre_commit_runs_the_locked_ruff() -> None:
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    pins = set(re.findall(r'"ruff==([^"]+)"', config))
    assert pins == {_locked_version("ruff")}, pins


@pytest.mark.parametrize("package", PACKAGES)
def test_changelog_names_the_version(package: str) -> None:
    version = _version(package)
    changelog = (ROOT / "packages" / package / "CHANGELOG.md").read_text()
    assert f"## [{version}]" in changelog, f"packages/{package}/CHANGELOG.md has no entry for {version}"


def _version(package: str) -> str:
    return tomllib.loads((ROOT / "packages" / package / "pyproject.toml").read_text())["project"]["version"]


def test_one_version_for_the_workspace() -> None:
    versions = {_version(p) for p in PACKAGES}
    assert len(versions) == 1, versions
