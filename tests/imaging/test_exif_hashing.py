"""EXIF summaries and content hashes."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bridge_server.imaging.exif import EXIF_KEYS, format_shutter, read_exif
from bridge_server.imaging.hashing import hash_distance, phash_hex, sha256_file


def test_exif_round_trip(photos: dict[str, Path]) -> None:
    exif = read_exif(str(photos["astronaut"]))
    assert exif == {
        "make": "Canon",
        "model": "Canon EOS R5",
        "lens": "RF24-70mm F2.8 L IS USM",
        "focal_length": 50.0,
        "aperture": 2.8,
        "shutter": "1/250",
        "exposure_time": 0.004,
        "iso": 200,
        "captured_at": "2026-11-25T10:10:00.025+01:00",
        "gps": {"lat": 48.8584, "lon": 2.2945, "alt": 35.0},
        "width": 1600,
        "height": 1600,
    }
    json.dumps(exif)


def test_each_photo_has_distinct_camera_data(photos: dict[str, Path]) -> None:
    cameras = {read_exif(str(photos[n]))["model"] for n in ("astronaut", "coffee", "chelsea")}
    assert len(cameras) == 3
    coffee = read_exif(str(photos["coffee"]))
    assert coffee["shutter"] == "1/60" and coffee["iso"] == 800 and coffee["gps"] is None


def test_burst_capture_times_keep_subseconds(photos: dict[str, Path]) -> None:
    times = [read_exif(str(photos[f"burst_{k}"]))["captured_at"] for k in range(1, 5)]
    parsed = [datetime.fromisoformat(t) for t in times]
    assert times[1] == "2026-11-25T12:00:00.200"
    for a, b in itertools.pairwise(parsed):
        assert b - a == timedelta(milliseconds=200)


def test_missing_exif_is_all_none(tmp_path: Path) -> None:
    Image.new("RGB", (64, 48), "gray").save(tmp_path / "plain.png")
    exif = read_exif(str(tmp_path / "plain.png"))
    assert set(exif) == set(EXIF_KEYS)
    assert (exif["width"], exif["height"]) == (64, 48)
    assert all(exif[k] is None for k in EXIF_KEYS if k not in ("width", "height"))


def test_broken_files_give_empty_exif(photos: dict[str, Path], tmp_path: Path) -> None:
    assert read_exif(str(photos["not_an_image"]))["make"] is None
    raw = tmp_path / "IMG_0002.NEF"
    raw.write_bytes(b"garbage" * 100)
    assert read_exif(str(raw)) == dict.fromkeys(EXIF_KEYS)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1 / 250, "1/250"), (0.3, "1/3"), (1 / 8000, "1/8000"), (2.0, "2s"), (2.5, "2.5s"), (0, None)],
)
def test_shutter_notation(seconds: float, text: str | None) -> None:
    assert format_shutter(seconds) == text


def test_sha256_streams_whole_file(large_jpeg: Path) -> None:
    assert sha256_file(str(large_jpeg)) == hashlib.sha256(large_jpeg.read_bytes()).hexdigest()


def test_phash_helpers(photos: dict[str, Path]) -> None:
    with Image.open(photos["coffee"]) as a, Image.open(photos["coffee_blurred"]) as b:
        ha, hb = phash_hex(a), phash_hex(b)
    with Image.open(photos["rocket"]) as c:
        hc = phash_hex(c)
    assert len(ha) == 16
    assert hash_distance(ha, ha) == 0
    assert hash_distance(ha, hb) < hash_distance(ha, hc)
    with pytest.raises(ValueError):
        hash_distance("ab", "abcd")
