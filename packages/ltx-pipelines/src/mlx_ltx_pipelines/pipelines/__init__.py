"""The generation pipelines, one class per task (ports ltx_pipelines' pipeline modules)."""

from mlx_ltx_pipelines.pipelines.base import Pipeline, Plan, RefineInputs
from mlx_ltx_pipelines.pipelines.distilled import DistilledPipeline
from mlx_ltx_pipelines.pipelines.ic_lora import ICLoraPipeline
from mlx_ltx_pipelines.pipelines.latent_upscale import LatentUpscalePipeline, UpscaleRequest
from mlx_ltx_pipelines.pipelines.ti2vid_one_stage import TI2VidOneStagePipeline
from mlx_ltx_pipelines.pipelines.ti2vid_two_stages import (
    KeyframeInterpolationPipeline,
    TI2VidTwoStagesHQPipeline,
    TI2VidTwoStagesPipeline,
)

# The generation pipelines by their CLI name (`ltx generate --pipeline NAME`).
BY_NAME: dict[str, type[Pipeline]] = {
    cls.name: cls
    for cls in (
        DistilledPipeline,
        TI2VidOneStagePipeline,
        TI2VidTwoStagesPipeline,
        TI2VidTwoStagesHQPipeline,
        KeyframeInterpolationPipeline,
        ICLoraPipeline,
    )
}

__all__ = [
    "BY_NAME",
    "DistilledPipeline",
    "ICLoraPipeline",
    "KeyframeInterpolationPipeline",
    "LatentUpscalePipeline",
    "Pipeline",
    "Plan",
    "RefineInputs",
    "TI2VidOneStagePipeline",
    "TI2VidTwoStagesHQPipeline",
    "TI2VidTwoStagesPipeline",
    "UpscaleRequest",
]
