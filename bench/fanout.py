"""WebSocket fan-out: the real bridge against a bare aiohttp broadcast loop, same clients.

The bench's main process runs the server (a real BridgeServer in a temporary data directory,
then, on another port, a bare aiohttp broadcast server); N WebSocket clients live in separate
client processes, each with its own event loop. For each server in turn:

1. client processes open their share of the N connections; against the bridge each speaks the
   real protocol (connection_established -> register -> subscribe ["jobs"]);
2. once every client is subscribed, a task on the server's loop publishes R events a second for
   D seconds (bridge: `ctx.broker.publish(events.job_progress(...))`; baseline: `json.dumps`
   once, then `send_str` to every socket in a loop);
3. every event carries its publish wall time (`time.time()`) and index in `message`; clients
   record receive time - publish time for each event and count distinct deliveries;
4. after the last publish the clients wait a grace period for stragglers, then report.

Usage (from the repo root):
    .venv/bin/python bench/fanout.py                          # 1,000 clients, 20 events/s, 10 s
    .venv/bin/python bench/fanout.py --clients 20 --rate 50
    .venv/bin/python bench/fanout.py --scenario all           # both scenarios back to back
Every loop is bounded in count and time; the run stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import resource
import sys
import tempfile
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
REPLY_TIMEOUT = 15.0  # seconds for one handshake reply
GRACE_SECONDS = 5.0  # after the last publish, how long clients wait for stragglers
WARM_UP_SECONDS = 1.0  # events published before measuring, at the same rate
JOB_ID = "j_benchfanout"

GOAL_P99_RATIO = 1.25
GOAL_THROUGHPUT_RATIO = 0.8
GOAL_SMALL_P99_MS = 5.0


# --- client processes ---------------------------------------------------------------------


def _client_process(
    conn: Connection, port: int, mode: str, n: int, expected: int, compress: bool
) -> None:
    """Entry point of one client process: n connections, then a report through `conn`."""
    _common.raise_fd_limit(n + 256)
    try:
        result = asyncio.run(_clients(conn, port, mode, n, expected, compress))
    except BaseException as exc:  # report, never hang the parent
        result = {"error": f"{type(exc).__name__}: {exc}"}
    try:
        conn.send(("result", result))
    finally:
        conn.close()


async def _handshake(ws: Any) -> None:
    """connection_established -> register -> registration_confirmed -> subscribe -> confirmed."""

    async def expect(kind: str) -> None:
        for _ in range(20):  # bounded: a handful of frames at most precede the reply
            msg = await ws.receive(timeout=REPLY_TIMEOUT)
            if msg.type.name != "TEXT":
                raise RuntimeError(f"expected {kind}, got {msg.type.name} {msg.data!r}")
            if json.loads(msg.data).get("type") == kind:
                return
        raise RuntimeError(f"no {kind} within 20 frames")

    await expect("connection_established")
    await ws.send_str(
        json.dumps({"type": "register", "client_type": "bench", "client_name": "fanout"})
    )
    await expect("registration_confirmed")
    await ws.send_str(json.dumps({"type": "subscribe", "channels": ["jobs"]}))
    await expect("subscription_confirmed")


async def _clients(
    conn: Connection, port: int, mode: str, n: int, expected: int, compress: bool
) -> dict[str, Any]:
    import aiohttp

    loop = asyncio.get_running_loop()
    latencies = array("d")
    counts = [0] * n
    seen = [bytearray(expected) for _ in range(n)]
    stats = {"dups": 0, "first_rx": 0.0, "last_rx": 0.0}
    closes: dict[str, int] = {}
    url = f"http://127.0.0.1:{port}/ws"
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=REPLY_TIMEOUT)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout)

    async def open_one() -> Any:
        async with limit:
            ws = await session.ws_connect(url, compress=15 if compress else 0, autoping=True)
            if mode == "bridge":
                await _handshake(ws)
            return ws

    async def read(k: int, ws: Any) -> None:
        mine = seen[k]
        while counts[k] < expected:
            msg = await ws.receive()
            if msg.type.name != "TEXT":
                closes[f"{msg.type.name}:{ws.close_code}"] = (
                    closes.get(f"{msg.type.name}:{ws.close_code}", 0) + 1
                )
                return
            now = time.time()
            data = msg.data
            at = data.find("pub=")
            if at < 0:
                continue  # some other event on the channel
            semi = data.find(";", at)
            index = int(data[semi + 3 : data.find('"', semi)])
            if index < 0:
                continue  # warm-up event, not measured
            latencies.append(now - float(data[at + 4 : semi]))
            if stats["first_rx"] == 0.0:
                stats["first_rx"] = now
            stats["last_rx"] = now
            if 0 <= index < expected and not mine[index]:
                mine[index] = 1
                counts[k] += 1
            else:
                stats["dups"] += 1

    try:
        sockets = await asyncio.wait_for(
            asyncio.gather(*(open_one() for _ in range(n))), CONNECT_TIMEOUT
        )
        conn.send(("ready", n))
        readers = [loop.create_task(read(k, ws)) for k, ws in enumerate(sockets)]
        # The parent says when publishing ended; bounded wait, in a thread (never the loop).
        got = await loop.run_in_executor(None, conn.poll, 600.0)
        deadline = time.time() + 1.0
        if got:
            message = conn.recv()
            deadline = float(message[1])
        remaining = max(0.0, deadline - time.time())
        _done, pending = await asyncio.wait(readers, timeout=remaining)
        for task in pending:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        await asyncio.wait_for(
            asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True), 10.0
        )
    finally:
        await session.close()
    return {
        "n": n,
        "delivered": sum(counts),
        "min_per_client": min(counts) if counts else 0,
        "dups": stats["dups"],
        "first_rx": stats["first_rx"],
        "last_rx": stats["last_rx"],
        "closes": closes,
        "latencies": latencies.tobytes(),
    }


# --- the two servers ----------------------------------------------------------------------


@dataclass
class Target:
    """A server under test: its port, how to publish one event, how many are subscribed."""

    name: str
    mode: str  # "bridge": speak the protocol; "bare": just connect
    port: int
    publish: Callable[[int, float], Awaitable[None] | None]
    subscribed: Callable[[], int]
    stop: Callable[[], Awaitable[None]]


async def start_bridge(data_dir: Path) -> Target:
    """A real BridgeServer on an ephemeral loopback port (headless: no window, no GUI)."""
    from bridge_server import events
    from bridge_server.app import BridgeServer
    from tests.helpers import make_settings

    server = BridgeServer(make_settings(data_dir, workers=1))
    await server.start()
    broker = server.context.broker

    def publish(i: int, wall: float) -> None:
        broker.publish(events.job_progress(JOB_ID, "bench", i % 100, f"pub={wall:.6f};i={i}"))

    return Target(
        "bridge", "bridge", server.port, publish,
        lambda: broker.subscriber_count("jobs"), server.stop,
    )  # fmt: skip


async def start_baseline() -> Target:
    """A bare aiohttp broadcast server: json.dumps once, send_str to every socket in a loop."""
    from datetime import UTC, datetime

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

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def publish(i: int, wall: float) -> None:
        # The same envelope and payload as the bridge's job_progress frame.
        frame = json.dumps(
            {
                "type": "job_progress", "timestamp": datetime.now(UTC).isoformat(), "seq": i + 1,
                "channel": "jobs", "job_id": JOB_ID, "stage": "bench",
                "progress": float(i % 100), "message": f"pub={wall:.6f};i={i}",
            },
            separators=(",", ":"),
        )  # fmt: skip
        for ws in tuple(sockets):
            try:
                await ws.send_str(frame)
            except ConnectionError:
                pass

    async def stop() -> None:
        for ws in tuple(sockets):
            await ws.close()
        await runner.cleanup()

    return Target("baseline", "bare", port, publish, lambda: len(sockets), stop)


# --- one phase: one server, all clients, R events/s for D seconds ----------------------------


@dataclass
class PhaseResult:
    """What one server delivered."""

    name: str
    clients: int
    expected: int
    delivered: int = 0
    dups: int = 0
    min_per_client: int = 0
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    max_ms: float = float("nan")
    throughput: float = 0.0
    publish_late_ms: float = 0.0
    server_cpu_us_per_frame: float = float("nan")
    closes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


async def _wait_pipes(
    pipes: list[Connection], tag: str, timeout: float
) -> list[tuple[str, Any] | None]:
    """Poll the pipes without blocking the server's loop, until each sent `tag` or timeout."""
    out: list[tuple[str, Any] | None] = [None] * len(pipes)
    deadline = time.monotonic() + timeout
    while any(o is None for o in out) and time.monotonic() < deadline:
        for k, p in enumerate(pipes):
            if out[k] is None and p.poll():
                try:
                    message = p.recv()
                except EOFError:
                    message = ("result", {"error": "client process died"})
                if message[0] == tag or message[0] == "result":
                    out[k] = message
        await asyncio.sleep(0.02)
    return out


async def run_phase(
    target: Target, clients: int, procs: int, rate: float, duration: float, compress: bool
) -> PhaseResult:
    """Connect the clients, publish, collect and summarise."""
    loop = asyncio.get_running_loop()
    n_events = max(1, round(rate * duration))
    result = PhaseResult(target.name, clients, n_events * clients)
    procs = max(1, min(procs, clients))
    shares = [clients // procs + (1 if k < clients % procs else 0) for k in range(procs)]
    spawn = mp.get_context("spawn")  # the parent has threads (SQLite): never plain fork
    pipes: list[Connection] = []
    processes = []
    for share in shares:
        parent_end, child_end = spawn.Pipe()
        proc = spawn.Process(
            target=_client_process,
            args=(child_end, target.port, target.mode, share, n_events, compress),
            daemon=True,
        )
        proc.start()
        child_end.close()
        pipes.append(parent_end)
        processes.append(proc)
    try:
        ready = await _wait_pipes(pipes, "ready", CONNECT_TIMEOUT + 30)
        bad = [m for m in ready if m is None or m[0] != "ready"]
        if bad:
            result.errors.append(f"clients not ready: {bad!r}"[:500])
            for p in pipes:
                p.send(("go", time.time()))
            return result
        # Every socket must be known to the server before the first event.
        for _ in range(1500):  # at most 30 s
            if target.subscribed() >= clients:
                break
            await asyncio.sleep(0.02)
        if target.subscribed() < clients:
            result.errors.append(f"only {target.subscribed()} of {clients} subscribed")
        # Warm-up (negative indices, not measured): first-use costs such as SQLAlchemy's
        # statement compilation in the event log belong to start-up, not to steady state.
        for i in range(round(rate * WARM_UP_SECONDS)):
            outcome = target.publish(-1 - i, time.time())
            if outcome is not None:
                await outcome
            await asyncio.sleep(1.0 / rate)
        await asyncio.sleep(0.5)  # let the handshake and warm-up traffic settle

        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        first_publish = time.time()
        start = loop.time() + 0.05
        late = 0.0
        for i in range(n_events):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                late = max(late, -delay)
            outcome = target.publish(i, time.time())
            if outcome is not None:
                await outcome
        result.publish_late_ms = late * 1000
        for p in pipes:
            p.send(("go", time.time() + GRACE_SECONDS))
        reports = await _wait_pipes(pipes, "result", GRACE_SECONDS + 30)
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        for proc in processes:
            await loop.run_in_executor(None, proc.join, 15)
            if proc.is_alive():
                proc.terminate()
        for p in pipes:
            p.close()

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
    if last_rx > first_publish:
        result.throughput = result.delivered / (last_rx - first_publish)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    if result.delivered:
        # Includes the grace wait (idle) and the client pipes; close to the send cost alone.
        result.server_cpu_us_per_frame = cpu / result.delivered * 1e6
    return result


# --- scenarios ----------------------------------------------------------------------------


async def run_scenario(
    clients: int, rate: float, duration: float, procs: int, compress: bool
) -> tuple[PhaseResult, PhaseResult]:
    """Baseline first, then the bridge, same clients, rate and duration."""
    _common.raise_fd_limit(2 * clients + 1024)
    print(
        f"\n=== {clients} clients, {rate:g} events/s, {duration:g} s, {procs} client processes"
        f"{', permessage-deflate' if compress else ''} ==="
    )
    print(_common.machine_line(), flush=True)
    baseline = await start_baseline()
    try:
        base = await run_phase(baseline, clients, procs, rate, duration, compress)
    finally:
        await baseline.stop()
    _print_phase(base)
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        bridge = await start_bridge(Path(tmp))
        try:
            ours = await run_phase(bridge, clients, procs, rate, duration, compress)
        finally:
            await bridge.stop()
    _print_phase(ours)
    _print_comparison(ours, base, small=clients <= 100)
    print(_common.machine_line(), flush=True)
    return ours, base


def _print_phase(r: PhaseResult) -> None:
    print(
        f"  {r.name:8s} delivered {r.delivered}/{r.expected} (dups {r.dups}, "
        f"min per client {r.min_per_client}), p50 {r.p50_ms:.2f} ms, p99 {r.p99_ms:.2f} ms, "
        f"max {r.max_ms:.2f} ms, {r.throughput:,.0f} frames/s, publisher late max "
        f"{r.publish_late_ms:.1f} ms, server CPU {r.server_cpu_us_per_frame:.1f} us/frame"
        + (f", closes {r.closes}" if r.closes else "")
        + (f", ERRORS {r.errors}" if r.errors else ""),
        flush=True,
    )


def _print_comparison(ours: PhaseResult, base: PhaseResult, *, small: bool) -> None:
    p99_ratio = ours.p99_ms / base.p99_ms if base.p99_ms > 0 else float("nan")
    tput_ratio = ours.throughput / base.throughput if base.throughput > 0 else float("nan")
    rows = [
        ["delivered / expected", f"{ours.delivered}/{ours.expected}",
         f"{base.delivered}/{base.expected}", "", "zero loss",
         _common.verdict(ours.delivered == ours.expected and not ours.errors)],
        ["p50 latency (ms)", f"{ours.p50_ms:.2f}", f"{base.p50_ms:.2f}",
         f"{ours.p50_ms / base.p50_ms:.2f}x" if base.p50_ms > 0 else "", "", ""],
    ]  # fmt: skip
    if small:
        rows.append(["p99 latency (ms)", f"{ours.p99_ms:.2f}", f"{base.p99_ms:.2f}",
                     f"{p99_ratio:.2f}x", f"< {GOAL_SMALL_P99_MS:g} ms",
                     _common.verdict(ours.p99_ms < GOAL_SMALL_P99_MS)])  # fmt: skip
    else:
        rows.append(["p99 latency (ms)", f"{ours.p99_ms:.2f}", f"{base.p99_ms:.2f}",
                     f"{p99_ratio:.2f}x", f"<= {GOAL_P99_RATIO:g}x baseline",
                     _common.verdict(p99_ratio <= GOAL_P99_RATIO)])  # fmt: skip
    tput_goal = "" if small else f">= {GOAL_THROUGHPUT_RATIO:g}x baseline"
    tput_status = "" if small else _common.verdict(tput_ratio >= GOAL_THROUGHPUT_RATIO)
    rows.append(["throughput (frames/s)", f"{ours.throughput:,.0f}", f"{base.throughput:,.0f}",
                 f"{tput_ratio:.2f}x", tput_goal, tput_status])  # fmt: skip
    rows.append(["server CPU (us/frame)", f"{ours.server_cpu_us_per_frame:.1f}",
                 f"{base.server_cpu_us_per_frame:.1f}",
                 f"{ours.server_cpu_us_per_frame / base.server_cpu_us_per_frame:.2f}x"
                 if base.server_cpu_us_per_frame > 0 else "", "", ""])  # fmt: skip
    print(_common.table(["metric", "bridge", "baseline", "ratio", "goal", "status"], rows))


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run one scenario or both."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000, help="WebSocket clients (1000)")
    parser.add_argument("--rate", type=float, default=20.0, help="events per second (20)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of publishing (10)")
    parser.add_argument("--procs", type=int, default=4, help="client processes (4)")
    parser.add_argument(
        "--compress",
        action="store_true",
        help="clients negotiate permessage-deflate, as browsers do",
    )
    parser.add_argument(
        "--scenario",
        choices=["one", "all"],
        default="one",
        help="all: 1000 clients @ 20/s, then 20 clients @ 50/s",
    )
    parser.add_argument("--repeat", type=int, default=1, help="run each scenario N times (1)")
    args = parser.parse_args(argv)
    if not 1 <= args.repeat <= 10:
        parser.error("need 1 <= --repeat <= 10")
    if args.clients < 1 or args.rate <= 0 or not 0 < args.duration <= 600:
        parser.error("need --clients >= 1, --rate > 0, 0 < --duration <= 600")
    scenarios = (
        [(1000, 20.0), (20, 50.0)] if args.scenario == "all" else [(args.clients, args.rate)]
    )
    summary = []
    for clients, rate in [s for s in scenarios for _ in range(args.repeat)]:
        ours, base = asyncio.run(
            run_scenario(clients, rate, args.duration, args.procs, args.compress)
        )
        summary.append((clients, rate, ours, base))
    if len(summary) > 1:
        print("\n=== summary (one row per run) ===")
        rows = [[c, f"{r:g}", f"{o.delivered}/{o.expected}", f"{b.delivered}/{b.expected}",
                 f"{o.p50_ms:.2f}", f"{b.p50_ms:.2f}", f"{o.p99_ms:.2f}", f"{b.p99_ms:.2f}",
                 f"{o.p99_ms / b.p99_ms:.2f}x", f"{o.throughput:,.0f}", f"{b.throughput:,.0f}",
                 f"{o.throughput / b.throughput:.2f}x" if b.throughput else "n/a"]
                for c, r, o, b in summary]  # fmt: skip
        print(_common.table(["clients", "rate/s", "bridge delivered", "baseline delivered",
                             "bridge p50 ms", "base p50 ms", "bridge p99 ms", "base p99 ms",
                             "p99 ratio", "bridge frames/s", "base frames/s", "tput ratio"],
                            rows))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
