"""Leases on the shared store: a starting machine leaves a job with a live lease to its worker,
and takes over a job whose lease ran out (its worker died)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bridge_server.app import BridgeServer
from bridge_server.store.models import Job
from bridge_server.timeutil import utcnow
from tests.helpers import base_url, copy_photos, make_settings, wait_for


async def test_start_up_leaves_live_leases_alone_and_an_expired_lease_is_taken_over(
    tmp_path, http, photo_set, studio: dict[str, Any]
):
    desk = BridgeServer(make_settings(tmp_path / "desk", local_jobs=False, **studio))
    await desk.start()
    other: BridgeServer | None = None
    try:
        copy_photos(photo_set, ["coffee"], tmp_path / "shoot")
        async with http.post(
            f"{base_url(desk)}/api/import", json={"paths": [str(tmp_path / "shoot")]}
        ) as resp:
            assert resp.status == 202
        async with desk.context.db.session() as s, s.begin():
            job = (await s.execute(select(Job))).scalar_one()
            # A worker on another machine holds it, lease good for a minute.
            await s.execute(
                update(Job)
                .where(Job.id == job.id)
                .values(
                    status="running",
                    worker="ghost",
                    claim_id="c_ghost",
                    lease_until=utcnow() + timedelta(seconds=60),
                )
            )
        other = BridgeServer(make_settings(tmp_path / "other", job_lease_seconds=1.5, **studio))
        await other.start()  # its start-up requeue has run when start() returns

        async def current() -> Job:
            async with desk.context.db.session() as s:
                row = await s.get(Job, job.id, populate_existing=True)
                assert row is not None
                return row

        still = await current()
        assert still.status == "running" and still.worker == "ghost"

        async with desk.context.db.session() as s, s.begin():
            await s.execute(
                update(Job)
                .where(Job.id == job.id)
                .values(lease_until=utcnow() - timedelta(seconds=1))
            )
        assert other is not None
        name = other.context.instance_name

        async def taken_over_and_done() -> bool:
            row = await current()
            return row.status == "completed" and row.worker == name

        await wait_for(taken_over_and_done, timeout=60)
    finally:
        if other is not None:
            await other.stop()
        await desk.stop()
