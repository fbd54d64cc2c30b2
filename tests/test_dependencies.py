"""Each package declares exactly the distributions its src imports: third-party and sibling packages, nothing else.

Imports are read with `ast` (top-level and inside functions, plus `importlib.import_module("literal")`), mapped to
distributions through `importlib.metadata.packages_distributions()` and compared with `[project.dependencies]`.
"""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p.parent.name for p in ROOT.glob("packages/*/pyproject.toml"))


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _is_import_module(call: ast.Call) -> bool:
    """`importlib.import_module("a.b")` with a literal name: an import by string is an import too."""
    literal = bool(call.args) and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)
    return literal and ast.unparse(call.func) in ("importlib.import_module", "import_module")


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(c, ast.Name) and c.id in ("ImportError", "ModuleNotFoundError") for c in caught)


def _optional(tree: ast.AST) -> set[int]:
    """The nodes inside `try: ... except ImportError:`: an optional import is not a required dependency."""
    nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
            for part in (*node.body, *(n for h in node.handlers for n in h.body)):
                nodes |= {id(n) for n in ast.walk(part)}
    return nodes


def _imported_names(tree: ast.AST, optional: bool = False) -> set[str]:
    """Top-level names of the required imports (or, with ``optional``, of the optional ones)."""
    names = set()
    skipped = _optional(tree)
    for node in ast.walk(tree):
        if (id(node) in skipped) != optional:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and _is_import_module(node):
            names.add(node.args[0].value)
    return {name.split(".")[0] for name in names}


def _top_level_imports(folder: Path, optional: bool = False) -> set[str]:
    names = set()
    for path in folder.rglob("*.py"):
        names |= _imported_names(ast.parse(path.read_text(), filename=str(path)), optional)
    return {name for name in names if name not in sys.stdlib_module_names}


def _distribution(module: str) -> str:
    """The distribution an import name comes from (`PIL` -> pillow, `mlx_ltx_core` -> mlx-ltx-core)."""
    if module.startswith("mlx_ltx_"):
        return _canonical(module)  # the workspace's editable installs are not in packages_distributions()
    candidates = [_canonical(d) for d in importlib.metadata.packages_distributions().get(module, [])]
    # mlx-cpu ships files under mlx/ too; the distribution named after the import is the one to declare.
    if _canonical(module) in candidates:
        return _canonical(module)
    assert len(candidates) == 1, f"import {module!r}: no single distribution provides it ({candidates})"
    return candidates[0]


def _requirement_name(requirement: str) -> str:
    """`mlx[cpu]>=0.32; sys_platform == 'linux'` -> `mlx`: extras, versions and markers are not the distribution."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return _canonical(match.group(1))


def _project_file(package: str) -> dict:
    return tomllib.loads((ROOT / "packages" / package / "pyproject.toml").read_text())


def _project(package: str) -> dict:
    return _project_file(package)["project"]


@pytest.mark.parametrize("package", PACKAGES)
def test_declared_dependencies_equal_imports(package: str) -> None:
    project = _project(package)
    src = ROOT / "packages" / package / "src"
    imported = {_distribution(m) for m in _top_level_imports(src)} - {_canonical(project["name"])}
    declared = {_requirement_name(r) for r in project.get("dependencies", [])}
    assert imported == declared, (
        f"packages/{package}: imported but not declared {sorted(imported - declared)}, "
        f"declared but not imported {sorted(declared - imported)}"
    )


@pytest.mark.parametrize("package", PACKAGES)
def test_optional_imports_are_declared_extras(package: str) -> None:
    """An import guarded by `except ImportError` names a sibling package or a distribution of an extra."""
    project = _project(package)
    extras = {_requirement_name(r) for reqs in project.get("optional-dependencies", {}).values() for r in reqs}
    src = ROOT / "packages" / package / "src"
    optional = {_distribution(m) for m in _top_level_imports(src, optional=True) if not m.startswith("mlx_ltx_")}
    assert optional <= extras, f"packages/{package}: optional imports {sorted(optional - extras)} are in no extra"


def _test_group(package: str) -> set[str]:
    """The `test` group `uv sync --package X --group test` installs: the package's own when it has one, else the
    workspace root's."""
    own = _project_file(package).get("dependency-groups", {})
    groups = own if "test" in own else tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    return {_requirement_name(r) for r in groups["test"] if isinstance(r, str)}


def _test_imports(package: str) -> set[str]:
    """What a package's tests import, following the tests/support modules they use."""
    support = {p.stem: p for p in (ROOT / "tests" / "support").glob("*.py")}
    tests = ROOT / "packages" / package / "tests"
    local = {p.stem for p in tests.glob("*.py")}
    pending, seen, names = [tests], set(), set()
    while pending:
        folder = pending.pop()
        found = _top_level_imports(folder) if folder.is_dir() else _imported_names(ast.parse(folder.read_text()))
        for name in found - local - seen:
            seen.add(name)
            if name in support:
                pending.append(support[name])
            elif name not in sys.stdlib_module_names:
                names.add(name)
    return names


def _installed(package: str) -> set[str]:
    """The distributions installing ``package`` brings: its dependencies and, through each sibling it needs, theirs."""
    names: set[str] = set()
    for requirement in _project(package).get("dependencies", []):
        name = _requirement_name(requirement)
        names.add(name)
        if name.startswith("mlx-ltx-"):
            names |= _installed(name.removeprefix("mlx-"))
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_package_tests_import_only_what_their_env_installs(package: str) -> None:
    """`nox -s tests` installs one package, its dependencies and the `test` group: its tests need nothing else."""
    project = _project(package)
    needed = {_distribution(m) for m in _test_imports(package)}
    available = _installed(package) | _test_group(package)
    available.add(_canonical(project["name"]))
    assert needed <= available, f"packages/{package}/tests import {sorted(needed - available)}, not installed there"
