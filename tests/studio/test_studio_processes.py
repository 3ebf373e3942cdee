"""A studio on loopback: real bridge processes and `autodev-bridge-worker` processes sharing one
PostgreSQL database and one Redis stream, with phones on WebSockets."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.app_process import AppProcess, free_port, kill_app, kill_worker, start_app, start_worker
from tests.helpers import ProtocolClient, copy_photos, wait_for

SHOOT = ["astronaut", "coffee", "chelsea", "rocket"]


@dataclass
class Remote:
    """A bridge process as the test helpers address it (by port)."""

    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self.port}"


class Studio:
    """Starts bridges and workers of one studio and stops whatever is left at the end."""

    def __init__(self, root: Path, studio: dict[str, Any]) -> None:
        self.root = root
        self.args = [
            "--database-url",
            studio["database_url"],
            "--redis-url",
            studio["redis_url"],
            "--studio-key",
            studio["studio_key"],
        ]
        self.exports = root / "exports"
        self.bridges: list[Remote] = []
        self.workers: list[AppProcess] = []

    def _data_dir(self, name: str, settings: dict[str, Any]) -> Path:
        data = self.root / name
        data.mkdir(parents=True)
        (data / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
        return data

    async def bridge(self, name: str) -> Remote:
        """A bridge that leaves jobs to the workers; the test folder is an import root."""
        data = self._data_dir(
            name,
            {
                "import_roots": [str(self.root)],
                "selection_threshold": 1.0,
                "burst_hash_distance": 0,
                "export_dir": str(self.exports),
            },
        )
        port = free_port()
        proc = await start_app(data, port, *self.args, "--no-local-jobs")
        remote = Remote(port, proc)
        self.bridges.append(remote)
        return remote

    async def worker(self, name: str, *extra: str) -> AppProcess:
        """A worker "machine" (its own data folder; exports go to the shared folder)."""
        data = self._data_dir(
            name,
            {
                "export_dir": str(self.exports),
                "selection_threshold": 1.0,
                "burst_hash_distance": 0,
            },
        )
        worker = await asyncio.to_thread(start_worker, data, name, *self.args, *extra)
        self.workers.append(worker)
        return worker

    def close(self) -> None:
        """Stop every process still running."""
        for remote in self.bridges:
            if remote.proc.poll() is None:
                kill_app(remote.proc)
        for worker in self.workers:
            if worker.proc.poll() is None:
                worker.stop()


@pytest.fixture
def studio_on_loopback(tmp_path: Path, studio: dict[str, Any]) -> Any:
    """A studio whose processes are cleaned up after the test."""
    s = Studio(tmp_path, studio)
    try:
        yield s
    finally:
        s.close()


async def phone(http: aiohttp.ClientSession, bridge: Remote) -> ProtocolClient:
    """A registered WebSocket client on `bridge`."""
    client = ProtocolClient(await http.ws_connect(f"{bridge.url}/ws"))
    client.hello = await client.recv()
    await client.send({"type": "register", "client_type": "phone", "client_name": "pytest"})
    await client.recv_type("registration_confirmed")
    return client


async def subscribe_collecting(
    client: ProtocolClient, channels: list[str], since: int | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Subscribe; the confirmation and the events replayed before it."""
    message: dict[str, Any] = {"type": "subscribe", "channels": channels}
    if since is not None:
        message["since"] = since
    await client.send(message)
    replayed: list[dict[str, Any]] = []
    while True:
        frame = await client.recv(timeout=10)
        if frame["type"] == "subscription_confirmed":
            return frame, replayed
        replayed.append(frame)


async def read_until(
    client: ProtocolClient, seen: list[dict[str, Any]], done: Any, timeout: float = 120
) -> None:
    """Append every event the phone receives to `seen` until `done(seen)` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not done(seen):
        remaining = deadline - asyncio.get_running_loop().time()
        assert remaining > 0, f"phone saw only {[e['type'] for e in seen]}"
        frame = await client.recv(timeout=remaining)
        if "seq" in frame and frame.get("type") not in ("subscription_confirmed", "pong"):
            seen.append(frame)


def of(seen: list[dict[str, Any]], type_: str, **match: Any) -> list[dict[str, Any]]:
    """Events of a type whose fields match."""
    return [e for e in seen if e["type"] == type_ and all(e.get(k) == v for k, v in match.items())]


async def import_shoot(http: aiohttp.ClientSession, bridge: Remote, folder: Path) -> list[str]:
    """POST /api/import on `bridge`; the imported photo ids."""
    async with http.post(f"{bridge.url}/api/import", json={"paths": [str(folder)]}) as resp:
        assert resp.status == 202, await resp.text()
        return list((await resp.json())["imported"])


async def jobs_of(http: aiohttp.ClientSession, bridge: Remote) -> list[dict[str, Any]]:
    """Every job, as `bridge` lists it."""
    async with http.get(f"{bridge.url}/api/jobs?limit=500") as resp:
        assert resp.status == 200
        return list((await resp.json())["items"])


async def test_an_import_on_one_bridge_is_analysed_by_the_workers_and_reaches_a_phone_on_the_other_in_order(  # noqa: E501
    tmp_path, http, photo_set, studio_on_loopback
):
    a = await studio_on_loopback.bridge("bridge-a")
    b = await studio_on_loopback.bridge("bridge-b")
    await studio_on_loopback.worker("w1")
    await studio_on_loopback.worker("w2")
    on_b = await phone(http, b)
    await subscribe_collecting(on_b, ["*"])

    copy_photos(photo_set, SHOOT, tmp_path / "shoot")
    photo_ids = await import_shoot(http, a, tmp_path / "shoot")
    assert len(photo_ids) == len(SHOOT)
    seen: list[dict[str, Any]] = []

    def all_analysed(events: list[dict[str, Any]]) -> bool:
        return all(of(events, "photo_analyzed", photo_id=p) for p in photo_ids) and len(
            of(events, "job_completed")
        ) >= len(photo_ids)

    await read_until(on_b, seen, all_analysed)

    # Every event once, in one global order, wherever it was published.
    seqs = [e["seq"] for e in seen]
    assert seqs == sorted(set(seqs)), seqs
    for photo_id in photo_ids:
        assert len(of(seen, "photo_imported", photo_id=photo_id)) == 1  # published on A
        assert len(of(seen, "photo_analyzed", photo_id=photo_id)) == 1  # published by a worker
    jobs = await jobs_of(http, a)
    analyses = [j for j in jobs if j["kind"] == "analyze"]
    assert len(analyses) == len(photo_ids)
    assert all(j["status"] == "completed" for j in analyses), analyses
    assert {j["worker"] for j in analyses} <= {"w1", "w2"}, analyses
    for job in analyses:
        assert len(of(seen, "job_completed", job_id=job["job_id"])) == 1

    # B goes away; meanwhile a decision is made on A; the phone resumes on A where it left off.
    last = seqs[-1]
    await asyncio.to_thread(kill_app, b.proc)
    async with http.post(f"{a.url}/api/approval/{photo_ids[0]}/approve") as resp:
        assert resp.status == 200, await resp.text()
    on_a = await phone(http, a)

    async def resumed() -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        confirmed, replayed = await subscribe_collecting(on_a, ["*"], since=last)
        # The approval may still be on its way through the stream: ask again from the same place.
        return (confirmed, replayed) if of(replayed, "photo_approved") else None

    confirmed, replayed = await wait_for(resumed, timeout=30, interval=0.2)
    # One history for the whole studio: the epoch B announced is A's too.
    assert confirmed["recovered"] is True and confirmed["epoch"] == on_b.hello["epoch"]
    replayed_seqs = [e["seq"] for e in replayed]
    assert replayed_seqs == sorted(set(replayed_seqs)) and replayed_seqs[0] > last
    assert len(of(replayed, "photo_approved", photo_id=photo_ids[0])) == 1


async def test_approvals_of_one_photo_on_two_bridges_at_once_make_one_export(
    tmp_path, http, photo_set, studio_on_loopback
):
    a = await studio_on_loopback.bridge("bridge-a")
    b = await studio_on_loopback.bridge("bridge-b")
    await studio_on_loopback.worker("w1", "--jobs", "2")
    watcher = await phone(http, a)
    await subscribe_collecting(watcher, ["*"])
    copy_photos(photo_set, ["coffee"], tmp_path / "shoot")
    [photo_id] = await import_shoot(http, b, tmp_path / "shoot")
    seen: list[dict[str, Any]] = []
    await read_until(watcher, seen, lambda ev: of(ev, "photo_analyzed", photo_id=photo_id))

    async def approve(bridge: Remote) -> int:
        async with http.post(f"{bridge.url}/api/approval/{photo_id}/approve") as resp:
            return resp.status

    statuses = await asyncio.gather(*(approve(bridge) for bridge in [a, b] * 5))
    assert set(statuses) == {200}, statuses
    await read_until(watcher, seen, lambda ev: of(ev, "export_completed", photo_id=photo_id))

    exports = [j for j in await jobs_of(http, a) if j["kind"] == "export"]
    assert len(exports) == 1, exports
    assert len(of(seen, "photo_approved", photo_id=photo_id)) == 1
    assert len(of(seen, "export_completed", photo_id=photo_id)) == 1
    files = [p for p in studio_on_loopback.exports.rglob("*") if p.is_file()]
    assert len(files) == 1, files


async def test_a_worker_killed_mid_job_leaves_the_job_to_the_other_worker_which_completes_it_once(
    tmp_path, http, photo_set, studio_on_loopback
):
    a = await studio_on_loopback.bridge("bridge-a")
    copy_photos(photo_set, ["rocket"], tmp_path / "shoot")
    # Worker 1 reads the shoot through a path map into a folder where the photo is a FIFO no
    # one writes: its pool process blocks opening it, so the job is surely mid-run at the kill.
    stall = tmp_path / "stall"
    stall.mkdir()
    os.mkfifo(stall / (tmp_path / "shoot").iterdir().__next__().name)
    w1 = await studio_on_loopback.worker(
        "w1", "--path-map", f"{tmp_path / 'shoot'}={stall}", "--lease-seconds", "2"
    )
    on_a = await phone(http, a)
    await subscribe_collecting(on_a, ["jobs", "photos"])
    [photo_id] = await import_shoot(http, a, tmp_path / "shoot")
    seen: list[dict[str, Any]] = []
    await read_until(on_a, seen, lambda ev: of(ev, "job_progress", stage="analyzing"))
    [job] = [j for j in await jobs_of(http, a) if j["photo_id"] == photo_id]
    assert job["status"] == "running" and job["worker"] == "w1", job

    await asyncio.to_thread(kill_worker, w1)
    await studio_on_loopback.worker("w2", "--lease-seconds", "2")
    await read_until(on_a, seen, lambda ev: of(ev, "job_completed", job_id=job["job_id"]))

    [done] = [j for j in await jobs_of(http, a) if j["job_id"] == job["job_id"]]
    assert done["status"] == "completed" and done["worker"] == "w2", done
    assert len(of(seen, "job_completed", job_id=job["job_id"])) == 1
    assert len(of(seen, "photo_analyzed", photo_id=photo_id)) == 1
    async with http.get(f"{a.url}/api/photos/{photo_id}") as resp:
        assert (await resp.json())["status"] == "analyzed"
