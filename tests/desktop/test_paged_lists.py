"""A long history: the Jobs and Sessions views reach every row, a page at a time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import qasync
from PyQt6.QtWidgets import QApplication
from sqlalchemy import insert

from bridge_server.config import Settings
from bridge_server.ids import new_id
from bridge_server.imaging.analysis import ANALYSIS_VERSION
from bridge_server.store.db import Database
from bridge_server.store.enums import JobKind, JobStatus, PhotoStatus
from bridge_server.store.models import Job, Photo, Session
from desktop.models.jobs import JobIdRole
from desktop.models.sessions import RECENT_SESSIONS
from desktop.models.table import PAGE_ROWS
from tests.desktop.conftest import start_desk

SESSIONS = PAGE_ROWS + 30
PHOTOS = PAGE_ROWS + 50


async def _seed(data_dir: Path) -> None:
    """More sessions and jobs than one page: what years of shoots leave behind."""
    db = Database(Settings(data_dir=str(data_dir)).database_path)
    await db.migrate()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    sessions = [
        {"id": new_id("s"), "name": f"Shoot {i}", "created_at": start + timedelta(days=i)}
        for i in range(SESSIONS)
    ]
    photos, jobs = [], []
    for k in range(PHOTOS):
        photo_id = new_id("p")
        photos.append(
            {
                "id": photo_id,
                "session_id": sessions[k % SESSIONS]["id"],
                "file_name": f"IMG_{k:04d}.jpg",
                "file_path": f"/nowhere/IMG_{k:04d}.jpg",
                "original_path": f"/nowhere/IMG_{k:04d}.jpg",
                "content_hash": f"{k:064d}",
                "file_size": 1,
                "status": PhotoStatus.ANALYZED,
                # Analysed by today's version: no re-analysis job is queued at start.
                "analysis": {"version": ANALYSIS_VERSION},
            }
        )
        jobs.append(
            {
                "id": new_id("j"),
                "kind": JobKind.ANALYZE,
                "photo_id": photo_id,
                "status": JobStatus.COMPLETED,
                "created_at": start + timedelta(minutes=k),
            }
        )
    try:
        async with db.session() as s, s.begin():
            await s.execute(insert(Session), sessions)
            await s.execute(insert(Photo), photos)
            await s.execute(insert(Job), jobs)
    finally:
        await db.close()


def test_scrolling_to_the_end_brings_the_next_page_until_every_row_is_shown(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    asyncio.run(_seed(data))
    asyncio.set_event_loop(qloop)
    desk = start_desk(qloop, data)
    try:
        jobs, sessions = desk.models.jobs, desk.models.sessions
        assert jobs.rowCount() == PAGE_ROWS and sessions.rowCount() == PAGE_ROWS
        # The overview counts every session, not only those paged in (all are in progress:
        # their photos are analysed and none is decided).
        card = desk.window.overview.sessions
        assert (card.value.text(), card.detail.text()) == (str(SESSIONS), f"of {SESSIONS} sessions")
        table = desk.window.jobs.table
        assert table.model().canFetchMore(table.rootIndex())

        async def scroll_to_the_end() -> None:
            while jobs.canFetchMore(table.rootIndex()):
                table.scrollToBottom()
                table.model().fetchMore(table.rootIndex())  # what the view asks at the end
                await desk.until(lambda: not jobs._fetching or jobs._fetching.done())
            while sessions.canFetchMore(sessions.index(-1, -1)):
                await sessions.load_more()

        desk.run(scroll_to_the_end())
        assert jobs.rowCount() == PHOTOS and sessions.rowCount() == SESSIONS
        # The overview lists only the newest few; the Sessions page lists them all.
        recent = desk.window.overview.sessions_table.model()
        assert recent.rowCount() == RECENT_SESSIONS
        assert recent.index(0, 0).data() == f"Shoot {SESSIONS - 1}"
        assert desk.window.sessions.table.model().rowCount() == SESSIONS
        ids = [jobs.index(r, 0).data(JobIdRole) for r in range(jobs.rowCount())]
        assert len(set(ids)) == PHOTOS  # each job once, none lost between pages
        # Photo names were learned with each page, also for the last one.
        assert jobs.index(PHOTOS - 1, 0).data().startswith("IMG_")
    finally:
        desk.run(desk.app.stop())
        desk.window.deleteLater()
        QApplication.processEvents()
