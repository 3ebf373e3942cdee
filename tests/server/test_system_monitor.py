"""The system monitor measures the machine off the event loop."""

from __future__ import annotations

import asyncio
import threading

import psutil

from tests.helpers import base_url, connect


async def test_a_slow_disk_never_stalls_the_event_loop(bridge, http, monkeypatch):
    """Free space on a NAS can take seconds to read: while it does, the loop keeps serving."""
    loop = asyncio.get_running_loop()
    real_disk_usage = psutil.disk_usage
    loop_ran_meanwhile: list[bool] = []

    def slow_disk_usage(path: str) -> object:
        # Stands in for a slow network file system: wait until the loop shows it is still
        # running (or give up after 5 s, as a stalled loop never would).
        progressed = threading.Event()
        loop.call_soon_threadsafe(progressed.set)
        loop_ran_meanwhile.append(progressed.wait(timeout=5))
        return real_disk_usage(path)

    monkeypatch.setattr(psutil, "disk_usage", slow_disk_usage)
    client = await connect(http, bridge)  # clients changed: a status follows within a second
    await client.subscribe(["system"])
    status = await client.recv_type("system_status", timeout=30)
    assert status["details"]["disk_free_mb"]["library"] > 0
    response = await http.get(f"{base_url(bridge)}/api/system/status")
    assert response.status == 200
    assert (await response.json())["disk_free_mb"]["export"] > 0
    assert loop_ran_meanwhile, "the disk was never measured"
    assert all(loop_ran_meanwhile), "the event loop stood still while the disk was measured"
