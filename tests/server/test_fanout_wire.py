"""The shared send path on the wire: whole frames, in order, read by a strict client.

The bridge writes event frames straight to each socket's transport, several per write, beside
aiohttp's own writer (pongs, close frames). These tests read every byte with `websockets`, which
refuses any malformed or interleaved frame, against the real aiohttp the project pins.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import websockets
from websockets.asyncio.client import ClientConnection as StrictClient
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.streams import StreamReader
from websockets.uri import parse_uri

from bridge_server import events
from bridge_server.app import BridgeServer
from bridge_server.web import ws_messages
from bridge_server.web.fanout import MAX_PACE, PACE_FLOOR, rest_after, text_frame, write_delay_from
from bridge_server.web.ws import ClientConnection
from tests.helpers import base_url, make_settings, wait_for

EVENTS = 240
BIG_EVERY = 40  # every 40th event is a large frame
BIG_CHARS = 59 * 1024  # with the envelope, close to a client's 64 KiB frame limit
SMALL_BUFFER = 4096


def _job_progress(index: int) -> dict[str, Any]:
    body = "x" * BIG_CHARS if index % BIG_EVERY == 0 else "small"
    return {
        "type": "job_progress",
        "data": {"job_id": "j_wire", "stage": "s", "progress": 1.0, "message": f"{index}:{body}"},
    }


async def _strict_client(server: BridgeServer) -> StrictClient:
    """A `websockets` client (it offers permessage-deflate, as browsers do), registered and
    subscribed to `jobs`."""
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ws", max_size=2**20)
    assert json.loads(await ws.recv())["type"] == "connection_established"
    await ws.send(json.dumps({"type": "register", "client_type": "strict", "client_name": "t"}))
    assert json.loads(await ws.recv())["type"] == "registration_confirmed"
    await ws.send(json.dumps({"type": "subscribe", "channels": ["jobs"]}))
    assert json.loads(await ws.recv())["type"] == "subscription_confirmed"
    return ws


async def _chatter(ws: StrictClient, rounds: int) -> None:
    """Protocol pings, commands that fail (an unknown job) and WebSocket pings, interleaved."""
    for k in range(rounds):
        await ws.send(json.dumps({"type": "ping"}))
        await ws.send(
            json.dumps({"type": "command", "id": k, "command": "cancel_job", "job_id": "j_no"})
        )
        pong_waiter = await ws.ping(f"p{k}".encode())
        await asyncio.wait_for(pong_waiter, 30)  # aiohttp's own pong came back whole
        await asyncio.sleep(0)


async def _read_all(ws: StrictClient, rounds: int) -> tuple[list[dict[str, Any]], list[Any], int]:
    """Every frame until all events and every reply arrived: events, result ids, pongs."""
    got: list[dict[str, Any]] = []
    result_ids: list[Any] = []
    pongs = 0
    while len(got) < EVENTS or len(result_ids) < rounds or pongs < rounds:
        message = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if message["type"] == "job_progress":
            got.append(message)
        elif message["type"] == "result":
            assert message["success"] is False, message
            result_ids.append(message["id"])
        elif message["type"] == "pong":
            pongs += 1
        else:
            raise AssertionError(f"unexpected frame {message!r}")
    return got, result_ids, pongs


async def test_frames_arrive_whole_and_in_order_among_replies_pongs_and_large_events(
    bridge: BridgeServer, http: aiohttp.ClientSession
) -> None:
    """Three phones chatter (pings, commands, WebSocket pings) while events, some near 64 KiB,
    are published over REST in bursts: each phone parses every frame, gets every event once in
    publish order with its content intact, and every reply in the order it asked."""
    clients = [await _strict_client(bridge) for _ in range(3)]
    rounds = 60
    try:
        for ws in clients:
            # The client offered permessage-deflate; the server declines it (frames go out
            # uncompressed, built once for everyone).
            assert ws.response is not None
            assert "Sec-WebSocket-Extensions" not in ws.response.headers

        readers = [asyncio.create_task(_read_all(ws, rounds)) for ws in clients]
        chatter = [asyncio.create_task(_chatter(ws, rounds)) for ws in clients]

        async def post(index: int) -> int:
            url = f"{base_url(bridge)}/api/websocket/broadcast"
            async with http.post(url, json=_job_progress(index)) as response:
                assert response.status == 200, await response.text()
                return int((await response.json())["seq"])

        seqs: list[int] = []
        for start in range(0, EVENTS, 12):  # bursts: several frames ready per socket at once
            seqs += await asyncio.gather(*(post(i) for i in range(start, start + 12)))
        await asyncio.gather(*chatter)
        results = await asyncio.gather(*readers)
    finally:
        for ws in clients:
            await ws.close()

    for got, result_ids, pongs in results:
        assert [m["seq"] for m in got] == sorted(seqs)  # all, once, in publish order
        for message in got:
            index = message["message"].partition(":")[0]
            expected = _job_progress(int(index))["data"]["message"]
            assert message["message"] == expected  # large frames intact
        assert sorted(int(m["message"].partition(":")[0]) for m in got) == list(range(EVENTS))
        assert result_ids == list(range(rounds))  # replies in the order asked
        assert pongs == rounds


async def test_an_operator_close_reaches_a_strict_client_as_a_proper_close_frame(
    bridge: BridgeServer, http: aiohttp.ClientSession
) -> None:
    """Closing a phone while events stream to it: the phone reads whole frames, then a close
    frame with the operator's code (4009) and no data after it."""
    ws = await _strict_client(bridge)
    client_id = next(c.client_id for c in bridge.context.clients.all())
    for i in range(50):
        bridge.context.broker.publish(events.job_progress("j_close", "s", i, "m"))
    url = f"{base_url(bridge)}/api/websocket/disconnect/{client_id}"
    async with http.post(url) as response:
        assert response.status == 200
    received = 0
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            json.loads(await asyncio.wait_for(ws.recv(), 30))
            received += 1
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4009
    assert received <= 50


class RawStrictClient:
    """A WebSocket client on a raw socket with a tiny receive buffer that reads only when told
    (a phone on a dead link), parsing with websockets' strict sans-I/O protocol."""

    def __init__(self, sock: socket.socket, protocol: ClientProtocol) -> None:
        self.sock = sock
        self.protocol = protocol

    @classmethod
    async def open(cls, port: int) -> RawStrictClient:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", port))
        protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/ws"), max_size=2**20)
        protocol.send_request(protocol.connect())
        client = cls(sock, protocol)
        await client._flush()
        events_ = await client.read_events(1)
        assert isinstance(events_[0], Response) and events_[0].status_code == 101
        return client

    async def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def send(self, message: dict[str, Any]) -> None:
        self.protocol.send_text(json.dumps(message).encode())
        await self._flush()

    async def read_events(self, count: int) -> list[Any]:
        """Read until `count` events (frames or the handshake response) were parsed."""
        got: list[Any] = []
        while len(got) < count:
            data = await asyncio.wait_for(
                asyncio.get_running_loop().sock_recv(self.sock, 65536), 30
            )
            if not data:
                self.protocol.receive_eof()
            else:
                self.protocol.receive_data(data)
            got += self.protocol.events_received()
            if self.protocol.parser_exc is not None:
                raise AssertionError(f"malformed stream: {self.protocol.parser_exc!r}")
            if not data:
                break
        return got

    async def read_until_close(self) -> tuple[list[dict[str, Any]], Frame | None]:
        """Every text frame, then the close frame (None if the stream ended without one)."""
        texts: list[dict[str, Any]] = []
        for _ in range(100_000):
            for frame in await self.read_events(1):
                assert isinstance(frame, Frame)
                if frame.opcode is Opcode.CLOSE:
                    return texts, frame
                if frame.opcode is Opcode.TEXT:
                    texts.append(json.loads(frame.data))
        return texts, None

    def close(self) -> None:
        self.sock.close()


async def _subscribed_connection(bridge: BridgeServer, client_type: str) -> ClientConnection:
    """The server's side of the client of `client_type`, once it has subscribed."""
    broker = bridge.context.broker

    async def find() -> ClientConnection | None:
        for client in bridge.context.clients.all():
            if isinstance(client, ClientConnection) and client.client_type == client_type:
                if broker.channels_of(client):
                    return client
        return None

    return await wait_for(find, timeout=10, interval=0.02)


async def test_a_reader_that_stops_delays_no_one_and_is_closed_with_4008(
    bridge: BridgeServer,
) -> None:
    """A phone stops reading: every event still reaches a healthy phone as it is published;
    the stalled one is closed with 4008, and what it finally reads is a gapless run of whole
    frames, then the close frame."""
    broker = bridge.context.broker
    healthy = await _strict_client(bridge)
    stalled = await RawStrictClient.open(bridge.port)
    try:
        await stalled.send({"type": "register", "client_type": "stalled", "client_name": "t"})
        await stalled.send({"type": "subscribe", "channels": ["jobs"]})

        connection = await _subscribed_connection(bridge, "stalled")
        server_sock = connection._transport.get_extra_info("socket")  # type: ignore[union-attr]
        server_sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)
        blob = "y" * 2000
        published = 0
        # Far beyond the stalled phone's limits (2,048 frames); bounded.
        while not connection.closing and published < 3 * ws_messages.MAX_PENDING_FRAMES:
            last = None
            for _ in range(32):
                published += 1
                last = broker.publish(events.job_progress("j_slow", "s", 1, f"{published}{blob}"))
            assert last is not None
            while True:  # the healthy phone has the burst's last event before the next burst
                message = json.loads(await asyncio.wait_for(healthy.recv(), 30))
                if message.get("seq") == last.seq:
                    break
        assert connection.closing, f"still open after {published} events"

        texts, close = await stalled.read_until_close()
        assert close is not None, "no close frame"
        assert close.data[:2] == ws_messages.CLOSE_TOO_SLOW.to_bytes(2, "big")
        seqs = [t["seq"] for t in texts if t["type"] == "job_progress"]
        assert seqs, "the stalled phone got nothing before it stopped reading"
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # whole frames, no gap
        assert len(seqs) < published
    finally:
        stalled.close()
        await healthy.close()


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_a_built_frame_is_one_valid_text_frame_at_every_length_boundary(size: int) -> None:
    """The wire bytes the sender shares parse as exactly one unmasked text frame with the
    same text, for each of the three length encodings."""
    text = "é" * (size // 2) + "a" * (size % 2)
    reader = StreamReader()
    reader.feed_data(text_frame(text))
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False, max_size=None)
    with pytest.raises(StopIteration) as done:
        next(parser)
    frame = done.value.value
    assert frame.opcode is Opcode.TEXT and frame.fin
    assert not (frame.rsv1 or frame.rsv2 or frame.rsv3)
    assert frame.data.decode("utf-8") == text
    assert reader.at_eof()


async def _events_written(bridge: BridgeServer, count: int, busy_rounds: bool = False) -> int:
    """Publish `count` events one loop pass apart (each flush has run before the next publish);
    a strict phone reads them all, in order. Returns the writes its connection made.
    `busy_rounds`: the sender's clock says every chunk of writes took a second (as if a
    thousand phones were written), so every round earns the longest rest."""
    phone = await _strict_client(bridge)
    try:
        connection = await _subscribed_connection(bridge, "strict")
        if busy_rounds:
            ticks = itertools.count()
            connection._fanout.clock = lambda: float(next(ticks))
        before = connection.writes
        seqs = []
        for k in range(count):
            seqs.append(
                bridge.context.broker.publish(events.job_progress("j_d", "s", 1, f"{k}")).seq
            )
            await asyncio.sleep(0.001)  # past the loop pass: an undelayed flush has run
        got = [json.loads(await asyncio.wait_for(phone.recv(), 30))["seq"] for _ in seqs]
        assert got == seqs  # every event, in order, whole
        return connection.writes - before
    finally:
        await phone.close()


async def test_events_are_written_as_they_are_published_by_default(bridge: BridgeServer) -> None:
    """With no write delay (the default), each event goes out in its own loop pass: a phone
    never waits for a later event."""
    assert await _events_written(bridge, 10) == 10


async def test_after_a_busy_round_the_next_waits_and_events_share_writes(
    bridge: BridgeServer,
) -> None:
    """A round of writes to hundreds of phones takes milliseconds; the next round waits longer,
    so events published meanwhile reach a phone whole and in order in fewer writes. A studio's
    few phones are written in microseconds and never wait (the default test above)."""
    writes = await _events_written(bridge, 10, busy_rounds=True)
    assert writes < 10, writes  # 10 events within 10-20 ms, rests of MAX_PACE: gathered
    assert rest_after(PACE_FLOOR / 2) == 0.0
    assert rest_after(PACE_FLOOR * 2) == PACE_FLOOR * 4  # twice the writes' time
    assert rest_after(60.0) == MAX_PACE


async def test_a_write_delay_gathers_events_into_fewer_writes(tmp_path: Path) -> None:
    """With `ws_write_delay` set, events published within the delay reach a phone whole and
    in order in fewer writes (the CPU saving); a value out of range means no delay."""
    server = BridgeServer(make_settings(tmp_path / "data", ws_write_delay=0.1))
    await server.start()
    try:
        writes = await _events_written(server, 10)
        assert writes < 10, writes  # 10 events within 10-20 ms, a 100 ms delay: gathered
    finally:
        await server.stop()
    assert write_delay_from(0.05) == 0.05
    assert write_delay_from(5) == 0.0  # too long: a phone would feel it
    assert write_delay_from("0.05") == 0.0  # a typo in the settings file
    assert write_delay_from(float("nan")) == 0.0
