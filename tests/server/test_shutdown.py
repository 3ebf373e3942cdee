"""Shutdown order: stop accepting, stop the pipeline, flush the event log, then close with 1001."""

from __future__ import annotations

import asyncio

import aiohttp

from bridge_server import events
from bridge_server.app import BridgeServer
from tests.helpers import base_url, connect


async def test_a_phone_reconnecting_during_stop_is_refused_not_cut(settings, http):
    """After the 1001 the phone reconnects at once; mid-stop it must find the door shut, not be
    let in and then cut with 1006."""
    server = BridgeServer(settings)
    await server.start()
    url = f"{base_url(server)}/ws"
    client = await connect(http, server)
    await client.subscribe(["system"])
    stopping = asyncio.create_task(server.stop())
    try:
        assert await client.expect_close(timeout=30) == 1001
        try:
            again = await http.ws_connect(url)
        except aiohttp.ClientConnectionError:
            return  # refused: the listener closed before clients were told to go
        code = None
        while code is None:
            msg = await again.receive(timeout=30)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                code = again.close_code
        assert code == 1001, f"let in during stop and then cut with {code}"
    finally:
        await stopping


async def test_events_published_while_stopping_reach_clients_and_survive_the_restart(
    settings, http
):
    """The pipeline winds down before clients are closed: what it publishes meanwhile reaches
    them before the 1001, is persisted, and a resume after the restart replays it."""
    server = BridgeServer(settings)
    await server.start()
    client = await connect(http, server)
    await client.subscribe(["approval"])
    before = server.context.broker.last_seq
    pipeline = server.pipeline
    real_stop = pipeline.stop
    published: list[int] = []

    async def stop_while_work_finishes() -> None:
        # What a job reaching its safe point publishes while the pipeline stops.
        published.append(server.context.broker.publish(events.approval_queue_updated(3)).seq)
        await real_stop()

    pipeline.stop = stop_while_work_finishes  # type: ignore[method-assign]
    stopping = asyncio.create_task(server.stop())
    try:
        seen = await client.recv_type("approval_queue_updated", timeout=30)
        assert await client.expect_close(timeout=30) == 1001
    finally:
        await stopping
    (late,) = published
    assert seen["seq"] == late

    server = BridgeServer(settings)
    await server.start()
    try:
        again = await connect(http, server)
        await again.send({"type": "subscribe", "channels": ["approval"], "since": before})
        replayed = await again.recv()
        assert replayed["type"] == "approval_queue_updated" and replayed["seq"] == late
        confirmed = await again.recv_type("subscription_confirmed")
        assert confirmed["recovered"] is True
        assert server.context.broker.publish(events.approval_queue_updated(0)).seq > late
    finally:
        await server.stop()
