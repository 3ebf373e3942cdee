"""Bounded delivery: resume limit, epoch, slow and flooding clients, sockets that never register."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from bridge_server import events
from bridge_server.app import BridgeServer
from bridge_server.web import ws_messages
from bridge_server.web.ws import ClientConnection
from tests.helpers import ProtocolClient, base_url, connect, make_settings, wait_for

TOO_SLOW = 4008
TOO_MANY_INVALID = 4029
REGISTER_TIMEOUT = 4002


def _publish(server: BridgeServer, count: int, channel_event: Any = None) -> int:
    broker = server.context.broker
    last = 0
    for i in range(count):
        event = channel_event(i) if channel_event else events.queue_status(i, 0, 0, 0, i)
        last = broker.publish(event).seq
    return last


async def test_a_5000_event_resume_answers_recovered_false_at_once_and_stays_connected(
    bridge, http
):
    """Far behind, the phone is told to reload instead of being sent 5,000 frames, closed with
    4008 before its confirmation, and reconnecting in a loop."""
    client = await connect(http, bridge)
    start = client.hello["seq"]
    last = _publish(bridge, 5_000)
    await client.send({"type": "subscribe", "channels": ["*"], "since": start})
    first = await client.recv()
    assert first["type"] == "subscription_confirmed", f"replayed instead: {first['type']}"
    assert first["recovered"] is False and first["replayed"] == 0
    assert first["seq"] >= last
    live = _publish(bridge, 1)
    assert (await client.recv_type("queue_status"))["seq"] == live
    await client.send({"type": "ping"})
    assert (await client.recv_type("pong"))["type"] == "pong"


async def test_a_resume_within_the_recovery_limit_is_replayed_whole_with_live_events_after(
    bridge, http
):
    client = await connect(http, bridge)
    start = client.hello["seq"]
    behind = 990  # just below the default recovery limit (1,000)
    last = _publish(bridge, behind)
    await client.send({"type": "subscribe", "channels": ["queue"], "since": start})
    replayed = [await client.recv() for _ in range(behind)]
    assert [e["seq"] for e in replayed] == list(range(start + 1, last + 1))
    confirmed = await client.recv()
    assert confirmed["type"] == "subscription_confirmed"
    assert confirmed["recovered"] is True and confirmed["replayed"] == behind
    live = _publish(bridge, 1)
    assert (await client.recv())["seq"] == live


async def test_the_epoch_tells_a_reset_history_from_a_gap(tmp_path, http):
    settings = make_settings(tmp_path / "a")
    server = BridgeServer(settings)
    await server.start()
    try:
        client = await connect(http, server)
        epoch = client.hello["epoch"]
        assert isinstance(epoch, str) and epoch
        start = client.hello["seq"]
        _publish(server, 3)
        confirmed = await client.subscribe(["queue"], since=start)
        assert confirmed["epoch"] == epoch and confirmed["recovered"] is True
        # A `since` counted in another history is never replayed against this one.
        await client.send(
            {"type": "subscribe", "channels": ["queue"], "since": start, "epoch": "e_other"}
        )
        other = await client.recv_type("subscription_confirmed")
        assert other["recovered"] is False and other["epoch"] == epoch
        await client.send({"type": "subscribe", "channels": ["queue"], "epoch": 5})
        assert (await client.recv_type("error"))["code"] == "invalid_message"
    finally:
        await server.stop()

    server = BridgeServer(settings)  # same database: same history, same epoch
    await server.start()
    try:
        again = await connect(http, server)
        assert again.hello["epoch"] == epoch
    finally:
        await server.stop()

    fresh = BridgeServer(make_settings(tmp_path / "b"))  # a new database: a new history
    await fresh.start()
    try:
        other_server = await connect(http, fresh)
        assert other_server.hello["epoch"] != epoch
    finally:
        await fresh.stop()


async def _flood_until_closed(
    server: BridgeServer, http: aiohttp.ClientSession, frame: str, budget: int
) -> tuple[int, Any, int]:
    """Send `frame` up to `budget` times without reading.

    Returns the close code, the server's connection, and the deepest queue seen on the way.
    """
    client = await connect(http, server)
    client_id = client.hello["client_id"]
    connection = server.context.clients.get(client_id)
    assert connection is not None

    async def flood() -> None:
        for _ in range(budget):
            await client.ws.send_str(frame)

    flooding = asyncio.create_task(flood())
    deepest = 0

    async def server_closed_it() -> bool:
        nonlocal deepest
        deepest = max(deepest, connection.info()["queue_depth"])
        return server.context.clients.get(client_id) is None or flooding.done()

    try:
        await wait_for(server_closed_it, timeout=60, interval=0.05)
    finally:
        flooding.cancel()
        await asyncio.gather(flooding, return_exceptions=True)
    assert server.context.clients.get(client_id) is None, "the flood was never closed"
    return await _close_code(client), connection, deepest


async def _close_code(client: ProtocolClient) -> int:
    while True:
        msg = await client.ws.receive(timeout=30)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return int(client.ws.close_code or 0)


async def test_an_unread_flood_of_resubscribes_is_closed_with_a_bounded_queue(bridge, http):
    """Replays count toward the connection's limit: subscribing again and again from 0 without
    reading fills the queue and closes the connection, instead of growing the server."""
    _publish(bridge, 800)  # within the recovery limit: every subscribe replays all of it
    # A quiet channel: no live event comes along to trip the limit, only the replays can.
    frame = json.dumps({"type": "subscribe", "channels": ["queue"], "since": 0})
    code, connection, deepest = await _flood_until_closed(bridge, http, frame, budget=3_000)
    assert deepest <= ws_messages.MAX_PENDING_FRAMES, f"{deepest} frames queued for one client"
    assert code in (TOO_SLOW, TOO_MANY_INVALID)
    assert connection.peak_pending_frames <= ws_messages.MAX_PENDING_FRAMES
    assert connection.pending_bytes <= ws_messages.MAX_PENDING_BYTES


async def test_an_unread_flood_of_pings_is_closed_with_a_bounded_queue(bridge, http):
    """Pongs count too: a client that sends pings and never reads is closed, not buffered."""
    frame = json.dumps({"type": "ping"})
    code, connection, deepest = await _flood_until_closed(bridge, http, frame, budget=2_000_000)
    assert deepest <= ws_messages.MAX_PENDING_FRAMES, f"{deepest} frames queued for one client"
    assert code in (TOO_SLOW, TOO_MANY_INVALID)
    assert connection.peak_pending_frames <= ws_messages.MAX_PENDING_FRAMES


async def test_a_client_held_above_the_peak_is_closed_though_under_the_hard_cap(tmp_path, http):
    """Slow clients are judged by a peak held over time, not only by the hard cap."""
    settings = make_settings(tmp_path / "d")
    settings.ws_pending_peak_seconds = 0.3
    server = BridgeServer(settings)
    await server.start()
    try:
        stalled = await http.ws_connect(f"{base_url(server)}/ws", max_msg_size=0)
        hello = await stalled.receive_json()
        await stalled.send_json({"type": "register", "client_type": "phone"})
        await stalled.receive_json()
        await stalled.send_json({"type": "subscribe", "channels": ["system"]})
        connection = server.context.clients.get(hello["client_id"])
        assert isinstance(connection, ClientConnection)

        async def subscribed() -> bool:
            return server.context.broker.subscriber_count("system") == 1

        await wait_for(subscribed, timeout=10, interval=0.02)
        big = {"blob": "x" * 4_000}
        peak, cap = 512, 2048  # the documented defaults

        async def above_peak() -> bool:
            # Publish in small steps (the socket and transport buffers fill first) until the
            # queue is well past the peak, then stop: the client stays below the hard cap.
            if connection.info()["queue_depth"] <= peak + 256:
                for _ in range(100):
                    server.context.broker.publish(events.system_status("running", big))
                return False
            return True

        await wait_for(above_peak, timeout=60, interval=0.01)
        assert connection.info()["queue_depth"] < cap

        async def dropped() -> bool:
            return connection.ws.closed

        # Still not reading: only the time spent above the peak can close it.
        await wait_for(dropped, timeout=30, interval=0.05)
        assert connection.peak_pending_frames < cap
        code = None
        while code is None:
            msg = await stalled.receive(timeout=30)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                code = stalled.close_code
        assert code == TOO_SLOW
    finally:
        await server.stop()


@pytest.fixture
def quick_register_settings(tmp_path):
    settings = make_settings(tmp_path / "d")
    settings.ws_register_timeout = 0.5
    return settings


async def test_sockets_that_never_register_are_closed_and_idle_registered_ones_stay(
    quick_register_settings, http, monkeypatch
):
    monkeypatch.setattr(ws_messages, "HEARTBEAT_SECONDS", 0.2)
    server = BridgeServer(quick_register_settings)
    await server.start()
    try:
        # A registered phone that says nothing, but answers the server's pings (as browsers do).
        idle_ws = await http.ws_connect(f"{base_url(server)}/ws", autoping=False)
        idle_hello = await idle_ws.receive_json()
        await idle_ws.send_json({"type": "register", "client_type": "phone"})
        assert (await idle_ws.receive_json())["type"] == "registration_confirmed"
        # Silent sockets: one from loopback (trusted) that never registers.
        silent = await connect(http, server, register=False)

        pings_answered = 0
        silent_code: int | None = None

        async def answer_pings() -> None:
            nonlocal pings_answered
            while True:
                msg = await idle_ws.receive()
                if msg.type == aiohttp.WSMsgType.PING:
                    await idle_ws.pong(msg.data)
                    pings_answered += 1
                elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    return

        answering = asyncio.create_task(answer_pings())
        try:
            silent_code = await asyncio.wait_for(silent.expect_close(), 30)

            async def long_idle() -> bool:
                # Several heartbeats and well past the register timeout.
                return pings_answered >= 6

            await wait_for(long_idle, timeout=30, interval=0.05)
            assert not answering.done(), "the idle registered phone was closed"
        finally:
            answering.cancel()
            await asyncio.gather(answering, return_exceptions=True)
        assert silent_code == REGISTER_TIMEOUT
        assert server.context.clients.get(idle_hello["client_id"]) is not None
        await idle_ws.send_json({"type": "ping"})
        while True:
            msg = await idle_ws.receive(timeout=10)
            if msg.type == aiohttp.WSMsgType.PING:
                await idle_ws.pong(msg.data)
                continue
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            if json.loads(msg.data)["type"] == "pong":
                break
    finally:
        await server.stop()


async def test_an_untrusted_socket_that_never_registers_is_closed(tmp_path, http):
    settings = make_settings(tmp_path / "d", require_token_on_loopback=True)
    settings.ws_register_timeout = 0.5
    server = BridgeServer(settings)
    await server.start()
    try:
        silent = await connect(http, server, register=False)
        assert silent.hello["auth_required"] is True
        assert await asyncio.wait_for(silent.expect_close(), 30) == REGISTER_TIMEOUT
    finally:
        await server.stop()
