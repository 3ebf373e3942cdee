"""Studio mode when PostgreSQL or Redis goes away (cut by a relay; the servers keep running): no
decision is lost, the caller is told, and everything resumes when the server is back; an event
whose append's answer was lost on the way back is in the stream once, not twice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest

from bridge_server.app import BridgeServer
from tests.helpers import base_url, connect, copy_photos, jobs_settled, make_settings, wait_for
from tests.studio.tcp_gate import TcpGate


def through(url: str, gate: TcpGate) -> str:
    """`url` with its host and port replaced by the gate's."""
    parts = urlsplit(url)
    auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{gate.port}"))


async def gate_for(url: str) -> TcpGate:
    """An open gate to the server of `url`."""
    gate = TcpGate(urlsplit(url).port or 0)
    await gate.open()
    return gate


@pytest.fixture
async def analysed(
    tmp_path: Path, studio: dict[str, Any], http: aiohttp.ClientSession, photo_set
) -> AsyncIterator[tuple[BridgeServer, TcpGate, TcpGate, str]]:
    """A studio bridge reaching PostgreSQL and Redis through gates, with one analysed photo."""
    pg = await gate_for(studio["database_url"])
    redis = await gate_for(studio["redis_url"])
    settings = make_settings(
        tmp_path / "data",
        **{
            **studio,
            "database_url": through(studio["database_url"], pg),
            "redis_url": through(studio["redis_url"], redis),
            "selection_threshold": 1.0,
        },
    )
    server = BridgeServer(settings)
    await server.start()
    try:
        copy_photos(photo_set, ["coffee"], tmp_path / "shoot")
        async with http.post(
            f"{base_url(server)}/api/import", json={"paths": [str(tmp_path / "shoot")]}
        ) as resp:
            [photo_id] = (await resp.json())["imported"]
        await wait_for(lambda: jobs_settled(server))
        yield server, pg, redis, photo_id
    finally:
        await pg.open()  # a clean stop, whatever the test left shut
        await redis.open()
        await server.stop()
        await pg.shut()
        await redis.shut()


async def test_with_postgresql_down_a_decision_is_refused_with_503_and_lands_once_it_is_back(
    analysed, http
):
    server, pg, _redis, photo_id = analysed
    url = base_url(server)
    await pg.shut()
    async with http.post(f"{url}/api/approval/{photo_id}/approve") as resp:
        assert resp.status == 503, await resp.text()
        assert (await resp.json())["error"]["code"] == "store_unavailable"
    desk = await connect(http, server)
    result = await desk.command("approve_photo", command_id="a", photo_id=photo_id)
    assert result["success"] is False and result["error"]["code"] == "store_unavailable"

    await pg.open()

    async def approved() -> bool:
        async with http.post(f"{url}/api/approval/{photo_id}/approve") as resp:
            return resp.status == 200

    await wait_for(approved, timeout=30, interval=0.5)
    async with http.get(f"{url}/api/photos/{photo_id}") as resp:
        assert (await resp.json())["approval"] == "approved"


async def test_with_redis_down_a_decision_is_stored_the_desk_is_told_and_the_phone_gets_it_later(
    analysed, http
):
    server, _pg, redis, photo_id = analysed
    url = base_url(server)
    phone = await connect(http, server)
    await phone.subscribe(["photos"])
    await redis.shut()
    async with http.post(f"{url}/api/approval/{photo_id}/approve") as resp:
        assert resp.status == 200, await resp.text()  # stored in PostgreSQL
    assert server.context.backplane is not None

    async def told() -> bool:
        async with http.get(f"{url}/api/studio") as resp:
            return (await resp.json())["stream"]["ok"] is False

    await wait_for(told, timeout=30, interval=0.2)
    await redis.open()
    event = await phone.recv_type("photo_approved", timeout=30)
    assert event["photo_id"] == photo_id

    async def back() -> bool:
        async with http.get(f"{url}/api/studio") as resp:
            return (await resp.json())["stream"]["ok"] is True

    # The reader can deliver the event before the sender's retry (or a stale pooled connection's
    # one failed read) has cleared its error: the desk is told Redis is back within a retry.
    await wait_for(back, timeout=30, interval=0.2)


async def test_an_event_whose_append_answer_was_lost_is_in_the_stream_once(
    tmp_path: Path, studio: dict[str, Any], http: aiohttp.ClientSession
) -> None:
    from redis import asyncio as aioredis

    redis = await gate_for(studio["redis_url"])
    settings = make_settings(
        tmp_path / "data", **{**studio, "redis_url": through(studio["redis_url"], redis)}
    )
    server = BridgeServer(settings)
    await server.start()
    direct: Any = aioredis.Redis.from_url(studio["redis_url"])
    try:
        assert server.context.backplane is not None
        stream = server.context.backplane.stream_key
        phone = await connect(http, server)
        await phone.subscribe(["jobs"])
        async def publish(message: str) -> int:
            body = {
                "type": "job_progress",
                "data": {"job_id": "j_once", "stage": "s", "progress": 0.5, "message": message},
            }
            async with http.post(f"{base_url(server)}/api/websocket/broadcast", json=body) as r:
                assert r.status == 200, await r.text()
                return int((await r.json())["seq"])

        await publish("before")  # Redis has the append script loaded (EVALSHA finds it)
        await phone.recv_type("job_progress", timeout=30)
        # The next append runs in Redis, and its answer never comes back.
        lost = redis.lose_answer_to(b"EVALSHA", stream.encode())
        first = await publish("once")
        await asyncio.wait_for(lost, 30)  # the test did cut an append's answer
        second = await publish("after")
        assert second == first + 1  # no number went to a second copy
        got = [await phone.recv_type("job_progress", timeout=30) for _ in range(2)]
        assert [(m["seq"], m["message"]) for m in got] == [(first, "once"), (second, "after")]
        entries = await direct.xrange(stream)
        messages = [json.loads(fields[b"p"]).get("message") for _id, fields in entries]
        assert messages.count("once") == 1 and messages.count("after") == 1
    finally:
        await direct.aclose()
        await redis.open()
        await server.stop()
        await redis.shut()
