"""Client proofing at a venue: approval to the picture's arrival on 200 guest WebSockets.

The main process runs a real BridgeServer (temporary data directory, loopback only) with a shoot
of the bundled sample photos imported and analysed, shares it for proofing and joins N guests
over REST (each with its own token). Beside it, on another loopback port, a bare aiohttp server
fans plain frames out (the baseline: serialize once, `send_str` to every socket). A separate
client process holds, for each guest, one socket to the bridge (connection_established ->
register with the guest token -> subscribe ["proofing"]) and one to the baseline server.

Rounds alternate, so both paths see the same machine load:
- ours: t0 = time.time(); `POST /api/approval/{id}/approve` over loopback (the photographer's
  approval, through the door, the service, SQLite, the broker's audience check and the sender);
  the event that counts is `proofing_photo_changed` with level `pick` for that photo; the photo
  is put back with `undo` between rounds (its withdrawal is not measured);
- baseline: t0 = time.time(); one JSON frame sent to every baseline socket.
Each client records arrival wall time - t0; p50/p99 are over every (round, client) arrival, and
"all N" is the per-round time until the last client had it.

Usage (from the repo root):
    .venv/bin/python bench/proofing.py                 # 200 guests, 30 rounds each way
    .venv/bin/python bench/proofing.py --clients 50 --rounds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import shutil
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

try:
    from bench import _common
except ImportError:  # run as `python bench/proofing.py`
    import _common  # type: ignore[no-redef]

REPLY_TIMEOUT = 20.0
ROUND_TIMEOUT = 10.0  # a round that has not reached every client by then is counted as lost
GOAL_P99_MS = 150.0  # approval (REST) to arrival on every guest, 99th percentile
SAMPLES = ["astronaut", "coffee", "rocket", "camera", "hubble", "chelsea_1"]


# --- the client process ---------------------------------------------------------------------


def _client_process(conn: Connection, port: int, base_port: int, tokens: list[str]) -> None:
    """One process, one loop: every guest's two sockets; arrivals stream back through `conn`."""
    _common.raise_fd_limit(2 * len(tokens) + 256)
    try:
        asyncio.run(_clients(conn, port, base_port, tokens))
    except BaseException as exc:  # report, never hang the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


async def _expect(ws: Any, kind: str) -> None:
    for _ in range(20):
        msg = await ws.receive(timeout=REPLY_TIMEOUT)
        if msg.type.name != "TEXT":
            raise RuntimeError(f"expected {kind}, got {msg.type.name} {msg.data!r}")
        if json.loads(msg.data).get("type") == kind:
            return
    raise RuntimeError(f"no {kind} within 20 frames")


async def _clients(conn: Connection, port: int, base_port: int, tokens: list[str]) -> None:
    import aiohttp

    loop = asyncio.get_running_loop()
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    limit = asyncio.Semaphore(25)

    async def guest(token: str) -> Any:
        async with limit:
            ws = await session.ws_connect(f"http://127.0.0.1:{port}/ws")
            await _expect(ws, "connection_established")
            await ws.send_str(json.dumps({"type": "register", "client_type": "proofing",
                                          "client_name": "bench", "token": token}))  # fmt: skip
            await _expect(ws, "registration_confirmed")
            await ws.send_str(json.dumps({"type": "subscribe", "channels": ["proofing"]}))
            await _expect(ws, "subscription_confirmed")
            return ws

    async def plain() -> Any:
        async with limit:
            return await session.ws_connect(f"http://127.0.0.1:{base_port}/ws")

    guests = await asyncio.gather(*(guest(t) for t in tokens))
    plains = await asyncio.gather(*(plain() for _ in tokens))

    async def read(ws: Any, kind: str) -> None:
        async for msg in ws:
            now = time.time()
            if msg.type.name != "TEXT":
                break
            data = json.loads(msg.data)
            if kind == "ours":
                if data.get("type") != "proofing_photo_changed" or data.get("level") != "pick":
                    continue
                key = int(data["seq"])
            else:
                key = int(data["round"])
            conn.send(("rx", kind, key, now))

    readers = [loop.create_task(read(ws, "ours")) for ws in guests]
    readers += [loop.create_task(read(ws, "base")) for ws in plains]
    conn.send(("ready", len(guests), len(plains)))
    await loop.run_in_executor(None, conn.recv)  # the parent says stop
    for ws in [*guests, *plains]:
        await ws.close()
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    await session.close()


# --- the servers ------------------------------------------------------------------------------


async def start_baseline() -> tuple[Any, int, list[Any]]:
    """A bare aiohttp WebSocket server: accept, keep the socket, nothing else."""
    from aiohttp import web

    sockets: list[web.WebSocketResponse] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        sockets.append(ws)
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, int(port), sockets


async def prepare_bridge(data_dir: Path, clients: int) -> tuple[Any, list[str], list[str]]:
    """A bridge with the samples imported and analysed, a proofing link, and N guest tokens."""
    import aiohttp

    from bridge_server.app import BridgeServer
    from bridge_server.pipeline.importer import import_paths
    from bridge_server.services import proofing_links
    from tests.helpers import jobs_settled, make_settings, wait_for

    server = BridgeServer(make_settings(data_dir, workers=1, selection_threshold=1.0))
    await server.start()
    shoot = data_dir.parent / "shoot"
    shoot.mkdir()
    samples = _common.REPO / "resources" / "samples"
    for name in SAMPLES:
        shutil.copy2(samples / f"{name}.jpg", shoot / f"{name}.jpg")
    report = await import_paths(server.context, [str(shoot)], "Venue")
    await wait_for(lambda: jobs_settled(server), timeout=300)
    link = await proofing_links.create_link(
        server.context, report["session_id"], "picks", 24, ["http://127.0.0.1"]
    )
    secret = link["urls"][0].split("#link=", 1)[1]
    url = f"http://127.0.0.1:{server.port}"
    tokens: list[str] = []
    async with aiohttp.ClientSession() as http:
        for i in range(clients):
            resp = await http.post(
                f"{url}/api/proofing/join", json={"link": secret, "client_name": f"Guest {i}"}
            )
            tokens.append(str((await resp.json())["token"]))
        page = await (await http.get(f"{url}/api/photos?session_id={report['session_id']}")).json()
    photo_ids = [p["photo_id"] for p in page["items"] if p["status"] == "analyzed"]
    return server, tokens, photo_ids


# --- the run ----------------------------------------------------------------------------------


async def run(clients: int, rounds: int) -> int:
    """Set up, measure alternating rounds, print the table; 0 when the goal is met."""
    import aiohttp

    tmp = Path(tempfile.mkdtemp(prefix="bench-proofing-"))
    print("preparing: import and analysis of the samples, joining the guests", flush=True)
    server, tokens, photo_ids = await prepare_bridge(tmp / "data", clients)
    print(f"{len(tokens)} guests joined; {len(photo_ids)} photos to approve", flush=True)
    runner, base_port, plain_sockets = await start_baseline()
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(
        target=_client_process, args=(child, server.port, base_port, tokens), daemon=True
    )
    proc.start()
    child.close()  # the parent's copy: a dead client process then reads as EOF, not a hang
    loop = asyncio.get_running_loop()
    arrivals: dict[tuple[str, int], list[float]] = {}
    ready = asyncio.Event()
    failed: list[str] = []

    def pump() -> None:  # the pipe is read on a thread so the server's loop never waits on it
        while True:
            try:
                item = parent.recv()
            except (EOFError, OSError):
                loop.call_soon_threadsafe(take, ("error", "the client process ended"))
                return
            loop.call_soon_threadsafe(take, item)

    def take(item: tuple[Any, ...]) -> None:
        if item[0] == "rx":
            arrivals.setdefault((item[1], item[2]), []).append(item[3])
        elif item[0] == "ready":
            ready.set()
        elif item[0] == "error":
            failed.append(str(item[1]))
            ready.set()

    reader = loop.run_in_executor(None, pump)  # ends when the pipe closes
    await asyncio.wait_for(ready.wait(), 300)
    if failed:
        print("client process failed:", failed[0])
        parent.close()
        await runner.cleanup()
        await server.stop()
        return 2
    while len(plain_sockets) < clients:
        await asyncio.sleep(0.05)

    picks: dict[int, int] = {}  # seq of proofing_photo_changed -> round

    def on_event(event: Any) -> None:
        if event.type == "proofing_photo_changed" and event.payload.get("level") == "pick":
            picks[event.seq] = current["round"]

    current = {"round": -1}
    server.context.broker.add_listener(on_event)
    ours_t0: dict[int, float] = {}
    base_t0: dict[int, float] = {}
    url = f"http://127.0.0.1:{server.port}"

    async def reached_all(kind: str, key: int) -> bool:
        deadline = loop.time() + ROUND_TIMEOUT
        while loop.time() < deadline:
            if len(arrivals.get((kind, key), ())) >= clients:
                return True
            await asyncio.sleep(0.005)
        return False

    async with aiohttp.ClientSession() as http:
        for r in range(rounds):
            photo_id = photo_ids[r % len(photo_ids)]
            current["round"] = r
            ours_t0[r] = time.time()
            resp = await http.post(f"{url}/api/approval/{photo_id}/approve")
            assert resp.status == 200, await resp.text()
            seq = next((s for s, rr in picks.items() if rr == r), None)
            if seq is not None:
                await reached_all("ours", seq)
            await http.post(f"{url}/api/approval/{photo_id}/undo")

            base_t0[r] = time.time()
            frame = json.dumps({"type": "plain", "round": r, "photo_id": photo_id})
            for ws in plain_sockets:
                await ws.send_str(frame)
            await reached_all("base", r)

    server.context.broker.remove_listener(on_event)
    parent.send("stop")
    proc.join(30)
    parent.close()
    await asyncio.gather(reader, return_exceptions=True)
    await runner.cleanup()
    await server.stop()
    shutil.rmtree(tmp, ignore_errors=True)

    seq_round = {seq: r for seq, r in picks.items()}
    ours = [t - ours_t0[seq_round[seq]] for (k, seq), ts in arrivals.items() if k == "ours"
            for t in ts if seq in seq_round]  # fmt: skip
    base = [t - base_t0[r] for (k, r), ts in arrivals.items() if k == "base" for t in ts]
    ours_all = [max(ts) - ours_t0[seq_round[s]] for (k, s), ts in arrivals.items()
                if k == "ours" and s in seq_round and len(ts) >= clients]  # fmt: skip
    base_all = [max(ts) - base_t0[r] for (k, r), ts in arrivals.items()
                if k == "base" and len(ts) >= clients]  # fmt: skip
    return report(clients, rounds, sorted(ours), sorted(base), sorted(ours_all), sorted(base_all))


def report(
    clients: int,
    rounds: int,
    ours: list[float],
    base: list[float],
    ours_all: list[float],
    base_all: list[float],
) -> int:
    """Print the table; 0 when the goal is met."""
    pct = _common.percentile

    def ms(v: float) -> str:
        return f"{v * 1000:.1f} ms"

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.1f}x" if b > 0 else "n/a"

    rows = []
    for label, q in (("p50", 50), ("p99", 99)):
        o, b = pct(ours, q), pct(base, q)
        goal = f"<= {GOAL_P99_MS:.0f} ms" if q == 99 else ""
        rows.append([f"{label} approval -> arrival (each guest)", goal, ms(b), ms(o), ratio(o, b)])
    o, b = pct(ours_all, 99), pct(base_all, 99)
    rows.append([f"p99 until all {clients} have it", "", ms(b), ms(o), ratio(o, b)])
    delivered = f"{len(ours)}/{clients * rounds}"
    rows.append(
        ["arrivals (ours / expected)", f"{clients * rounds}", f"{len(base)}", delivered, ""]
    )
    print(
        _common.table(
            ["metric", "goal", "baseline (plain frames)", "ours (proofing)", "ratio"], rows
        )
    )
    met = pct(ours, 99) * 1000 <= GOAL_P99_MS and len(ours) == clients * rounds
    print(f"goal: {_common.verdict(met)}")
    return 0 if met else 1


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    print(_common.machine_line())
    print(
        f"guests: {args.clients} WebSockets in a separate process; rounds: {args.rounds} each way"
    )
    code = asyncio.run(run(args.clients, args.rounds))
    print(_common.machine_line())
    return code


if __name__ == "__main__":
    sys.exit(main())
