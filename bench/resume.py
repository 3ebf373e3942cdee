"""Resume cost: replaying N missed events against reloading over REST, to choose the recovery limit.

A real BridgeServer (temporary data directory, loopback) publishes N events shaped like a real
run (per photo: job_created, job_started, two job_progress, photo_analyzed, job_completed,
photo_selected, queue_status, session_updated, with payloads of the sizes the pipeline sends).
A client that missed them subscribes to `["*"]` with `since` and a recovery limit above N, and
parses every frame (as the phone does) until `subscription_confirmed`. Printed per N: frames and
bytes replayed, the time to the confirmation, the deepest per-connection queue on the server,
and the time a 20 Mbit/s Wi-Fi link needs for those bytes. The baseline is the phone's REST
reload (system status, jobs, sessions, approval queue), timed in the same run. The per-connection
frame and byte caps are lifted in this process so that replays beyond them can be measured.

Usage (from the repo root):
    .venv/bin/python bench/resume.py
    .venv/bin/python bench/resume.py --sizes 250 500 1000 2000 5000 --repeat 3
Every loop is bounded; the run stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    from bench import _common
except ImportError:  # run as `python bench/resume.py`
    import _common  # type: ignore[no-redef]

import aiohttp

from bridge_server import events
from bridge_server.app import BridgeServer
from bridge_server.config import Settings
from bridge_server.web import ws_messages
from bridge_server.web.ws import ClientConnection

WIFI_BYTES_PER_SECOND = 20e6 / 8  # a phone on an ordinary 20 Mbit/s link
RELOAD_PATHS = (
    "/api/system/status",
    "/api/jobs?status=running",
    "/api/sessions",
    "/api/approval/queue",
)


def _photo_events(i: int) -> list[events.Event]:
    """The events one analysed photo produces, with payloads of realistic size."""
    job, photo, session = f"j_{i:012x}", f"p_{i:012x}", "s_0123456789ab"
    analysis = {
        "reasons": ["slightly soft focus", "3% highlights clipped"],
        "factors": {k: 0.5 + (i % 7) / 20 for k in ("focus", "exposure", "noise", "faces", "eyes")},
        "faces": 2,
        "eyes_open": True,
        "sharpness": 412.7,
        "histogram_clip": {"highlights": 0.03, "shadows": 0.01},
        "burst_id": None,
    }
    return [
        events.job_created(job, photo, 2, "analyze"),
        events.job_started(job, photo, "analyze"),
        events.job_progress(job, "analyzing", 10.0, "Decoding"),
        events.job_progress(job, "saving", 90.0, "Saving results"),
        events.photo_analyzed(photo, 4.2, analysis),
        events.job_completed(job, photo, {"ai_score": 4.2, "analysis": analysis}),
        events.photo_selected(photo, "portrait", "Web portfolio 3000 px q90"),
        events.queue_status(10, 1, i, 0, i + 11),
        events.session_updated(session, 400, i, round(i / 4, 2), "active"),
    ]


async def _replay(server: BridgeServer, http: aiohttp.ClientSession, n: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:{server.port}/ws"
    ws = await http.ws_connect(url, max_msg_size=0)
    hello = json.loads((await ws.receive()).data)
    await ws.send_json({"type": "register", "client_type": "bench", "client_name": "resume"})
    await ws.receive()
    start = hello["seq"]
    published = 0
    i = 0
    while published < n:
        for event in _photo_events(i):
            if published < n:
                server.context.broker.publish(event)
                published += 1
        i += 1
    connection = server.context.clients.get(hello["client_id"])
    assert isinstance(connection, ClientConnection)
    frames = replayed_bytes = 0
    t0 = time.perf_counter()
    await ws.send_json({"type": "subscribe", "channels": ["*"], "since": start})
    while True:
        msg = await ws.receive(timeout=60)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise RuntimeError(f"closed during the replay: {msg.type} {msg.data}")
        message = json.loads(msg.data)  # the phone parses every frame
        if message["type"] == "subscription_confirmed":
            break
        frames += 1
        replayed_bytes += len(msg.data.encode("utf-8"))
    elapsed = time.perf_counter() - t0
    await ws.close()
    assert message["recovered"] is True, message
    return {
        "frames": frames,
        "bytes": replayed_bytes,
        "ms": elapsed * 1000,
        "peak": connection.peak_pending_frames,
    }


async def _reload(server: BridgeServer, http: aiohttp.ClientSession) -> float:
    base = f"http://127.0.0.1:{server.port}"
    t0 = time.perf_counter()
    responses = await asyncio.gather(*(http.get(base + path) for path in RELOAD_PATHS))
    for response in responses:
        await response.read()
        assert response.status == 200, response.status
    return (time.perf_counter() - t0) * 1000


async def _run(sizes: list[int], repeat: int) -> None:
    # Measure replays past today's limits too: lift the per-connection caps for this process.
    ws_messages.MAX_PENDING_FRAMES = ws_messages.MAX_PENDING_BYTES = 10**9  # type: ignore[misc]
    rows = []
    reloads: list[float] = []
    for n in sizes:
        samples = []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:
                settings = Settings(
                    data_dir=str(Path(tmp) / "data"),
                    host="127.0.0.1",
                    port=0,
                    workers=1,
                    ws_recovery_limit=max(sizes) + 1,
                )
                server = BridgeServer(settings)
                await server.start()
                try:
                    async with aiohttp.ClientSession() as http:
                        samples.append(await _replay(server, http, n))
                        reloads.append(await _reload(server, http))
                finally:
                    await server.stop()
        ms = statistics.median(s["ms"] for s in samples)
        size = samples[0]["bytes"]
        rows.append(
            [
                f"{n:,}",
                f"{samples[0]['frames']:,}",
                f"{size / 1024:,.0f} KiB",
                f"{size / n:.0f}",
                f"{ms:.0f}",
                f"{max(s['peak'] for s in samples):,}",
                f"{size / WIFI_BYTES_PER_SECOND * 1000:.0f}",
            ]
        )
    print(
        _common.table(
            [
                "events",
                "frames",
                "replayed",
                "bytes/event",
                "replay ms (loopback, median)",
                "server peak queue",
                "ms on 20 Mbit/s",
            ],
            rows,
        )
    )
    print(
        f"REST reload baseline ({len(RELOAD_PATHS)} requests, empty library): "
        f"median {statistics.median(reloads):.1f} ms over {len(reloads)} runs"
    )


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000, 2000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(_common.machine_line())
    asyncio.run(_run(args.sizes, args.repeat))
    print(_common.machine_line())


if __name__ == "__main__":
    main()
