"""``params_for``: each pipeline's defaults per model version, from ltx-core's table; unknown versions raise."""

from __future__ import annotations

import pytest

from mlx_ltx_pipelines.guiders import MultiModalGuiderParams
from mlx_ltx_pipelines.params import HQ_DISTILLED_LORA_STRENGTHS, params_for

NAMES = ("distilled", "dev", "dev-two-stage", "keyframe", "ic-lora")


def _guider(cfg: float, stg: float, rescale: float, blocks: list[int]) -> MultiModalGuiderParams:
    return MultiModalGuiderParams(
        cfg_scale=cfg, stg_scale=stg, rescale_scale=rescale, modality_scale=3.0, skip_step=0, stg_blocks=blocks
    )


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("version", "steps", "block"),
    [(None, 40, 29), ("2.0.0", 40, 29), ("2.3.0", 30, 28), ("2.4-rc2", 30, 28), ("2.5.0", 30, 28)],
)
def test_defaults_per_version(name, version, steps, block):
    p = params_for(version, name)
    assert (p.seed, p.height, p.width, p.num_frames, p.frame_rate) == (10, 1024, 1536, 121, 24.0)
    assert p.num_inference_steps == steps
    assert p.video_guider_params == _guider(3.0, 1.0, 0.7, [block])
    assert p.audio_guider_params == _guider(7.0, 1.0, 0.7, [block])


@pytest.mark.parametrize("version", [None, "2.0.0", "2.3.0", "2.5.0"])
def test_hq_defaults_for_every_version(version):
    p = params_for(version, "dev-two-stage-hq")
    assert (p.height, p.width, p.num_inference_steps) == (1088, 1920, 15)
    assert p.video_guider_params == _guider(3.0, 0.0, 0.45, [])
    assert p.audio_guider_params == _guider(7.0, 0.0, 1.0, [])
    assert p.distilled_lora_strengths == HQ_DISTILLED_LORA_STRENGTHS == (0.25, 0.5)


@pytest.mark.parametrize(("version", "crf"), [(None, 33), ("2.3.0", 33), ("2.4-rc2", 18), ("2.5.0", 18)])
def test_image_crf_and_the_distilled_sampler(version, crf):
    """v1.2.0: LTX_2_4_PARAMS is 2.3's with image CRF 18; the distilled stage 1 is ancestral from 2.5 on."""
    assert {params_for(version, n).image_crf for n in NAMES} == {crf}
    ancestral = version == "2.5.0"
    assert params_for(version, "distilled").sampler == ("euler_ancestral" if ancestral else "euler")
    assert params_for(version, "dev").sampler == "euler"


@pytest.mark.parametrize("version", ["2.6.0", "3.0"])
def test_unknown_version_raises(version):
    # Before the table, every version that was not 2.3 silently got LTX-2's defaults.
    with pytest.raises(ValueError, match=rf"model_version='{version}' is unknown; known versions: 2 \(ltx-2"):
        params_for(version, "dev")
