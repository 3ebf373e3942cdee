"""The pages a large library opens on walk an index: no hot query reads every photo or job.

Each hot service runs against a real bridge while every SELECT it sends is recorded; then
SQLite's EXPLAIN QUERY PLAN of each must show no full scan of photos, jobs or events and no
sort of all their rows (a sort of the ties behind an index walk, or of one key's rows, is
fine). Plans come from the schema and the indexes alone (no ANALYZE statistics), so a handful
of rows gives the plan of 100,000.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.engine import Engine

from bridge_server.app import BridgeServer
from bridge_server.ids import new_id
from bridge_server.imaging.analysis import ANALYSIS_VERSION
from bridge_server.pipeline.metadata_sync import unsynced_photos
from bridge_server.services import approvals, jobs, photos, queries, sessions
from bridge_server.services.library import LibraryQuery, SortOrder, query_library
from bridge_server.store.enums import Approval, JobKind, JobStatus, PhotoStatus, Selection
from bridge_server.store.models import Job, Photo, Session

HOT_TABLES = ("photos", "jobs", "events")
FULL_SCAN = re.compile(rf"^SCAN ({'|'.join(HOT_TABLES)})$")
INDEX_SCAN = re.compile(rf"^SCAN ({'|'.join(HOT_TABLES)}) USING")
# After a walk of a whole index, a sort of every row (a sort after a SEARCH sorts only the
# rows of one key: a session's photos, a photo's jobs).
WHOLE_SORT = "USE TEMP B-TREE FOR ORDER BY"


def slow(lines: list[str]) -> bool:
    """Whether a plan reads every row of a hot table, or sorts them all."""
    if any(FULL_SCAN.match(ln) for ln in lines):
        return True
    return any(INDEX_SCAN.match(ln) for ln in lines) and WHOLE_SORT in lines


@contextmanager
def recorded_selects() -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT any engine sends meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def plan(db_path: str, statement: str, params: Any) -> list[str]:
    """SQLite's plan lines for one statement."""
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(f"EXPLAIN QUERY PLAN {statement}", params).fetchall()
    return [str(r[-1]) for r in rows]


async def _seed(server: BridgeServer) -> tuple[str, str]:
    """Two sessions of analysed photos (keepers waiting, some decided) and their jobs."""
    start = datetime(2026, 5, 1, tzinfo=UTC)
    session_ids = [new_id("s"), new_id("s")]
    photo_rows, job_rows = [], []
    for n, session_id in enumerate(session_ids):
        for k in range(6):
            photo_id = new_id("p")
            decided = k < 2
            photo_rows.append(
                {
                    "id": photo_id,
                    "session_id": session_id,
                    "file_name": f"IMG_{k}.jpg",
                    "file_path": f"/library/{session_id}/IMG_{k}.jpg",
                    "original_path": f"/card/IMG_{k}.jpg",
                    "content_hash": f"{n}{k}".ljust(64, "0"),
                    "file_size": 1000,
                    "captured_at": start + timedelta(seconds=k),
                    "status": PhotoStatus.ANALYZED,
                    "ai_score": 1.0 + k * 0.5,
                    "analysis": {"version": ANALYSIS_VERSION, "ai_score": 1.0 + k * 0.5},
                    "selection": Selection.KEEPER,
                    "approval": Approval.APPROVED if decided else Approval.PENDING,
                }
            )
            job_rows.append(
                {
                    "id": new_id("j"),
                    "kind": JobKind.ANALYZE,
                    "photo_id": photo_id,
                    "status": JobStatus.RUNNING if k == 5 else JobStatus.COMPLETED,
                    "created_at": start + timedelta(seconds=k),
                }
            )
    async with server.context.db.session() as s, s.begin():
        await s.execute(
            insert(Session),
            [{"id": i, "name": f"Shoot {i}", "created_at": start} for i in session_ids],
        )
        await s.execute(insert(Photo), photo_rows)
        await s.execute(insert(Job), job_rows)
    return session_ids[0], str(photo_rows[0]["id"])


async def test_hot_queries_walk_an_index(bridge: BridgeServer) -> None:
    session_id, photo_id = await _seed(bridge)
    ctx = bridge.context
    with recorded_selects() as seen:
        queue, queued = await approvals.approval_queue(ctx, None, 3, 2)
        await approvals.approval_queue(ctx, session_id, 3, 0)
        await photos.list_photos(ctx, limit=3, offset=1)
        await photos.list_photos(ctx, session_id=session_id, limit=3, offset=1)
        listed, _ = await sessions.list_sessions(ctx, None, 50, 0)
        await sessions.get_session(ctx, session_id)
        job_page, job_total = await jobs.list_jobs(ctx, limit=6, offset=0)
        await jobs.list_jobs(ctx, status=JobStatus.COMPLETED, limit=3, offset=3)
        await jobs.list_jobs(ctx, photo_id=photo_id)
        scrolled, more = await jobs.jobs_page(ctx, 3, 3)  # the desk's list, past its first page
        # The whole-shoot query of one session (GET /api/photos?session_id=...), both orders.
        for order in SortOrder:
            await query_library(ctx, LibraryQuery(session_id=session_id, sort=order, limit=3))
        await unsynced_photos(ctx)  # start-up's catch-up
        async with ctx.db.session() as s:
            await queries.approval_queue_count(s)
            await queries.approval_queue_count(s, session_id)
            await queries.active_job_count(s, session_id)
    # The services answered what was seeded (so the plans below are of real queries).
    assert queued == 8 and [p["ai_score"] for p in queue] == [3.0, 3.0, 2.5]
    assert {row["session_id"]: row["total_photos"] for row in listed}[session_id] == 6
    assert job_total == 12 and job_page[0]["status"] == "running"
    assert more and [j["job_id"] for j in scrolled] == [j["job_id"] for j in job_page[3:6]]
    assert len(seen) >= 15
    bad = {}
    for statement, params in seen:
        lines = plan(str(ctx.settings.database_path), statement, params)
        if slow(lines):
            bad[statement] = lines
    assert bad == {}, "\n\n".join(f"{k}\n  {v}" for k, v in bad.items())


async def test_queue_pages_are_read_in_order_from_their_cursor(bridge: BridgeServer) -> None:
    """The approval queue's next page (whole library or one session) starts at its cursor in
    an index already in the queue's order: no sort at all, no skipped rows read."""
    session_id, _photo_id = await _seed(bridge)
    ctx = bridge.context
    pages = {}
    with recorded_selects() as seen:
        for scope in (None, session_id):
            first = await approvals.approval_queue_page(ctx, scope, 3)
            assert first.next_cursor is not None
            second = await approvals.approval_queue_page(ctx, scope, 3, cursor=first.next_cursor)
            pages[scope] = (first, second)
    # Best first across both pages, each waiting photo once.
    for first, second in pages.values():
        scores = [p["ai_score"] for p in first.photos + second.photos]
        assert scores == sorted(scores, reverse=True)
        ids = [p["photo_id"] for p in first.photos + second.photos]
        assert len(set(ids)) == len(ids)
        assert all(p["approval"] == "pending" for p in first.photos + second.photos)
    assert len(pages[None][0].photos + pages[None][1].photos) == 6
    page_queries = [(q, p) for q, p in seen if "ORDER BY" in q]
    assert len(page_queries) == 4
    for statement, params in page_queries:
        lines = plan(str(ctx.settings.database_path), statement, params)
        assert not any("TEMP B-TREE" in ln for ln in lines), lines
        assert any("ix_photos_queue_score" in ln or "ix_photos_session_queue_score" in ln
                   for ln in lines), lines  # fmt: skip


async def test_a_session_list_page_counts_without_reading_its_photos(bridge: BridgeServer) -> None:
    """The counts on a page of the session list are tallies, and its first capture one seek of
    an index per session: no photo row is read, no session's photos are walked."""
    session_id, _photo_id = await _seed(bridge)
    ctx = bridge.context
    with recorded_selects() as seen:
        async with ctx.db.session() as s:
            counts = await queries.sessions_counts(s, [session_id])
    assert counts[session_id]["total"] == 6 and counts[session_id]["waiting"] == 4
    assert counts[session_id]["first_capture"] == datetime(2026, 5, 1, tzinfo=UTC)
    photo_lines = []
    for statement, params in seen:
        lines = plan(str(ctx.settings.database_path), statement, params)
        photo_lines += [ln for ln in lines if " photos " in f"{ln} "]
    assert photo_lines == [
        "SEARCH photos USING COVERING INDEX ix_photos_session_first (session_id=?)"
    ]
