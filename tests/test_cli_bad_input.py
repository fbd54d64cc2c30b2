"""Bad input to `ltx`: exit code 2, one line naming the problem (and the fix), no traceback, no output file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli_testing import run_ltx

GEN = ["generate", "-p", "a test", "-o", "out.mp4"]
TINY = [*GEN, "--model", "tiny"]
RETAKE = ["retake", "{video}", "-p", "x", "-o", "out.mp4"]
RETAKE_SPAN = [*RETAKE, "--start", "0", "--end", "0.2"]
EXTEND = ["extend", "{video}", "-p", "x", "-o", "out.mp4"]
T2A = ["generate", "--audio-only", "-p", "rain", "-o", "out.wav"]

# (id, arguments, a fragment the one error line must contain). `{name}` are files prepared below; a first argument
# LTX_CACHE=PATH runs the case with that cache instead of the session's, other leading KEY=VALUE set the environment.
CASES = [
    ("frames-not-8k+1", [*GEN, "-n", "30"], "num_frames=30 must be 8k+1"),
    ("frames-zero", [*GEN, "-n", "0"], "num_frames=0"),
    ("frames-not-int", [*GEN, "-n", "abc"], "'abc' is not a valid int"),
    ("height-not-64", [*GEN, "-H", "100", "-W", "128"], "100"),
    ("width-not-32-dev", [*GEN, "--pipeline", "dev", "-H", "64", "-W", "50"], "50"),
    ("height-without-width", [*GEN, "-H", "128"], "pass both --height and --width"),
    ("negative-fps", [*GEN, "--fps", "-5"], "frame_rate"),
    ("no-prompt", ["generate", "-o", "out.mp4"], "no prompt"),
    ("empty-prompt", ["generate", "-p", "  ", "-o", "out.mp4"], "no prompt"),
    ("unknown-pipeline", [*GEN, "--pipeline", "turbo"], "--pipeline 'turbo'"),
    ("unknown-tiling", [*GEN, "--tiling", "huge"], "--tiling 'huge'"),
    ("unknown-conditioning-mode", [*GEN, "--conditioning-mode", "blend"], "--conditioning-mode 'blend'"),
    ("unknown-option", [*GEN, "--bogus"], "No such option: --bogus"),
    ("unknown-command", ["frobnicate"], "No such command"),
    ("missing-image", [*GEN, "-i", "missing.png"], "no such image"),
    ("image-two-values", [*GEN, "-i", "{image}", "5"], "PATH alone or PATH FRAME_IDX STRENGTH"),
    ("image-strength-out-of-range", [*GEN, "-i", "{image}", "0", "1.5"], "must be in [0, 1]"),
    ("image-frame-out-of-range", [*GEN, "-n", "9", "-i", "{image}", "20", "1"], "frame index 20"),
    ("two-images-one-frame", [*GEN, "-i", "{image}", "0", "1", "-i", "{image}", "0", "0.5"], "same frame index"),
    ("audio-and-audio-file", [*GEN, "--audio", "--audio-file", "{wav}"], "exclude each other"),
    ("missing-audio-file", [*GEN, "--audio-file", "missing.wav"], "no such audio file"),
    ("negative-audio-start", [*GEN, "--audio-file", "{wav}", "--audio-start-time", "-1"], "audio-start-time"),
    ("ic-lora-without-video", [*GEN, "--pipeline", "ic-lora", "--lora-path", "{wav}"], "--video-conditioning"),
    ("video-conditioning-not-ic-lora", [*GEN, "--video-conditioning", "{wav}", "1.0"], "--pipeline ic-lora"),
    (
        "missing-reference-video",
        [*GEN, "--pipeline", "ic-lora", "--lora-path", "x", "--video-conditioning", "missing.mp4", "1"],
        "no such video",
    ),
    (
        "reference-strength-out-of-range",
        [*GEN, "--pipeline", "ic-lora", "--lora-path", "x", "--video-conditioning", "{image}", "2"],
        "must be in [0, 1]",
    ),
    ("ic-lora-without-lora", [*GEN, "--pipeline", "ic-lora", "--video-conditioning", "{image}", "1"], "--lora-path"),
    ("keyframe-without-images", [*GEN, "--pipeline", "keyframe"], "pass --image"),
    ("cfg-on-distilled", [*GEN, "--cfg-scale", "3"], "--cfg-scale applies to the guided dev pipelines"),
    ("zero-steps", [*GEN, "--pipeline", "dev", "--steps", "0"], "--steps=0"),
    ("rescale-out-of-range", [*GEN, "--pipeline", "dev", "--cfg-rescale", "2"], "--cfg-rescale=2.0"),
    ("bad-stg-blocks", [*GEN, "--pipeline", "dev", "--stg-blocks", "a,b"], "--stg-blocks"),
    ("quantize-3", [*GEN, "--quantize", "3"], "--quantize=3"),
    ("lora-mode-merge", [*GEN, "--lora-mode", "merge"], "--lora-mode 'merge': choose one of auto, fused, unfused"),
    ("dtype-float8", [*GEN, "--dtype", "float8"], "--dtype 'float8': choose one of keep, bfloat16, float16"),
    ("lora-stage-strength-on-distilled", [*GEN, "--lora-strength-stage-1", "0.5"], "two-stage dev pipelines"),
    ("output-not-mp4", ["generate", "-p", "x", "-o", "out.avi"], "must end in .mp4"),
    ("output-exists", ["generate", "-p", "x", "-o", "{existing}"], "already exists; pass --overwrite"),
    ("output-folder-missing", ["generate", "-p", "x", "-o", "nowhere/out.mp4"], "does not exist"),
    ("output-folder-read-only", ["generate", "-p", "x", "-o", "/proc/out.mp4"], "not writable"),
    ("output-audio-not-wav", [*GEN, "--output-audio", "a.mp3"], "must end in .wav"),
    ("auto-name-and-output", [*GEN, "--auto-output-name"], "exclude each other"),
    ("model-missing-folder", [*GEN, "--model", "missing-model"], "not a model folder"),
    ("model-pickle", [*GEN, "--model", "{pickle}"], "pickle checkpoints are not loaded"),
    ("checkpoint-missing", [*GEN, "--checkpoint-path", "missing.safetensors"], "no such checkpoint file"),
    ("folder-without-index", [*GEN, "--model", "{plain_dir}"], "no model_index.json"),
    ("text-encoder-missing", [*GEN, "--text-encoder-path", "missing-gemma"], "no such folder"),
    ("truncated-checkpoint", [*GEN, "--checkpoint-path", "{truncated}"], "truncated"),
    ("checkpoint-not-ltx", [*GEN, "--checkpoint-path", "{foreign}"], "LTX"),
    ("corrupt-image", [*TINY, "-i", "{junk_png}"], "cannot be decoded"),
    ("empty-audio-file", [*TINY, "--audio-file", "{empty_wav}"], "empty"),
    ("lora-for-another-model", [*TINY, "--lora-path", "{foreign_lora}"], "lora"),
    ("missing-lora", [*TINY, "--lora-path", "missing-lora.safetensors"], "LoRA missing-lora.safetensors"),
    ("missing-lora-in-folder", [*GEN, "--lora-path", "loras/my.safetensors"], "loras/my.safetensors: no such file"),
    ("memory-limit-too-small", [*TINY, "--memory-limit", "0.001"], "estimated peak memory"),
    ("component-folder-as-model", [*GEN, "--model", "{component_dir}"], "no model_index.json"),
    ("decode-missing-latents", ["decode", "missing.latents.safetensors"], "no such latents file"),
    ("decode-junk", ["decode", "{junk_png}"], "not a readable safetensors file"),
    ("upscale-missing-input", ["upscale", "--model", "tiny", "--input", "missing.png", "-o", "up.png"], "no such file"),
    ("upscale-wrong-output-kind", ["upscale", "--model", "tiny", "--input", "{image}", "-o", "up.mp4"], ".png"),
    ("info-missing", ["info", "missing-model"], "not a model folder"),
    # values: seeds, non-finite numbers, numbers where numbers are expected (issue 15 items 3, 11)
    ("seed-negative", [*GEN, "-s", "-1"], "--seed=-1"),
    ("seed-over-2**64", [*GEN, "-s", str(2**64)], "--seed=18446744073709551616"),
    (
        "upscale-seed-negative",
        ["upscale", "--model", "tiny", "--input", "{image}", "-o", "up.png", "-s", "-2"],
        "--seed",
    ),
    ("memory-limit-inf", [*GEN, "--memory-limit", "inf"], "--memory-limit=inf: must be a finite number"),
    ("memory-limit-nan", [*GEN, "--memory-limit", "nan"], "--memory-limit=nan"),
    ("memory-limit-negative", [*GEN, "--memory-limit", "-1"], "--memory-limit=-1.0 must be >= 0"),
    ("fps-inf", [*GEN, "--fps", "inf"], "--fps=inf"),
    ("audio-start-nan", [*GEN, "--audio-file", "{wav}", "--audio-start-time", "nan"], "--audio-start-time=nan"),
    ("image-strength-nan", [*GEN, "-i", "{image}", "--image-strength", "nan"], "--image-strength=nan"),
    ("image-inline-strength-nan", [*GEN, "-i", "{image}", "0", "nan"], "STRENGTH 'nan' must be a finite number"),
    ("lora-strength-inf", [*GEN, "--lora-path", "x", "--lora-strength", "inf"], "--lora-strength=inf"),
    ("cfg-scale-nan", [*GEN, "--pipeline", "dev", "--cfg-scale", "nan"], "--cfg-scale=nan"),
    ("stg-scale-inf", [*GEN, "--pipeline", "dev", "--stg-scale", "-inf"], "--stg-scale=-inf"),
    (
        "reference-strength-nan",
        [*GEN, "--pipeline", "ic-lora", "--lora-path", "x", "--video-conditioning", "{image}", "nan"],
        "must be a finite number",
    ),
    ("image-frame-not-int", [*GEN, "-i", "{image}", "0.5", "1"], "FRAME_IDX '0.5' must be a whole number"),
    # input files, read from their headers before any model (issue 15 item 3)
    ("image-bomb", [*GEN, "-i", "{bomb_png}"], "decompression bomb"),
    ("image-1x1", [*GEN, "-i", "{tiny_png}"], "at least 2x2"),
    ("upscale-image-1x1", ["upscale", "--model", "tiny", "--input", "{tiny_png}", "-o", "up.png"], "too small"),
    ("checkpoint-0-bytes", [*GEN, "--checkpoint-path", "{zero_safetensors}"], "--checkpoint-path"),
    ("checkpoint-pickle-bytes", [*GEN, "--checkpoint-path", "{pickle_safetensors}"], "pickle"),
    ("output-name-too-long", ["generate", "-p", "x", "-o", "a" * 250 + ".mp4"], "choose a shorter name"),
    ("output-read-only-fs", ["generate", "-p", "x", "-o", "/proc/sys/out.mp4"], "not writable"),
    ("decode-read-only-output", ["decode", "{bare_latents_safetensors}", "-o", "/proc/sys/out.mp4"], "not writable"),
    ("decode-output-folder-missing", ["decode", "{bare_latents_safetensors}", "-o", "no/out.mp4"], "does not exist"),
    (
        "upscale-read-only-output",
        ["upscale", "--model", "tiny", "--input", "{image}", "-o", "/proc/sys/up.png"],
        "not writable",
    ),
    (
        "upscale-name-too-long",
        ["upscale", "--model", "tiny", "--input", "{image}", "-o", "u" * 250 + ".png"],
        "shorter name",
    ),
    ("cache-is-a-file", ["LTX_CACHE={existing}", *TINY], "not a folder"),
    ("cache-read-only", ["LTX_CACHE=/proc/sys/ltx-cache", *TINY], "not writable"),
    ("decode-latents-without-fields", ["decode", "{bare_latents_safetensors}"], "no frame_rate, seed, model entry"),
    ("model-index-wrong-type", [*GEN, "--model", "{wrong_type_model}"], "expected int"),
    ("component-index-wrong-type", ["info", "{wrong_index_model}"], "'weight_map' is list"),
    ("model-index-symlink-loop", ["info", "{loop_model}"], "model_index.json"),
    ("model-index-broken-json", [*GEN, "--model", "{broken_json_model}"], "model_index.json: invalid JSON"),
    ("info-broken-json", ["info", "{broken_json_model}"], "model_index.json: invalid JSON"),
    ("convert-empty-output", ["convert", "{foreign}", "-o", ""], "--output ''"),
    # every input decoded or probed, every component's sizes checked, before any model loads (issue 14 item 6)
    ("image-truncated", [*GEN, "-i", "{truncated_png}"], "--image {truncated_png}: cannot be decoded"),
    ("image-frame-beyond-the-models-frames", [*TINY, "-i", "{image}", "20", "1"], "frame index 20 must be in [0, 8]"),
    ("image-32-bit-tiff", [*GEN, "-i", "{wide_tif}"], "beyond 16 bits"),
    ("upscale-32-bit-tiff", ["upscale", "--model", "tiny", "--input", "{wide_tif}", "-o", "up.png"], "beyond 16 bits"),
    ("audio-file-not-audio", [*GEN, "--audio-file", "{junk_wav}"], "--audio-file {junk_wav}: cannot decode audio"),
    (
        "video-conditioning-not-video",
        [*GEN, "--pipeline", "ic-lora", "--lora-path", "x", "--video-conditioning", "{junk_wav}", "1"],
        "--video-conditioning {junk_wav}: cannot be decoded (no video stream)",
    ),
    ("upscale-not-video", ["upscale", "--model", "tiny", "--input", "{junk_wav}", "-o", "up.mp4"], "no video stream"),
    ("truncated-shard", [*GEN, "--model", "{truncated_shard_model}"], "truncated or replaced"),
    ("decode-unknown-tiling", ["decode", "{bare_latents_safetensors}", "--tiling", "foo"], "--tiling 'foo'"),
    ("no-audio-with-output-audio", [*GEN, "--no-audio", "--output-audio", "x.wav"], "--no-audio generates none"),
    # flags that did nothing or misled (issue 14 item 7)
    ("quantize-tiny", [*TINY, "--quantize", "8"], "--model tiny is already converted"),
    ("quantize-converted-folder", [*GEN, "--model", "{model_dir}", "--quantize", "4"], "ltx convert CHECKPOINT"),
    ("convert-mixed-without-quantize", ["convert", "{foreign}", "-o", "out", "--mixed"], "pass --quantize 8"),
    ("audio-cfg-on-distilled", [*GEN, "--audio-cfg-scale", "3"], "--audio-cfg-scale applies to the guided"),
    ("audio-stg-blocks-not-numbers", [*GEN, "--pipeline", "dev", "--audio-stg-blocks", "x"], "--audio-stg-blocks"),
    ("audio-rescale-out-of-range", [*GEN, "--pipeline", "dev", "--audio-cfg-rescale", "2"], "--audio-cfg-rescale=2.0"),
    ("video-stg-block-not-in-model", [*TINY, "--pipeline", "dev", "--stg-blocks", "5"], "video guider: stg_blocks=[5]"),
    (
        "audio-stg-block-not-in-model",
        [*TINY, "--pipeline", "dev", "--audio-stg-blocks", "7"],
        "audio guider: stg_blocks=[7] do not exist: the transformer has blocks 0..1",
    ),
    # more of issue 14: repos offline, folders that are not ours, options that would be ignored
    (
        "model-repo-absent-offline",
        ["HF_HUB_OFFLINE=1", "HF_HOME={hf_home}", *GEN, "--model-repo", "nobody/absent"],
        "not in the Hugging Face cache",
    ),
    ("checkpoint-missing-in-folder", [*GEN, "--checkpoint-path", "{ckpts}/x.safetensors"], "no such checkpoint file"),
    (
        "convert-overwrite-onto-user-folder",
        ["convert", "{tiny_ckpt}/ltx-2.3-tiny-random.safetensors", "-o", "{user_dir}", "--overwrite"],
        "not a model folder written by ltx-convert (it holds 'notes.txt')",
    ),
    (
        "save-frames-overwrite-onto-user-folder",
        ["generate", "-p", "x", "-o", "{frames_parent}/o.mp4", "--model", "tiny", "--save-frames", "--overwrite"],
        "holds 'keep.txt', which is not a frame PNG",
    ),
    ("revision-with-tiny", [*TINY, "--revision", "v1"], "--revision v1 picks a version of a Hugging Face repo"),
    # options the chosen pipeline would ignore (issue 15 item 9)
    ("modality-scale-on-distilled", [*GEN, "--modality-scale", "2"], "--modality-scale applies to the guided"),
    ("cfg-rescale-on-distilled", [*GEN, "--cfg-rescale", "0.5"], "--cfg-rescale applies to the guided"),
    ("stg-blocks-on-distilled", [*GEN, "--stg-blocks", "1"], "--stg-blocks applies to the guided pipelines (dev"),
    ("distilled-lora-on-distilled", [*GEN, "--distilled-lora", "x"], "--distilled-lora applies to the two-stage"),
    ("distilled-lora-on-dev", [*GEN, "--pipeline", "dev", "--distilled-lora", "x"], "dev-two-stage"),
    (
        "audio-start-without-audio-file",
        [*GEN, "--audio-start-time", "2"],
        "--audio-start-time applies with --audio-file",
    ),
    # the latent upscalers in the pipelines (issue 17 item 7): checked before any model loads
    ("spatial-upscale-3", [*GEN, "--spatial-upscale", "3"], "--spatial-upscale 3: choose 2 or 1.5"),
    ("spatial-upscale-one-stage", [*GEN, "--pipeline", "dev", "--spatial-upscale", "1.5"], "has one: use one of"),
    ("temporal-upscale-one-stage", [*GEN, "--pipeline", "dev", "--temporal-upscale"], "--temporal-upscale upscales"),
    (
        "x1.5-size-not-96",
        [*GEN, "--spatial-upscale", "1.5", "-H", "128", "-W", "192"],
        "height=128 must be a multiple of 96",
    ),
    ("temporal-upscale-one-frame", [*GEN, "--temporal-upscale", "-n", "1"], "needs at least 9 frames"),
    (
        "x1.5-upscaler-missing",
        [*GEN, "--model", "{x2_only_model}", "--spatial-upscale", "1.5"],
        "no x1.5 spatial upscaler",
    ),
    (
        "temporal-upscaler-missing",
        [*GEN, "--model", "{x2_only_model}", "--temporal-upscale"],
        "no temporal x2 upscaler",
    ),
    ("x1.5-on-tiny-2", [*GEN, "--model", "tiny-2", "--spatial-upscale", "1.5"], "no x1.5 spatial upscaler"),
    (
        "upscale-spatial-upscale-3",
        ["upscale", "--model", "tiny", "--input", "{image}", "-o", "up.png", "--spatial-upscale", "3"],
        "choose 2 or 1.5",
    ),
    # LoRA files (issue 15 item 10)
    ("lora-ckpt", [*GEN, "--lora-path", "{lora_ckpt}"], "pickle-based .ckpt is not loaded: convert it to .safetensors"),
    ("lora-pt", [*GEN, "--lora-path", "{lora_pt}"], "pickle-based .pt is not loaded"),
    ("lora-npz", [*GEN, "--lora-path", "{lora_npz}"], "pickle-based .npz"),
    ("lora-0-bytes", [*GEN, "--lora-path", "{zero_safetensors}"], "0 bytes, not a safetensors file"),
    ("lora-pickle-bytes", [*GEN, "--lora-path", "{pickle_safetensors}"], "a pickle file"),
    ("lora-without-tensors", [*TINY, "--lora-path", "{empty_lora_safetensors}"], "holds no LoRA tensors"),
    (
        "distilled-lora-pickle",
        [*GEN, "--pipeline", "dev-two-stage", "--distilled-lora", "{lora_pt}"],
        "pickle-based .pt",
    ),
    # retake, extend, text-to-audio and Foley (issue 17 items 3 and 6); {video} is 17 frames (0.708 s), silent
    ("retake-start-after-end", [*RETAKE, "--start", "0.5", "--end", "0.2"], "start_time=0.5 must be less than"),
    ("retake-start-equals-end", [*RETAKE, "--start", "0.3", "--end", "0.3"], "must be less than end_time=0.3"),
    ("retake-span-past-the-end", [*RETAKE, "--start", "0.5", "--end", "2"], "outside the video (0.708333 s"),
    ("retake-negative-start", [*RETAKE, "--start", "-0.1", "--end", "0.3"], "outside the video"),
    ("retake-video-and-audio-only", [*RETAKE_SPAN, "--video-only", "--audio-only"], "exclude each other"),
    ("retake-audio-of-a-silent-video", [*RETAKE_SPAN, "--audio-only"], "has no sound track to retake"),
    ("retake-frames-not-8k+1", ["retake", "{frames10_mp4}", "--start", "0", "--end", "0.2", "-p", "x"], "8k+1"),
    ("retake-size-not-32", ["retake", "{odd_size_mp4}", "--start", "0", "--end", "0.2", "-p", "x"], "multiples of 32"),
    ("retake-missing-video", ["retake", "missing.mp4", "--start", "0", "--end", "1", "-p", "x"], "no such video"),
    ("retake-not-a-video", ["retake", "{junk_wav}", "--start", "0", "--end", "1", "-p", "x"], "no video stream"),
    ("retake-steps-without-dev", [*RETAKE_SPAN, "--steps", "4"], "--steps applies with --dev"),
    ("retake-output-not-mp4", [*RETAKE_SPAN, "-o", "out.avi"], "must end in .mp4"),
    ("retake-no-prompt", ["retake", "{video}", "--start", "0", "--end", "0.2"], "no prompt"),
    ("retake-missing-lora", [*RETAKE_SPAN, "--lora-path", "missing.safetensors"], "LoRA missing.safetensors: no such"),
    ("retake-bad-dtype", [*RETAKE_SPAN, "--dtype", "float8"], "--dtype 'float8': choose one of keep"),
    ("extend-bad-lora-mode", [*EXTEND, "--seconds", "1", "--lora-mode", "half"], "--lora-mode 'half': choose one of"),
    ("foley-lora-pickle", ["foley", "{video}", "-p", "x", "--lora-path", "{lora_pt}"], "pickle-based .pt"),
    ("extend-zero-seconds", [*EXTEND, "--seconds", "0"], "seconds=0 must be > 0"),
    ("extend-negative-seconds", [*EXTEND, "--seconds", "-1"], "must be > 0"),
    ("extend-carry-not-8k+1", [*EXTEND, "--seconds", "1", "--carry-frames", "10"], "carry_frames=10 must be 8k+1"),
    ("extend-chunk-not-8k+1", [*EXTEND, "--seconds", "1", "--chunk-frames", "100"], "chunk_frames=100 must be 8k+1"),
    ("extend-carry-longer-than-video", [*EXTEND, "--seconds", "1", "--carry-frames", "25"], "the video's 17 frames"),
    (
        "extend-chunk-not-more-than-carry",
        [*EXTEND, "--seconds", "1", "--chunk-frames", "9", "--carry-frames", "9"],
        "chunk_frames=9 must be more than carry_frames=9",
    ),
    ("extend-backward-carry-1", [*EXTEND, "--seconds", "1", "--backward", "--carry-frames", "1"], "at least 9"),
    ("extend-less-than-a-frame", [*EXTEND, "--seconds", "0.01"], "less than one frame"),
    ("audio-only-with-image", [*T2A, "-i", "{image}"], "--image conditions or writes video"),
    ("audio-only-with-audio-file", [*T2A, "--audio-file", "{wav}"], "drop --audio-file"),
    ("audio-only-two-stage", [*T2A, "--pipeline", "dev-two-stage"], "--pipeline distilled (8 steps) or dev"),
    ("audio-only-no-audio", [*T2A, "--no-audio"], "--no-audio does not apply to --audio-only"),
    ("audio-only-mp4-output", ["generate", "--audio-only", "-p", "rain", "-o", "out.mp4"], "must end in .wav or .flac"),
    ("audio-only-frames-not-8k+1", [*T2A, "-n", "30"], "num_frames=30 must be 8k+1"),
    ("foley-output-audio-mp3", ["foley", "{video}", "-p", "x", "--output-audio", "a.mp3"], "must end in .wav or .flac"),
    ("foley-missing-video", ["foley", "missing.mp4", "-p", "x"], "no such video"),
    ("foley-frames-not-8k+1", ["foley", "{frames10_mp4}", "-p", "x"], "8k+1"),
    # a LoRA for another model, from the headers before any model loads (issue 15 item 10)
    (
        "lora-no-layers-of-this-model",
        [*TINY, "--lora-path", "{no_layers_lora_safetensors}"],
        "--lora-path {no_layers_lora_safetensors}: none of its 1 layers (e.g. diffusion_model.nothing.to_q) is in",
    ),
    (
        "lora-some-layers-not-in-this-model",
        [*TINY, "--lora-path", "{half_layers_lora_safetensors}"],
        "1 of its 2 layers (e.g. diffusion_model.nothing.to_q) are not in the transformer",
    ),
    # loading and verifying (issue 15 item 8)
    (
        "weight-relabelled-int32",
        [*GEN, "--model", "{int32_model}", "--text-encoder-path", "{gemma}", "-H", "64", "-W", "64"],
        "int32, expected a float dtype",
    ),
    (
        "verify-flipped-byte",
        [*GEN, "--model", "{flipped_model}", "--text-encoder-path", "{gemma}", "--verify"],
        "sha256 mismatch (corrupted file)",
    ),
    ("info-empty-model-index", ["info", "{empty_index_model}"], "lists no format_version or no components"),
    ("verify-empty-model-index", ["convert", "verify", "{empty_index_model}"], "lists no format_version"),
    ("info-shard-keys-disagree", ["info", "{renamed_key_model}"], "shards and model.safetensors.index.json disagree"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, tiny, media) -> dict[str, Path]:
    """Inputs for the cases; `tiny` builds the cached model once so tiny cases fail for their own reason."""
    import numpy as np
    from safetensors.numpy import save_file

    root = tmp_path_factory.mktemp("bad-inputs")
    (root / "existing.mp4").write_bytes(b"an earlier result")
    (root / "model.ckpt").write_bytes(b"pickle")
    (root / "plain").mkdir()
    (root / "junk.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (root / "empty.wav").write_bytes(b"")
    good = (tiny[0] / "transformer" / "model.safetensors").read_bytes()
    (root / "truncated.safetensors").write_bytes(good[: len(good) // 2])
    save_file({"weight": np.zeros((2, 2), np.float32)}, str(root / "foreign.safetensors"))
    key = "diffusion_model.transformer_blocks.0.attn1.to_q"
    lora = {
        f"{key}.lora_A.weight": np.zeros((4, 4096), np.float32),
        f"{key}.lora_B.weight": np.zeros((4096, 4), np.float32),
    }
    save_file(lora, str(root / "foreign-lora.safetensors"))
    _bad_files(root, tiny[0])
    _task_videos(root / "more")
    return {
        **{p.name.replace(".", "_").replace("-", "_"): p for p in (root / "more").iterdir()},
        "image": media["image"],
        "wav": media["audio"],
        "video": media["video"],
        "existing": root / "existing.mp4",
        "pickle": root / "model.ckpt",
        "plain_dir": root / "plain",
        "junk_png": root / "junk.png",
        "empty_wav": root / "empty.wav",
        "truncated": root / "truncated.safetensors",
        "foreign": root / "foreign.safetensors",
        "foreign_lora": root / "foreign-lora.safetensors",
        "component_dir": tiny[0] / "transformer",
        "model_dir": tiny[0],
        "gemma": tiny[1],
    }


def _bad_files(root: Path, model: Path) -> None:
    """Files whose name gives their key (bomb.png → {bomb_png}): headers that lie, pickles, bad JSON."""
    import io
    import json
    import pickle
    import shutil
    import struct
    import zlib

    import numpy as np
    from PIL import Image
    from safetensors.numpy import save_file

    more = root / "more"
    more.mkdir()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)  # claims 10**10 pixels
    (more / "bomb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    Image.new("RGB", (1, 1)).save(more / "tiny.png")
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    png = buffer.getvalue()
    (more / "zero.safetensors").write_bytes(b"")
    (more / "pickle.safetensors").write_bytes(pickle.dumps({"weight": [0.0]}))
    for suffix in ("ckpt", "pt", "npz"):
        (more / f"lora.{suffix}").write_bytes(b"PK\x03\x04 a zip of pickles")
    save_file(
        {"transformer_blocks.0.attn1.to_q.alpha": np.ones((1,), np.float32)}, str(more / "empty-lora.safetensors")
    )
    latent = {"video_latent": np.zeros((1, 128, 2, 4, 6), np.float32)}
    save_file(latent, str(more / "bare.latents.safetensors"), metadata={"format": "mlx-ltx-latents/1"})
    for name, rel, edit in (
        ("wrong-type-model", "model_index.json", lambda d: d["components"]["transformer"].update(size="big")),
        ("wrong-index-model", "transformer/model.safetensors.index.json", lambda d: d.update(weight_map=[1])),
    ):
        shutil.copytree(model, more / name)
        data = json.loads((more / name / rel).read_text())
        edit(data)
        (more / name / rel).write_text(json.dumps(data))
    (more / "truncated.png").write_bytes(png[: len(png) // 2])
    Image.fromarray(np.full((8, 8), 100_000, np.int32), mode="I").save(more / "wide.tif")
    (more / "junk.wav").write_bytes(b"RIFF not really a wav")
    shutil.copytree(model, more / "truncated-shard-model")
    with open(more / "truncated-shard-model" / "vocoder" / "model.safetensors", "r+b") as f:
        f.truncate(1000)
    for folder in ("hf-home", "ckpts", "user-dir", "frames-parent/o_frames"):
        (more / folder).mkdir(parents=True)
    (more / "user-dir" / "notes.txt").write_text("mine")
    (more / "frames-parent" / "o_frames" / "keep.txt").write_text("mine")
    from mlx_ltx_cli.tiny import write_tiny_checkpoint

    write_tiny_checkpoint(more / "tiny-ckpt")
    shutil.copytree(model, more / "x2-only-model")  # the tiny model without its x1.5 and temporal upscalers
    index = json.loads((more / "x2-only-model" / "model_index.json").read_text())
    for name in ("spatial_upscaler_x1.5", "temporal_upscaler_x2"):
        shutil.rmtree(more / "x2-only-model" / name)
        del index["components"][name]
    (more / "x2-only-model" / "model_index.json").write_text(json.dumps(index))
    shutil.copytree(model, more / "broken-json-model")
    (more / "broken-json-model" / "model_index.json").write_text("{broken")
    _integrity_cases(more, model)
    shutil.copytree(model, more / "loop-model")
    (more / "loop-model" / "model_index.json").unlink()
    (more / "loop-model" / "model_index.json").symlink_to("model_index.json")


def _task_videos(more: Path) -> None:
    """Videos the editing commands refuse: 10 frames (not 8k+1), 70x96 pixels (not multiples of 32)."""
    import numpy as np

    from mlx_ltx_pipelines.media import write_video

    rng = np.random.default_rng(1)
    write_video(more / "frames10.mp4", [rng.integers(0, 256, (10, 64, 96, 3), dtype=np.uint8)], 24.0)
    write_video(more / "odd-size.mp4", [rng.integers(0, 256, (17, 70, 96, 3), dtype=np.uint8)], 24.0)


def _integrity_cases(more: Path, model: Path) -> None:
    """Model folders with one fault each (a dtype relabelled in a shard header, a flipped byte, an empty
    model_index.json, an index key the shard lacks) and LoRAs naming layers the tiny model lacks."""
    import json
    import shutil

    import numpy as np
    from safetensors.numpy import save_file

    def lora(modules: list[str]) -> dict[str, np.ndarray]:
        factors = {}
        for m in modules:
            factors[f"diffusion_model.{m}.lora_A.weight"] = np.zeros((2, 8), np.float32)
            factors[f"diffusion_model.{m}.lora_B.weight"] = np.zeros((8, 2), np.float32)
        return factors

    save_file(lora(["nothing.to_q"]), str(more / "no-layers-lora.safetensors"))
    save_file(lora(["nothing.to_q", "transformer_blocks.0.attn1.to_q"]), str(more / "half-layers-lora.safetensors"))
    for name in ("int32-model", "flipped-model", "empty-index-model", "renamed-key-model"):
        shutil.copytree(model, more / name)
    shard = more / "int32-model" / "transformer" / "model.safetensors"
    data = bytearray(shard.read_bytes())
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    key = next(k for k, v in header.items() if k != "__metadata__" and v["dtype"] == "F32")
    header[key]["dtype"] = "I32"  # same size: the file still matches its index's byte count
    text = json.dumps(header, separators=(",", ":")).encode().ljust(n)
    assert len(text) == n
    shard.write_bytes(bytes(data[:8]) + text + bytes(data[8 + n :]))
    shard = more / "flipped-model" / "vocoder" / "model.safetensors"
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0xFF
    shard.write_bytes(bytes(data))
    (more / "empty-index-model" / "model_index.json").write_text("{}")
    index_path = more / "renamed-key-model" / "vocoder" / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    first = sorted(index["weight_map"])[0]
    index["weight_map"][first + "_renamed"] = index["weight_map"].pop(first)
    index_path.write_text(json.dumps(index))


ABSURD = [
    ("frames-800000001", ["-n", "800000001"], "num_frames=800000001: at least 100,000,001 latent tokens"),
    ("size-6400000", ["-H", "6400000", "-W", "6400000"], "40,000,000,000 latent tokens, more than"),
    ("frames-8000001-at-64", ["-n", "8000001", "-H", "64", "-W", "64"], "estimated peak memory of the denoise"),
]


@pytest.mark.parametrize(("extra", "fragment"), [c[1:] for c in ABSURD], ids=[c[0] for c in ABSURD])
def test_absurd_sizes_are_refused_at_once(extra, fragment, tiny, ltx_cache, tmp_path) -> None:
    """Refused by arithmetic before any allocation or tile walk (`-n 800000001` hung in the memory pre-check)."""
    result = run_ltx([*TINY, *extra], ltx_cache, tmp_path, timeout=90)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert fragment in lines[0], lines[0]
    assert list(Path(tmp_path).iterdir()) == []


def test_the_matrix_has_at_least_40_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(("args", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(args, fragment, files, ltx_cache, tmp_path, monkeypatch) -> None:
    names = {k: str(v) for k, v in files.items()}
    args, fragment = [a.format(**names) for a in args], fragment.format(**names)
    cache = Path(args.pop(0).partition("=")[2]) if args[0].startswith("LTX_CACHE=") else ltx_cache
    while re.fullmatch(r"[A-Z_]+=.*", args[0]):  # other leading KEY=VALUE: the command's environment
        key, _, value = args.pop(0).partition("=")
        monkeypatch.setenv(key, value)
    before = set(Path(tmp_path).iterdir())
    result = run_ltx(args, cache, tmp_path)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr[-1500:]
    assert "Traceback" not in result.stderr + result.stdout
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert fragment.lower() in lines[0].lower(), lines[0]
    assert set(Path(tmp_path).iterdir()) == before, "a failed command must leave no file behind"
    assert not (Path(tmp_path) / "out.mp4").exists()
