"""Job control and failure handling: priority, cancel, retry, pause, failing exports."""

from __future__ import annotations

import pytest

from bridge_server.app import BridgeServer
from tests.helpers import base_url, connect, copy_photos, jobs_settled, make_settings, wait_for


async def _import(http, server, folder) -> dict:
    resp = await http.post(f"{base_url(server)}/api/import", json={"paths": [str(folder)]})
    assert resp.status == 202
    return await resp.json()


async def test_paused_processing_starts_nothing_until_resumed(bridge, http, photo_set, tmp_path):
    url = base_url(bridge)
    client = await connect(http, bridge)
    await client.subscribe(["jobs", "system", "queue"])
    assert (await http.post(f"{url}/api/processing/pause")).status == 200
    status = await client.recv_type("system_status")
    assert status["status"] == "paused"
    copy_photos(photo_set, ["coffee", "rocket"], tmp_path / "shoot")
    await _import(http, bridge, tmp_path / "shoot")
    pending = await (await http.get(f"{url}/api/jobs?status=pending")).json()
    assert pending["total"] == 2
    job_id = pending["items"][0]["job_id"]

    resp = await http.post(f"{url}/api/jobs/{job_id}/priority", json={"priority": 1})
    assert resp.status == 200 and (await resp.json())["job"]["priority"] == 1
    changed = await client.recv_type("priority_changed")
    assert changed == {**changed, "job_id": job_id, "old_priority": 2, "new_priority": 1}

    other = pending["items"][1]["job_id"]
    resp = await http.post(f"{url}/api/jobs/{other}/cancel")
    assert (await resp.json())["job"]["status"] == "cancelled"
    running = await (await http.get(f"{url}/api/jobs?status=running")).json()
    assert running["total"] == 0

    assert (await http.post(f"{url}/api/processing/resume")).status == 200
    started = await client.recv_type("job_started")
    assert started["job_id"] == job_id
    await client.recv_type("job_completed")
    await wait_for(lambda: jobs_settled(bridge))
    assert (await (await http.get(f"{url}/api/jobs/{other}")).json())["status"] == "cancelled"

    resp = await http.post(f"{url}/api/jobs/{other}/retry")
    assert (await resp.json())["job"]["status"] == "pending"
    await wait_for(lambda: jobs_settled(bridge))
    assert (await (await http.get(f"{url}/api/jobs/{other}")).json())["status"] == "completed"
    resp = await http.post(f"{url}/api/jobs/{other}/cancel")
    assert resp.status == 409


async def test_corrupt_file_fails_its_job_with_a_reason_and_is_not_retried(
    bridge, http, photo_set, tmp_path
):
    client = await connect(http, bridge)
    await client.subscribe(["jobs"])
    copy_photos(photo_set, ["truncated", "not_an_image", "chelsea"], tmp_path / "s")
    await _import(http, bridge, tmp_path / "s")
    failures = [await client.recv_type("job_failed", timeout=30) for _ in range(2)]
    for failure in failures:
        assert failure["error_message"]
        assert failure["error_details"]["will_retry"] is False
    await wait_for(lambda: jobs_settled(bridge))
    jobs = await (await http.get(f"{base_url(bridge)}/api/jobs")).json()
    by_status = sorted(j["status"] for j in jobs["items"])
    assert by_status == ["completed", "failed", "failed"]
    assert all(j["retry_count"] == 0 for j in jobs["items"])


async def test_export_to_an_impossible_folder_fails_cleanly(tmp_path, http, photo_set):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the export folder should be")
    settings = make_settings(tmp_path / "d")
    for preset in settings.export_presets:
        preset["destination"] = str(blocker / "exports")
    server = BridgeServer(settings)
    await server.start()
    try:
        client = await connect(http, server)
        await client.subscribe(["export", "jobs"])
        copy_photos(photo_set, ["astronaut"], tmp_path / "s")
        await _import(http, server, tmp_path / "s")
        await wait_for(lambda: jobs_settled(server))
        queue = await (await http.get(f"{base_url(server)}/api/approval/queue")).json()
        assert queue["total"] == 1
        result = await client.command("approve_photo", photo_id=queue["items"][0]["photo_id"])
        assert result["success"]
        failed = await client.recv_type("export_failed", timeout=30)
        assert "folder" in failed["error_message"]
        job_failed = await client.recv_type("job_failed", timeout=30)
        assert job_failed["photo_id"] == queue["items"][0]["photo_id"]
        assert list(tmp_path.glob("**/*.tmp")) == []
    finally:
        await server.stop()


@pytest.mark.parametrize("mode", ["copy", "move"])
async def test_copy_and_move_into_the_library_never_overwrite(tmp_path, http, photo_set, mode):
    settings = make_settings(tmp_path / "d", import_mode=mode)
    server = BridgeServer(settings)
    await server.start()
    try:
        src = copy_photos(photo_set, ["rocket"], tmp_path / "card")[0]
        report = await _import(http, server, tmp_path / "card")
        photo = await (
            await http.get(f"{base_url(server)}/api/photos/{report['imported'][0]}")
        ).json()
        assert photo["file_path"].startswith(settings.library_dir)
        assert src.exists() is (mode == "copy")
    finally:
        await server.stop()
