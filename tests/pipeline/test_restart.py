"""Killing the process mid-batch loses no job and repeats none; hot folders import once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
from pathlib import Path

import aiohttp
from PIL import Image

from bridge_server.app import BridgeServer
from tests.app_process import free_port, kill_app, start_app
from tests.helpers import base_url, jobs_settled, make_settings, wait_for


def _distinct_photos(photo_set: dict[str, Path], folder: Path, count: int) -> list[Path]:
    """`count` different real photographs (crops of the fixtures), each with its own content."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = [photo_set[n] for n in ("astronaut", "coffee", "chelsea", "rocket", "motorcycle")]
    made = []
    for i in range(count):
        with Image.open(sources[i % len(sources)]) as im:
            exif = im.getexif()
            crop = im.crop((i * 7, i * 5, im.width - 40 + i, im.height - 30 + i))
            path = folder / f"IMG_{i:04d}.jpg"
            crop.save(path, quality=90, exif=exif)
        made.append(path)
    return made


def _count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


async def test_kill_mid_batch_then_restart_finishes_every_job_once(tmp_path, photo_set):
    photos = _distinct_photos(photo_set, tmp_path / "shoot", 24)
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.json").write_text(json.dumps({"import_roots": [str(tmp_path)]}))
    port = free_port()
    proc = await start_app(data, port)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            resp = await http.post(f"{url}/api/import", json={"paths": [str(tmp_path / "shoot")]})
            assert resp.status == 202
            assert len((await resp.json())["imported"]) == len(photos)

            async def some_done() -> bool:
                async with http.get(f"{url}/api/jobs?status=completed&limit=1") as r:
                    return (await r.json())["total"] >= 3

            await wait_for(some_done, timeout=60, interval=0.02)
        kill_app(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    db = data / "bridge.sqlite3"
    done_before = _count(db, "SELECT count(*) FROM jobs WHERE status='completed'")
    assert done_before < len(photos), "the batch finished before the kill; nothing was tested"

    proc = await start_app(data, port)
    try:
        async with aiohttp.ClientSession() as http:

            async def all_done() -> bool:
                async with http.get(f"{url}/api/jobs?status=completed&limit=1") as r:
                    return (await r.json())["total"] == len(photos)

            await wait_for(all_done, timeout=120)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert _count(db, "SELECT count(*) FROM jobs") == len(photos)
    assert _count(db, "SELECT count(*) FROM jobs WHERE status != 'completed'") == 0
    assert _count(db, "SELECT count(*) FROM photos WHERE status='analyzed'") == len(photos)
    assert _count(db, "SELECT count(DISTINCT photo_id) FROM jobs") == len(photos)
    # No sequence number was issued twice, even though the kill lost unflushed events.
    assert _count(db, "SELECT count(*) - count(DISTINCT seq) FROM events") == 0


async def test_approved_exports_are_written_exactly_once_across_a_kill(tmp_path, photo_set):
    _distinct_photos(photo_set, tmp_path / "shoot", 10)
    data = tmp_path / "data"
    exports = tmp_path / "exports"
    data.mkdir()
    # Every keeper proposed; exports to our folder, Archive preset for the heaviest write.
    settings = {
        "selection_threshold": 1.0,
        "burst_hash_distance": 0,
        "export_dir": str(exports),
        "import_roots": [str(tmp_path)],
    }
    (data / "settings.json").write_text(json.dumps(settings))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = await start_app(data, port)
    try:
        async with aiohttp.ClientSession() as http:
            await http.post(f"{url}/api/import", json={"paths": [str(tmp_path / "shoot")]})

            async def analysed() -> bool:
                async with http.get(f"{url}/api/jobs?status=completed&limit=1") as r:
                    return (await r.json())["total"] == 10

            await wait_for(analysed, timeout=60)
            await asyncio.sleep(0.6)  # selection settles
            queue = await (await http.get(f"{url}/api/approval/queue")).json()
            assert queue["total"] >= 8
            for photo in queue["items"]:
                r = await http.post(f"{url}/api/approval/{photo['photo_id']}/approve")
                assert r.status == 200

            async def some_exported() -> bool:
                return len(list(exports.rglob("*.jpg"))) >= 2

            await wait_for(some_exported, timeout=60, interval=0.02)
        kill_app(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    approved = queue["total"]
    proc = await start_app(data, port)
    try:
        async with aiohttp.ClientSession() as http:

            async def exported_all() -> bool:
                async with http.get(f"{url}/api/jobs?kind=export&status=completed") as r:
                    return (await r.json())["total"] == approved

            await wait_for(exported_all, timeout=120)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    files = sorted(p.name for p in exports.rglob("*.jpg"))
    assert len(files) == approved, files
    assert not any(name.endswith("-1.jpg") for name in files), files
    assert list(exports.rglob("*.tmp")) == [] and list(exports.rglob(".*")) == []


async def test_hot_folder_imports_a_file_only_once_it_is_fully_written(tmp_path, http, photo_set):
    hot = tmp_path / "hot"
    (hot / "Birthday").mkdir(parents=True)
    server = BridgeServer(make_settings(tmp_path / "d", hot_folders=[str(hot)]))
    await server.start()
    try:
        data = photo_set["astronaut"].read_bytes()
        target = hot / "Birthday" / "IMG_0001.jpg"
        # A slow card reader: the file grows over ~2 s.
        with open(target, "wb") as fh:
            step = len(data) // 8 + 1
            for i in range(0, len(data), step):
                fh.write(data[i : i + step])
                fh.flush()
                os.fsync(fh.fileno())
                await asyncio.sleep(0.25)
        await wait_for(lambda: jobs_settled(server), timeout=60)
        photos = await (await http.get(f"{base_url(server)}/api/photos")).json()
        assert photos["total"] == 1
        photo = photos["items"][0]
        assert photo["status"] == "analyzed"
        session = await (
            await http.get(f"{base_url(server)}/api/sessions/{photo['session_id']}")
        ).json()
        assert session["session_name"].startswith("Birthday ")
    finally:
        await server.stop()


async def test_hot_folders_changed_in_the_settings_apply_at_once(bridge, http, photo_set, tmp_path):
    hot = tmp_path / "new-hot"
    hot.mkdir()
    await bridge.pipeline.set_hot_folders([str(hot)])
    assert bridge.settings.hot_folders == [str(hot)]
    (hot / "IMG_0042.jpg").write_bytes(photo_set["coffee"].read_bytes())
    await wait_for(lambda: jobs_settled(bridge), timeout=60)
    photos = await (await http.get(f"{base_url(bridge)}/api/photos")).json()
    assert [p["file_name"] for p in photos["items"]] == ["IMG_0042.jpg"]


async def test_resume_across_a_real_kill_tells_the_truth(tmp_path):
    """Events a client saw live just before a SIGKILL are either replayed exactly after the
    restart, or the server says recovered: false. Never a silent gap."""
    data = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = await start_app(data, port)
    seen: list[dict] = []
    try:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{url}/ws")
            start_seq = (await ws.receive_json())["seq"]
            await ws.send_json({"type": "subscribe", "channels": ["sessions"]})
            await ws.receive_json()
            for i in range(5):
                await http.post(f"{url}/api/sessions", json={"session_name": f"Shoot {i}"})
            while len(seen) < 5:
                seen.append(await ws.receive_json(timeout=10))
            # Killed right after: some of these may not have reached the event log yet.
            kill_app(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    proc = await start_app(data, port)
    try:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{url}/ws")
            await ws.receive_json()
            await ws.send_json({"type": "subscribe", "channels": ["sessions"], "since": start_seq})
            replayed = []
            while True:
                message = await ws.receive_json(timeout=10)
                if message["type"] == "subscription_confirmed":
                    break
                replayed.append(message)
            if message["recovered"]:
                assert [e["seq"] for e in replayed] == [e["seq"] for e in seen]
                assert [e["session_name"] for e in replayed] == [f"Shoot {i}" for i in range(5)]
            else:
                assert replayed == [] and message["replayed"] == 0
            assert message["seq"] >= seen[-1]["seq"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
