"""The model-version table: rows by version string, unknown versions and pipelines refused by name."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mlx_ltx_core.versions import (
    LTX_2,
    LTX_2_3,
    LTX_2_4,
    LTX_2_5,
    PIPELINE_NAMES,
    VERSIONS,
    find_model_version,
    model_version,
    parse_model_version,
)


@pytest.mark.parametrize(
    ("version", "row"),
    [
        ("2.0.0", LTX_2),
        ("2", LTX_2),
        ("v2.0", LTX_2),
        ("2.3.0", LTX_2_3),
        ("2.3", LTX_2_3),
        ("2.3.rc1", LTX_2_3),
        (None, LTX_2),
        ("2.4-rc2", LTX_2_4),
        ("2.5.0", LTX_2_5),
        ("2.5", LTX_2_5),
    ],
)
def test_rows_by_version(version, row):
    assert model_version(version) is row


@pytest.mark.parametrize("version", ["2.6.0", "3", "1.0", "nonsense", ""])
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


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("2.5.0", (2, 5, 0)), ("2.4-rc2", (2, 4)), ("2.3.rc1", (2, 3)), ("", ()), (None, ()), ("tiny-test", ())],
)
def test_versions_parse_as_the_reference_does(text, parsed):
    assert parse_model_version(text) == parsed


def test_ltx24_and_25_rows():
    """v1.2.0 constants.py: from 2.4 on 2.3's knobs with image CRF 18; the distilled pipeline samples stage 1 with
    the ancestral Euler sampler from 2.5 on (distilled.py ANCESTRAL_SAMPLER_SINCE_VERSION)."""
    for row in (LTX_2_4, LTX_2_5):
        assert row.text_encoder == "gemma4_unified" and row.vocoder == "bigvgan-bwe"
        assert all(d.image_crf == 18 for d in row.pipelines.values())
        assert row.defaults("dev") == replace(LTX_2_3.defaults("dev"), image_crf=18)
    assert all(d.image_crf == 33 and d.sampler == "euler" for d in LTX_2_3.pipelines.values())
    assert LTX_2_4.defaults("distilled").sampler == "euler"
    assert LTX_2_5.defaults("distilled").sampler == "euler_ancestral"
    assert {d.sampler for n, d in LTX_2_5.pipelines.items() if n != "distilled"} == {"euler"}
