"""Taking a pick back takes its export back: the file leaves the export folder, unless the
photographer changed it since; a crash between the recorded intent and the deletion is
finished at the next start.

Real bridges on loopback export real photos; decisions go over REST and WebSocket commands.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from bridge_server.app import BridgeServer
from bridge_server.pipeline.export_withdrawal import begin_withdrawal
from bridge_server.services import transitions
from bridge_server.store.db import Database
from bridge_server.store.models import Export, FileIntent, Photo
from tests.helpers import base_url, connect, copy_photos, jobs_settled, make_settings, wait_for
from tests.services.test_transitions import Recorder

SHOOT = ["astronaut", "coffee", "rocket"]


async def _start(data: Path) -> BridgeServer:
    server = BridgeServer(make_settings(data, selection_threshold=1.0, burst_hash_distance=0))
    await server.start()
    return server


async def _exported(
    tmp_path: Path, http: aiohttp.ClientSession, photo_set: dict[str, Path]
) -> tuple[BridgeServer, dict[str, dict[str, Any]], Recorder]:
    """A bridge whose shoot is analysed and picked, every export on disk: stem -> photo with
    its `output_path`."""
    server = await _start(tmp_path / "data")
    recorder = Recorder(server.context.broker)
    url = base_url(server)
    copy_photos(photo_set, SHOOT, tmp_path / "shoot")
    resp = await http.post(f"{url}/api/import", json={"paths": [str(tmp_path / "shoot")]})
    assert resp.status == 202
    await wait_for(lambda: jobs_settled(server))
    photos = (await (await http.get(f"{url}/api/photos")).json())["photos"]
    shoot = {Path(p["file_name"]).stem: p for p in photos}
    for photo in photos:
        async with http.post(f"{url}/api/approval/{photo['photo_id']}/approve") as resp:
            assert resp.status == 200
    await wait_for(lambda: jobs_settled(server))
    for photo in photos:
        (done,) = recorder.of("export_completed", photo_id=photo["photo_id"])
        photo["output_path"] = done["output_path"]
        assert Path(done["output_path"]).is_file()
    return server, shoot, recorder


async def _export_status(server: BridgeServer, photo_id: str) -> str:
    async with server.context.db.session() as s:
        export = (await s.execute(select(Export).where(Export.photo_id == photo_id))).scalar_one()
        return export.status.value


async def test_undo_or_reject_of_a_pick_removes_its_exported_file(tmp_path, http, photo_set):
    server, shoot, recorder = await _exported(tmp_path, http, photo_set)
    url = base_url(server)
    try:
        undone, rejected, kept = shoot["astronaut"], shoot["coffee"], shoot["rocket"]
        async with http.post(f"{url}/api/approval/{undone['photo_id']}/undo") as resp:
            assert resp.status == 200
        phone = await connect(http, server)
        result = await phone.command(
            "set_decision", photo_id=rejected["photo_id"], flag="reject", reason="eyes"
        )
        assert result["success"] is True, result

        for photo in (undone, rejected):
            assert not Path(photo["output_path"]).exists(), photo["file_name"]
            (event,) = recorder.of("export_withdrawn", photo_id=photo["photo_id"])
            assert event["outcome"] == "removed"
            assert event["output_path"] == photo["output_path"]
            assert Path(photo["output_path"]).name in event["message"]
            assert await _export_status(server, photo["photo_id"]) == "withdrawn"
        # The pick left alone keeps its file, and no hidden leftovers remain in the folder.
        assert Path(kept["output_path"]).is_file()
        folder = Path(kept["output_path"]).parent
        assert sorted(p.name for p in folder.iterdir()) == [Path(kept["output_path"]).name]

        # Picked again: exported again, at its old name.
        async with http.patch(
            f"{url}/api/photos/{undone['photo_id']}/decision", json={"flag": "pick"}
        ) as resp:
            assert resp.status == 200
        await wait_for(lambda: jobs_settled(server))
        assert Path(undone["output_path"]).is_file()
        assert await _export_status(server, undone["photo_id"]) == "completed"
    finally:
        await server.stop()


async def test_a_changed_or_moved_export_is_left_alone_and_the_event_says_so(
    tmp_path, http, photo_set
):
    server, shoot, recorder = await _exported(tmp_path, http, photo_set)
    url = base_url(server)
    try:
        edited, moved = shoot["astronaut"], shoot["coffee"]
        edited_path = Path(edited["output_path"])
        with edited_path.open("ab") as fh:
            fh.write(b"retouched in another program")
        edited_bytes = edited_path.read_bytes()
        elsewhere = tmp_path / "client-delivery"
        elsewhere.mkdir()
        shutil.move(moved["output_path"], elsewhere / Path(moved["output_path"]).name)

        for photo in (edited, moved):
            async with http.post(f"{url}/api/approval/{photo['photo_id']}/undo") as resp:
                assert resp.status == 200

        assert edited_path.read_bytes() == edited_bytes
        (event,) = recorder.of("export_withdrawn", photo_id=edited["photo_id"])
        assert event["outcome"] == "changed" and "changed after the export" in event["message"]
        assert await _export_status(server, edited["photo_id"]) == "kept"

        assert (elsewhere / Path(moved["output_path"]).name).is_file()
        (event,) = recorder.of("export_withdrawn", photo_id=moved["photo_id"])
        assert event["outcome"] == "missing" and "moved or deleted" in event["message"]
        assert await _export_status(server, moved["photo_id"]) == "withdrawn"
    finally:
        await server.stop()


async def test_a_crash_between_the_intent_and_the_deletion_is_finished_at_the_next_start(
    tmp_path, http, photo_set
):
    server, shoot, _ = await _exported(tmp_path, http, photo_set)
    data = Path(server.settings.data_dir)
    await server.stop()
    plain, staged = shoot["astronaut"], shoot["coffee"]

    # What a kill leaves: the decision's transaction committed (pick taken back, intents
    # recorded), and then, for one photo, the file renamed to its staging name, no further.
    db = Database(data / "bridge.sqlite3")
    try:
        async with db.session() as s, s.begin():
            intents = []
            for photo in (plain, staged):
                await transitions.apply(s, transitions.UNDO_DECISION, Photo.id == photo["photo_id"])
                intents += await begin_withdrawal(s, photo["photo_id"], photo["session_id"])
        staging = next(i.staging for i in intents if i.photo_id == staged["photo_id"])
        os.rename(staged["output_path"], staging)
    finally:
        await db.close()

    server = await _start(data)
    try:
        for photo in (plain, staged):
            assert not Path(photo["output_path"]).exists(), photo["file_name"]
            assert await _export_status(server, photo["photo_id"]) == "withdrawn"
        assert not Path(staging).exists()
        assert Path(shoot["rocket"]["output_path"]).is_file()
        async with server.context.db.session() as s:
            assert (await s.execute(select(FileIntent))).scalars().all() == []
        # A client resuming from the start hears what recovery did.
        client = await connect(http, server)
        await client.send({"type": "subscribe", "channels": ["export"], "since": 0})
        heard = []
        while (message := await client.recv())["type"] != "subscription_confirmed":
            heard.append(message)
        withdrawn = {e["photo_id"]: e["outcome"] for e in heard if e["type"] == "export_withdrawn"}
        assert withdrawn == {plain["photo_id"]: "removed", staged["photo_id"]: "removed"}
    finally:
        await server.stop()
