"""``known_keys`` / ``known_keys_from_dict``: the one mlx-lm ``from_dict`` pattern every Args class uses."""

from __future__ import annotations

from dataclasses import dataclass

from mlx_ltx_core.utils import known_keys, known_keys_from_dict


@dataclass
class _Args:
    width: int = 1
    depth: int = 2


def test_unknown_keys_dropped_overrides_win():
    config = {"width": 3, "depth": 4, "_class_name": "X", "extra": [1]}
    assert known_keys(_Args, config) == {"width": 3, "depth": 4}
    assert known_keys(_Args, config, exclude=("depth",)) == {"width": 3}
    assert known_keys_from_dict(_Args, config, depth=5) == _Args(3, 5)
    assert known_keys_from_dict(_Args, {}) == _Args()
