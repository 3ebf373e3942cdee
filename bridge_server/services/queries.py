"""Read-side helpers shared by services: lookups that raise NotFound, counts, pagination."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.enums import (
    ACTIVE_JOB_STATUSES,
    Approval,
    JobStatus,
    PhotoStatus,
    Selection,
    Verdict,
)
from ..store.models import Base, Job, Photo, Session
from .errors import NotFound

M = TypeVar("M", bound=Base)

MAX_LIMIT = 500


async def get_or_404(s: AsyncSession, model: type[M], key: str, label: str) -> M:
    """The row with primary key `key`, or NotFound naming it."""
    row = await s.get(model, key)
    if row is None:
        raise NotFound(f"Unknown {label}: {key!r}")
    return row


async def paginate(
    s: AsyncSession, query: Select[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    """One page of a query and the total count."""
    # The count needs no order: without it SQLite never sorts the rows it counts.
    counted = query.order_by(None).subquery()
    total = (await s.execute(select(func.count()).select_from(counted))).scalar_one()
    rows = (await s.execute(query.limit(limit).offset(offset))).scalars().all()
    return list(rows), int(total)


def queue_filter() -> Any:
    """SQL condition: waiting for the photographer's decision."""
    return (
        (Photo.status == PhotoStatus.ANALYZED)
        & (Photo.selection == Selection.KEEPER)
        & (Photo.approval == Approval.PENDING)
    )


def verdict_filter(verdict: Verdict) -> Any:
    """SQL condition: the photo has this verdict (serializers.photo_verdict, in SQL)."""
    analyzed = Photo.status == PhotoStatus.ANALYZED
    if verdict == Verdict.FAILED:
        return Photo.status == PhotoStatus.FAILED
    if verdict == Verdict.PENDING:
        return Photo.status.in_([PhotoStatus.IMPORTED, PhotoStatus.ANALYZING]) | (
            analyzed & (Photo.selection == Selection.NONE)
        )
    selection = {
        Verdict.PROPOSED: Selection.KEEPER,
        Verdict.ALTERNATE: Selection.ALTERNATE,
        Verdict.BELOW_THRESHOLD: Selection.BELOW_THRESHOLD,
    }[verdict]
    return analyzed & (Photo.selection == selection)


async def approval_queue_count(s: AsyncSession, session_id: str | None = None) -> int:
    """How many photos wait for a decision (in one session, or in all): the same condition
    (`queue_filter`) as the `waiting` of `photo_counts`, counted on the queue's index."""
    query = select(func.count()).select_from(Photo).where(queue_filter())
    if session_id is not None:
        query = query.where(Photo.session_id == session_id)
    return int((await s.execute(query)).scalar_one())


def _count_columns() -> list[Any]:
    """The one definition of the counts every screen shows, for photo_counts and
    sessions_counts alike: total, processed, waiting, approved, rejected, first capture."""
    done = Photo.status.in_([PhotoStatus.ANALYZED, PhotoStatus.FAILED])
    return [
        func.count(),
        func.sum(case((done, 1), else_=0)),
        func.sum(case((queue_filter(), 1), else_=0)),
        func.sum(case((Photo.approval == Approval.APPROVED, 1), else_=0)),
        func.sum(case((Photo.approval == Approval.REJECTED, 1), else_=0)),
        func.min(Photo.captured_at),
    ]


def _counts(row: Any) -> dict[str, Any]:
    total, processed, waiting, approved, rejected = (int(v or 0) for v in row[:5])
    return {
        "total": total,
        "processed": processed,
        "waiting": waiting,
        "queued": waiting,  # the name session_dict has always used for it
        "approved": approved,
        "rejected": rejected,
        "first_capture": row[5],
    }


async def photo_counts(s: AsyncSession, session_id: str | None = None) -> dict[str, Any]:
    """The counts of a session's photos (or of all) that every screen shows."""
    query = select(*_count_columns())
    if session_id is not None:
        query = query.where(Photo.session_id == session_id)
    return _counts((await s.execute(query)).one())


async def session_counts(s: AsyncSession, session_id: str) -> dict[str, Any]:
    """Total, processed, waiting, approved and rejected photos of a session (`photo_counts`)."""
    return await photo_counts(s, session_id)


async def sessions_counts(s: AsyncSession, session_ids: list[str]) -> dict[str, dict[str, Any]]:
    """session_counts for several sessions in one statement (a page of the session list)."""
    rows = (
        await s.execute(
            select(Photo.session_id, *_count_columns())
            .where(Photo.session_id.in_(session_ids))
            .group_by(Photo.session_id)
        )
    ).all()
    found = {row[0]: _counts(row[1:]) for row in rows}
    empty = _counts([0, 0, 0, 0, 0, None])
    return {session_id: found.get(session_id, dict(empty)) for session_id in session_ids}


async def active_job_count(s: AsyncSession, session_id: str) -> int:
    """Pending or running jobs on the photos of a session."""
    query = (
        select(func.count())
        .select_from(Job)
        .join(Photo, Photo.id == Job.photo_id)
        .where(Photo.session_id == session_id, Job.status.in_(list(ACTIVE_JOB_STATUSES)))
    )
    return int((await s.execute(query)).scalar_one())


async def job_counts(s: AsyncSession) -> dict[str, int]:
    """Jobs by status, for queue_status."""
    rows = (await s.execute(select(Job.status, func.count()).group_by(Job.status))).all()
    by = {status: int(n) for status, n in rows}
    return {
        "pending": by.get(JobStatus.PENDING, 0),
        "processing": by.get(JobStatus.RUNNING, 0),
        "completed": by.get(JobStatus.COMPLETED, 0),
        "failed": by.get(JobStatus.FAILED, 0),
        "total": sum(by.values()),
    }


async def session_exists(s: AsyncSession, session_id: str) -> Session:
    """The session, or NotFound."""
    return await get_or_404(s, Session, session_id, "session")
