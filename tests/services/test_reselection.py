"""Selection follows the settings: a changed keeper threshold re-runs selection over the photos
already in the library, as a job with progress, and never changes a decision.

A real bridge on loopback; the settings change goes over REST, what happens is read from the
events every subscriber gets and from the photos over REST.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from bridge_server.app import BridgeServer
from tests.helpers import base_url, copy_photos, jobs_settled, make_settings, wait_for
from tests.services.test_transitions import Recorder

SHOOT = [
    "astronaut",
    "astronaut_blurred",
    "coffee_blurred",
    "rocket_blurred",
    "coffee_overexposed",
    "chelsea_noisy",
]


async def _photos(http: aiohttp.ClientSession, server: BridgeServer) -> dict[str, dict[str, Any]]:
    listing = await (await http.get(f"{base_url(server)}/api/photos")).json()
    return {p["photo_id"]: p for p in listing["photos"]}


async def test_lowering_the_threshold_proposes_more_photos_and_keeps_decisions(
    tmp_path, http, photo_set
):
    # A threshold only clean frames reach: every photo is the best of its own scene, most of
    # them below it.
    settings = make_settings(tmp_path / "data", selection_threshold=4.9, burst_hash_distance=0)
    server = BridgeServer(settings)
    await server.start()
    url = base_url(server)
    try:
        copy_photos(photo_set, SHOOT, tmp_path / "shoot")
        resp = await http.post(f"{url}/api/import", json={"paths": [str(tmp_path / "shoot")]})
        assert resp.status == 202
        await wait_for(lambda: jobs_settled(server))
        before = await _photos(http, server)
        below = [p for p in before.values() if p["verdict"] == "below_threshold"]
        assert len(below) >= 3, [p["ai_score"] for p in before.values()]
        rejected, picked = below[0]["photo_id"], below[1]["photo_id"]
        for photo_id, flag in ((rejected, "reject"), (picked, "pick")):
            async with http.patch(
                f"{url}/api/photos/{photo_id}/decision", json={"flag": flag}
            ) as resp:
                assert resp.status == 200
        await wait_for(lambda: jobs_settled(server))
        queue_before = (await (await http.get(f"{url}/api/approval/queue")).json())["total"]

        recorder = Recorder(server.context.broker)
        async with http.patch(f"{url}/api/settings", json={"selection_threshold": 1.0}) as resp:
            answer = await resp.json()
            assert resp.status == 200, answer
        assert answer["changed"] == ["selection_threshold"]
        assert answer["settings"]["selection_threshold"] == 1.0
        job = answer["job"]
        assert job["kind"] == "reselect" and job["status"] == "pending"
        await wait_for(lambda: jobs_settled(server))

        (done,) = recorder.of("job_completed", job_id=job["job_id"])
        assert recorder.of("job_progress", job_id=job["job_id"], stage="selecting")
        after = await _photos(http, server)
        undecided = [p for p in after.values() if p["flag"] == "none"]
        assert undecided and all(p["verdict"] == "proposed" for p in undecided)
        proposed = {e["photo_id"] for e in recorder.of("photo_selected")}
        assert proposed == {
            p["photo_id"] for p in undecided if before[p["photo_id"]]["verdict"] != "proposed"
        }
        queue_after = (await (await http.get(f"{url}/api/approval/queue")).json())["total"]
        assert queue_after == len(undecided) > queue_before
        assert done["result"]["proposed_after"] == queue_after
        assert recorder.of("approval_queue_updated")
        # The photographer's decisions stand, and so does the proposal they were made on.
        assert (after[rejected]["flag"], after[rejected]["verdict"]) == (
            "reject",
            "below_threshold",
        )
        assert (after[picked]["flag"], after[picked]["verdict"]) == ("pick", "below_threshold")

        # The same value again changes nothing and queues nothing.
        async with http.patch(f"{url}/api/settings", json={"selection_threshold": 1}) as resp:
            again = await resp.json()
        assert (again["changed"], again["job"]) == ([], None)
        for bad in ({"selection_threshold": 9}, {"theme": "light"}, {"burst_hash_distance": 1.5}):
            async with http.patch(f"{url}/api/settings", json=bad) as resp:
                body = await resp.json()
                assert resp.status == 400 and body["error"]["message"], bad
        assert server.settings.selection_threshold == 1.0
    finally:
        await server.stop()
