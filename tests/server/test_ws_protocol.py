"""The WebSocket protocol over a real socket: handshake, replies, errors and close codes."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bridge_server import events
from bridge_server.app import BridgeServer
from bridge_server.services import sessions
from tests.helpers import base_url, connect


async def test_handshake_register_subscribe_and_receive(bridge: BridgeServer, http):
    client = await connect(http, bridge, register=False)
    hello = client.hello
    assert hello["type"] == "connection_established"
    assert hello["protocol"] == 1
    assert hello["auth_required"] is False
    assert hello["client_id"].startswith("c_")
    assert isinstance(hello["seq"], int)
    assert hello["server_time"].endswith("+00:00")

    await client.send({"type": "register", "client_type": "script", "client_name": "cli"})
    confirmed = await client.recv()
    assert confirmed == {
        "type": "registration_confirmed",
        "client_id": hello["client_id"],
        "client_type": "script",
        "client_name": "cli",
    }

    sub = await client.subscribe(["sessions"])
    assert sub["channels"] == ["sessions"]

    await sessions.create_session(bridge.context, "Wedding", "/photos/wedding")
    event = await client.recv()
    assert event["type"] == "session_created"
    assert event["channel"] == "sessions"
    assert event["session_name"] == "Wedding"
    assert event["seq"] > hello["seq"]


async def test_ping_pong(bridge, http):
    client = await connect(http, bridge)
    await client.send({"type": "ping"})
    pong = await client.recv()
    assert pong["type"] == "pong" and pong["timestamp"].endswith("+00:00")


async def test_events_only_reach_subscribed_channels(bridge, http):
    jobs_only = await connect(http, bridge)
    await jobs_only.subscribe(["jobs"])
    everything = await connect(http, bridge)
    confirmed = await everything.subscribe(["*"])
    assert confirmed["channels"] == sorted(events.ALL_CHANNELS)

    await sessions.create_session(bridge.context, "Portraits")
    assert (await everything.recv())["type"] == "session_created"
    await jobs_only.send({"type": "ping"})
    assert (await jobs_only.recv())["type"] == "pong"  # the session event never came


async def test_unsubscribe_stops_events(bridge, http):
    client = await connect(http, bridge)
    await client.subscribe(["sessions", "jobs"])
    await client.send({"type": "unsubscribe", "channels": ["sessions"]})
    assert await client.recv() == {
        "type": "unsubscription_confirmed",
        "channels": ["sessions"],
        "subscribed": ["jobs"],
    }
    await sessions.create_session(bridge.context, "Gone")
    await client.send({"type": "ping"})
    assert (await client.recv())["type"] == "pong"


async def test_error_codes(bridge, http):
    client = await connect(http, bridge)
    cases = [
        ("{not json", "invalid_json"),
        ('"a string"', "invalid_message"),
        ('{"channels": ["jobs"]}', "missing_type"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "subscribe", "channels": "jobs"}', "invalid_message"),
        ('{"type": "subscribe", "channels": ["jobs", "jbos"]}', "unknown_channel"),
        ('{"type": "subscribe", "channels": ["jobs"], "since": "5"}', "invalid_message"),
        ('{"type": "register", "client_name": 7}', "invalid_message"),
        ('{"type": "command", "command": "approve_photo"}', "invalid_message"),
    ]
    for raw, code in cases:
        await client.send(raw)
        reply = await client.recv()
        assert reply["type"] == "error", raw
        assert reply["code"] == code, raw
        assert reply["error"]
        assert reply["timestamp"].endswith("+00:00")
    # Still open after errors, and a rejected subscription subscribed nothing.
    sub = await client.subscribe(["queue"])
    assert sub["channels"] == ["queue"]


async def test_string_channels_is_not_a_list_of_letters(bridge, http):
    client = await connect(http, bridge)
    await client.send({"type": "subscribe", "channels": "jobs"})
    reply = await client.recv()
    assert reply["code"] == "invalid_message"
    assert bridge.context.broker.subscriber_count() == 0


async def test_command_result_and_errors(bridge, http):
    client = await connect(http, bridge)
    result = await client.command("approve_photo", command_id="a1", photo_id="p_missing")
    assert result == {
        "type": "result",
        "id": "a1",
        "success": False,
        "error": {"code": "not_found", "message": "Unknown photo: 'p_missing'"},
    }
    result = await client.command("launch_rocket", command_id=2)
    assert result["success"] is False and result["error"]["code"] == "unknown_command"
    result = await client.command("set_job_priority", command_id=3, job_id="j_x", priority=9)
    assert result["error"]["code"] == "invalid_arguments"


async def test_oversized_frame_closes_with_1009(bridge, http):
    client = await connect(http, bridge)
    await client.send('{"type": "ping", "pad": "' + "x" * (70 * 1024) + '"}')
    assert await client.expect_close() == 1009


async def test_many_invalid_frames_close_with_4029(bridge, http):
    client = await connect(http, bridge)
    for _ in range(20):
        await client.send("nope")
    code = None
    for _ in range(25):
        msg = await client.ws.receive(timeout=5)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            code = client.ws.close_code
            break
    assert code == 4029


async def test_operator_disconnect_closes_with_4009(bridge, http):
    client = await connect(http, bridge)
    listing = await (await http.get(f"{base_url(bridge)}/api/websocket/clients")).json()
    ids = [c["client_id"] for c in listing["clients"]]
    assert client.hello["client_id"] in ids
    resp = await http.post(
        f"{base_url(bridge)}/api/websocket/disconnect/{client.hello['client_id']}"
    )
    assert resp.status == 200
    assert await client.expect_close() == 4009
    resp = await http.post(f"{base_url(bridge)}/api/websocket/disconnect/c_nobody")
    assert resp.status == 404


async def test_server_shutdown_closes_with_1001(settings, http):
    server = BridgeServer(settings)
    await server.start()
    client = await connect(http, server)
    stopping = asyncio.create_task(server.stop())
    assert await client.expect_close() == 1001
    await stopping


@pytest.mark.parametrize(("frame_bytes", "bursts"), [(60_000, 60), (1_000, 360)])
async def test_stalled_client_is_closed_4008_while_others_keep_receiving(
    bridge, http, frame_bytes, bursts
):
    """A client that stops reading overflows its queue and is dropped; a reader is not."""
    stalled_ws = await http.ws_connect(f"{base_url(bridge)}/ws", max_msg_size=0)
    await stalled_ws.receive()
    await stalled_ws.send_json({"type": "register", "client_type": "phone"})
    await stalled_ws.receive()
    await stalled_ws.send_json({"type": "subscribe", "channels": ["system"]})
    healthy = await connect(http, bridge)
    await healthy.subscribe(["system"])
    await asyncio.sleep(0.1)

    broker = bridge.context.broker
    big = {"blob": "x" * frame_bytes}
    received = 0
    # Publish far more than the socket buffers (megabytes on loopback) plus the frame and byte
    # caps of the queue can hold, while the stalled client reads nothing; the healthy one
    # drains as it goes.
    for _ in range(bursts):
        for _ in range(50):
            broker.publish(events.system_status("running", big))
        for _ in range(50):
            message = await healthy.recv()
            assert message["type"] == "system_status"
            received += 1
    assert received == bursts * 50
    code = None
    while code is None:
        msg = await stalled_ws.receive(timeout=5)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            code = stalled_ws.close_code
    assert code == 4008
    await healthy.send({"type": "ping"})
    assert (await healthy.recv_type("pong"))["type"] == "pong"


async def test_heartbeat_drops_a_peer_that_stops_answering(bridge, http, monkeypatch):
    from bridge_server.web import ws_messages

    monkeypatch.setattr(ws_messages, "HEARTBEAT_SECONDS", 0.4)
    # A peer that never answers pings: a phone that dropped off the Wi-Fi without a goodbye.
    silent = await http.ws_connect(f"{base_url(bridge)}/ws", autoping=False)
    hello = await silent.receive_json()
    clients = bridge.context.clients
    assert clients.get(hello["client_id"]) is not None

    async def gone() -> bool:
        return clients.get(hello["client_id"]) is None

    from tests.helpers import wait_for

    await wait_for(gone, timeout=5, interval=0.05)
