"""Thumbnails: sizes, orientation, freshness."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from bridge_server.imaging.thumbnails import make_thumbnails


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
