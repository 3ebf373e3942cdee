"""WebSocket fan-out: the bridge against a bare aiohttp broadcast loop and a picows reference.

Three servers, one after the other, in the bench's main process (whose CPU time is measured):
* `aiohttp` (the baseline): a bare aiohttp app; `POST /api/websocket/broadcast` builds the JSON
  frame once and `await ws.send_str(frame)` for every socket in a loop;
* `bridge`: a real BridgeServer (headless, temporary data directory), its real broadcast route;
* `picows` (the limit): the same aiohttp POST route, but the sockets are picows transports, one
  synchronous `transport.send()` each (Cython framing, no per-socket Python coroutine).

Clients live in separate client processes (picows clients, cheap per frame, so the servers are
what is measured); against the bridge they speak the real protocol (connection_established ->
register -> subscribe ["jobs"]). One more process publishes: it POSTs `job_progress` events to
`/api/websocket/broadcast` at a fixed rate, without waiting for earlier answers, each carrying
its send time (`time.time()`) and index in `message`. Clients record receive time - send time
and count each index once. A few warm-up events (not measured) go first.

Scenarios (`--scenario`):
* `saturation`: 1,000 clients in 2 processes, 100 events/s, 300 events (more than the bare loop
  can send: this measures capacity): CPU per frame, throughput, p50/p99, loss;
* `lan`: 20 clients, 50 events/s, 250 events: the latency a phone on the LAN sees;
* `idle`: 1,000 idle phones (registered and subscribed) connected to a server in a fresh process:
  its RSS growth per connection;
* `all` (default, what `make bench` runs): the three above; `one`: `--clients/--rate/--events`.

Usage (from the repo root):
    .venv/bin/python bench/fanout.py                          # all scenarios, one table
    .venv/bin/python bench/fanout.py --scenario saturation --repeat 3
    .venv/bin/python bench/fanout.py --scenario one --clients 200 --rate 50 --events 500
Every loop is bounded in count and time; the run stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

try:
    from bench import _common
except ImportError:  # run as `python bench/fanout.py`
    import _common  # type: ignore[no-redef]

CONNECT_CONCURRENCY = 25  # per client process: keeps the server's accept backlog (128) happy
CONNECT_TIMEOUT = 120.0  # seconds for every client of one phase to be connected and subscribed
GRACE_SECONDS = 10.0  # after the last publish, how long clients may wait for stragglers
WARM_UP_EVENTS = 10  # published at 10/s before measuring (first-use costs, not steady state)
PUBLISH_CONNECTIONS = 8  # the publisher's HTTP connections (requests are not serialised)
JOB_ID = "j_benchfanout"
BROADCAST = "/api/websocket/broadcast"

# The saturation case runs the bridge a second time with this ws_write_delay (opt-in setting).
DEFAULT_WRITE_DELAY = 0.05
GOAL_CPU_RATIO = 0.5  # server CPU per delivered frame, bridge / bare aiohttp
GOAL_THROUGHPUT_RATIO = 1.3
GOAL_P99_RATIO = 1.0  # "no worse"
GOAL_LAN_P99_MS = 2.0
GOAL_IDLE_KB = 50.0


def _load1() -> float:
    return os.getloadavg()[0]


# --- client processes (picows) --------------------------------------------------------------


class _Shared:
    """What the clients of one process measure together."""

    def __init__(self, n: int, expected: int) -> None:
        self.expected = expected
        self.counts = [0] * n
        self.seen = [bytearray(expected) for _ in range(n)]
        self.latencies = array("d")
        self.dups = 0
        self.last_rx = 0.0
        self.complete = 0  # clients that have every event
        self.closes: dict[str, int] = {}
        self.done = asyncio.Event()


def _client_class() -> type:
    from picows import WSListener, WSMsgType

    class Client(WSListener):  # type: ignore[misc]
        """One bench client: the bridge handshake, then count and time every event."""

        def __init__(self, k: int, shared: _Shared, mode: str) -> None:
            self.k = k
            self.shared = shared
            self.mode = mode
            self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_ws_connected(self, transport: Any) -> None:
            if self.mode != "bridge":
                self.ready.set_result(None)

        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            kind = frame.msg_type
            if kind == WSMsgType.TEXT:
                data = frame.get_payload_as_bytes()
                at = data.find(b"pub=")
                if at < 0:
                    self._handshake(transport, data)
                    return
                now = time.time()
                semi = data.find(b";", at)
                index = int(data[semi + 3 : data.find(b'"', semi)])
                if index < 0:
                    return  # warm-up event, not measured
                shared = self.shared
                shared.latencies.append(now - float(data[at + 4 : semi]))
                shared.last_rx = now
                mine = shared.seen[self.k]
                if 0 <= index < shared.expected and not mine[index]:
                    mine[index] = 1
                    shared.counts[self.k] += 1
                    if shared.counts[self.k] == shared.expected:
                        shared.complete += 1
                        if shared.complete == len(shared.counts):
                            shared.done.set()
                else:
                    shared.dups += 1
            elif kind == WSMsgType.CLOSE:
                key = f"close:{frame.get_close_code()}"
                self.shared.closes[key] = self.shared.closes.get(key, 0) + 1
                transport.send_close(frame.get_close_code())
                transport.disconnect()

        def _handshake(self, transport: Any, data: bytes) -> None:
            if self.ready.done():
                return
            kind = json.loads(data).get("type")
            if kind == "connection_established":
                message = {"type": "register", "client_type": "bench", "client_name": "fanout"}
            elif kind == "registration_confirmed":
                message = {"type": "subscribe", "channels": ["jobs"]}
            elif kind == "subscription_confirmed":
                self.ready.set_result(None)
                return
            else:
                self.ready.set_exception(RuntimeError(f"unexpected {data[:200]!r}"))
                return
            transport.send(WSMsgType.TEXT, json.dumps(message).encode())

    return Client


def _client_process(conn: Connection, port: int, mode: str, n: int, expected: int) -> None:
    """Entry point of one client process: n connections, then a report through `conn`."""
    _common.raise_fd_limit(n + 256)
    try:
        result = asyncio.run(_clients(conn, port, mode, n, expected))
    except BaseException as exc:  # report, never hang the parent
        result = {"error": f"{type(exc).__name__}: {exc}"}
    try:
        conn.send(("result", result))
    finally:
        conn.close()


async def _clients(conn: Connection, port: int, mode: str, n: int, expected: int) -> dict:
    from picows import ws_connect

    loop = asyncio.get_running_loop()
    client_class = _client_class()
    shared = _Shared(n, max(1, expected))
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)
    url = f"ws://127.0.0.1:{port}/ws"

    async def open_one(k: int) -> Any:
        async with limit:
            transport, client = await ws_connect(
                lambda: client_class(k, shared, mode), url, websocket_handshake_timeout=30
            )
            await asyncio.wait_for(client.ready, 30)
            return transport

    transports = await asyncio.wait_for(
        asyncio.gather(*(open_one(k) for k in range(n))), CONNECT_TIMEOUT
    )
    conn.send(("ready", n))
    # The parent sends a deadline once publishing ended (0 to let idle clients go).
    deadline = [time.time() + 900.0]

    def watch() -> None:
        if conn.poll(900.0):
            message = conn.recv()
            try:
                loop.call_soon_threadsafe(deadline.__setitem__, 0, float(message[1]))
            except RuntimeError:  # the clients had every event and finished already
                pass

    threading.Thread(target=watch, daemon=True).start()
    while time.time() < deadline[0] and not (expected and shared.done.is_set()):
        try:
            await asyncio.wait_for(shared.done.wait(), 0.1)
        except TimeoutError:
            pass
    for transport in transports:
        transport.disconnect()
    await asyncio.wait_for(
        asyncio.gather(*(t.wait_disconnected() for t in transports), return_exceptions=True),
        10.0,
    )
    return {
        "n": n,
        "delivered": sum(shared.counts),
        "min_per_client": min(shared.counts) if shared.counts else 0,
        "dups": shared.dups,
        "last_rx": shared.last_rx,
        "closes": shared.closes,
        "latencies": shared.latencies.tobytes(),
    }


# --- the publisher process --------------------------------------------------------------------


def _publisher_process(conn: Connection, ports: list[int], rate: float, n_events: int) -> None:
    """POST the events at `rate` once the parent says go; report send times and lateness."""
    try:
        result = asyncio.run(_publish(conn, ports, rate, n_events))
    except BaseException as exc:
        result = {"error": f"{type(exc).__name__}: {exc}"}
    conn.send(("result", result))
    conn.close()


def _event_body(i: int) -> dict[str, Any]:
    """Event `i` as the broadcast route takes it, stamped with its publish time (wall clock)."""
    data = {"job_id": JOB_ID, "stage": "bench", "progress": float(i % 100),
            "message": f"pub={time.time():.6f};i={i}"}  # fmt: skip
    return {"type": "job_progress", "data": data}


async def _paced(
    publish: Callable[[int], Awaitable[None]], indices: range, per_second: float
) -> float:
    """Start `publish(i)` for each index at `per_second`, without waiting for earlier ones;
    return how late the latest start was (seconds, 0 when every start was on time)."""
    loop = asyncio.get_running_loop()
    tasks = []
    late = 0.0
    start = loop.time() + 0.02
    for j, i in enumerate(indices):
        delay = start + j / per_second - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            late = max(late, -delay)
        tasks.append(loop.create_task(publish(i)))
    await asyncio.gather(*tasks)
    return late


class _HttpLane:
    """One keep-alive HTTP/1.1 connection of the publisher: a request written as prepared
    bytes, its answer read back (status line, headers, Content-Length body).

    The publisher stays as cheap per event as the picows clients, so what the latency shows is
    the server's work (HTTP parsing, route, fan-out), not a client library's request building.
    """

    def __init__(self, port: int, reader: asyncio.StreamReader, writer: Any) -> None:
        self.head = (
            f"POST {BROADCAST} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nContent-Length: "
        ).encode()
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> _HttpLane:
        import socket

        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(port, reader, writer)

    async def post(self, body: bytes) -> tuple[int, bytes]:
        self.writer.write(b"%s%d\r\n\r\n%s" % (self.head, len(body), body))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
            elif name.strip().lower() == b"transfer-encoding":
                raise RuntimeError(f"unexpected Transfer-Encoding {value.strip()!r}")
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def _publish(conn: Connection, ports: list[int], rate: float, n_events: int) -> dict:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, conn.poll, 900.0)
    conn.recv()  # ("go", ...)
    failures: list[str] = []
    # Free lanes, the servers' ports in turn: a request waits for a lane as one waits for a
    # pooled connection (requests are not serialised: PUBLISH_CONNECTIONS may be in flight).
    free: asyncio.Queue[_HttpLane] = asyncio.Queue()
    lanes = [await _HttpLane.open(ports[k % len(ports)]) for k in range(PUBLISH_CONNECTIONS)]
    for lane in lanes:
        free.put_nowait(lane)

    async def post(i: int) -> None:
        body = json.dumps(_event_body(i)).encode()
        lane = await free.get()
        try:
            status, answer = await lane.post(body)
        finally:
            free.put_nowait(lane)
        if status != 200:
            failures.append(f"{status} {answer[:200]!r}")

    try:
        await _paced(post, range(-1, -1 - WARM_UP_EVENTS, -1), 10.0)
        await asyncio.sleep(0.5)
        conn.send(("measuring", time.time()))
        first = time.time()
        late = await _paced(post, range(n_events), rate)
    finally:
        for lane in lanes:
            lane.close()
    return {"first_publish": first, "late_ms": late * 1000, "failures": failures[:5],
            "failed": len(failures)}  # fmt: skip


# --- the servers ----------------------------------------------------------------------------


@dataclass
class Target:
    """A server under test: ports, how many sockets it serves, how to stop it."""

    name: str
    mode: str  # "bridge": speak the protocol; "bare": just connect
    ws_port: int
    http_port: int
    subscribed: Callable[[], int]
    stop: Callable[[], Awaitable[None]]
    # More bridges serving the same clients (studio mode): client processes are spread over
    # ws_port and these, and the publisher POSTs to each in turn (ws and HTTP share a port).
    extra_ports: tuple[int, ...] = ()
    # Publish one broadcast body from inside the server's process, as its own work would (the
    # bridge: the broker, as a job's progress is published; the others: their send loop).
    publish_here: Callable[[dict[str, Any]], Awaitable[None] | None] | None = None
    # The bridge: frames handed to its sockets and the writes that carried them, so far.
    frames_and_writes: Callable[[], tuple[int, int]] | None = None


async def start_bridge(data_dir: Path, write_delay: float = 0.0) -> Target:
    """A real BridgeServer on an ephemeral loopback port (headless: no window, no GUI)."""
    from bridge_server.app import BridgeServer
    from tests.helpers import make_settings

    server = BridgeServer(make_settings(data_dir, workers=1, ws_write_delay=write_delay))
    await server.start()
    broker = server.context.broker
    from bridge_server.web.broadcast import build_event, parse_body

    def publish_here(body: dict[str, Any]) -> None:
        broker.publish(build_event(parse_body(body)))

    def frames_and_writes() -> tuple[int, int]:
        from bridge_server.web.ws import ClientConnection

        sockets = [c for c in server.context.clients.all() if isinstance(c, ClientConnection)]
        return sum(c.messages_sent for c in sockets), sum(c.writes for c in sockets)

    name = f"bridge, ws_write_delay {write_delay * 1000:g} ms" if write_delay else "bridge"
    return Target(name, "bridge", server.port, server.port,
                  lambda: broker.subscriber_count("jobs"), server.stop,
                  publish_here=publish_here, frames_and_writes=frames_and_writes)  # fmt: skip


def _envelope(body: dict[str, Any], seq: int) -> bytes:
    """The bridge's frame for the same event: the envelope beside the payload, JSON once."""
    from datetime import UTC, datetime

    message = {"type": body["type"], "timestamp": datetime.now(UTC).isoformat(), "seq": seq,
               "channel": "jobs", **body["data"]}  # fmt: skip
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


async def _http_app(
    send_all: Callable[[bytes], Awaitable[None] | None], ws_handler: Any = None
) -> tuple[Any, int, Callable[[dict[str, Any]], Awaitable[None] | None]]:
    """An aiohttp app with the broadcast route (and the WebSocket route, when given), and the
    publish it runs for each body (numbered, enveloped, sent), to call from the process too."""
    from aiohttp import web

    seq = [0]

    def publish(body: dict[str, Any]) -> Awaitable[None] | None:
        seq[0] += 1
        return send_all(_envelope(body, seq[0]))

    async def broadcast(request: web.Request) -> web.Response:
        outcome = publish(await request.json())
        if outcome is not None:
            await outcome
        return web.json_response({"success": True, "seq": seq[0]})

    app = web.Application()
    app.router.add_post(BROADCAST, broadcast)
    if ws_handler is not None:
        app.router.add_get("/ws", ws_handler)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, port, publish


async def start_baseline() -> Target:
    """A bare aiohttp broadcast server: JSON once, `await send_str` to every socket in a loop."""
    from aiohttp import web

    sockets: set[web.WebSocketResponse] = set()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sockets.add(ws)
        try:
            async for _msg in ws:
                pass
        finally:
            sockets.discard(ws)
        return ws

    async def send_all(frame: bytes) -> None:
        text = frame.decode("utf-8")
        for ws in tuple(sockets):
            try:
                await ws.send_str(text)
            except ConnectionError:
                pass

    runner, port, publish = await _http_app(send_all, handler)

    async def stop() -> None:
        for ws in tuple(sockets):
            await ws.close()
        await runner.cleanup()

    return Target("aiohttp", "bare", port, port, lambda: len(sockets), stop, publish_here=publish)


async def start_picows() -> Target:
    """picows sockets, fed by the same aiohttp POST route: the limit of a Python asyncio server."""
    from picows import WSListener, WSMsgType, ws_create_server

    transports: set[Any] = set()

    class Listener(WSListener):  # type: ignore[misc]
        def on_ws_connected(self, transport: Any) -> None:
            transports.add(transport)

        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            if frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()

        def on_ws_disconnected(self, transport: Any) -> None:
            transports.discard(transport)

    def send_all(frame: bytes) -> None:
        for transport in tuple(transports):
            transport.send(WSMsgType.TEXT, frame)

    server = await ws_create_server(lambda _request: Listener(), "127.0.0.1", 0)
    ws_port = server.sockets[0].getsockname()[1]
    runner, http_port, publish = await _http_app(send_all)

    async def stop() -> None:
        for transport in tuple(transports):
            transport.disconnect()
        server.close()
        await runner.cleanup()

    return Target("picows", "bare", ws_port, http_port, lambda: len(transports), stop,
                  publish_here=publish)  # fmt: skip


# --- one phase: one server, all clients, the publisher ----------------------------------------


@dataclass
class PhaseResult:
    """What one server delivered, and what it cost."""

    name: str
    clients: int
    expected: int
    load: float = 0.0
    delivered: int = 0
    dups: int = 0
    min_per_client: int = 0
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    max_ms: float = float("nan")
    throughput: float = 0.0
    publish_late_ms: float = 0.0
    server_cpu_us_per_frame: float = float("nan")
    frames_per_write: float = float("nan")  # the bridge's, while measured
    server_sys_share: float = float("nan")  # of the server CPU, the kernel's part
    closes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


async def _wait_pipes(
    pipes: list[Connection], tags: set[str], timeout: float
) -> list[tuple[str, Any] | None]:
    """Poll the pipes without blocking the server's loop, until each sent one of `tags`."""
    out: list[tuple[str, Any] | None] = [None] * len(pipes)
    deadline = time.monotonic() + timeout
    while any(o is None for o in out) and time.monotonic() < deadline:
        for k, p in enumerate(pipes):
            if out[k] is None and p.poll():
                try:
                    message = p.recv()
                except EOFError:
                    message = ("result", {"error": "process died"})
                if message[0] in tags or message[0] == "result":
                    out[k] = message
        await asyncio.sleep(0.005)
    return out


def _spawn(target: Callable[..., None], *args: Any) -> tuple[Any, Connection]:
    spawn = mp.get_context("spawn")  # the parent has threads (SQLite): never plain fork
    parent_end, child_end = spawn.Pipe()
    proc = spawn.Process(target=target, args=(child_end, *args), daemon=True)
    proc.start()
    child_end.close()
    return proc, parent_end


def _shares(clients: int, procs: int) -> list[int]:
    procs = max(1, min(procs, clients))
    return [clients // procs + (1 if k < clients % procs else 0) for k in range(procs)]


async def _publish_here(target: Target, indices: range, rate: float) -> dict[str, Any]:
    """Publish events `indices` from inside the server's process, paced as the publisher's."""
    publish = target.publish_here
    assert publish is not None, f"{target.name} cannot publish from inside"

    async def one(i: int) -> None:
        outcome = publish(_event_body(i))
        if outcome is not None:
            await outcome

    first = time.time()
    late = await _paced(one, indices, rate)
    return {"first_publish": first, "late_ms": late * 1000, "failures": [], "failed": 0}


async def run_phase(
    target: Target, clients: int, procs: int, rate: float, n_events: int, *, here: bool = False
) -> PhaseResult:
    """Connect the clients, publish (over HTTP, or from inside the server's process when
    `here`), collect and summarise."""
    loop = asyncio.get_running_loop()
    result = PhaseResult(target.name, clients, n_events * clients, load=_load1())
    ws_ports = (target.ws_port, *target.extra_ports)
    spawned = [_spawn(_client_process, ws_ports[k % len(ws_ports)], target.mode, share, n_events)
               for k, share in enumerate(_shares(clients, procs))]  # fmt: skip
    http_ports = [target.http_port, *target.extra_ports]
    publisher = pub_pipe = None
    if not here:
        publisher, pub_pipe = _spawn(_publisher_process, http_ports, rate, n_events)
    pipes = [pipe for _, pipe in spawned]
    reports: list[tuple[str, Any] | None] = []
    cpu0 = cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    published: dict[str, Any] = {}
    try:
        ready = await _wait_pipes(pipes, {"ready"}, CONNECT_TIMEOUT + 30)
        bad = [m for m in ready if m is None or m[0] != "ready"]
        if bad:
            result.errors.append(f"clients not ready: {bad!r}"[:500])
            return result
        for _ in range(1500):  # every socket known to the server before the first event
            if target.subscribed() >= clients:
                break
            await asyncio.sleep(0.02)
        if target.subscribed() < clients:
            result.errors.append(f"only {target.subscribed()} of {clients} subscribed")
        await asyncio.sleep(0.5)  # let the handshake traffic settle
        if pub_pipe is None:
            await _publish_here(target, range(-1, -1 - WARM_UP_EVENTS, -1), 10.0)
            await asyncio.sleep(0.5)
            measuring = ("measuring", time.time())
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            written0 = _frames_and_writes(target)
            result.load = _load1()
            published = await _publish_here(target, range(n_events), rate)
        else:
            pub_pipe.send(("go", 0.0))
            (measuring,) = await _wait_pipes([pub_pipe], {"measuring"}, 120)
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            written0 = _frames_and_writes(target)
            result.load = _load1()
            (done,) = await _wait_pipes([pub_pipe], {"result"}, 120 + n_events / rate)
            published = done[1] if done is not None else {"error": "publisher did not report"}
        # Sampled while every client is still connected (they leave after their deadline).
        frames, writes = (a - b for a, b in zip(_frames_and_writes(target), written0, strict=True))
        if writes:
            result.frames_per_write = frames / writes
        for p in pipes:
            p.send(("deadline", time.time() + GRACE_SECONDS))
        reports = await _wait_pipes(pipes, {"result"}, GRACE_SECONDS + 30)
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        if measuring is None:
            result.errors.append("publisher never started")
    finally:
        procs_and_pipes = [*spawned] + ([(publisher, pub_pipe)] if publisher else [])
        for proc, pipe in procs_and_pipes:
            await loop.run_in_executor(None, proc.join, 15)
            if proc.is_alive():
                proc.terminate()
            pipe.close()

    if "error" in published:
        result.errors.append(f"publisher: {published['error']}")
    elif published.get("failed"):
        result.errors.append(f"publisher: {published['failed']} failed: {published['failures']}")
    first_publish = float(published.get("first_publish", 0.0))
    result.publish_late_ms = float(published.get("late_ms", 0.0))
    latencies = array("d")
    mins: list[int] = []
    last_rx = 0.0
    for report in reports:
        if report is None:
            result.errors.append("a client process did not report")
            continue
        data = report[1]
        if "error" in data:
            result.errors.append(data["error"])
            continue
        result.delivered += data["delivered"]
        result.dups += data["dups"]
        mins.append(data["min_per_client"])
        for key, count in data["closes"].items():
            result.closes[key] = result.closes.get(key, 0) + count
        chunk = array("d")
        chunk.frombytes(data["latencies"])
        latencies.extend(chunk)
        last_rx = max(last_rx, data["last_rx"])
    result.min_per_client = min(mins, default=0)
    ordered = sorted(latencies)
    result.p50_ms = _common.percentile(ordered, 50) * 1000
    result.p99_ms = _common.percentile(ordered, 99) * 1000
    result.max_ms = (ordered[-1] * 1000) if ordered else float("nan")
    if first_publish and last_rx > first_publish:
        result.throughput = result.delivered / (last_rx - first_publish)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    if result.delivered:
        # From the first measured publish to the last client's report (HTTP route included).
        result.server_cpu_us_per_frame = cpu / result.delivered * 1e6
    if cpu > 0:
        result.server_sys_share = (cpu1.ru_stime - cpu0.ru_stime) / cpu
    _print_phase(result)
    return result


def _frames_and_writes(target: Target) -> tuple[int, int]:
    return target.frames_and_writes() if target.frames_and_writes else (0, 0)


async def _with_target(
    name: str, body: Callable[[Target], Awaitable[PhaseResult]], write_delay: float = 0.0
) -> PhaseResult:
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        if name == "aiohttp":
            target = await start_baseline()
        elif name == "picows":
            target = await start_picows()
        else:  # "bridge", or "delayed": the bridge with `write_delay`
            target = await start_bridge(Path(tmp), write_delay if name == "delayed" else 0.0)
        try:
            return await body(target)
        finally:
            await target.stop()


async def run_servers(
    clients: int,
    procs: int,
    rate: float,
    n_events: int,
    *,
    here: bool = False,
    write_delay: float = 0.0,
) -> dict:
    """The same phase against the bare aiohttp loop, the bridge and picows, in that order, and
    with `write_delay` the bridge again with that `ws_write_delay` ("delayed")."""
    _common.raise_fd_limit(2 * clients + 1024)
    source = "published inside the server" if here else f"over POST {BROADCAST}"
    print(f"\n=== {clients} clients in {_shares(clients, procs).__len__()} processes, "
          f"{rate:g} events/s, {n_events} events {source} ===")  # fmt: skip
    print(_common.machine_line(), flush=True)
    results = {}
    for name in ("aiohttp", "bridge", "picows") + (("delayed",) if write_delay else ()):
        gc.collect()
        results[name] = await _with_target(
            name, lambda t: run_phase(t, clients, procs, rate, n_events, here=here), write_delay
        )
    return results


def _print_phase(r: PhaseResult) -> None:
    print(
        f"  {r.name:8s} load {r.load:.2f}: delivered {r.delivered}/{r.expected} (dups {r.dups},"
        f" min per client {r.min_per_client}), p50 {r.p50_ms:.2f} ms, p99 {r.p99_ms:.2f} ms, "
        f"max {r.max_ms:.2f} ms, {r.throughput:,.0f} frames/s, publisher late max "
        f"{r.publish_late_ms:.1f} ms, server CPU {r.server_cpu_us_per_frame:.2f} us/frame"
        f" ({r.server_sys_share:.0%} in the kernel)"
        + (
            f", {r.frames_per_write:.2f} frames per write"
            if r.frames_per_write == r.frames_per_write
            else ""
        )
        + (f", closes {r.closes}" if r.closes else "")
        + (f", ERRORS {r.errors}" if r.errors else ""),
        flush=True,
    )


# --- idle memory: a server in a fresh process, 1,000 phones connected --------------------------


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _idle_server_process(conn: Connection, kind: str) -> None:
    """Serve `kind` in this fresh process; report RSS before and with the clients connected."""
    _common.raise_fd_limit(4096)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        with tempfile.TemporaryDirectory(prefix="bench-fanout-idle-") as tmp:
            target = await (start_baseline() if kind == "aiohttp" else start_bridge(Path(tmp)))
            try:
                gc.collect()
                await asyncio.sleep(1.0)  # start-up work (event log, monitors) settles
                gc.collect()
                conn.send(("port", target.ws_port, _rss()))
                for _ in range(2):  # "measure", then "stop"
                    await loop.run_in_executor(None, conn.poll, 300.0)
                    if conn.recv()[0] == "stop":
                        break
                    gc.collect()
                    conn.send(("rss", target.subscribed(), _rss()))
            finally:
                await target.stop()

    asyncio.run(main())
    conn.close()


@dataclass
class IdleResult:
    """RSS growth of a server process per idle connection."""

    name: str
    clients: int
    connected: int = 0
    rss_before: int = 0
    rss_after: int = 0
    load: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def kb_per_connection(self) -> float:
        """Server RSS growth per connection, in KiB."""
        if not self.connected:
            return float("nan")
        return (self.rss_after - self.rss_before) / self.connected / 1024


async def run_idle(kind: str, clients: int, procs: int) -> IdleResult:
    """Connect `clients` idle phones to a fresh server process and read its RSS growth."""
    loop = asyncio.get_running_loop()
    result = IdleResult(kind, clients, load=_load1())
    server, server_pipe = _spawn(_idle_server_process, kind)
    spawned: list[tuple[Any, Connection]] = []
    try:
        (started,) = await _wait_pipes([server_pipe], {"port"}, 120)
        if started is None or started[0] != "port":
            result.errors.append(f"server did not start: {started!r}")
            return result
        _tag, port, result.rss_before = started
        mode = "bridge" if kind == "bridge" else "bare"
        spawned = [_spawn(_client_process, port, mode, share, 0)
                   for share in _shares(clients, procs)]  # fmt: skip
        ready = await _wait_pipes([p for _, p in spawned], {"ready"}, CONNECT_TIMEOUT + 30)
        if any(m is None or m[0] != "ready" for m in ready):
            result.errors.append(f"clients not ready: {ready!r}"[:300])
        await asyncio.sleep(1.0)  # idle: nothing but the connections
        server_pipe.send(("measure",))
        (measured,) = await _wait_pipes([server_pipe], {"rss"}, 60)
        if measured is not None and measured[0] == "rss":
            _tag, result.connected, result.rss_after = measured
        result.load = _load1()
    finally:
        for _, pipe in spawned:
            pipe.send(("deadline", 0.0))
        await _wait_pipes([p for _, p in spawned], {"result"}, 30)
        server_pipe.send(("stop",))
        for proc, pipe in [*spawned, (server, server_pipe)]:
            await loop.run_in_executor(None, proc.join, 15)
            if proc.is_alive():
                proc.terminate()
            pipe.close()
    print(f"  {kind:8s} load {result.load:.2f}: {result.connected} idle connections, server RSS "
          f"{result.rss_before / 2**20:.1f} -> {result.rss_after / 2**20:.1f} MiB, "
          f"{result.kb_per_connection:.1f} KiB per connection"
          + (f", ERRORS {result.errors}" if result.errors else ""), flush=True)  # fmt: skip
    return result


# --- the table ------------------------------------------------------------------------------


def _ratio(ours: float, base: float) -> str:
    return f"{ours / base:.2f}x" if base and base == base and ours == ours else "n/a"


def _table(
    saturation: dict[str, PhaseResult] | None,
    lan: dict[str, dict[str, PhaseResult]] | None,
    idle: dict[str, IdleResult] | None,
) -> str:
    rows: list[list[str]] = []
    if saturation:
        b, o, p = saturation["aiohttp"], saturation["bridge"], saturation["picows"]
        load = f"{b.load:.2f} / {o.load:.2f} / {p.load:.2f}"
        cpu_ratio = o.server_cpu_us_per_frame / b.server_cpu_us_per_frame
        tput_ratio = o.throughput / b.throughput if b.throughput else float("nan")
        p99_ratio = o.p99_ms / b.p99_ms if b.p99_ms else float("nan")
        lossless = o.delivered == o.expected and not o.errors and not o.dups
        rows += [
            [f"server CPU per frame, us ({o.clients} clients)", f"<= {GOAL_CPU_RATIO:g}x",
             f"{b.server_cpu_us_per_frame:.2f}", f"{o.server_cpu_us_per_frame:.2f}",
             _ratio(o.server_cpu_us_per_frame, b.server_cpu_us_per_frame),
             f"{p.server_cpu_us_per_frame:.2f}", load,
             _common.verdict(cpu_ratio <= GOAL_CPU_RATIO)],
            ["bridge frames per socket write (1: one send each)", "", "1",
             f"{o.frames_per_write:.2f}", "", "", load, ""],
            ["end-to-end throughput, frames/s", f">= {GOAL_THROUGHPUT_RATIO:g}x",
             f"{b.throughput:,.0f}", f"{o.throughput:,.0f}", _ratio(o.throughput, b.throughput),
             f"{p.throughput:,.0f}", load,
             _common.verdict(tput_ratio >= GOAL_THROUGHPUT_RATIO)],
            ["p50 latency, ms", "", f"{b.p50_ms:.1f}", f"{o.p50_ms:.1f}",
             _ratio(o.p50_ms, b.p50_ms), f"{p.p50_ms:.1f}", load, ""],
            ["p99 latency, ms", f"<= {GOAL_P99_RATIO:g}x", f"{b.p99_ms:.1f}", f"{o.p99_ms:.1f}",
             _ratio(o.p99_ms, b.p99_ms), f"{p.p99_ms:.1f}", load,
             _common.verdict(p99_ratio <= GOAL_P99_RATIO)],
            ["delivered / expected", "zero loss", f"{b.delivered}/{b.expected}",
             f"{o.delivered}/{o.expected}", "", f"{p.delivered}/{p.expected}", load,
             _common.verdict(lossless)],
        ]  # fmt: skip
    delayed = saturation.get("delayed") if saturation else None
    if saturation and delayed:
        b, d = saturation["aiohttp"], delayed
        load = f"{b.load:.2f} / {d.load:.2f}"
        rows += [
            [f"server CPU per frame, us ({d.name})", f"<= {GOAL_CPU_RATIO:g}x",
             f"{b.server_cpu_us_per_frame:.2f}", f"{d.server_cpu_us_per_frame:.2f}",
             _ratio(d.server_cpu_us_per_frame, b.server_cpu_us_per_frame), "", load,
             _common.verdict(d.server_cpu_us_per_frame / b.server_cpu_us_per_frame
                             <= GOAL_CPU_RATIO)],
            [f"end-to-end throughput, frames/s ({d.name})", f">= {GOAL_THROUGHPUT_RATIO:g}x",
             f"{b.throughput:,.0f}", f"{d.throughput:,.0f}", _ratio(d.throughput, b.throughput),
             "", load, _common.verdict(d.throughput >= GOAL_THROUGHPUT_RATIO * b.throughput)],
            [f"p50 / p99 latency, ms ({d.name})", f"p99 <= {GOAL_P99_RATIO:g}x",
             f"{b.p50_ms:.1f} / {b.p99_ms:.1f}", f"{d.p50_ms:.1f} / {d.p99_ms:.1f}",
             _ratio(d.p99_ms, b.p99_ms), "", load,
             _common.verdict(d.p99_ms <= GOAL_P99_RATIO * b.p99_ms)],
            [f"delivered / expected ({d.name})", "zero loss", f"{b.delivered}/{b.expected}",
             f"{d.delivered}/{d.expected}", "", "", load,
             _common.verdict(d.delivered == d.expected and not d.errors and not d.dups)],
        ]  # fmt: skip
    for label, phases in lan.items() if lan else ():
        b, o, p = phases["aiohttp"], phases["bridge"], phases["picows"]
        lossless = o.delivered == o.expected and not o.errors and not o.dups
        rows.append(
            [f"LAN p99 latency, ms ({o.clients} clients, {label})", f"< {GOAL_LAN_P99_MS:g} ms",
             f"{b.p99_ms:.2f}", f"{o.p99_ms:.2f}", _ratio(o.p99_ms, b.p99_ms), f"{p.p99_ms:.2f}",
             f"{b.load:.2f} / {o.load:.2f} / {p.load:.2f}",
             _common.verdict(o.p99_ms < GOAL_LAN_P99_MS and lossless)]
        )  # fmt: skip
    if idle:
        b2, o2 = idle["aiohttp"], idle["bridge"]
        rows.append(
            [f"server RSS per idle connection, KiB ({o2.connected})", f"< {GOAL_IDLE_KB:g} KB",
             f"{b2.kb_per_connection:.1f}", f"{o2.kb_per_connection:.1f}",
             _ratio(o2.kb_per_connection, b2.kb_per_connection), "",
             f"{b2.load:.2f} / {o2.load:.2f}",
             _common.verdict(o2.kb_per_connection < GOAL_IDLE_KB and not o2.errors)]
        )  # fmt: skip
    headers = ["metric", "goal", "baseline (aiohttp)", "ours (bridge)", "ratio",
               "picows (limit)", "load 1 min (base / ours / picows)", "status"]  # fmt: skip
    return _common.table(headers, rows)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the scenarios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenario", choices=["all", "saturation", "lan", "idle", "one"], default="all"
    )
    parser.add_argument("--clients", type=int, default=1000, help="for `one` (1000)")
    parser.add_argument("--rate", type=float, default=100.0, help="for `one`: events/s (100)")
    parser.add_argument("--events", type=int, default=300, help="for `one`: events (300)")
    parser.add_argument("--procs", type=int, default=2, help="client processes (2)")
    parser.add_argument("--repeat", type=int, default=1, help="run the scenarios N times (1)")
    parser.add_argument(
        "--write-delay",
        type=float,
        default=DEFAULT_WRITE_DELAY,
        help="saturation: also the bridge with this ws_write_delay, seconds "
        f"({DEFAULT_WRITE_DELAY:g}; 0: not)",
    )
    parser.add_argument(
        "--instances",
        type=int,
        default=0,
        help="studio mode: `one` on one bridge alone, then with the clients spread over N "
        "studio bridges (PostgreSQL + Redis; bench/studio.py)",
    )
    args = parser.parse_args(argv)
    if args.instances:
        from bench import studio

        asyncio.run(
            studio.fanout_instances(
                args.clients, args.rate, args.events, args.procs, args.instances
            )
        )
        return 0
    if not 1 <= args.repeat <= 10:
        parser.error("need 1 <= --repeat <= 10")
    if not 1 <= args.clients <= 5000 or args.rate <= 0 or not 1 <= args.events <= 100_000:
        parser.error("need 1 <= --clients <= 5000, --rate > 0, 1 <= --events <= 100000")
    for _ in range(args.repeat):
        saturation = lan = idle = None
        if args.scenario in ("all", "idle"):
            print(f"\n=== 1000 idle phones, {args.procs} client processes ===")
            print(_common.machine_line(), flush=True)
            idle = {k: asyncio.run(run_idle(k, 1000, args.procs)) for k in ("aiohttp", "bridge")}
        if args.scenario in ("all", "saturation"):
            saturation = asyncio.run(
                run_servers(1000, args.procs, 100.0, 300, write_delay=args.write_delay)
            )
        if args.scenario == "one":
            saturation = asyncio.run(run_servers(args.clients, args.procs, args.rate, args.events))
        if args.scenario in ("all", "lan"):
            lan = {
                "POST publish": asyncio.run(run_servers(20, 1, 50.0, 250)),
                "server publish": asyncio.run(run_servers(20, 1, 50.0, 250, here=True)),
            }
        print()
        print(_table(saturation, lan, idle))
        print(_common.machine_line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
