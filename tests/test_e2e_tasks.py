"""The task pipelines end to end on the tiny LTX-2.3 (retake, extend, text-to-audio, Foley): what they keep, what
they write (ffprobe), and that the same seed gives the same output."""

from __future__ import annotations

from pathlib import Path

import mlx.core as mx
import numpy as np
import pytest

from cli_testing import probe, run_ltx

FPS = 24.0
FRAMES = 17  # 3 latent frames: [0, 1), [1, 9), [9, 17) pixel frames


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 17-frame 64x96 MP4 at 24 fps with a stereo 440 Hz tone."""
    from mlx_ltx_pipelines.media import write_video

    path = tmp_path_factory.mktemp("tasks") / "source.mp4"
    frames = np.random.default_rng(0).integers(0, 256, (FRAMES, 64, 96, 3), dtype=np.uint8)
    t = np.arange(round(48000 * FRAMES / FPS)) / 48000
    tone = np.stack([np.sin(2 * np.pi * 440 * t) * 0.3] * 2).astype(np.float32)
    write_video(path, [frames], FPS, audio=(tone, 48000))
    return path


@pytest.fixture(scope="module")
def retake(tiny, source):
    """(pipeline, request, result) of a retake of [0.4, 0.7) s: the last latent frame (pixel frames 9..16)."""
    from mlx_ltx_pipelines.pipelines.retake import RetakePipeline, RetakeRequest

    pipeline = RetakePipeline(*tiny)
    request = RetakeRequest(source, "a retake", 0.4, 0.7, seed=3)
    return pipeline, request, pipeline(request)


def _frames(result) -> np.ndarray:
    return np.concatenate(list(result.video_chunks()))


def test_retake_keeps_the_latents_and_frames_outside_the_span(retake, source) -> None:
    from mlx_ltx_pipelines.result import GenerationResult
    from mlx_ltx_pipelines.source_video import encode_frames, read_source_video

    pipeline, _, result = retake
    latent = encode_frames(pipeline.ledger, read_source_video(source).frames)
    # Latents: the reference keeps them outside the span (denoise mask 0), bit for bit; the span's are new.
    assert result.retaken == (9, 17)
    assert mx.array_equal(result.video_latent[:, :2], latent[:, :2])
    assert not mx.array_equal(result.video_latent[:, 2], latent[:, 2])
    # Frames: those outside the span are exactly the input's latents decoded; those inside are the retake's.
    got = _frames(result)
    input_decode = _frames(GenerationResult(pipeline.ledger, latent, None, FPS, result.seed))
    assert got.shape == (FRAMES, 64, 96, 3)
    np.testing.assert_array_equal(got[:9], input_decode[:9])
    assert all(not np.array_equal(got[i], input_decode[i]) for i in range(9, FRAMES))


def test_retake_same_seed_same_output(retake) -> None:
    pipeline, request, result = retake
    again = pipeline(request)
    assert mx.array_equal(again.video_latent, result.video_latent)
    assert result.audio_latent is not None and again.audio_latent is not None
    assert mx.array_equal(again.audio_latent, result.audio_latent)


def test_retake_audio_only_keeps_the_video_latent_and_the_sound_outside(tiny, source) -> None:
    from mlx_ltx_pipelines.pipelines.retake import RetakePipeline, RetakeRequest
    from mlx_ltx_pipelines.source_video import encode_frames, encode_source_audio, read_source_video

    pipeline = RetakePipeline(*tiny)
    result = pipeline(RetakeRequest(source, "a new sound", 0.4, 0.7, seed=3, regenerate_video=False))
    src = read_source_video(source)
    assert mx.array_equal(result.video_latent, encode_frames(pipeline.ledger, src.frames))
    audio_latent = encode_source_audio(pipeline.ledger, src)[0]
    assert result.audio_latent is not None
    before = int(0.4 * 25) - 1  # audio tokens ending before 0.4 s are kept
    assert mx.array_equal(result.audio_latent[:, :before], audio_latent[:, :before])
    assert not mx.array_equal(result.audio_latent, audio_latent)
    assert result.source_latent is None  # nothing to splice: the video was not regenerated


def test_ltx_retake_writes_the_source_length(tiny, source, ltx_cache, tmp_path) -> None:
    out = tmp_path / "retake.mp4"
    args = ["retake", source, "--start", "0.4", "--end", "0.7", "-p", "x", "-o", out, "--model", "tiny", "-q"]
    done = run_ltx(args, ltx_cache, tmp_path)
    assert done.returncode == 0, done.stderr
    streams = {s["codec_type"]: s for s in probe(out)["streams"]}
    assert int(streams["video"]["nb_read_frames"]) == FRAMES
    assert (int(streams["video"]["width"]), int(streams["video"]["height"])) == (96, 64)
    assert abs(float(streams["audio"]["duration"]) - FRAMES / FPS) < 0.03


def test_retake_low_memory_equals_resident(tiny, retake) -> None:
    """The task pipelines take the model options of the others: streamed blocks give the resident run's latents."""
    from mlx_ltx_pipelines.pipelines.retake import RetakePipeline

    _, request, result = retake
    streamed = RetakePipeline(*tiny, low_memory=True, lora_mode="unfused")(request)
    np.testing.assert_allclose(np.array(streamed.video_latent), np.array(result.video_latent), rtol=0, atol=1e-5)


def test_ltx_retake_on_two_ranks_with_the_model_options(tiny, source, ltx_cache, tmp_path) -> None:
    """`--hosts` (two local ranks), `--low-memory`, `--dtype`, `--lora-mode`: rank 0 alone writes the MP4."""
    out = tmp_path / "retake.mp4"
    args = ["retake", source, "--start", "0.4", "--end", "0.7", "-p", "x", "-o", out, "--model", "tiny"]
    args += ["--low-memory", "--dtype", "float32", "--lora-mode", "unfused", "--hosts", "127.0.0.1,127.0.0.1"]
    done = run_ltx(args, ltx_cache, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("wrote ") == 1 and "rank peaks: " in done.stdout, done.stdout
    assert int(next(s for s in probe(out)["streams"] if s["codec_type"] == "video")["nb_read_frames"]) == FRAMES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["retake.mp4"]


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
def test_extend_adds_the_seconds_and_keeps_the_source(tiny, source, backward) -> None:
    """Two chunks of 25 frames carrying 9: 0.5 s = 12 new frames at 24 fps (one chunk adds 16, the rest is cut)."""
    from mlx_ltx_pipelines.pipelines.extend import ExtendPipeline, ExtendRequest, chunk_plan
    from mlx_ltx_pipelines.source_video import read_source_video, source_audio

    pipeline = ExtendPipeline(*tiny)
    request = ExtendRequest(source, "more", 1.0, backward, seed=4, chunk_frames=25, carry_frames=9)
    src = read_source_video(source)
    assert chunk_plan(request, FRAMES, FPS).count == 2  # 24 new frames, 16 per chunk
    result = pipeline(request)
    assert result.num_frames == FRAMES + 24
    kept = result.frames[24:] if backward else result.frames[:FRAMES]
    np.testing.assert_array_equal(kept, src.frames)
    assert result.audio is not None
    waveform, rate = result.audio
    assert waveform.shape[1] == round((FRAMES + 24) / FPS * rate)
    own = source_audio(src)[0]
    np.testing.assert_array_equal(waveform[:, -own.shape[1] :] if backward else waveform[:, : own.shape[1]], own)
    again = pipeline(request)
    np.testing.assert_array_equal(again.frames, result.frames)


def test_ltx_extend_writes_input_plus_n_seconds(tiny, source, ltx_cache, tmp_path) -> None:
    out = tmp_path / "longer.mp4"
    args = ["extend", source, "--seconds", "1", "-p", "x", "-o", out, "--model", "tiny", "-q"]
    done = run_ltx([*args, "--chunk-frames", "25", "--carry-frames", "9"], ltx_cache, tmp_path)
    assert done.returncode == 0, done.stderr
    streams = {s["codec_type"]: s for s in probe(out)["streams"]}
    assert int(streams["video"]["nb_read_frames"]) == FRAMES + 24  # 17 frames + 1 s at 24 fps
    assert abs(float(streams["video"]["duration"]) - (FRAMES + 24) / FPS) < 1e-3
    assert abs(float(streams["audio"]["duration"]) - (FRAMES + 24) / FPS) < 0.03


def test_text_to_audio_lasts_num_frames_over_fps_and_repeats(tiny) -> None:
    from mlx_ltx_pipelines.pipelines.audio_only import T2AOneStagePipeline
    from mlx_ltx_pipelines.request import GenerationRequest

    pipeline = T2AOneStagePipeline(*tiny, distilled=False)
    request = GenerationRequest("rain on a tin roof", seed=2, num_frames=25, frame_rate=FPS, num_inference_steps=2)
    result = pipeline(request)
    assert result.waveform.shape == (2, round(25 / FPS * result.sample_rate))
    assert np.abs(result.waveform).max() > 0
    np.testing.assert_array_equal(pipeline(request).waveform, result.waveform)


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_ltx_generate_audio_only_writes_a_sound_file(tiny, ltx_cache, tmp_path, suffix) -> None:
    out = tmp_path / f"rain{suffix}"
    done = run_ltx(
        ["generate", "--audio-only", "-p", "rain", "-o", out, "--model", "tiny", "-n", "25", "-q"], ltx_cache, tmp_path
    )
    assert done.returncode == 0, done.stderr
    (stream,) = probe(out)["streams"]
    assert stream["codec_type"] == "audio" and stream["codec_name"] == ("flac" if suffix == ".flac" else "pcm_s16le")
    assert int(stream["channels"]) == 2
    assert abs(float(stream["duration"]) - 25 / FPS) < 1e-3


def test_foley_keeps_the_frames_and_makes_the_sound(tiny, media) -> None:
    from mlx_ltx_pipelines.pipelines.audio_only import FoleyRequest, VideoToAudioPipeline
    from mlx_ltx_pipelines.source_video import read_source_video

    pipeline = VideoToAudioPipeline(*tiny)
    silent = media["video"]  # 17 frames, 64x96, no sound
    result = pipeline(FoleyRequest(silent, "footsteps", seed=5))
    np.testing.assert_array_equal(result.frames, read_source_video(silent).frames)
    assert result.audio is not None
    waveform, rate = result.audio
    assert waveform.shape == (2, round(FRAMES / FPS * rate))
    again = pipeline(FoleyRequest(silent, "footsteps", seed=5))
    assert again.audio is not None
    np.testing.assert_array_equal(again.audio[0], waveform)


def test_ltx_foley_writes_the_video_with_its_new_sound(tiny, ltx_cache, tmp_path, media) -> None:
    out = tmp_path / "foley.mp4"
    done = run_ltx(["foley", media["video"], "-p", "steps", "-o", out, "--model", "tiny", "-q"], ltx_cache, tmp_path)
    assert done.returncode == 0, done.stderr
    streams = {s["codec_type"]: s for s in probe(out)["streams"]}
    assert int(streams["video"]["nb_read_frames"]) == 17
    assert abs(float(streams["audio"]["duration"]) - 17 / FPS) < 0.03
