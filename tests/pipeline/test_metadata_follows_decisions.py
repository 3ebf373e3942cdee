"""Metadata follows decisions: what the photographer decides reaches the exported JPEG's XMP and
the sidecars beside the originals, as Lightroom and darktable read them (checked with exiftool).

A real bridge on loopback imports a JPEG and a DNG, decisions go over REST, files are read back
with the real exiftool.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image
from sqlalchemy import update

from bridge_server.app import BridgeServer
from bridge_server.store.db import Database
from bridge_server.store.models import Photo
from tests.fixtures.photos import write_dng
from tests.helpers import base_url, jobs_settled, make_settings, wait_for
from tests.services.test_transitions import Recorder

DARKTABLE_SIDECAR = """<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
    crs:Exposure2012="+0.35">
   <xmp:Rating>1</xmp:Rating>
   <dc:subject><rdf:Bag><rdf:li>client favourite</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


@pytest.fixture
def exiftool() -> str:
    """The real exiftool (scripts/install-system-deps); CI=true makes its absence a failure."""
    path = shutil.which("exiftool")
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("exiftool is required under CI (Debian package libimage-exiftool-perl)")
    pytest.skip("exiftool not installed (apt install libimage-exiftool-perl)")


def _read(exiftool: str, path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [exiftool, "-j", "-XMP:Rating", "-XMP:Label", "-XMP:Subject", "-XMP-crs:all", str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    meta = dict(json.loads(out)[0])
    subject = meta.get("Subject", [])
    meta["Subject"] = sorted(subject if isinstance(subject, list) else [subject])
    return meta


def _seen(meta: dict[str, Any]) -> tuple[Any, Any, list[str]]:
    return meta.get("Rating"), meta.get("Label"), meta["Subject"]


async def _shoot(
    tmp_path: Path, http: aiohttp.ClientSession, photo_set: dict[str, Path], **settings: Any
) -> tuple[BridgeServer, dict[str, dict[str, Any]]]:
    card = tmp_path / "card"
    card.mkdir()
    shutil.copy2(photo_set["coffee"], card / "IMG_0002.jpg")
    with Image.open(photo_set["astronaut"]) as preview:
        write_dng(card / "IMG_0001.DNG", preview.copy())
    (card / "IMG_0001.xmp").write_text(DARKTABLE_SIDECAR)  # darktable was here first
    server = BridgeServer(
        make_settings(tmp_path / "d", selection_threshold=1.0, burst_hash_distance=0, **settings)
    )
    await server.start()
    resp = await http.post(f"{base_url(server)}/api/import", json={"paths": [str(card)]})
    assert resp.status == 202, await resp.text()
    await wait_for(lambda: jobs_settled(server))
    photos = (await (await http.get(f"{base_url(server)}/api/photos")).json())["photos"]
    return server, {Path(p["file_name"]).stem: p for p in photos}


async def _decide(
    http: aiohttp.ClientSession, server: BridgeServer, photo_id: str, **body: Any
) -> None:
    url = f"{base_url(server)}/api/photos/{photo_id}/decision"
    async with http.patch(url, json=body) as resp:
        assert resp.status == 200, await resp.text()
    await wait_for(lambda: jobs_settled(server))


async def test_stars_label_and_keywords_reach_the_export_and_the_sidecars(
    tmp_path, http, photo_set, exiftool
):
    server, shoot = await _shoot(tmp_path, http, photo_set, write_jpeg_sidecars=True)
    recorder = Recorder(server.context.broker)
    try:
        raw, jpeg = shoot["IMG_0001"], shoot["IMG_0002"]
        raw_sidecar = Path(raw["file_path"]).with_suffix(".xmp")
        jpeg_sidecar = Path(jpeg["file_path"]).with_suffix(".xmp")
        for photo in (raw, jpeg):
            await _decide(
                http,
                server,
                photo["photo_id"],
                flag="pick",
                stars=4,
                color_label="red",
                keywords=["bride", "ceremony"],
            )
        exports = {e["photo_id"]: Path(e["output_path"]) for e in recorder.of("export_completed")}
        expected = (4, "Red", ["bride", "ceremony"])
        for path in (exports[raw["photo_id"]], exports[jpeg["photo_id"]], jpeg_sidecar):
            assert _seen(_read(exiftool, path)) == expected, path
        merged = _read(exiftool, raw_sidecar)
        assert _seen(merged) == (4, "Red", ["bride", "ceremony", "client favourite"])
        assert merged["Exposure2012"] == "+0.35"  # darktable's edit is still there

        # Changed after the export: the export's XMP and the sidecars are rewritten.
        before = exports[jpeg["photo_id"]].read_bytes()
        await _decide(
            http,
            server,
            jpeg["photo_id"],
            stars=2,
            color_label="blue",
            keywords=["bride", "rings"],
        )
        after = exports[jpeg["photo_id"]]
        assert _seen(_read(exiftool, after)) == (2, "Blue", ["bride", "rings"])
        assert _seen(_read(exiftool, jpeg_sidecar)) == (2, "Blue", ["bride", "rings"])
        with Image.open(after) as rewritten:
            rewritten.load()  # still a whole JPEG, the same pixels
            with Image.open(io.BytesIO(before)) as original:
                assert rewritten.tobytes() == original.tobytes()
        # The rewritten file is still known as the app's own: undoing the pick removes it.
        async with http.post(f"{base_url(server)}/api/approval/{jpeg['photo_id']}/undo") as resp:
            assert resp.status == 200
        assert not after.exists()
        assert recorder.of("export_withdrawn", photo_id=jpeg["photo_id"], outcome="removed")

        # A reject reads as -1; taking it back brings the stars back.
        await _decide(http, server, raw["photo_id"], flag="reject")
        assert _read(exiftool, raw_sidecar)["Rating"] == -1
        await _decide(http, server, raw["photo_id"], flag="none", color_label=None)
        merged = _read(exiftool, raw_sidecar)
        assert _seen(merged) == (4, None, ["bride", "ceremony", "client favourite"])
        assert merged["Exposure2012"] == "+0.35"
    finally:
        await server.stop()


async def test_jpeg_originals_get_no_sidecar_unless_the_setting_says_so(tmp_path, http, photo_set):
    server, shoot = await _shoot(tmp_path, http, photo_set)
    try:
        jpeg, raw = shoot["IMG_0002"], shoot["IMG_0001"]
        for photo in (jpeg, raw):
            await _decide(http, server, photo["photo_id"], stars=3)
        assert not Path(jpeg["file_path"]).with_suffix(".xmp").exists()
        assert b'xmp:Rating="3"' in Path(raw["file_path"]).with_suffix(".xmp").read_bytes()
    finally:
        await server.stop()


async def test_a_decision_a_crash_left_unwritten_reaches_the_sidecar_at_the_next_start(
    tmp_path, http, photo_set
):
    server, shoot = await _shoot(tmp_path, http, photo_set)
    data = Path(server.settings.data_dir)
    await server.stop()
    raw = shoot["IMG_0001"]
    sidecar = Path(raw["file_path"]).with_suffix(".xmp")
    # What a kill right after a decision's commit leaves: the stars stored, the file not written.
    db = Database(data / "bridge.sqlite3")
    try:
        async with db.session() as s, s.begin():
            await s.execute(
                update(Photo)
                .where(Photo.id == raw["photo_id"])
                .values(stars=5, metadata_rev=Photo.metadata_rev + 1)
            )
    finally:
        await db.close()
    assert b'xmp:Rating="5"' not in sidecar.read_bytes()

    server = BridgeServer(server.settings)
    await server.start()
    try:
        await wait_for(lambda: _sidecar_says(sidecar, b'xmp:Rating="5"'))
        assert b"client favourite" in sidecar.read_bytes()
    finally:
        await server.stop()


async def _sidecar_says(path: Path, text: bytes) -> bool:
    return text in path.read_bytes()
