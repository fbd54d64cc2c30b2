"""Locate the ffmpeg binary: $LTX_FFMPEG, then the system's, then the one bundled by imageio-ffmpeg."""

from __future__ import annotations

import functools
import os
import shutil


@functools.cache
def ffmpeg_exe() -> str:
    if os.environ.get("LTX_FFMPEG"):
        return os.environ["LTX_FFMPEG"]
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()
