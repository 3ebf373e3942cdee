"""RAW originals, through a small real DNG: embedded preview, libraw sizes and flip, EXIF."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bridge_server.imaging.analysis import analyze_file
from bridge_server.imaging.decode import load_for_analysis
from bridge_server.imaging.exif import read_exif
from bridge_server.imaging.export_render import render_export
from bridge_server.imaging.thumbnails import make_thumbnails
from bridge_server.imaging.xmp import read_fields, write_sidecar
from tests.fixtures.photos import write_dng


@pytest.fixture
def dng(photos: dict[str, Path], tmp_path: Path) -> Path:
    with Image.open(photos["coffee"]) as im:
        return write_dng(tmp_path / "IMG_0042.DNG", im.resize((600, 400)), raw_size=(640, 426))


@pytest.fixture
def upright_dng(photos: dict[str, Path], tmp_path: Path) -> Path:
    with Image.open(photos["coffee"]) as im:
        preview = im.resize((600, 400))
    return write_dng(tmp_path / "IMG_0043.DNG", preview, raw_size=(640, 426), orientation=6)


def test_analysis_uses_preview_and_raw_sizes(dng: Path) -> None:
    result = analyze_file(str(dng))
    assert result["format"] == "RAW"
    assert (result["width"], result["height"]) == (640, 426)
    assert result["metrics"]["jpeg_quality"] is None  # the preview's compression is irrelevant
    assert result["context_hints"]["iso"] == 3200
    assert result["ai_score"] >= 1.0


def test_raw_exif(dng: Path) -> None:
    exif = read_exif(str(dng))
    assert exif["make"] == "Canon" and exif["model"] == "Canon EOS R6"
    assert exif["iso"] == 3200 and exif["captured_at"] == "2026-11-25T09:00:01.50"
    assert (exif["width"], exif["height"]) == (640, 426)


def test_raw_flip_applied(upright_dng: Path, tmp_path: Path) -> None:
    decoded = load_for_analysis(str(upright_dng))
    assert (decoded.width, decoded.height) == (426, 640)
    assert decoded.image.size == (400, 600)
    paths = make_thumbnails(str(upright_dng), str(tmp_path / "t"), "p")
    with Image.open(paths["small"]) as small:
        assert small.size == (213, 320)


def test_raw_export_and_sidecar(dng: Path, tmp_path: Path) -> None:
    result = render_export(
        str(dng), {"format": "jpeg", "long_edge": 300, "quality": 85}, str(tmp_path / "out"),
        "IMG_0042", 5, "Green", ["raw"],
    )  # fmt: skip
    assert (result["width"], result["height"]) == (300, 200)
    exported = read_exif(result["output_path"])  # camera data carried over from the RAW
    assert exported["model"] == "Canon EOS R6" and exported["iso"] == 3200
    assert exported["captured_at"] == "2026-11-25T09:00:01.50"
    sidecar = write_sidecar(str(dng), 5, "Green", ["raw"])
    assert sidecar == str(dng.with_suffix(".xmp"))
    assert read_fields(Path(sidecar).read_bytes()) == {
        "rating": 5,
        "label": "Green",
        "keywords": ["raw"],
    }
