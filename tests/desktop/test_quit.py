"""Quitting: clients are told 1001, running jobs reach a safe point, and no job is lost."""

from __future__ import annotations

import asyncio

import aiohttp
from sqlalchemy import select

from bridge_server.store.db import Database
from bridge_server.store.enums import JobStatus
from bridge_server.store.models import Job, Photo
from desktop.models.jobs import JobIdRole
from desktop.paths import sample_photos
from tests.desktop.conftest import Desk, start_desk
from tests.helpers import ProtocolClient


async def _jobs(path) -> dict[str, JobStatus]:  # type: ignore[no-untyped-def]
    db = Database(path)
    try:
        async with db.session() as s:
            return {j.id: j.status for j in (await s.execute(select(Job))).scalars()}
    finally:
        await db.close()


def test_quit_with_jobs_running_loses_no_job(desk: Desk, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = desk.app.settings

    async def quit_mid_import() -> tuple[set[str], int]:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{desk.base_url}/ws")
            client = ProtocolClient(ws)
            await client.recv()
            # Every client registers in time (or is closed with 4002).
            await client.send({"type": "register", "client_type": "test"})
            await client.recv_type("registration_confirmed")
            await desk.models.import_paths(sample_photos(), "Quit test")
            await desk.until(
                lambda: (
                    desk.models.queue_counts.get("processing", 0) > 0
                    or any(
                        desk.models.jobs.index(r, 3).data() == "Running"
                        for r in range(desk.models.jobs.rowCount())
                    )
                ),
                what="a running job",
            )
            ids = {
                str(desk.models.jobs.index(r, 0).data(JobIdRole))
                for r in range(desk.models.jobs.rowCount())
            }
            stopping = asyncio.ensure_future(desk.app.stop())
            # The 1001 comes once running jobs reached a safe point and the event log is
            # flushed: on a busy machine that takes longer than a single frame's wait.
            code = await client.expect_close(timeout=60)
            await stopping
            return ids, code

    ids, close_code = desk.run(quit_mid_import(), timeout=120)
    assert close_code == 1001
    stored = desk.run(_jobs(settings.database_path))
    assert ids <= set(stored)
    assert len(stored) == len(sample_photos())
    assert all(status in (JobStatus.PENDING, JobStatus.COMPLETED) for status in stored.values())

    # Start again on the same data: the interrupted work finishes.
    again = start_desk(desk.loop, tmp_path / "data")
    try:

        async def finish() -> None:
            async def all_done() -> bool:
                statuses = await _jobs(settings.database_path)
                return all(s == JobStatus.COMPLETED for s in statuses.values())

            for _ in range(600):
                if await all_done():
                    break
                await asyncio.sleep(0.1)
            async with again.ctx.db.session() as s:
                photos = (await s.execute(select(Photo))).scalars().all()
            assert len(photos) == len(sample_photos())
            assert all(p.status.value == "analyzed" for p in photos)

        again.run(finish(), timeout=90)
    finally:
        again.run(again.app.stop())
        again.window.deleteLater()
