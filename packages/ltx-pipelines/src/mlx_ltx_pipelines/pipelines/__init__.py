"""The generation pipelines, one class per task (ports ltx_pipelines' pipeline modules)."""

from mlx_ltx_pipelines.pipelines.base import Pipeline
from mlx_ltx_pipelines.pipelines.distilled import DistilledPipeline
from mlx_ltx_pipelines.pipelines.ic_lora import ICLoraPipeline
from mlx_ltx_pipelines.pipelines.ti2vid_one_stage import TI2VidOneStagePipeline
from mlx_ltx_pipelines.pipelines.ti2vid_two_stages import (
    KeyframeInterpolationPipeline,
    TI2VidTwoStagesHQPipeline,
    TI2VidTwoStagesPipeline,
)

__all__ = [
    "DistilledPipeline",
    "ICLoraPipeline",
    "KeyframeInterpolationPipeline",
    "Pipeline",
    "TI2VidOneStagePipeline",
    "TI2VidTwoStagesHQPipeline",
    "TI2VidTwoStagesPipeline",
]
