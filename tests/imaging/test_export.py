"""Exports: size, metadata others can read, never overwriting, nothing half-written on failure."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageCms

from bridge_server.imaging.errors import ExportError
from bridge_server.imaging.export_render import format_filename, render_export

REPO = Path(__file__).resolve().parents[2]
WEB = {"name": "Web", "format": "jpeg", "long_edge": 1200, "quality": 85,
       "convert_to_srgb": True, "sharpen": 0.5, "watermark": None, "copy_exif": True}  # fmt: skip
ADOBE_RGB = Path("/usr/share/color/icc/ghostscript/a98.icc")


def _export(src: Path, dest: Path, stem: str = "out", **preset: Any) -> dict[str, Any]:
    return render_export(
        str(src), {**WEB, **preset}, str(dest), stem, 4, "Green", ["portrait", "keeper"]
    )


def _files(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_long_edge_and_metadata_readable_by_exiftool(
    photos: dict[str, Path], tmp_path: Path, exiftool: str
) -> None:
    result = _export(photos["coffee"], tmp_path)
    out = Path(result["output_path"])
    assert out == tmp_path / "out.jpg"
    assert (result["width"], result["height"]) == (1200, 800)
    assert result["file_size"] == out.stat().st_size > 10_000
    with Image.open(out) as im:
        assert im.size == (1200, 800) and im.format == "JPEG"
    tags = json.loads(subprocess.run(
        [exiftool, "-j", "-XMP:Rating", "-XMP:Label", "-XMP:Subject", "-EXIF:Orientation#",
         "-EXIF:Make", "-EXIF:ISO", str(out)],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout)[0]  # fmt: skip
    assert tags["Rating"] == 4 and tags["Label"] == "Green"
    assert tags["Subject"] == ["portrait", "keeper"]
    assert tags["Make"] == "NIKON CORPORATION" and tags["ISO"] == 800
    assert tags["Orientation"] == 1
    assert b"http://ns.adobe.com/xap/1.0/\x00" in out.read_bytes()[:70_000]  # APP1 XMP segment
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)  # not the private mode of a temp file


def test_rotated_source_exported_upright_with_orientation_reset(
    photos: dict[str, Path], tmp_path: Path
) -> None:
    src = tmp_path / "src" / "rotated.jpg"
    src.parent.mkdir()
    with Image.open(photos["rocket"]) as im:
        exif = im.getexif()
        exif[0x0112] = 6
        im.save(src, quality=92, exif=exif.tobytes())
        w, h = im.size
    result = _export(src, tmp_path / "out", long_edge=None)
    assert (result["width"], result["height"]) == (h, w)
    with Image.open(result["output_path"]) as out:
        assert out.getexif().get(0x0112) == 1


def test_never_overwrites_existing_files(photos: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "out.jpg").write_bytes(b"the photographer's own file")
    first = _export(photos["chelsea"], tmp_path)
    second = _export(photos["chelsea"], tmp_path)
    assert first["output_path"] == str(tmp_path / "out-1.jpg")
    assert second["output_path"] == str(tmp_path / "out-2.jpg")
    assert (tmp_path / "out.jpg").read_bytes() == b"the photographer's own file"
    assert _files(tmp_path) == ["out-1.jpg", "out-2.jpg", "out.jpg"]


def test_concurrent_exports_get_distinct_names(photos: dict[str, Path], tmp_path: Path) -> None:
    results: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        path = _export(photos["chelsea"], tmp_path, long_edge=400)["output_path"]
        with lock:
            results.append(path)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 6
    assert _files(tmp_path) == [
        "out-1.jpg",
        "out-2.jpg",
        "out-3.jpg",
        "out-4.jpg",
        "out-5.jpg",
        "out.jpg",
    ]


def test_corrupt_source_fails_cleanly(photos: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"cannot read truncated\.jpg: file is truncated"):
        _export(photos["truncated"], tmp_path / "dest")
    assert _files(tmp_path / "dest") == []


def test_destination_that_cannot_be_created(photos: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ExportError, match="cannot create destination folder"):
        _export(photos["coffee"], tmp_path / "a-file" / "exports")


def test_write_failure_midway_leaves_nothing_behind(
    photos: dict[str, Path], tmp_path: Path
) -> None:
    # A real short write: the kernel refuses to grow files past RLIMIT_FSIZE (EFBIG), like a
    # full disk would, after the temp file has been created and partly written.
    dest = tmp_path / "dest"
    dest.mkdir()
    script = textwrap.dedent(f"""
        import resource, signal
        from bridge_server.imaging.errors import ExportError
        from bridge_server.imaging.export_render import render_export
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (30_000, resource.RLIM_INFINITY))
        try:
            render_export({str(photos["coffee"])!r}, {{"format": "jpeg", "long_edge": None,
                          "quality": 95}}, {str(dest)!r}, "big", 3, "Red", [])
        except ExportError as exc:
            print("ExportError:", exc)
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip
    assert "ExportError: cannot write export to" in proc.stdout, proc.stderr
    assert _files(dest) == []


def test_rejects_unknown_format(photos: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="only jpeg"):
        _export(photos["coffee"], tmp_path, format="webp")


@pytest.mark.skipif(not ADOBE_RGB.exists(), reason="no Adobe RGB ICC profile on this system")
def test_converts_wide_gamut_to_srgb(photos: dict[str, Path], tmp_path: Path) -> None:
    src = tmp_path / "adobe.jpg"
    with Image.open(photos["astronaut"]) as im:
        im.save(src, quality=95, icc_profile=ADOBE_RGB.read_bytes())
    converted = _export(src, tmp_path, "srgb", sharpen=0, long_edge=400)
    kept = _export(src, tmp_path, "kept", sharpen=0, long_edge=400, convert_to_srgb=False)
    with Image.open(converted["output_path"]) as a, Image.open(kept["output_path"]) as b:
        icc_a, icc_b = a.info.get("icc_profile"), b.info.get("icc_profile")
        diff = np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).mean()
    assert icc_a and icc_b == ADOBE_RGB.read_bytes()
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_a))
    assert "sRGB" in ImageCms.getProfileDescription(profile)
    assert diff > 2  # colours really were converted


def test_watermark_and_no_exif(photos: dict[str, Path], tmp_path: Path) -> None:
    plain = _export(photos["coffee"], tmp_path, "plain", sharpen=0, long_edge=800)
    marked = _export(photos["coffee"], tmp_path, "marked", sharpen=0, long_edge=800,
                     watermark="© Jane Doe", copy_exif=False)  # fmt: skip
    with Image.open(plain["output_path"]) as a, Image.open(marked["output_path"]) as b:
        pa, pb = np.asarray(a, dtype=np.int16), np.asarray(b, dtype=np.int16)
        assert not b.getexif()
        assert a.getexif().get(0x010F) == "NIKON CORPORATION"
    h, w = pa.shape[:2]
    assert np.abs(pa[h * 3 // 4 :, w // 2 :] - pb[h * 3 // 4 :, w // 2 :]).max() > 60
    assert np.abs(pa[: h // 2, : w // 2] - pb[: h // 2, : w // 2]).max() <= 8  # rest untouched


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{date}_{time}_{sequence}", "2026-11-25_143215_0007"),
        ("{original}-{sequence}", "IMG_0001-0007"),
        ("Smith: wedding/{date}?", "Smith_ wedding_2026-11-25_"),
        ("..{original}..", "IMG_0001"),
        ("CON", "_CON"),
    ],
)
def test_format_filename(template: str, expected: str) -> None:
    name = format_filename(
        template, original_stem="IMG_0001", captured_at="2026-11-25T14:32:15.120+01:00", sequence=7
    )
    assert name == expected


def test_format_filename_without_date_and_unknown_placeholder() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5)
    assert (
        format_filename("{date}", original_stem="a", captured_at=when, sequence=1) == "2026-01-02"
    )
    assert (
        format_filename("{date}-{original}", original_stem="a", captured_at=None, sequence=1)
        == "undated-a"
    )
    with pytest.raises(ValueError, match="unknown placeholder"):
        format_filename("{camera}", original_stem="a", captured_at=None, sequence=1)


def test_cmyk_source_exported_as_rgb_with_matching_profile(
    photos: dict[str, Path], tmp_path: Path
) -> None:
    cmyk_icc = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")
    src = tmp_path / "print.jpg"
    with Image.open(photos["rocket"]) as im:
        params = {"icc_profile": cmyk_icc.read_bytes()} if cmyk_icc.exists() else {}
        im.convert("CMYK").save(src, quality=92, **params)
    result = _export(src, tmp_path / "out", long_edge=500)
    with Image.open(result["output_path"]) as out:
        assert out.mode == "RGB"
        icc = out.info.get("icc_profile")
    if icc:  # converted through the CMYK profile: the export carries sRGB, never the CMYK one
        desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
        assert "sRGB" in desc
