"""Thumbnails: sizes, orientation, freshness; the analysis' decode makes the grid's too."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bridge_server.imaging.analysis import analyze_file
from bridge_server.imaging.thumbnails import make_thumbnails
from bridge_server.pipeline import worker
from tests.fixtures.photos import write_dng


def test_sizes_of_a_camera_jpeg(large_jpeg: Path, tmp_path: Path) -> None:
    paths = make_thumbnails(str(large_jpeg), str(tmp_path / "thumbs"), "p_1")
    assert set(paths) == {"small", "large"}
    with Image.open(paths["small"]) as small, Image.open(paths["large"]) as large:
        assert small.format == large.format == "JPEG"
        assert small.size == (320, 213)
        assert large.size == (1600, 1067)
    assert [p for p in os.listdir(tmp_path / "thumbs") if p.endswith(".tmp")] == []


def test_orientation_applied(photos: dict[str, Path], tmp_path: Path) -> None:
    src = tmp_path / "upright.jpg"
    with Image.open(photos["rocket"]) as im:
        exif = im.getexif()
        exif[0x0112] = 8  # rotate 90° counter-clockwise for display
        im.save(src, quality=90, exif=exif.tobytes())
        w, h = im.size
    paths = make_thumbnails(str(src), str(tmp_path), "rocket")
    with Image.open(paths["large"]) as large:
        assert large.height == 1600 and large.width == round(1600 * h / w)


def test_small_source_is_not_upscaled(photos: dict[str, Path], tmp_path: Path) -> None:
    small_src = tmp_path / "tiny.jpg"
    with Image.open(photos["coffee"]) as im:
        im.resize((300, 200)).save(small_src)
    paths = make_thumbnails(str(small_src), str(tmp_path), "tiny")
    with Image.open(paths["large"]) as large, Image.open(paths["small"]) as small:
        assert large.size == small.size == (300, 200)


def test_not_regenerated_when_fresh_but_after_source_changes(
    photos: dict[str, Path], tmp_path: Path
) -> None:
    src = tmp_path / "src.jpg"
    src.write_bytes(photos["chelsea"].read_bytes())
    old = os.stat(src).st_mtime_ns - 10_000_000_000
    os.utime(src, ns=(old, old))
    paths = make_thumbnails(str(src), str(tmp_path / "t"), "c")
    first = {k: os.stat(p).st_mtime_ns for k, p in paths.items()}
    marker = (old + 5_000_000_000, old + 5_000_000_000)
    for p in paths.values():
        os.utime(p, ns=marker)  # newer than the source: must be kept as they are
    assert make_thumbnails(str(src), str(tmp_path / "t"), "c") == paths
    assert all(os.stat(p).st_mtime_ns == marker[1] for p in paths.values())

    new = old + 8_000_000_000  # the photographer edited the original (still in the past)
    os.utime(src, ns=(new, new))
    make_thumbnails(str(src), str(tmp_path / "t"), "c")
    assert all(os.stat(p).st_mtime_ns >= new for p in paths.values())
    assert first  # sanity: files existed after the first run


def _rotated(photos: dict[str, Path], tmp_path: Path) -> Path:
    src = tmp_path / "portrait.jpg"
    with Image.open(photos["rocket"]) as im:
        exif = im.getexif()
        exif[0x0112] = 6  # the camera was held upright: shown rotated 90° clockwise
        im.save(src, quality=90, exif=exif.tobytes())
    return src


def _same_picture(a: str, b: str) -> None:
    """Same size, and the same picture: at most a few grey levels apart on average."""
    with Image.open(a) as one, Image.open(b) as other:
        assert one.size == other.size
        diff = np.abs(np.asarray(one, np.int16) - np.asarray(other, np.int16))
    assert diff.mean() < 3.0


@pytest.mark.parametrize("source", ["camera", "rotated", "raw"])
def test_the_analysis_decode_writes_the_previews_the_on_demand_path_would(
    source: str, photos: dict[str, Path], large_jpeg: Path, tmp_path: Path
) -> None:
    if source == "camera":
        src = large_jpeg
    elif source == "rotated":
        src = _rotated(photos, tmp_path)
    else:
        with Image.open(photos["coffee"]) as im:
            preview = im.resize((600, 400))
        src = write_dng(tmp_path / "IMG_0043.DNG", preview, raw_size=(640, 426), orientation=6)
    shared = tmp_path / "shared"
    result = worker.analyze(str(src), None, str(shared), "p_1")
    assert result["ai_score"] >= 1.0
    on_demand = make_thumbnails(str(src), str(tmp_path / "on_demand"), "p_1")
    made = sorted(p.name for p in shared.iterdir())
    if source == "camera":
        # The analysis decodes a 24 MP photo at 1,500 px: enough for the grid, not the large.
        assert made == ["p_1_small.jpg"]
        with Image.open(shared / "p_1_small.jpg") as small:
            assert small.size == (320, 213)
    else:
        assert made == ["p_1_large.jpg", "p_1_small.jpg"]
        _same_picture(str(shared / "p_1_large.jpg"), on_demand["large"])
    _same_picture(str(shared / "p_1_small.jpg"), on_demand["small"])
    if source != "camera":  # upright: portrait, as the photo is shown
        with Image.open(shared / "p_1_small.jpg") as small:
            assert small.height > small.width


def test_the_analysis_result_is_the_same_with_or_without_previews(
    photos: dict[str, Path], tmp_path: Path
) -> None:
    src = _rotated(photos, tmp_path)
    assert worker.analyze(str(src), None, str(tmp_path / "t"), "p") == analyze_file(str(src))
