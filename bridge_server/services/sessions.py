"""Sessions (one per shoot): create, list, and keep their progress and completion current."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, case, delete, exists, func, or_, select, update

from .. import events
from ..context import BridgeContext
from ..ids import new_id
from ..store.enums import ACTIVE_JOB_STATUSES, ExportStatus, PhotoStatus, SessionStatus
from ..store.models import Export, FileIntent, Job, Photo, Session
from ..timeutil import utcnow
from . import transitions
from .errors import Conflict, NotFound
from .jobs import jobs_changed
from .queries import (
    approval_queue_count,
    get_or_404,
    paginate,
    queue_filter,
    session_counts,
    sessions_counts,
)
from .serializers import session_dict

SESSION_DELETED = "Its session was deleted"


async def create_session(
    ctx: BridgeContext, session_name: str, import_folder: str | None = None
) -> dict[str, Any]:
    """Create a session and announce it."""
    session = Session(id=new_id("s"), name=session_name, import_folder=import_folder)
    async with ctx.db.session() as s, s.begin():
        s.add(session)
    ctx.broker.publish(events.session_created(session.id, session.name, import_folder))
    return session_dict(session, {})


async def find_or_create_session(
    ctx: BridgeContext, session_name: str, import_folder: str | None
) -> str:
    """The active session with this name and folder, or a new one."""
    async with ctx.db.session() as s:
        existing = (
            await s.execute(
                select(Session.id).where(
                    Session.name == session_name,
                    Session.import_folder == import_folder,
                )
            )
        ).scalar()
    if existing is not None:
        return str(existing)
    return str((await create_session(ctx, session_name, import_folder))["session_id"])


async def get_session(ctx: BridgeContext, session_id: str) -> dict[str, Any]:
    """One session with counts."""
    async with ctx.db.session() as s:
        session = await get_or_404(s, Session, session_id, "session")
        return session_dict(session, await session_counts(s, session_id))


_NEWEST_FIRST = (Session.created_at.desc(), Session.id)
_NEWEST_SESSIONS = (
    select(Session).order_by(*_NEWEST_FIRST).limit(bindparam("limit")).offset(bindparam("offset"))
)


async def list_sessions(
    ctx: BridgeContext, status: SessionStatus | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Sessions, newest first."""
    query = select(Session).order_by(*_NEWEST_FIRST)
    if status is not None:
        query = query.where(Session.status == status)
    async with ctx.db.session() as s:
        rows, total = await paginate(s, query, limit, offset)
        counts = await sessions_counts(s, [r.id for r in rows])
        return [session_dict(r, counts[r.id]) for r in rows], total


async def sessions_page(
    ctx: BridgeContext, limit: int, offset: int
) -> tuple[list[dict[str, Any]], bool]:
    """A page of `list_sessions`' order without its count: (sessions, whether more follow).

    A scrolling list needs no total: one statement less per page.
    """
    async with ctx.db.session() as s:
        params = {"limit": limit + 1, "offset": offset}
        rows = list((await s.execute(_NEWEST_SESSIONS, params)).scalars().all())
        page = rows[:limit]
        counts = await sessions_counts(s, [r.id for r in page])
    return [session_dict(r, counts[r.id]) for r in page], len(rows) > limit


_BY_STATUS = select(Session.status, func.count()).group_by(Session.status)


async def session_status_counts(ctx: BridgeContext) -> dict[str, int]:
    """How many sessions there are, and how many are not complete yet (for the overview: the
    desk holds only the sessions paged in so far)."""
    async with ctx.db.session() as s:
        by_status = {status: int(n) for status, n in (await s.execute(_BY_STATUS)).all()}
    total = sum(by_status.values())
    return {"total": total, "in_progress": total - by_status.get(SessionStatus.COMPLETED, 0)}


def _settled() -> Any:
    """SQL on the session row: has photos, all analysed or failed, none waiting, no job active."""
    photos = select(Photo.id).where(Photo.session_id == Session.id)
    unsettled = photos.where(
        Photo.status.not_in([PhotoStatus.ANALYZED.value, PhotoStatus.FAILED.value])
    )
    waiting = photos.where(queue_filter())
    active = (
        select(Job.id)
        .join(Photo, Photo.id == Job.photo_id)
        .where(
            Photo.session_id == Session.id,
            Job.status.in_([v.value for v in ACTIVE_JOB_STATUSES]),
        )
    )
    return exists(photos) & ~exists(unsettled) & ~exists(waiting) & ~exists(active)


@functools.cache
def _refreshes() -> tuple[transitions.Prepared, transitions.Prepared, transitions.Prepared]:
    """refresh_session's three transitions, built once (it runs after every analysis)."""
    key = Session.id == bindparam("session_id")
    has_photos = exists(select(Photo.id).where(Photo.session_id == Session.id))
    settled = _settled()
    return (
        transitions.Prepared(
            transitions.SESSION_COMPLETED,
            key,
            settled,
            values={"completed_at": bindparam("now", type_=Session.completed_at.type)},
        ),
        transitions.Prepared(
            transitions.SESSION_REOPENED,
            key,
            has_photos,
            ~settled,
            values={"completed_at": None},
        ),
        transitions.Prepared(transitions.SESSION_EMPTIED, key, ~has_photos),
    )


async def refresh_session(ctx: BridgeContext, session_id: str) -> None:
    """Publish the session's progress, and complete or reopen it as its photos require.

    A session is complete when every photo is analysed (or failed), no keeper waits for a
    decision, and no job (analysis or export) is still active for its photos; a session
    without photos (its import found only duplicates, or was abandoned) is empty. Both changes are
    conditional statements that test those facts themselves, so two refreshes racing each
    other (or a change landing between count and write) can't complete a session twice.
    """
    completing, reopening, emptying = _refreshes()
    async with ctx.db.session() as s, s.begin():
        completed = await completing.apply(s, session_id=session_id, now=utcnow())
        if not completed:
            reopened = await reopening.apply(s, session_id=session_id)
            if not reopened:
                # An import that ended (or was abandoned) without one photo.
                await emptying.apply(s, session_id=session_id)
        session = await s.get(Session, session_id, populate_existing=True)
        if session is None:
            return
        counts = await session_counts(s, session_id)
        name, status = session.name, session.status
    total = counts["total"]
    ctx.broker.publish(
        events.session_updated(
            session_id,
            total,
            counts["processed"],
            100.0 * counts["processed"] / total if total else 0.0,
            status.value,
        )
    )
    if completed:
        ctx.broker.publish(
            events.session_completed(
                session_id,
                name,
                total,
                counts["approved"],
                100.0 * counts["approved"] / total if total else 0.0,
            )
        )


async def update_session(
    ctx: BridgeContext,
    session_id: str,
    *,
    name: str | None = None,
    status: SessionStatus | None = None,
) -> dict[str, Any]:
    """Rename a session or set its status; session_updated is published only if a row changed."""
    values: dict[str, Any] = {}
    changed = Session.id == session_id
    if name is not None:
        values["name"] = name
    if status is not None:
        values["status"] = status
        # Evaluated on the old row: a rename leaves an unchanged status's completed_at alone.
        completed_at = utcnow() if status == SessionStatus.COMPLETED else None
        values["completed_at"] = case(
            (Session.status == status, Session.completed_at), else_=completed_at
        )
    conditions = []
    if name is not None:
        conditions.append(Session.name != name)
    if status is not None:
        conditions.append(Session.status != status)
    async with ctx.db.session() as s, s.begin():
        row = None
        if values:
            # One conditional statement: it changes the row only if something differs.
            row = (
                await s.execute(
                    update(Session)
                    .where(changed, or_(*conditions))
                    .values(**values)
                    .returning(Session.id)
                )
            ).scalar_one_or_none()
        session = await get_or_404(s, Session, session_id, "session")
        await s.refresh(session)
        counts = await session_counts(s, session_id)
        data = session_dict(session, counts)
    if row is not None:
        ctx.broker.publish(
            events.session_updated(
                session_id,
                data["total_photos"],
                data["processed_photos"],
                data["progress_percent"],
                data["status"],
                session_name=data["session_name"] if name is not None else None,
            )
        )
    return data


async def delete_session(ctx: BridgeContext, session_id: str) -> dict[str, Any]:
    """Remove a session and everything the app knows about its photos (decisions, jobs,
    export records, cached previews); never a photographer's file: originals, library copies
    and exports stay on disk.

    Refused (409) while an import into it or an export withdrawal is under way. Its waiting
    and running jobs end as cancelled (`job_failed`), then `session_deleted` is published.
    """
    photos_of = select(Photo.id).where(Photo.session_id == session_id)
    async with ctx.db.session() as s, s.begin():
        session = await get_or_404(s, Session, session_id, "session")
        busy = (
            await s.execute(select(FileIntent.id).where(FileIntent.session_id == session_id))
        ).first()
        if busy is not None:
            raise Conflict("Files of this session are being imported or removed; try again")
        counts = await session_counts(s, session_id)
        exports = (
            await s.execute(
                select(func.count())
                .select_from(Export)
                .where(Export.photo_id.in_(photos_of), Export.status == ExportStatus.COMPLETED)
            )
        ).scalar_one()
        active = await transitions.apply(
            s,
            transitions.JOB_CANCELLED,
            Job.photo_id.in_(photos_of),
            values={"stage": "cancelled", "error": SESSION_DELETED, "finished_at": utcnow()},
        )
        name = session.name
        photo_ids = list((await s.execute(photos_of)).scalars())
        # The photos, their jobs and exports go with the session (ON DELETE CASCADE).
        deleted = (
            await s.execute(delete(Session).where(Session.id == session_id).returning(Session.id))
        ).scalar()
    if deleted is None:
        raise NotFound(f"Unknown session: {session_id!r}")
    for job in active:
        if ctx.runner is not None:
            ctx.runner.cancel_running(job.id)
        ctx.broker.publish(
            events.job_failed(
                job.id, job.photo_id, SESSION_DELETED, {"cancelled": True, "will_retry": False}
            )
        )
    if active:
        jobs_changed(ctx)
    ctx.broker.publish(events.session_deleted(session_id, name, counts["total"]))
    if ctx.thumbnails is not None:
        await ctx.thumbnails.forget(photo_ids)  # cached previews are the app's, not the user's
    async with ctx.db.session() as s:
        waiting = await approval_queue_count(s)
    ctx.broker.publish(events.approval_queue_updated(waiting, session_id))
    return {
        "session_id": session_id,
        "session_name": name,
        "deleted_photos": counts["total"],
        "deleted_decisions": counts["approved"] + counts["rejected"],
        "cancelled_jobs": len(active),
        # Nothing on disk was touched: the confirmation can say so with these numbers.
        "files_kept": counts["total"],
        "exports_kept": int(exports),
    }
