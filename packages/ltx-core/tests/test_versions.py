"""The model-version table: rows by version string, unknown versions and pipelines refused by name."""

from __future__ import annotations

import pytest

from mlx_ltx_core.versions import LTX_2, LTX_2_3, PIPELINE_NAMES, VERSIONS, find_model_version, model_version


@pytest.mark.parametrize(
    ("version", "row"),
    [("2.0.0", LTX_2), ("2", LTX_2), ("v2.0", LTX_2), ("2.3.0", LTX_2_3), ("2.3", LTX_2_3), (None, LTX_2)],
)
def test_rows_by_version(version, row):
    assert model_version(version) is row


@pytest.mark.parametrize("version", ["2.5.0", "3", "1.0", "nonsense", ""])
def test_unknown_version_raises_naming_it_and_the_known_ones(version):
    assert find_model_version(version) is None
    with pytest.raises(
        ValueError, match=rf"model_version={version!r} is unknown; known versions: 2 \(ltx-2, 2\.0\.x\), 2\.3"
    ):
        model_version(version)


def test_every_version_has_every_pipeline():
    for row in VERSIONS.values():
        assert tuple(row.pipelines) == PIPELINE_NAMES
    with pytest.raises(ValueError, match=r"pipeline='dev-three-stage' is unknown; known pipelines: distilled, dev"):
        LTX_2_3.defaults("dev-three-stage")


def test_rows_hold_the_reference_defaults():
    assert (LTX_2.family, LTX_2.feature_extractor_version, LTX_2.vocoder) == ("ltx-2", 1, "hifigan")
    assert (LTX_2_3.family, LTX_2_3.feature_extractor_version, LTX_2_3.vocoder) == ("ltx-2.3", 2, "bigvgan-bwe")
    assert LTX_2.defaults("dev").num_inference_steps == 40
    assert LTX_2_3.defaults("dev").video_guider.stg_blocks == (28,)
    hq = LTX_2_3.defaults("dev-two-stage-hq")
    assert (hq.num_inference_steps, hq.height, hq.width, hq.distilled_lora_strengths) == (15, 1088, 1920, (0.25, 0.5))
    assert LTX_2_3.defaults("keyframe").distilled_lora_strengths == (None, 1.0)
