"""NTSC frame rates reach ffmpeg as N000/1001 (29.97 was written as 2997/100), others as their shortest fraction."""

from __future__ import annotations

import pytest

from mlx_ltx_pipelines.media.video import frame_rate_text


@pytest.mark.parametrize(
    ("fps", "text"),
    [(29.97, "30000/1001"), (23.976, "24000/1001"), (59.94, "60000/1001"), (24.0, "24/1"), (12.5, "25/2")],
)
def test_frame_rate_text(fps: float, text: str) -> None:
    assert frame_rate_text(fps) == text
