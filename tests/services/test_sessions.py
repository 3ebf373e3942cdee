"""Sessions as photographers use them: renamed, deleted (files untouched), named and dated by
the shoot, never "in progress" for ever after an empty import, counted one way everywhere.

Real bridges on loopback; requests over REST, events read by a subscribed WebSocket client.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import aiohttp

from bridge_server.app import BridgeServer
from tests.helpers import base_url, connect, copy_photos, jobs_settled, make_settings, wait_for
from tests.services.test_transitions import Recorder

SHOOT = ["astronaut", "coffee", "rocket"]
SHOOT_DAY = "2026-11-25"  # the fixtures' EXIF capture day


async def _start(tmp_path: Path, **settings: Any) -> BridgeServer:
    server = BridgeServer(
        make_settings(tmp_path / "data", selection_threshold=1.0, burst_hash_distance=0, **settings)
    )
    await server.start()
    return server


async def _import(
    http: aiohttp.ClientSession, server: BridgeServer, folder: Path, name: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"paths": [str(folder)]}
    if name is not None:
        body["session_name"] = name
    resp = await http.post(f"{base_url(server)}/api/import", json=body)
    assert resp.status == 202, await resp.text()
    report = await resp.json()
    await wait_for(lambda: jobs_settled(server))
    return dict(report)


async def _session(http: aiohttp.ClientSession, server: BridgeServer, sid: str) -> dict[str, Any]:
    async with http.get(f"{base_url(server)}/api/sessions/{sid}") as resp:
        assert resp.status == 200
        return dict(await resp.json())


async def test_deleting_a_session_removes_its_rows_and_never_a_file(tmp_path, http, photo_set):
    server = await _start(tmp_path)
    url = base_url(server)
    try:
        originals = copy_photos(photo_set, SHOOT, tmp_path / "shoot")
        report = await _import(http, server, tmp_path / "shoot", "Smith wedding")
        sid = report["session_id"]
        picked = report["imported"][0]
        recorder = Recorder(server.context.broker)
        async with http.post(f"{url}/api/approval/{picked}/approve") as resp:
            assert resp.status == 200
        await wait_for(lambda: jobs_settled(server))
        (done,) = recorder.of("export_completed", photo_id=picked)
        # What the desk's confirmation shows before: how many photos the app will forget.
        assert (await _session(http, server, sid))["total_photos"] == len(SHOOT)
        for photo_id in report["imported"]:  # the grid has shown them: previews are cached
            async with http.get(f"{url}/api/photos/{photo_id}/thumbnail?size=small") as resp:
                assert resp.status == 200
        cache = server.context.settings.cache_dir / "thumbnails"
        assert {p.name.split("_small")[0] for p in cache.glob("*_small.jpg")} >= set(
            report["imported"]
        )

        watcher = await connect(http, server)
        await watcher.subscribe(["sessions"])
        async with http.delete(f"{url}/api/sessions/{sid}") as resp:
            answer = await resp.json()
            assert resp.status == 200, answer
        assert answer == {
            "session_id": sid,
            "session_name": "Smith wedding",
            "deleted_photos": len(SHOOT),
            "deleted_decisions": 1,
            "cancelled_jobs": 0,
            "files_kept": len(SHOOT),
            "exports_kept": 1,
        }
        event = await watcher.recv_type("session_deleted")
        assert (event["session_id"], event["total_photos"]) == (sid, len(SHOOT))
        assert all(p.is_file() for p in originals)
        assert Path(done["output_path"]).is_file()
        left = [
            p.name
            for p in cache.iterdir()
            if any(p.name.startswith(f"{i}_") for i in report["imported"])
        ]
        assert left == [], "the deleted photos' cached previews are removed"
        async with http.get(f"{url}/api/sessions/{sid}") as resp:
            assert resp.status == 404
        photos = await (await http.get(f"{url}/api/photos", params={"session_id": sid})).json()
        assert photos["total"] == 0
        async with http.delete(f"{url}/api/sessions/{sid}") as resp:
            assert resp.status == 404
        # The same files can come back as a new shoot.
        again = await _import(http, server, tmp_path / "shoot", "Smith wedding, again")
        assert len(again["imported"]) == len(SHOOT)
    finally:
        await server.stop()


async def test_an_import_of_nothing_new_leaves_an_empty_session_not_one_in_progress(
    tmp_path, http, photo_set
):
    server = await _start(tmp_path)
    try:
        copy_photos(photo_set, SHOOT, tmp_path / "shoot")
        first = await _import(http, server, tmp_path / "shoot", "Shoot")
        recorder = Recorder(server.context.broker)
        second = await _import(http, server, tmp_path / "shoot", "Shoot under a new name")
        assert second["imported"] == [] and len(second["duplicates"]) == len(SHOOT)
        session = await _session(http, server, second["session_id"])
        assert (session["status"], session["total_photos"]) == ("empty", 0)
        assert recorder.of("session_updated", session_id=second["session_id"], status="empty")
        assert (await _session(http, server, first["session_id"]))["status"] != "empty"
        # Renaming it is still possible, and says so.
        async with http.patch(
            f"{base_url(server)}/api/sessions/{second['session_id']}",
            json={"session_name": "Duplicates of Shoot"},
        ) as resp:
            assert resp.status == 200
        assert recorder.of("session_updated", session_name="Duplicates of Shoot")
        async with http.patch(
            f"{base_url(server)}/api/sessions/{second['session_id']}", json={"status": "empty"}
        ) as resp:
            assert resp.status == 400
    finally:
        await server.stop()


async def test_sessions_are_named_and_dated_by_the_shoot_and_counted_one_way(
    tmp_path, http, photo_set
):
    hot = tmp_path / "hot"
    (hot / "wedding").mkdir(parents=True)
    server = await _start(tmp_path, hot_folders=[str(hot)])
    url = base_url(server)
    try:
        # A hand import without a name, and a hot folder: both named for the shoot's day.
        copy_photos(photo_set, SHOOT, tmp_path / "shoot")
        report = await _import(http, server, tmp_path / "shoot")
        session = await _session(http, server, report["session_id"])
        assert (session["session_name"], session["shoot_date"]) == (f"shoot {SHOOT_DAY}", SHOOT_DAY)

        shutil.copy2(photo_set["chelsea"], hot / "wedding" / "chelsea.jpg")

        async def hot_session() -> dict[str, Any] | None:
            listing = await (await http.get(f"{url}/api/sessions")).json()
            found = [s for s in listing["items"] if s["import_folder"] == str(hot / "wedding")]
            return found[0] if found and found[0]["total_photos"] == 1 else None

        arrived = await wait_for(hot_session)
        assert (arrived["session_name"], arrived["shoot_date"]) == (
            f"wedding {SHOOT_DAY}",
            SHOOT_DAY,
        )

        # The session card's waiting count is the approval queue's count, after a decision too.
        await wait_for(lambda: jobs_settled(server))
        first = report["imported"][0]
        async with http.post(f"{url}/api/approval/{first}/reject") as resp:
            assert resp.status == 200
        for sid in (report["session_id"], arrived["session_id"]):
            card = await _session(http, server, sid)
            queue = await (
                await http.get(f"{url}/api/approval/queue", params={"session_id": sid})
            ).json()
            assert card["queued_photos"] == queue["total"]
        assert (await _session(http, server, report["session_id"]))["queued_photos"] == 2
    finally:
        await server.stop()
