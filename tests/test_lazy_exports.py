"""Package exports are lazy (PEP 562) and true: `__all__`, the TYPE_CHECKING imports and the lazy table agree,
importing a package or one leaf module does not load every model, and an export wins over a same-named submodule."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INITS = sorted(p for p in ROOT.glob("packages/*/src/**/__init__.py") if "lazy_exports(" in p.read_text())
TOP_LEVEL = sorted(p.name for p in ROOT.glob("packages/*/src/mlx_ltx_*"))


def _package(init: Path) -> str:
    """packages/ltx-core/src/mlx_ltx_core/model/__init__.py -> mlx_ltx_core.model"""
    return ".".join(init.relative_to(ROOT).parts[3:-1])


def _views(init: Path) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """(__all__, TYPE_CHECKING name -> module, lazy table name -> absolute module) of one package __init__."""
    tree = ast.parse(init.read_text())
    package = _package(init)
    names: list[str] = []
    typed: dict[str, str] = {}
    table: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__":
            names = ast.literal_eval(node.value)
        elif isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for item in node.body:
                assert isinstance(item, ast.ImportFrom) and item.level == 0, ast.unparse(item)
                typed |= {alias.name: str(item.module) for alias in item.names}
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            relative = ast.literal_eval(node.value.args[1])
            table = {name: importlib.util.resolve_name(module, package) for name, module in relative.items()}
    return names, typed, table


def test_every_top_level_package_is_lazy() -> None:
    assert {_package(init) for init in INITS} >= set(TOP_LEVEL) - {"mlx_ltx_cli"}  # the cli exports only __version__


@pytest.mark.parametrize("init", INITS, ids=[_package(i) for i in INITS])
def test_all_type_checking_imports_and_table_agree(init: Path) -> None:
    names, typed, table = _views(init)
    assert set(names) - {"__version__"} == set(table), "__all__ and the lazy table differ"
    assert typed == table, "the TYPE_CHECKING imports and the lazy table differ"


@pytest.mark.parametrize("init", INITS, ids=[_package(i) for i in INITS])
def test_exports_resolve_and_dir_is_all(init: Path) -> None:
    module = importlib.import_module(_package(init))
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    assert dir(module) == sorted(module.__all__)
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        _ = module.not_a_name


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(out.split())


@pytest.mark.parametrize("package", TOP_LEVEL)
def test_importing_a_package_loads_no_model_and_no_mlx(package: str) -> None:
    loaded = _loaded_after(f"import {package}")
    ours = {m for m in loaded if m.startswith("mlx_ltx_")}
    assert ours <= {package, "mlx_ltx_core", "mlx_ltx_core.lazy"}, sorted(ours)
    assert "mlx" not in loaded


def test_a_leaf_import_loads_only_its_model() -> None:
    loaded = _loaded_after("import mlx_ltx_core.model.video_vae.tiling")
    assert not {m for m in loaded if m.startswith(("mlx_ltx_core.model.transformer", "mlx_ltx_core.model.upsampler"))}
    assert "mlx_ltx_core.model.video_vae.video_vae" not in loaded


def test_an_export_wins_over_its_submodule() -> None:
    """`mlx_ltx_convert.convert` is the function even when the `convert` submodule was imported first."""
    code = (
        "import types, mlx_ltx_convert.convert, mlx_ltx_convert.verify\n"
        "from mlx_ltx_convert import convert, verify\n"
        "assert not isinstance(convert, types.ModuleType) and callable(convert)\n"
        "assert not isinstance(verify, types.ModuleType) and callable(verify)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
