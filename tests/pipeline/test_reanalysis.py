"""Photos analysed by an older analysis version are re-analysed at start, decisions untouched."""

from __future__ import annotations

import sqlite3

from sqlalchemy import delete

from bridge_server.app import BridgeServer
from bridge_server.imaging.analysis import ANALYSIS_VERSION
from bridge_server.pipeline.analysis_job import SCANNED_VERSION_KEY, queue_outdated_analyses
from bridge_server.store.models import Meta
from tests.helpers import base_url, copy_photos, jobs_settled, make_settings, wait_for


async def _photos(http, server) -> dict[str, dict]:
    resp = await http.get(f"{base_url(server)}/api/photos", params={"limit": "50"})
    body = await resp.json()
    return {p["file_name"].rsplit(".", 1)[0]: p for p in body.get("photos") or body["items"]}


async def test_older_analyses_are_redone_at_start_and_decisions_stay(http, photo_set, tmp_path):
    folder = tmp_path / "Shoot"
    copy_photos(photo_set, ["astronaut", "coffee"], folder)
    settings = make_settings(tmp_path / "data")
    first = BridgeServer(settings)
    await first.start()
    try:
        resp = await http.post(
            f"{base_url(first)}/api/import", json={"paths": [str(folder)], "session_name": "S"}
        )
        assert resp.status == 202
        await wait_for(lambda: jobs_settled(first), timeout=120)
        before = await _photos(http, first)
        decided = before["astronaut"]
        resp = await http.post(f"{base_url(first)}/api/approval/{decided['photo_id']}/approve")
        assert resp.status == 200
        decided = (await _photos(http, first))["astronaut"]
    finally:
        await first.stop()

    # As if both had been analysed by the previous analysis version, on its bridge.
    with sqlite3.connect(settings.database_path) as db:
        db.execute("UPDATE photos SET analysis = json_set(analysis, '$.version', 1)")
        db.execute("UPDATE meta SET value = '1' WHERE key = ?", (SCANNED_VERSION_KEY,))

    second = BridgeServer(settings)
    await second.start()
    try:
        jobs_url = f"{base_url(second)}/api/jobs"

        async def upgrades_done() -> list[dict] | None:
            resp = await http.get(jobs_url, params={"kind": "analyze", "limit": "50"})
            body = await resp.json()
            items = body.get("jobs") or body["items"]
            ups = [j for j in items if j["params"].get("reason") == "analysis_upgrade"]
            done = len(ups) == 2 and all(j["status"] == "completed" for j in ups)
            return ups if done and not second.pipeline.busy else None

        upgrades = await wait_for(upgrades_done, timeout=120)
        assert {j["params"]["from_version"] for j in upgrades} == {1}
        assert all(j["progress"] == 100 for j in upgrades)
        after = await _photos(http, second)
        for name in ("astronaut", "coffee"):
            assert after[name]["analysis_results"]["version"] == ANALYSIS_VERSION, name
            assert after[name]["status"] == "analyzed"
        # The photographer's decision is exactly as it was.
        astronaut = after["astronaut"]
        assert astronaut["approval"] == "approved"
        assert astronaut["decided_at"] == decided["decided_at"]
        assert after["coffee"]["approval"] == "pending"
        # Up to date now: a scan finds nothing more to redo, and a start does not scan again.
        async with second.context.db.session() as s, s.begin():
            await s.execute(delete(Meta).where(Meta.key == SCANNED_VERSION_KEY))
        assert await queue_outdated_analyses(second.context) == 0
        async with second.context.db.session() as s:
            assert (await s.get(Meta, SCANNED_VERSION_KEY)).value == str(ANALYSIS_VERSION)
    finally:
        await second.stop()
