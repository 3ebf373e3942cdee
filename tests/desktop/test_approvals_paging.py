"""A long approval queue: the desk pages through it, and decisions still move its rows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import qasync
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication
from sqlalchemy import insert

from bridge_server.config import Settings
from bridge_server.ids import new_id
from bridge_server.imaging.analysis import ANALYSIS_VERSION
from bridge_server.services import approvals
from bridge_server.store.db import Database
from bridge_server.store.enums import Approval, PhotoStatus, Selection
from bridge_server.store.models import Photo, Session
from desktop.models.approvals import PAGE_PHOTOS, PhotoIdRole
from tests.desktop.conftest import start_desk

WAITING = PAGE_PHOTOS + 40


async def _seed(data_dir: Path) -> list[str]:
    """More proposed keepers than one page, each with its own score; ids best first."""
    db = Database(Settings(data_dir=str(data_dir)).database_path)
    await db.migrate()
    start = datetime(2026, 6, 1, tzinfo=UTC)
    session_id = new_id("s")
    photos = [
        {
            "id": new_id("p"),
            "session_id": session_id,
            "file_name": f"IMG_{k:04d}.jpg",
            "file_path": f"/nowhere/IMG_{k:04d}.jpg",
            "original_path": f"/nowhere/IMG_{k:04d}.jpg",
            "content_hash": f"{k:064d}",
            "file_size": 1,
            "captured_at": start + timedelta(seconds=k),
            "status": PhotoStatus.ANALYZED,
            "ai_score": round(4.9 - k * 0.01, 2),
            "analysis": {"version": ANALYSIS_VERSION},
            "selection": Selection.KEEPER,
            "approval": Approval.PENDING,
        }
        for k in range(WAITING)
    ]
    try:
        async with db.session() as s, s.begin():
            await s.execute(insert(Session), [{"id": session_id, "name": "Wedding"}])
            await s.execute(insert(Photo), photos)
    finally:
        await db.close()
    return [str(p["id"]) for p in photos]


def test_the_desk_reaches_photos_past_the_first_page_and_decisions_move_rows(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    best_first = asyncio.run(_seed(data))
    asyncio.set_event_loop(qloop)
    desk = start_desk(qloop, data)
    try:
        queue, view = desk.models.queue, desk.window.approvals
        desk.window.show_page("approvals")
        assert queue.rowCount() == PAGE_PHOTOS and queue.canFetchMore(queue.index(-1))
        assert queue.photo_ids() == best_first[:PAGE_PHOTOS]
        assert view.count.text() == f"{WAITING} photos waiting"

        async def to_the_end() -> None:
            # The photographer holds End: the grid scrolls down and asks for the next page.
            while queue.rowCount() < WAITING:
                held = queue.rowCount()
                QTest.keyClick(view.grid, Qt.Key.Key_End)
                await desk.until(lambda h=held: queue.rowCount() > h, what="the next page")

        desk.run(to_the_end())
        QTest.keyClick(view.grid, Qt.Key.Key_End)
        assert view.grid.currentIndex().data(PhotoIdRole) == best_first[-1]
        assert view.selected_ids() == [best_first[-1]]
        assert queue.photo_ids() == best_first  # each photo once, in the queue's order
        assert not queue.canFetchMore(queue.index(-1))

        # Live events: a decision removes its row, an undo puts it back in its place.
        ctx = desk.ctx
        desk.run(approvals.approve_photo(ctx, best_first[1]))
        desk.run(desk.until(lambda: queue.row_of(best_first[1]) is None, what="row removed"))
        assert queue.rowCount() == WAITING - 1
        desk.run(approvals.undo_decision(ctx, best_first[1]))
        desk.run(desk.until(lambda: queue.row_of(best_first[1]) == 1, what="row back"))
        assert queue.photo_ids() == best_first
    finally:
        desk.run(desk.app.stop())
        desk.window.deleteLater()
        QApplication.processEvents()
