"""Unexpected failures are reported and recovered from; thresholds warn; alternates promote."""

from __future__ import annotations

import os
import signal

from bridge_server.app import BridgeServer
from bridge_server.services.system import SystemMonitor
from tests.helpers import base_url, connect, copy_photos, jobs_settled, make_settings, wait_for


async def test_a_crashed_worker_is_reported_and_the_job_retried(bridge, http, photo_set, tmp_path):
    client = await connect(http, bridge)
    await client.subscribe(["jobs", "system"])
    await bridge.pipeline.pool.warm_up()
    copy_photos(photo_set, ["astronaut"], tmp_path / "s")
    await http.post(f"{base_url(bridge)}/api/import", json={"paths": [str(tmp_path / "s")]})
    await client.recv_type("job_started")
    executor = bridge.pipeline.pool._executor
    assert executor is not None
    for pid in list(executor._processes):  # the workers, as a crash or the OOM killer would
        os.kill(pid, signal.SIGKILL)
    error = await client.recv_type("error_occurred", timeout=30)
    assert error["error_details"]["will_retry"] is True
    assert error["job_id"]
    done = await client.recv_type("job_completed", timeout=60)
    assert done["job_id"] == error["job_id"]
    job = await (await http.get(f"{base_url(bridge)}/api/jobs/{done['job_id']}")).json()
    assert job["status"] == "completed" and job["retry_count"] == 1


async def test_low_disk_publishes_one_resource_warning(tmp_path, http):
    # A threshold above any real free space makes the crossing real on this machine.
    server = BridgeServer(make_settings(tmp_path / "d", disk_warning_mb=10**9))
    await server.start()
    try:
        client = await connect(http, server)
        await client.subscribe(["system"])
        monitor = SystemMonitor(server.context)
        await monitor.check()
        warning = await client.recv_type("resource_warning")
        assert warning["resource_type"].startswith("disk_")
        assert warning["current_value"] < warning["threshold"]
        assert "free" in warning["message"]
        await monitor.check()  # still low: no second warning for the same crossing
        status = await client.recv_type("system_status")
        await client.send({"type": "ping"})
        nxt = await client.recv()
        assert nxt["type"] in ("pong", "system_status") and status["details"]["disk_free_mb"]
    finally:
        await server.stop()


async def test_an_alternate_can_be_promoted_and_exported(bridge, http, photo_set, tmp_path):
    client = await connect(http, bridge)
    await client.subscribe(["export"])
    copy_photos(photo_set, ["burst_1", "burst_2", "burst_3"], tmp_path / "s")
    await http.post(f"{base_url(bridge)}/api/import", json={"paths": [str(tmp_path / "s")]})
    await wait_for(lambda: jobs_settled(bridge), timeout=60)
    alternates = await (await http.get(f"{base_url(bridge)}/api/photos?selection=alternate")).json()
    assert alternates["total"] == 2
    alternate = alternates["items"][0]
    result = await client.command("approve_photo", photo_id=alternate["photo_id"])
    assert result["success"] and result["data"]["photo"]["approval"] == "approved"
    exported = await client.recv_type("export_completed", timeout=30)
    assert exported["photo_id"] == alternate["photo_id"]
