"""Decisions as photographers know them, through every door: flag, stars, label, keywords.

Each test runs a real bridge on loopback, imports and analyses real photos, and changes
decisions over REST and WebSocket commands; what every door sees is the events a subscribed
WebSocket client receives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from bridge_server.app import BridgeServer
from tests.helpers import (
    ProtocolClient,
    base_url,
    connect,
    copy_photos,
    jobs_settled,
    make_settings,
    wait_for,
)
from tests.services.test_transitions import Recorder

SHOOT = ["astronaut", "coffee", "rocket", "truncated"]


async def _analysed_shoot(
    tmp_path: Path, http: aiohttp.ClientSession, photo_set: dict[str, Path]
) -> tuple[BridgeServer, dict[str, dict[str, Any]]]:
    """A started bridge whose shoot is imported and analysed: file stem -> photo."""
    server = BridgeServer(make_settings(tmp_path / "data", selection_threshold=1.0))
    await server.start()
    copy_photos(photo_set, SHOOT, tmp_path / "shoot")
    resp = await http.post(
        f"{base_url(server)}/api/import", json={"paths": [str(tmp_path / "shoot")]}
    )
    assert resp.status == 202, await resp.text()
    await wait_for(lambda: jobs_settled(server))
    listing = await (await http.get(f"{base_url(server)}/api/photos")).json()
    return server, {Path(p["file_name"]).stem: p for p in listing["photos"]}


async def _patch(
    http: aiohttp.ClientSession, server: BridgeServer, photo_id: str, body: Any
) -> tuple[int, dict[str, Any]]:
    url = f"{base_url(server)}/api/photos/{photo_id}/decision"
    async with http.patch(url, json=body) as resp:
        return resp.status, await resp.json()


async def _next_event(client: ProtocolClient, *types: str) -> dict[str, Any]:
    """The next event of one of `types` (other frames skipped)."""
    while True:
        message = await client.recv()
        if message.get("type") in types:
            return message


async def test_stars_label_and_keywords_reach_every_door_once(tmp_path, http, photo_set):
    server, shoot = await _analysed_shoot(tmp_path, http, photo_set)
    try:
        photo_id = shoot["astronaut"]["photo_id"]
        assert (shoot["astronaut"]["stars"], shoot["astronaut"]["color_label"]) == (0, None)
        phone = await connect(http, server)
        await phone.subscribe(["photos"])
        recorder = Recorder(server.context.broker)

        body = {"stars": 4, "color_label": "red", "keywords": [" Bride ", "first dance", "bride"]}
        status, reply = await _patch(http, server, photo_id, body)
        assert status == 200, reply
        photo = reply["photo"]
        assert (photo["stars"], photo["color_label"], photo["keywords"]) == (
            4,
            "red",
            ["Bride", "first dance"],
        )
        event = await _next_event(phone, "photo_rating_changed")
        assert event["photo_id"] == photo_id
        assert event["session_id"] == photo["session_id"]
        assert (event["stars"], event["color_label"], event["keywords"]) == (
            4,
            "red",
            ["Bride", "first dance"],
        )

        # The same values again, from the other door: nothing changed, nothing announced.
        desk = await connect(http, server)
        result = await desk.command("set_decision", photo_id=photo_id, **body)
        assert result["success"] is True, result
        assert len(recorder.of("photo_rating_changed", photo_id=photo_id)) == 1

        # The phone clears the label; the desk's REST read sees it.
        result = await phone.command("set_decision", photo_id=photo_id, color_label=None)
        assert result["success"] is True and result["data"]["photo"]["color_label"] is None
        # (the phone's own event arrived before its result, which skipped it: the recorder saw it)
        cleared = recorder.of("photo_rating_changed", photo_id=photo_id, color_label=None)
        assert [(e["stars"], e["keywords"]) for e in cleared] == [(4, ["Bride", "first dance"])]
        fresh = await (await http.get(f"{base_url(server)}/api/photos/{photo_id}")).json()
        assert (fresh["stars"], fresh["color_label"], fresh["keywords"]) == (
            4,
            None,
            ["Bride", "first dance"],
        )
    finally:
        await server.stop()


async def test_flag_pick_reject_none_and_a_rejected_photo_keeps_its_stars(
    tmp_path, http, photo_set
):
    server, shoot = await _analysed_shoot(tmp_path, http, photo_set)
    try:
        photo_id = shoot["coffee"]["photo_id"]
        client = await connect(http, server)
        await client.subscribe(["photos", "jobs"])

        status, reply = await _patch(http, server, photo_id, {"flag": "pick", "stars": 3})
        assert status == 200 and reply["photo"]["flag"] == "pick", reply
        assert reply["photo"]["approval"] == "approved"
        await _next_event(client, "photo_approved")
        rating = await _next_event(client, "photo_rating_changed")
        assert rating["stars"] == 3
        created = await _next_event(client, "job_created")
        assert created["photo_id"] == photo_id and created["kind"] == "export"

        status, reply = await _patch(http, server, photo_id, {"flag": "reject", "reason": "soft"})
        assert status == 200, reply
        assert (reply["photo"]["flag"], reply["photo"]["stars"]) == ("reject", 3)
        rejected = await _next_event(client, "photo_rejected")
        assert rejected["reason"] == "soft"

        status, reply = await _patch(http, server, photo_id, {"flag": "none"})
        assert status == 200, reply
        assert (reply["photo"]["flag"], reply["photo"]["stars"]) == ("none", 3)
        unflagged = await _next_event(client, "photo_unflagged")
        assert unflagged == {**unflagged, "photo_id": photo_id, "session_id": rating["session_id"]}
        assert reply["photo"]["in_queue"] is True  # an undecided keeper waits again

        # Unflagging an unflagged photo is a repeat: no event.
        recorder = Recorder(server.context.broker)
        status, reply = await _patch(http, server, photo_id, {"flag": "none"})
        assert status == 200 and recorder.of("photo_unflagged") == []
    finally:
        await server.stop()


async def test_bad_decisions_are_refused_clearly_and_change_nothing(tmp_path, http, photo_set):
    server, shoot = await _analysed_shoot(tmp_path, http, photo_set)
    try:
        photo_id = shoot["rocket"]["photo_id"]
        refused = [
            ({"stars": 6}, 400),
            ({"stars": "3"}, 400),
            ({"stars": True}, 400),
            ({"color_label": "pink"}, 400),
            ({"keywords": "bride"}, 400),
            ({"keywords": ["ok", 7]}, 400),
            ({"keywords": ["line\nbreak"]}, 400),
            ({"keywords": ["   "]}, 400),
            ({"keywords": ["x" * 65]}, 400),
            ({"keywords": [f"k{n}" for n in range(51)]}, 400),
            ({"flag": "maybe"}, 400),
            ({"flag": "pick", "reason": "why"}, 400),
            ({"preset": "No such preset", "stars": 2}, 404),
        ]
        for body, expected in refused:
            status, reply = await _patch(http, server, photo_id, body)
            assert status == expected, (body, status, reply)
            assert reply["error"]["message"], body
        url = f"{base_url(server)}/api/photos/{photo_id}/decision"
        async with http.patch(url, data="[1, 2]") as resp:
            assert resp.status == 400
        status, reply = await _patch(http, server, "p_nope", {"stars": 2})
        assert status == 404, reply
        # A file that could not be analysed cannot be picked, but may be starred.
        failed_id = shoot["truncated"]["photo_id"]
        assert shoot["truncated"]["verdict"] == "failed"
        status, reply = await _patch(http, server, failed_id, {"flag": "pick"})
        assert status == 409, reply
        status, reply = await _patch(http, server, failed_id, {"stars": 1})
        assert status == 200 and reply["photo"]["stars"] == 1

        client = await connect(http, server)
        result = await client.command("set_decision", photo_id=photo_id, stars=9)
        assert result["success"] is False and result["error"]["code"] == "invalid_arguments"
        photo = await (await http.get(f"{base_url(server)}/api/photos/{photo_id}")).json()
        assert (photo["stars"], photo["color_label"], photo["keywords"], photo["flag"]) == (
            0,
            None,
            [],
            "none",
        )
    finally:
        await server.stop()


async def test_changing_the_preset_of_an_exported_pick_exports_it_again_with_the_new_one(
    tmp_path, http, photo_set
):
    server, shoot = await _analysed_shoot(tmp_path, http, photo_set)
    try:
        photo_id = shoot["astronaut"]["photo_id"]
        presets = [p["name"] for p in server.context.settings.export_presets]
        first = shoot["astronaut"]["selected_preset"] or presets[0]
        other = next(name for name in presets if name != first)
        recorder = Recorder(server.context.broker)
        assert (await _patch(http, server, photo_id, {"flag": "pick"}))[0] == 200
        await wait_for(lambda: jobs_settled(server))
        [done] = recorder.of("export_completed", photo_id=photo_id)
        assert done["preset_name"] == first

        status, reply = await _patch(http, server, photo_id, {"preset": other})
        assert status == 200 and reply["photo"]["export_preset"] == other, reply
        await wait_for(lambda: jobs_settled(server))
        again = recorder.of("export_completed", photo_id=photo_id, preset_name=other)
        assert len(again) == 1, recorder.of("export_completed")
        assert Path(done["output_path"]).is_file()  # the file already delivered stays
        assert Path(again[0]["output_path"]).is_file()

        # Back to the first preset: that export exists already, so nothing is written twice.
        assert (await _patch(http, server, photo_id, {"preset": first}))[0] == 200
        await wait_for(lambda: jobs_settled(server))
        written = [*Path(done["output_path"]).parent.iterdir()]
        written += [*Path(again[0]["output_path"]).parent.iterdir()]
        assert sorted(map(str, written)) == sorted([done["output_path"], again[0]["output_path"]])
    finally:
        await server.stop()


async def test_a_chosen_preset_is_the_one_the_pick_exports_with(tmp_path, http, photo_set):
    server, shoot = await _analysed_shoot(tmp_path, http, photo_set)
    try:
        photo_id = shoot["astronaut"]["photo_id"]
        preset = server.context.settings.export_presets[-1]["name"]
        assert shoot["astronaut"]["selected_preset"] != preset
        recorder = Recorder(server.context.broker)
        status, reply = await _patch(http, server, photo_id, {"preset": preset, "flag": "pick"})
        assert status == 200 and reply["photo"]["export_preset"] == preset, reply
        assert recorder.of("photo_preset_changed", photo_id=photo_id, export_preset=preset)
        await wait_for(lambda: jobs_settled(server))
        assert recorder.of("export_completed", photo_id=photo_id, preset_name=preset)
    finally:
        await server.stop()
