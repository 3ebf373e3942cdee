"""XMP packets and RAW sidecars that Lightroom, darktable and Capture One read."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from bridge_server.imaging.errors import ExportError
from bridge_server.imaging.xmp import (
    build_packet,
    read_fields,
    rewrite_jpeg_xmp,
    sidecar_path,
    write_sidecar,
)

DARKTABLE_SIDECAR = """<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:darktable="http://darktable.sf.net/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
    xmp:Label="Red"
    darktable:xmp_version="5"
    darktable:history_end="2"
    crs:Exposure2012="+0.35">
   <xmp:Rating>1</xmp:Rating>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>wedding</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <darktable:history>
    <rdf:Seq>
     <rdf:li darktable:operation="exposure" darktable:enabled="1" darktable:params="0000c0bf"/>
    </rdf:Seq>
   </darktable:history>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def test_packet_round_trip() -> None:
    packet = build_packet(4, "Green", ["portrait", "Smith & Co <2026>", "portrait"])
    assert packet.startswith(b"<?xpacket begin=")
    assert read_fields(packet) == {
        "rating": 4,
        "label": "Green",
        "keywords": ["portrait", "Smith & Co <2026>"],
    }


def test_invalid_rating_rejected() -> None:
    with pytest.raises(ValueError, match="rating"):
        build_packet(6, "Green", [])


def test_sidecar_name_and_creation(tmp_path: Path, exiftool: str) -> None:
    raw = tmp_path / "IMG_0001.CR2"
    raw.write_bytes(b"raw")
    path = write_sidecar(str(raw), 5, "Blue", ["keeper"])
    assert path == str(tmp_path / "IMG_0001.xmp")
    tags = _exiftool(exiftool, path)
    assert tags["Rating"] == 5 and tags["Label"] == "Blue" and tags["Subject"] == "keeper"


def test_existing_uppercase_sidecar_is_reused(tmp_path: Path) -> None:
    (tmp_path / "DSC_1.XMP").write_text(DARKTABLE_SIDECAR)
    assert sidecar_path(str(tmp_path / "DSC_1.NEF")) == str(tmp_path / "DSC_1.XMP")


def test_merge_keeps_foreign_content(tmp_path: Path, exiftool: str) -> None:
    raw = tmp_path / "IMG_0002.NEF"
    sidecar = tmp_path / "IMG_0002.xmp"
    sidecar.write_text(DARKTABLE_SIDECAR)
    os.chmod(sidecar, 0o640)
    path = write_sidecar(str(raw), 4, "Green", ["portrait", "wedding"])
    assert path == str(sidecar)
    text = sidecar.read_text()
    # darktable's edit history and Camera Raw settings survive, with their own prefixes.
    assert 'darktable:operation="exposure"' in text and 'darktable:params="0000c0bf"' in text
    assert 'darktable:history_end="2"' in text and 'crs:Exposure2012="+0.35"' in text
    assert text.count("Rating") == 1 and text.count("xmp:Label") == 1
    assert read_fields(sidecar.read_bytes()) == {
        "rating": 4,
        "label": "Green",
        "keywords": ["wedding", "portrait"],
    }
    assert os.stat(sidecar).st_mode & 0o777 == 0o640
    tags = _exiftool(exiftool, path, "-XMP-darktable:all")
    assert tags["Rating"] == 4 and tags["Label"] == "Green"
    assert tags["Subject"] == ["wedding", "portrait"]
    assert tags["HistoryOperation"] == "exposure" and tags["History_end"] == 2


def test_label_none_keeps_existing_label(tmp_path: Path) -> None:
    (tmp_path / "A.xmp").write_text(DARKTABLE_SIDECAR)
    write_sidecar(str(tmp_path / "A.CR3"), 3, None, [])
    assert read_fields((tmp_path / "A.xmp").read_bytes())["label"] == "Red"


def test_invalid_existing_sidecar_left_untouched(tmp_path: Path) -> None:
    broken = tmp_path / "B.xmp"
    broken.write_text("<x:xmpmeta this is not xml")
    with pytest.raises(ExportError, match="not valid XMP"):
        write_sidecar(str(tmp_path / "B.ARW"), 2, "Red", ["x"])
    assert broken.read_text() == "<x:xmpmeta this is not xml"
    assert sorted(os.listdir(tmp_path)) == ["B.xmp"]


def _exiftool(exe: str, path: str, *extra: str) -> dict[str, object]:
    out = subprocess.run(
        [exe, "-j", "-XMP:Rating", "-XMP:Label", "-XMP:Subject", *extra, path],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return dict(json.loads(out)[0])


@pytest.mark.parametrize(
    "fields", [(0, None, []), (5, "Green", ["wedding"]), (-1, "Red", ["a", "b"]), (3, None, [])]
)
def test_an_export_that_already_says_the_decision_is_not_rewritten(
    fields: tuple[int, str | None, list[str]],
) -> None:
    """Right after an export, the metadata sync finds the file already says the decision and
    leaves it byte for byte (no needless rewrite, no staged copy a stop could strand)."""
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "grey").save(buffer, "JPEG", xmp=build_packet(*fields))
    exported = buffer.getvalue()
    assert rewrite_jpeg_xmp(exported, *fields) == exported
    changed = rewrite_jpeg_xmp(exported, 4, "Blue", ["kept"])
    assert changed != exported
    assert rewrite_jpeg_xmp(changed, 4, "Blue", ["kept"]) == changed
