"""What a photographer relies on from the analysis: focus, exposure, noise, faces, bursts."""

from __future__ import annotations

import json
import multiprocessing
import pickle
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from bridge_server.imaging.analysis import analyze_file
from bridge_server.imaging.errors import CorruptImage
from bridge_server.imaging.hashing import hash_distance

Analyses = dict[str, dict[str, Any]]
RESULT_KEYS = {
    "version", "format", "width", "height", "metrics", "faces", "ai_score", "factors",
    "reasons", "flags", "moved_by", "phash", "context_hints",
}  # fmt: skip


@pytest.mark.parametrize("name", ["astronaut", "coffee", "rocket"])
def test_sharp_beats_blurred(analyses: Analyses, name: str) -> None:
    sharp, blurred = analyses[name], analyses[f"{name}_blurred"]
    for metric in ("laplacian_var", "laplacian_peak", "tenengrad"):
        assert sharp["metrics"][metric] > 2 * blurred["metrics"][metric], metric
    assert sharp["ai_score"] > blurred["ai_score"]
    assert sharp["factors"]["sharpness"] > blurred["factors"]["sharpness"]
    assert any(r.startswith("out of focus") for r in blurred["reasons"]), blurred["reasons"]
    assert blurred["ai_score"] <= 2.5  # a blurred frame is never proposed as a keeper


def test_overexposed_reports_clipped_highlights(analyses: Analyses) -> None:
    over, normal = analyses["coffee_overexposed"], analyses["coffee"]
    assert over["metrics"]["highlights_clipped"] > 0.05
    assert over["metrics"]["mean_level"] > normal["metrics"]["mean_level"]
    clipped = r"\d+% highlights clipped( on the subject)?"
    reasons = [r for r in over["reasons"] if re.fullmatch(clipped, r)]
    assert reasons, over["reasons"]
    assert "highlights_clipped" in over["flags"]
    assert over["ai_score"] < normal["ai_score"]
    assert not any("highlights" in r for r in normal["reasons"])


@pytest.mark.parametrize("name", ["astronaut", "chelsea"])
def test_noisy_measures_noisier(analyses: Analyses, name: str) -> None:
    noisy, clean = analyses[f"{name}_noisy"], analyses[name]
    assert noisy["metrics"]["noise_sigma"] > 3 * max(clean["metrics"]["noise_sigma"], 1.0)
    assert any("noisy" in r for r in noisy["reasons"])
    assert noisy["ai_score"] < clean["ai_score"]


def test_astronaut_has_a_face_with_open_eyes(analyses: Analyses) -> None:
    result = analyses["astronaut"]
    assert len(result["faces"]) >= 1
    face = result["faces"][0]
    x, y, w, h = face["box"]
    assert 0 <= x < 1 and 0 <= y < 1 and 0.05 < w < 0.6 and 0.05 < h < 0.6
    assert face["eye_state"] == "open" and face["eyes_open"] and not face["possible_blink"]
    assert not any("eyes" in r for r in result["reasons"])
    assert result["metrics"]["face_sharpness"] is not None
    assert result["context_hints"]["face_count"] == len(result["faces"])
    assert result["context_hints"]["largest_face_fraction"] > 0.01


def test_landscape_without_faces(analyses: Analyses) -> None:
    result = analyses["coffee"]
    assert result["faces"] == []
    assert result["context_hints"]["face_count"] == 0
    assert result["context_hints"]["orientation"] == "landscape"


def test_closed_eyes_are_said_and_keep_the_frame_from_being_a_keeper(analyses: Analyses) -> None:
    result = analyses["astronaut_eyes_closed"]
    assert result["faces"] and result["faces"][0]["eye_state"] == "closed"
    assert result["faces"][0]["possible_blink"]
    assert "eyes closed" in result["reasons"]
    assert "eyes_closed" in result["flags"]
    assert result["ai_score"] < 3.0  # below the default keeper threshold: an alternate at best
    assert result["moved_by"][0]["factor"] == "eyes"


def test_burst_frames_are_near_duplicates(analyses: Analyses) -> None:
    burst = [analyses[f"burst_{k}"] for k in range(1, 5)]
    for a in burst:
        for b in burst:
            assert hash_distance(a["phash"], b["phash"]) <= 10
    others = ["astronaut", "coffee", "rocket", "motorcycle"]
    for name in others:
        assert hash_distance(burst[0]["phash"], analyses[name]["phash"]) >= 20, name
    for a in others:
        for b in others:
            if a != b:
                assert hash_distance(analyses[a]["phash"], analyses[b]["phash"]) >= 20


def test_sharpest_burst_frame_scores_best(analyses: Analyses) -> None:
    scores = {k: analyses[f"burst_{k}"]["ai_score"] for k in range(1, 5)}
    sharpness = {k: analyses[f"burst_{k}"]["metrics"]["laplacian_peak"] for k in range(1, 5)}
    blur = {k: analyses[f"burst_{k}"]["metrics"]["focus_blur"] for k in range(1, 5)}
    assert scores[2] == max(scores.values())
    assert max(sharpness, key=lambda k: sharpness[k]) == 2
    assert min(blur, key=lambda k: blur[k]) == 2


def test_result_shape_and_json(analyses: Analyses) -> None:
    result = analyses["astronaut"]
    assert set(result) == RESULT_KEYS
    assert (result["width"], result["height"]) == (1600, 1600)
    assert 1.0 <= result["ai_score"] <= 5.0 and round(result["ai_score"], 1) == result["ai_score"]
    assert all(1.0 <= v <= 5.0 for v in result["factors"].values())
    assert re.fullmatch(r"[0-9a-f]{16}", result["phash"])
    assert result["metrics"]["jpeg_quality"] == 92
    hints = result["context_hints"]
    assert hints["iso"] == 200 and hints["aperture"] == 2.8
    assert json.loads(json.dumps(result)) == result
    pickle.loads(pickle.dumps(result))


def test_large_jpeg(large_jpeg: Path) -> None:
    result = analyze_file(str(large_jpeg))
    assert (result["width"], result["height"]) == (6000, 4000)
    assert result["metrics"]["working_size"] == [1024, 683]
    assert result["ai_score"] >= 4.0


def test_runs_in_a_spawned_process_pool(photos: dict[str, Path]) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        result = pool.submit(analyze_file, str(photos["astronaut"])).result(timeout=120)
    assert result["faces"] and result["ai_score"] >= 1.0


def test_errors_cross_the_process_boundary(photos: dict[str, Path]) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        future = pool.submit(analyze_file, str(photos["truncated"]))
        with pytest.raises(CorruptImage, match="truncated or corrupt: truncated"):
            future.result(timeout=120)


@pytest.mark.parametrize("kind", ["tiny_png", "grey_png", "png16", "rgba_png", "cmyk_jpeg", "tiff"])
def test_other_formats_and_modes_analyse(
    photos: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    with Image.open(photos["chelsea"]) as im:
        rgb = im.convert("RGB")
    path = tmp_path / {"cmyk_jpeg": "x.jpg", "tiff": "x.tif"}.get(kind, "x.png")
    if kind == "tiny_png":
        rgb.resize((16, 11)).save(path)
    elif kind == "grey_png":
        rgb.convert("L").save(path)
    elif kind == "png16":
        arr = np.asarray(rgb.convert("L"), dtype=np.uint16) * 257
        Image.fromarray(arr).save(path)
    elif kind == "rgba_png":
        rgb.convert("RGBA").save(path)
    elif kind == "cmyk_jpeg":
        rgb.convert("CMYK").save(path, quality=90)
    else:
        rgb.save(path, compression="tiff_lzw")
    result = analyze_file(str(path))
    assert 1.0 <= result["ai_score"] <= 5.0
    json.dumps(result)
    if kind == "png16":  # 16-bit levels are scaled to 8 bits, not clipped to white
        assert 0.3 < result["metrics"]["mean_level"] < 0.7


def test_broken_files_raise_readable_errors(photos: dict[str, Path]) -> None:
    with pytest.raises(CorruptImage, match="file is truncated or corrupt"):
        analyze_file(str(photos["truncated"]))
    with pytest.raises(CorruptImage, match="not_an_image"):
        analyze_file(str(photos["not_an_image"]))


def test_a_noisy_photo_under_a_blown_sky_still_reads_noisy(tmp_path: Path) -> None:
    # Noise is read in the top rows where that is cheap; a white sky there holds no noise, so
    # the analysis must look lower in the frame rather than call the photo clean.
    rng = np.random.default_rng(3)
    scene = np.clip(rng.normal(120, 14, (1600, 2400)), 0, 255).astype(np.uint8)
    scene[:700] = 255  # blown sky over the top band
    path = tmp_path / "sky.jpg"
    Image.fromarray(scene).convert("RGB").save(path, "JPEG", quality=95)
    result = analyze_file(str(path))
    assert result["metrics"]["noise_sigma"] >= 5.0, result["metrics"]
    assert "noisy" in result["flags"]
