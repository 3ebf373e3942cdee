"""The counts every screen shows (sessions, the approval queue, jobs by status) are maintained
tallies: after real work (imports, analysis, decisions, a deleted session) they equal a direct
count of the rows, on SQLite and on PostgreSQL, and folding their rows changes no count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import case, func, select

from bridge_server.app import BridgeServer
from bridge_server.services import sessions as session_service
from bridge_server.services.decisions import approve_photo, reject_photo
from bridge_server.services.queries import (
    approval_queue_count,
    job_counts,
    queue_filter,
    session_counts,
)
from bridge_server.store import tallies
from bridge_server.store.enums import Approval, JobStatus, PhotoStatus
from bridge_server.store.models import Job, Photo, PhotoTally
from tests.helpers import base_url, copy_photos, jobs_settled, make_settings, wait_for

SHOOTS = (["astronaut", "coffee", "chelsea"], ["rocket", "burst_1", "burst_2", "burst_3"])


async def _direct_counts(server: BridgeServer, session_id: str | None) -> dict[str, Any]:
    """The photo counts, counted row by row (what the tallies must equal)."""
    done = Photo.status.in_([PhotoStatus.ANALYZED, PhotoStatus.FAILED])
    query = select(
        func.count(),
        func.sum(case((done, 1), else_=0)),
        func.sum(case((queue_filter(), 1), else_=0)),
        func.sum(case((Photo.approval == Approval.APPROVED, 1), else_=0)),
        func.sum(case((Photo.approval == Approval.REJECTED, 1), else_=0)),
    )
    if session_id is not None:
        query = query.where(Photo.session_id == session_id)
    async with server.context.db.session() as s:
        row = (await s.execute(query)).one()
    names = ("total", "processed", "waiting", "approved", "rejected")
    return dict(zip(names, (int(v or 0) for v in row), strict=True))


async def _direct_jobs(server: BridgeServer) -> dict[str, int]:
    async with server.context.db.session() as s:
        rows = (await s.execute(select(Job.status, func.count()).group_by(Job.status))).all()
    by = {status: int(n) for status, n in rows}
    return {
        "pending": by.get(JobStatus.PENDING, 0),
        "processing": by.get(JobStatus.RUNNING, 0),
        "completed": by.get(JobStatus.COMPLETED, 0),
        "failed": by.get(JobStatus.FAILED, 0),
        "total": sum(by.values()),
    }


async def _assert_tallies_match(server: BridgeServer, session_ids: list[str]) -> None:
    names = ("total", "processed", "waiting", "approved", "rejected")
    async with server.context.db.session() as s:
        for scope in [None, *session_ids]:
            if scope is None:
                tallied = {k: await tallies.library_tally(s, k) for k in names}
            else:
                tallied = await session_counts(s, scope)
            assert {k: tallied[k] for k in names} == await _direct_counts(server, scope), scope
            assert await approval_queue_count(s, scope) == tallied["waiting"]
        assert await job_counts(s) == await _direct_jobs(server)


async def test_counts_stay_equal_to_the_rows_through_real_work_and_folding(
    tmp_path: Path, http: aiohttp.ClientSession, photo_set: dict[str, Path], store: dict[str, Any]
) -> None:
    settings = make_settings(
        tmp_path / "data", selection_threshold=1.0, burst_hash_distance=0, **store
    )
    server = BridgeServer(settings)
    await server.start()
    try:
        ctx = server.context
        session_ids = []
        for n, names in enumerate(SHOOTS):
            copy_photos(photo_set, names, tmp_path / f"shoot{n}")
            async with http.post(
                f"{base_url(server)}/api/import", json={"paths": [str(tmp_path / f"shoot{n}")]}
            ) as resp:
                assert resp.status == 202
                session_ids.append((await resp.json())["session_id"])
        await wait_for(lambda: jobs_settled(server), timeout=120)
        await _assert_tallies_match(server, session_ids)

        # Decisions move photos out of the queue; exports add jobs.
        async with ctx.db.session() as s:
            queued = (await s.execute(select(Photo.id).where(queue_filter()))).scalars().all()
        assert len(queued) >= 3
        await approve_photo(ctx, queued[0])
        await reject_photo(ctx, queued[1], "blink")
        await reject_photo(ctx, queued[2])
        await approve_photo(ctx, queued[2])  # changed its mind: one pick, no reject counted
        await wait_for(lambda: jobs_settled(server), timeout=120)
        await _assert_tallies_match(server, session_ids)
        counted = await _direct_counts(server, None)
        assert counted["approved"] == 2 and counted["rejected"] == 1

        # Folding the rows changes no count, and leaves one row per session with photos.
        await tallies.fold(ctx.db, min_saving=1)
        await _assert_tallies_match(server, session_ids)
        async with ctx.db.session() as s:
            rows = (await s.execute(select(PhotoTally.session_id))).scalars().all()
        assert sorted(rows) == sorted(session_ids)

        # A deleted session takes its photos and jobs out of every count.
        await session_service.delete_session(ctx, session_ids[0])
        await _assert_tallies_match(server, session_ids[1:])
        async with ctx.db.session() as s:
            assert (await session_counts(s, session_ids[0]))["total"] == 0
        await tallies.fold(ctx.db, min_saving=1)
        async with ctx.db.session() as s:
            rows = (await s.execute(select(PhotoTally.session_id))).scalars().all()
        assert rows == [session_ids[1]]
        await _assert_tallies_match(server, session_ids[1:])
    finally:
        await server.stop()
