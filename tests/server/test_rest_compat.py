"""REST shapes the original bridge's clients use: clients list, stats, broadcast, sessions, jobs."""

from __future__ import annotations

from typing import Any

from bridge_server.services import pairing
from tests.helpers import base_url, connect, copy_photos, jobs_settled, wait_for

RESOURCE_WARNING = {"resource_type": "disk", "current_value": 1.5, "threshold": 2, "message": "low"}


async def _nothing_more(client) -> None:
    """The next frame is the pong to our ping: nothing else was sent meanwhile."""
    await client.send({"type": "ping"})
    assert (await client.recv())["type"] == "pong"


async def test_clients_list_has_the_original_keys_beside_ours(bridge, http):
    client = await connect(http, bridge, client_type="script")
    url = f"{base_url(bridge)}/api/websocket/clients"
    body = await (await http.get(url)).json()
    assert body["success"] is True and body["count"] == 1 == body["total"]
    (entry,) = body["clients"]
    assert entry["id"] == entry["client_id"] == client.hello["client_id"]
    assert entry["client_type"] == "script" and entry["last_ping"] is None
    await client.send({"type": "ping"})
    await client.recv_type("pong")
    entry = (await (await http.get(url)).json())["clients"][0]
    assert entry["last_ping"] >= entry["connected_at"]


async def test_stats_count_live_connections_and_frames(bridge, http):
    url = f"{base_url(bridge)}/api/websocket/stats"
    phone = await connect(http, bridge, client_type="phone")
    script = await connect(http, bridge, client_type="script")
    await phone.subscribe(["system"])
    first = await (await http.get(url)).json()
    assert first["success"] is True
    assert first["connections"] == 2 and first["registered"] == 2
    assert first["by_type"] == {"phone": 1, "script": 1}
    assert first["subscribers_by_channel"]["system"] == 1
    assert set(first["queue_depths"]) == {phone.hello["client_id"], script.hello["client_id"]}
    resp = await http.post(
        f"{base_url(bridge)}/api/websocket/broadcast",
        json={"type": "resource_warning", "channel": "system", "data": RESOURCE_WARNING},
    )
    assert resp.status == 200
    await phone.recv_type("resource_warning")
    await script.ws.close()

    async def after() -> dict[str, Any] | None:
        stats = await (await http.get(url)).json()
        return stats if stats["connections"] == 1 else None

    second = await wait_for(after, timeout=10)
    assert second["by_type"] == {"phone": 1}
    # Frames sent to the closed client still count; the phone got one more (the event).
    assert second["messages_sent"] >= first["messages_sent"] + 1
    assert second["connections_since_start"] == 2
    assert second["uptime_seconds"] > first["uptime_seconds"] >= 0
    assert second["last_seq"] >= 1


async def test_broadcast_takes_the_quick_start_body_and_defaults_the_channel(bridge, http):
    client = await connect(http, bridge)
    await client.subscribe(["system"])
    resp = await http.post(
        f"{base_url(bridge)}/api/websocket/broadcast",
        json={"message": {"type": "resource_warning", **RESOURCE_WARNING}},
    )
    assert resp.status == 200, await resp.text()
    reply = await resp.json()
    assert reply["success"] is True and reply["channel"] == "system"
    event = await client.recv()
    assert event["type"] == "resource_warning" and event["channel"] == "system"
    assert event["seq"] == reply["seq"] and event["current_value"] == 1.5


async def test_custom_events_go_out_on_any_channel_with_free_form_data(bridge, http):
    client = await connect(http, bridge)
    await client.subscribe(["export", "jobs"])
    url = f"{base_url(bridge)}/api/websocket/broadcast"
    data = {"catalog": "Wedding", "items": [1, {"nested": None}], "ok": True}
    resp = await http.post(url, json={"type": "lightroom_sync", "channel": "export", "data": data})
    assert resp.status == 200, await resp.text()
    event = await client.recv()
    assert event == {**data, "type": "lightroom_sync", "channel": "export", **_envelope(event)}
    resp = await http.post(
        url, json={"message": {"type": "plugin_hello", "version": "2.1"}, "channel": "jobs"}
    )
    assert resp.status == 200
    event = await client.recv()
    assert (event["type"], event["channel"], event["version"]) == ("plugin_hello", "jobs", "2.1")


def _envelope(event: dict[str, Any]) -> dict[str, Any]:
    return {"seq": event["seq"], "timestamp": event["timestamp"]}


async def test_typed_events_cannot_be_spoofed_and_bad_broadcasts_send_nothing(bridge, http):
    client = await connect(http, bridge)
    await client.subscribe(["*"])
    url = f"{base_url(bridge)}/api/websocket/broadcast"
    bad: list[Any] = [
        # A typed name keeps its own channel and its own payload.
        {"type": "photo_approved", "channel": "system", "data": {}},
        {"type": "photo_approved", "channel": "photos", "data": {"photo_id": "p_1"}},
        {"type": "photo_approved", "data": {"photo_id": 1, "session_id": "s"}},
        {"type": "photo_approved", "data": {"photo_id": "p", "session_id": "s", "x": 1}},
        {"message": {"type": "photo_approved", "photo_id": "p"}},
        # Custom events: a proper name, a real channel, no envelope keys.
        {"type": "Bad-Name", "channel": "jobs"},
        {"type": "x" * 65, "channel": "jobs"},
        {"type": "my_event"},
        {"type": "my_event", "channel": "nowhere"},
        {"type": "my_event", "channel": "jobs", "data": {"seq": 1}},
        {"message": {"type": "my_event", "timestamp": "now"}, "channel": "jobs"},
        {"type": "my_event", "channel": "jobs", "data": [1]},
        {"message": "my_event", "channel": "jobs"},
    ]
    for body in bad:
        resp = await http.post(url, json=body)
        assert resp.status == 400, (body, await resp.text())
        assert (await resp.json())["error"]["code"] == "invalid_arguments"
    # NaN and Infinity would make browsers fail on the frame: refused before publishing.
    for raw in (
        '{"type": "my_event", "channel": "jobs", "data": {"v": NaN}}',
        '{"type": "my_event", "channel": "jobs", "data": {"v": [Infinity]}}',
        '{"type": "resource_warning", "data": {"resource_type": "disk", "current_value": '
        '-Infinity, "threshold": 1, "message": "m"}}',
    ):
        resp = await http.post(url, data=raw, headers={"Content-Type": "application/json"})
        assert resp.status == 400, raw
    await _nothing_more(client)


async def test_sessions_take_name_and_patch_publishes_only_real_changes(bridge, http):
    client = await connect(http, bridge)
    await client.subscribe(["sessions"])
    url = f"{base_url(bridge)}/api/sessions"
    resp = await http.post(url, json={"name": "Wedding", "import_folder": "/shoots/w"})
    assert resp.status == 201
    session = await resp.json()
    assert session["session_name"] == "Wedding"
    created = await client.recv_type("session_created")
    session_id = created["session_id"]
    assert session_id == session["session_id"]

    resp = await http.patch(f"{url}/{session_id}", json={"name": "Wedding, Anna & Ben"})
    assert resp.status == 200
    assert (await resp.json())["session"]["session_name"] == "Wedding, Anna & Ben"
    updated = await client.recv()
    assert updated["type"] == "session_updated"
    assert updated["session_name"] == "Wedding, Anna & Ben" and updated["status"] == "active"

    resp = await http.patch(f"{url}/{session_id}", json={"session_name": "Wedding, Anna & Ben"})
    assert resp.status == 200
    await _nothing_more(client)  # nothing changed: no event

    resp = await http.patch(f"{url}/{session_id}", json={"status": "completed"})
    assert (await resp.json())["session"]["status"] == "completed"
    updated = await client.recv()
    assert (updated["type"], updated["status"]) == ("session_updated", "completed")
    assert "session_name" not in updated
    again = await (await http.get(f"{url}/{session_id}")).json()
    assert again["status"] == "completed" and again["completed_at"]

    for body, status in [
        ({"status": "archived"}, 400),
        ({"name": "  "}, 400),
        ({"session_name": 5}, 400),
    ]:
        assert (await http.patch(f"{url}/{session_id}", json=body)).status == status, body
    resp = await http.patch(f"{url}/s_nope", json={"name": "x"})
    assert resp.status == 404
    await _nothing_more(client)


async def test_integer_ids_of_the_original_get_a_clear_404(bridge, http):
    url = base_url(bridge)
    for method, path in [
        ("GET", "/api/sessions/1"),
        ("PATCH", "/api/sessions/2"),
        ("GET", "/api/photos/3"),
        ("POST", "/api/approval/4/approve"),
        ("GET", "/api/jobs/5"),
        ("POST", "/api/websocket/disconnect/6"),
    ]:
        resp = await http.request(method, url + path, json={"status": "active"})
        assert resp.status == 404, path
        error = (await resp.json())["error"]
        assert error["code"] == "not_found" and "not integers" in error["message"], error


async def test_post_jobs_queues_reanalysis_and_exports_and_announces_them(
    bridge, http, photo_set, tmp_path
):
    url = base_url(bridge)
    client = await connect(http, bridge)
    await client.subscribe(["jobs"])
    assert (await http.post(f"{url}/api/processing/pause")).status == 200
    copy_photos(photo_set, ["coffee"], tmp_path / "shoot")
    resp = await http.post(f"{url}/api/import", json={"paths": [str(tmp_path / "shoot")]})
    assert resp.status == 202
    photo_id = (await (await http.get(f"{url}/api/photos")).json())["items"][0]["photo_id"]
    await client.recv_type("job_created")
    # The import's analysis is still waiting: a second one is refused, not queued twice.
    resp = await http.post(f"{url}/api/jobs", json={"photo_id": photo_id, "config": {}})
    assert resp.status == 409, await resp.text()
    assert (await http.post(f"{url}/api/processing/resume")).status == 200
    await wait_for(lambda: jobs_settled(bridge))

    resp = await http.post(f"{url}/api/jobs", json={"photo_id": photo_id, "priority": 1})
    assert resp.status == 201, await resp.text()
    job = (await resp.json())["job"]
    assert (job["kind"], job["priority"], job["status"]) == ("analyze", 1, "pending")
    announced = await client.recv_type("job_created")
    assert announced == {**announced, "job_id": job["job_id"], "photo_id": photo_id}
    await wait_for(lambda: jobs_settled(bridge))
    done = await (await http.get(f"{url}/api/jobs/{job['job_id']}")).json()
    assert done["status"] == "completed"

    export = {"photo_id": photo_id, "config": {"kind": "export", "preset": "Archive"}}
    resp = await http.post(f"{url}/api/jobs", json=export)
    assert resp.status == 409  # not approved: nothing to export
    assert (await http.post(f"{url}/api/approval/{photo_id}/approve")).status == 200
    await wait_for(lambda: jobs_settled(bridge))
    resp = await http.post(f"{url}/api/jobs", json=export)
    assert resp.status == 201, await resp.text()
    job = (await resp.json())["job"]
    assert job["kind"] == "export" and job["params"] == {"preset": "Archive"}
    await client.recv_type("job_created")
    resp = await http.post(f"{url}/api/jobs", json={"photo_id": photo_id, "kind": "analyze"})
    assert resp.status == 409  # a decided photo keeps its analysis
    for body, status in [
        ({"photo_id": photo_id, "preset": "No such preset"}, 404),
        ({"photo_id": photo_id, "kind": "print"}, 400),
        ({"photo_id": photo_id, "priority": 7}, 400),
        ({"photo_id": photo_id, "priority": 1.5}, 400),
        ({"photo_id": "p_nope"}, 404),
        ({"priority": 1}, 400),
    ]:
        resp = await http.post(f"{url}/api/jobs", json=body)
        assert resp.status == status, (body, await resp.text())
    await wait_for(lambda: jobs_settled(bridge))
    done = await (await http.get(f"{url}/api/jobs/{job['job_id']}")).json()
    assert done["status"] == "completed" and done["result"]["preset_name"] == "Archive"


async def test_device_tokens_may_not_create_jobs_or_patch_sessions(tmp_path, http):
    from bridge_server.app import BridgeServer
    from tests.helpers import make_settings

    server = BridgeServer(make_settings(tmp_path / "d", require_token_on_loopback=True))
    await server.start()
    try:
        code = pairing.start_pairing(server.context, ["http://127.0.0.1"])["code"]
        resp = await http.post(
            f"{base_url(server)}/api/pairing/complete", json={"code": code, "device_name": "P"}
        )
        token = (await resp.json())["token"]
        auth = {"Authorization": f"Bearer {token}"}
        url = base_url(server)
        for method, path, body in [
            ("POST", "/api/jobs", {"photo_id": "p_1"}),
            ("PATCH", "/api/sessions/s_1", {"name": "x"}),
            ("GET", "/api/websocket/stats", None),
        ]:
            resp = await http.request(method, url + path, json=body, headers=auth)
            assert resp.status == 403, path
    finally:
        await server.stop()


async def test_renaming_a_completed_session_keeps_its_completion_time(bridge, http):
    url = f"{base_url(bridge)}/api/sessions"
    session_id = (await (await http.post(url, json={"name": "Gala"})).json())["session_id"]
    first = await (await http.patch(f"{url}/{session_id}", json={"status": "completed"})).json()
    completed_at = first["session"]["completed_at"]
    assert completed_at
    again = await http.patch(
        f"{url}/{session_id}", json={"name": "Gala 2026", "status": "completed"}
    )
    session = (await again.json())["session"]
    assert (session["session_name"], session["completed_at"]) == ("Gala 2026", completed_at)
    reopened = await http.patch(f"{url}/{session_id}", json={"status": "active"})
    assert (await reopened.json())["session"]["completed_at"] is None
