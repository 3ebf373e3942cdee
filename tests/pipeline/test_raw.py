"""A RAW original goes through the whole pipeline: import, analysis, approval, export, sidecar."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from PIL import Image

from bridge_server.app import BridgeServer
from tests.fixtures.photos import write_dng
from tests.helpers import base_url, connect, jobs_settled, make_settings, wait_for


async def test_raw_is_imported_analysed_exported_with_a_sidecar(tmp_path, http, photo_set):
    card = tmp_path / "card"
    card.mkdir()
    with Image.open(photo_set["astronaut"]) as preview:
        raw = write_dng(card / "IMG_0001.DNG", preview.copy())
    server = BridgeServer(make_settings(tmp_path / "d", selection_threshold=1.0))
    await server.start()
    try:
        client = await connect(http, server)
        await client.subscribe(["export"])
        resp = await http.post(f"{base_url(server)}/api/import", json={"paths": [str(card)]})
        report = await resp.json()
        assert len(report["imported"]) == 1
        await wait_for(lambda: jobs_settled(server), timeout=60)
        photo = await (
            await http.get(f"{base_url(server)}/api/photos/{report['imported'][0]}")
        ).json()
        assert photo["status"] == "analyzed" and photo["in_queue"]
        result = await client.command(
            "set_decision", photo_id=photo["photo_id"], flag="pick", stars=4, color_label="green"
        )
        assert result["success"]
        exported = await client.recv_type("export_completed", timeout=60)
        assert exported["output_path"].endswith(".jpg")
        await wait_for(lambda: jobs_settled(server), timeout=60)
        sidecar = raw.with_suffix(".xmp")
        assert sidecar.exists()
    finally:
        await server.stop()
    exiftool = shutil.which("exiftool")
    if exiftool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("exiftool is required under CI")
        pytest.skip("exiftool not installed")
    meta = json.loads(
        subprocess.run(
            [exiftool, "-j", "-XMP:Rating", "-XMP:Label", str(sidecar)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )[0]
    assert (meta["Label"], meta["Rating"]) == ("Green", 4)  # the photographer's, not a default
