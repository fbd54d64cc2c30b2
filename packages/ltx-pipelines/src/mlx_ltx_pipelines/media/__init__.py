"""Media I/O: conditioning images, video reading, MP4 writing with muxed audio (ffmpeg)."""

from typing import TYPE_CHECKING

from mlx_ltx_core.lazy import lazy_exports

if TYPE_CHECKING:
    from mlx_ltx_pipelines.media.image import (
        BACKGROUND,
        DEFAULT_IMAGE_CRF,
        ImageInput,
        decode_image,
        degrade_h264,
        load_image_conditioning,
        resize_and_center_crop,
    )
    from mlx_ltx_pipelines.media.video import VideoWriter, read_video, to_uint8_frames, write_video, write_wav

__all__ = [
    "BACKGROUND",
    "DEFAULT_IMAGE_CRF",
    "ImageInput",
    "VideoWriter",
    "decode_image",
    "degrade_h264",
    "load_image_conditioning",
    "read_video",
    "resize_and_center_crop",
    "to_uint8_frames",
    "write_video",
    "write_wav",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "BACKGROUND": ".image",
        "DEFAULT_IMAGE_CRF": ".image",
        "ImageInput": ".image",
        "decode_image": ".image",
        "degrade_h264": ".image",
        "load_image_conditioning": ".image",
        "resize_and_center_crop": ".image",
        "VideoWriter": ".video",
        "read_video": ".video",
        "to_uint8_frames": ".video",
        "write_video": ".video",
        "write_wav": ".video",
    },
)
