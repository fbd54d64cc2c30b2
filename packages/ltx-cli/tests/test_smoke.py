"""Smoke test: the package imports on its own and every name in __all__ resolves."""

import importlib
import importlib.metadata

import mlx_ltx_cli


def test_version_matches_distribution() -> None:
    assert mlx_ltx_cli.__version__ == importlib.metadata.version("mlx-ltx-cli")


def test_all_names_resolve() -> None:
    module = importlib.import_module("mlx_ltx_cli")
    for name in module.__all__:
        assert getattr(module, name) is not None, name
