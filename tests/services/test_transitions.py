"""State changes race safely: one winner per transition, events only for real changes."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import case, func, select, update

from bridge_server.app import BridgeServer
from bridge_server.broker import EventBroker, PublishedEvent
from bridge_server.context import BridgeContext
from bridge_server.services import jobs as job_service
from bridge_server.services.errors import Conflict
from bridge_server.services.queries import job_counts
from bridge_server.store.db import Database
from bridge_server.store.enums import JobKind, JobStatus
from bridge_server.store.models import Job, Photo, Session
from tests.helpers import base_url, connect, copy_photos, jobs_settled, make_settings, wait_for

SHOOT = ["astronaut", "coffee", "chelsea", "rocket"]


class Recorder:
    """Every event the broker publishes, as the desktop listener would see it."""

    def __init__(self, broker: EventBroker) -> None:
        self.events: list[dict[str, Any]] = []
        broker.add_listener(self._on_event)

    def _on_event(self, event: PublishedEvent) -> None:
        self.events.append(event.as_message())

    def of(self, type_: str, **match: Any) -> list[dict[str, Any]]:
        """Events of a type whose fields match."""
        return [
            e
            for e in self.events
            if e["type"] == type_ and all(e.get(k) == v for k, v in match.items())
        ]


async def _start(
    tmp_path: Path, store: dict[str, Any] | None = None, **overrides: Any
) -> BridgeServer:
    values: dict[str, Any] = {"selection_threshold": 1.0, "burst_hash_distance": 0}
    values.update(store or {})
    values.update(overrides)
    server = BridgeServer(make_settings(tmp_path / "data", **values))
    await server.start()
    return server


async def _import(http: aiohttp.ClientSession, server: BridgeServer, folder: Path) -> dict:
    resp = await http.post(f"{base_url(server)}/api/import", json={"paths": [str(folder)]})
    assert resp.status == 202
    return await resp.json()


async def _count(server: BridgeServer, query: Any) -> int:
    async with server.context.db.session() as s:
        return int((await s.execute(query)).scalar_one())


async def test_approving_one_photo_from_two_clients_and_rest_at_once_makes_one_export(
    tmp_path, http, photo_set, store
):
    server = await _start(tmp_path, store)
    try:
        url = base_url(server)
        recorder = Recorder(server.context.broker)
        copy_photos(photo_set, SHOOT, tmp_path / "shoot")
        await _import(http, server, tmp_path / "shoot")
        await wait_for(lambda: jobs_settled(server))
        queue = await (await http.get(f"{url}/api/approval/queue")).json()
        photo_ids = [p["photo_id"] for p in queue["items"]]
        assert len(photo_ids) == len(SHOOT)
        desk, phone = await connect(http, server), await connect(http, server)

        async def rest(photo_id: str) -> bool:
            async with http.post(f"{url}/api/approval/{photo_id}/approve") as resp:
                return resp.status == 200

        async def approve_all(client: Any) -> bool:
            # Every command is sent before any reply is read, so they run concurrently.
            for n, photo_id in enumerate(photo_ids):
                await client.send(
                    {"type": "command", "id": n, "command": "approve_photo", "photo_id": photo_id}
                )
            replies = [await client.recv_type("result") for _ in photo_ids]
            return all(r["success"] for r in replies)

        results = await asyncio.gather(
            approve_all(desk),
            approve_all(phone),
            *(rest(p) for p in photo_ids),
            *(rest(p) for p in reversed(photo_ids)),
        )
        assert all(results), results

        for photo_id in photo_ids:
            exports = await _count(
                server,
                select(func.count())
                .select_from(Job)
                .where(Job.photo_id == photo_id, Job.kind == "export"),
            )
            assert exports == 1, f"{exports} export jobs for one approved photo"
            assert len(recorder.of("photo_approved", photo_id=photo_id)) == 1
        await wait_for(lambda: jobs_settled(server))
        assert len(recorder.of("export_completed")) == len(photo_ids)
    finally:
        await server.stop()


async def test_a_cancel_racing_the_start_of_its_job_wins_or_loses_cleanly(
    tmp_path, http, photo_set, store
):
    server = await _start(tmp_path, store)
    try:
        url = base_url(server)
        recorder = Recorder(server.context.broker)
        assert (await http.post(f"{url}/api/processing/pause")).status == 200
        copy_photos(photo_set, SHOOT, tmp_path / "shoot")
        await _import(http, server, tmp_path / "shoot")
        pending = await (await http.get(f"{url}/api/jobs?status=pending")).json()
        job_ids = [j["job_id"] for j in pending["items"]]

        async def cancel(job_id: str) -> dict:
            async with http.post(f"{url}/api/jobs/{job_id}/cancel") as resp:
                assert resp.status == 200
                return (await resp.json())["job"]

        # Resume (the scheduler starts jobs) and cancel every job, all at the same moment.
        resume = http.post(f"{url}/api/processing/resume")
        results = await asyncio.gather(resume, *(cancel(j) for j in job_ids))
        assert all(r["status"] == "cancelled" for r in results[1:])
        await wait_for(lambda: _settled_or_empty(server))
        for job_id in job_ids:
            job = await (await http.get(f"{url}/api/jobs/{job_id}")).json()
            assert job["status"] == "cancelled", job
            assert recorder.of("job_completed", job_id=job_id) == []
            assert len(recorder.of("job_failed", job_id=job_id)) == 1
        photos = await (await http.get(f"{url}/api/photos")).json()
        assert {p["status"] for p in photos["items"]} == {"failed"}
    finally:
        await server.stop()


async def _settled_or_empty(server: BridgeServer) -> bool:
    running = await _count(
        server,
        select(func.count()).select_from(Job).where(Job.status.in_(["pending", "running"])),
    )
    return running == 0 and server.pipeline.scheduler.running_count == 0


async def test_a_job_cancelled_by_another_writer_is_never_reported_completed(
    tmp_path, http, photo_set, store
):
    """A second bridge process (here: a second engine on the same file) cancels a job this
    scheduler is running: the scheduler's writes match no row and it publishes nothing."""
    server = await _start(tmp_path, store)
    other = Database(server.settings.database_path, server.settings.database_url)
    try:
        recorder = Recorder(server.context.broker)
        elsewhere = BridgeContext(
            settings=server.settings, db=other, broker=EventBroker(history_size=10)
        )
        copy_photos(photo_set, ["astronaut"], tmp_path / "shoot")
        await _import(http, server, tmp_path / "shoot")
        started = await wait_for(
            lambda: _first(recorder, "job_started"), timeout=30, interval=0.005
        )
        job = await job_service.cancel_job(elsewhere, started["job_id"])
        assert job["status"] == "cancelled"
        await wait_for(lambda: _settled_or_empty(server))
        await wait_for(lambda: _false(server.pipeline.busy))
        assert recorder.of("job_completed", job_id=started["job_id"]) == []
        assert recorder.of("photo_analyzed") == []
        async with server.context.db.session() as s:
            photo = (await s.execute(select(Photo))).scalar_one()
            stored = await s.get(Job, started["job_id"])
        assert stored is not None and stored.status == "cancelled"
        assert photo.status == "failed" and photo.error == "Analysis cancelled"
    finally:
        await other.close()
        await server.stop()


async def _first(recorder: Recorder, type_: str) -> dict[str, Any] | None:
    found = recorder.of(type_)
    return found[0] if found else None


async def _false(value: bool) -> bool:
    return not value


async def test_cancelling_a_running_analysis_leaves_a_settled_photo_and_completes_the_session(
    tmp_path, http, photo_set, store
):
    server = await _start(tmp_path, store)
    try:
        url = base_url(server)
        client = await connect(http, server)
        await client.subscribe(["jobs", "sessions"])
        copy_photos(photo_set, ["astronaut"], tmp_path / "shoot")
        await _import(http, server, tmp_path / "shoot")
        started = await client.recv_type("job_started", timeout=30)
        resp = await http.post(f"{url}/api/jobs/{started['job_id']}/cancel")
        assert resp.status == 200
        completed = await client.recv_type("session_completed", timeout=30)
        photos = await (await http.get(f"{url}/api/photos")).json()
        photo = photos["items"][0]
        assert photo["status"] == "failed", photo
        session = await (await http.get(f"{url}/api/sessions/{photo['session_id']}")).json()
        assert session["status"] == "completed" and completed["session_id"] == session["session_id"]
        # Retrying the cancelled job analyses the photo after all.
        resp = await http.post(f"{url}/api/jobs/{started['job_id']}/retry")
        assert resp.status == 200
        await wait_for(lambda: jobs_settled(server))
        photo = await (await http.get(f"{url}/api/photos/{photo['photo_id']}")).json()
        assert photo["status"] == "analyzed"
    finally:
        await server.stop()


async def test_approving_twice_is_a_repeat_and_approving_an_unanalysed_photo_a_conflict(
    tmp_path, http, photo_set, store
):
    server = await _start(tmp_path, store)
    try:
        url = base_url(server)
        assert (await http.post(f"{url}/api/processing/pause")).status == 200
        copy_photos(photo_set, ["coffee"], tmp_path / "shoot")
        report = await _import(http, server, tmp_path / "shoot")
        photo_id = report["imported"][0]
        resp = await http.post(f"{url}/api/approval/{photo_id}/approve")
        assert resp.status == 409
        assert "only analysed photos" in (await resp.json())["error"]["message"]
        assert (await http.post(f"{url}/api/processing/resume")).status == 200
        await wait_for(lambda: jobs_settled(server))
        recorder = Recorder(server.context.broker)
        first = await http.post(f"{url}/api/approval/{photo_id}/approve")
        second = await http.post(f"{url}/api/approval/{photo_id}/approve")
        assert first.status == second.status == 200
        assert (await second.json())["photo"]["approval"] == "approved"
        assert len(recorder.of("photo_approved")) == 1
        # One export job (a decision may also queue the learned profile's retraining).
        exports = [e for e in recorder.of("job_created") if e["kind"] == "export"]
        assert len(exports) == 1
    finally:
        await server.stop()


async def test_a_job_whose_failure_could_not_be_written_is_failed_once_the_store_recovers(
    tmp_path, caplog, monkeypatch
):
    """The write of a job's failure fails (the database is locked by another writer for
    longer than the busy timeout, as a full disk would make it fail); it is retried, the job
    ends `failed`, and its session completes."""
    from bridge_server.pipeline.scheduler import JobRun, JobScheduler, PermanentJobError
    from bridge_server.services.jobs import PRIORITY_NORMAL, add_job
    from bridge_server.services.sessions import refresh_session
    from bridge_server.store.enums import JobKind

    monkeypatch.setattr("bridge_server.store.db.BUSY_TIMEOUT_MS", 2000)  # fail sooner than 30 s
    settings = make_settings(tmp_path / "data")
    db = Database(settings.database_path)
    await db.migrate()
    broker = EventBroker(history_size=100)
    ctx = BridgeContext(settings=settings, db=db, broker=broker)
    recorder = Recorder(broker)
    async with db.session() as s, s.begin():
        s.add(Session(id="s_disk", name="Full disk"))
        await s.flush()
        s.add(
            Photo(
                id="p_disk",
                session_id="s_disk",
                file_name="a.jpg",
                file_path="/nowhere/a.jpg",
                original_path="/nowhere/a.jpg",
                content_hash="0" * 64,
                file_size=1,
                status="analyzed",
                approval="approved",
            )
        )
        await s.flush()
        job = add_job(s, JobKind.EXPORT, "p_disk", PRIORITY_NORMAL)
    entered, release = asyncio.Event(), asyncio.Event()

    async def export_that_fails(run: JobRun) -> dict[str, Any]:
        entered.set()
        await release.wait()
        raise PermanentJobError("No space left on the export disk")

    async def after(run: JobRun) -> None:
        await refresh_session(ctx, "s_disk")

    scheduler = JobScheduler(ctx, {JobKind.EXPORT: export_that_fails}, 1, after_job=after)
    lock = sqlite3.connect(settings.database_path, isolation_level=None, timeout=30)
    try:
        await scheduler.start()
        await asyncio.wait_for(entered.wait(), 30)
        lock.execute("BEGIN IMMEDIATE")  # every other writer now fails after its busy timeout
        release.set()

        async def write_failed_once() -> bool:
            return any("Could not record job" in r.getMessage() for r in caplog.records)

        await wait_for(write_failed_once, timeout=30)
        lock.execute("COMMIT")

        async def failed() -> bool:
            async with db.session() as s:
                row = await s.get(Job, job.id, populate_existing=True)
                session = await s.get(Session, "s_disk", populate_existing=True)
            return row is not None and row.status == "failed" and session.status == "completed"

        await wait_for(failed, timeout=60)
        assert len(recorder.of("job_failed", job_id=job.id)) == 1
        assert len(recorder.of("session_completed", session_id="s_disk")) == 1
    finally:
        lock.close()
        await scheduler.stop()
        await db.close()


async def test_the_last_queue_status_equals_the_store_even_if_a_change_lands_mid_publish(
    tmp_path, http, photo_set
):
    server = await _start(tmp_path)
    try:
        url = base_url(server)
        ctx = server.context
        assert ctx.queue_status is not None
        recorder = Recorder(ctx.broker)
        assert (await http.post(f"{url}/api/processing/pause")).status == 200
        copy_photos(photo_set, ["coffee", "rocket"], tmp_path / "shoot")
        await _import(http, server, tmp_path / "shoot")
        pending = await (await http.get(f"{url}/api/jobs?status=pending")).json()
        victim = pending["items"][0]["job_id"]
        changed_mid_publish: list[str] = []

        def change_while_publishing(event: PublishedEvent) -> None:
            # Called inside the publication of queue_status, after its counts were read: a
            # job changes now (another writer, committed), and its writer says so.
            if event.as_message()["type"] != "queue_status" or changed_mid_publish:
                return
            conn = sqlite3.connect(server.settings.database_path, timeout=10)
            with conn:
                conn.execute(
                    "UPDATE jobs SET status='cancelled', stage='cancelled' WHERE id=?", (victim,)
                )
            conn.close()
            changed_mid_publish.append(victim)
            assert ctx.queue_status is not None
            ctx.queue_status.changed()

        ctx.broker.add_listener(change_while_publishing)
        ctx.queue_status.changed()

        async def last_equals_store() -> bool:
            statuses = recorder.of("queue_status")
            if not changed_mid_publish or not statuses:
                return False
            async with ctx.db.session() as s:
                counts = await job_counts(s)
            last = {k: statuses[-1][k] for k in counts}
            return last == counts

        await wait_for(last_equals_store, timeout=10)
        status = await (await http.get(f"{url}/api/system/status")).json()
        assert status["queue"]["pending"] == 1, status
    finally:
        await server.stop()


async def test_an_illegal_transition_is_a_conflict_and_changes_nothing(
    tmp_path, http, photo_set, store
):
    server = await _start(tmp_path, store)
    try:
        url = base_url(server)
        copy_photos(photo_set, ["rocket"], tmp_path / "shoot")
        await _import(http, server, tmp_path / "shoot")
        await wait_for(lambda: jobs_settled(server))
        job = (await (await http.get(f"{url}/api/jobs")).json())["items"][0]
        resp = await http.post(f"{url}/api/jobs/{job['job_id']}/cancel")
        assert resp.status == 409
        try:
            await job_service.cancel_job(server.context, job["job_id"])
        except Conflict as exc:
            assert "completed" in exc.message
        else:
            raise AssertionError("cancelling a completed job must be a conflict")
        again = await (await http.get(f"{url}/api/jobs/{job['job_id']}")).json()
        assert again["status"] == "completed"
    finally:
        await server.stop()


async def test_the_jobs_list_shows_each_job_once_while_jobs_start_and_finish(tmp_path, store):
    """A job that starts or finishes while a page is read is listed once: never twice (as
    running and as finished), never missing (between the two walks of the list)."""
    server = await _start(tmp_path, store, local_jobs=False)  # only this test moves the jobs
    try:
        db = server.context.db
        async with db.session() as s, s.begin():
            jobs = [job_service.add_job(s, JobKind.TRAIN_PROFILE, None, 3) for _ in range(12)]
        ids = sorted(j.id for j in jobs)
        moving = True
        next_status = case(
            (Job.status == JobStatus.PENDING, JobStatus.RUNNING),
            (Job.status == JobStatus.RUNNING, JobStatus.COMPLETED),
            else_=JobStatus.PENDING,
        )

        async def churn() -> None:
            # Another machine's workers, as the store sees them: statuses change all the time.
            while moving:
                for job_id in ids:
                    async with db.session() as s, s.begin():
                        await s.execute(
                            update(Job).where(Job.id == job_id).values(status=next_status)
                        )

        churner = asyncio.create_task(churn())
        try:
            for _ in range(150):
                items, total = await job_service.list_jobs(server.context, limit=100)
                assert sorted(i["job_id"] for i in items) == ids
                assert total == len(ids)
        finally:
            moving = False
            await churner
    finally:
        await server.stop()
