"""Read-side helpers shared by services: lookups that raise NotFound, counts, pagination."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..store import tallies
from ..store.enums import (
    ACTIVE_JOB_STATUSES,
    Approval,
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
    """How many photos wait for a decision (in one session, or in all): `queue_filter`'s set,
    from the maintained tallies (store.tallies)."""
    return await tallies.library_tally(s, "waiting", session_id)


def _counts(tallied: dict[str, int], first_capture: Any) -> dict[str, Any]:
    return {
        "total": tallied["total"],
        "processed": tallied["processed"],
        "waiting": tallied["waiting"],
        "queued": tallied["waiting"],  # the name session_dict has always used for it
        "approved": tallied["approved"],
        "rejected": tallied["rejected"],
        "first_capture": first_capture,
    }


def _first_capture(session_id: Any) -> Any:
    """SQL: the session's earliest capture time, one seek of ix_photos_session_first."""
    return select(func.min(Photo.captured_at)).where(Photo.session_id == session_id)


_FIRST_CAPTURES = select(Session.id, _first_capture(Session.id).scalar_subquery()).where(
    Session.id.in_(bindparam("session_ids", expanding=True))
)


async def session_counts(s: AsyncSession, session_id: str) -> dict[str, Any]:
    """The counts of a session's photos that every screen shows: total, processed (analysed or
    failed), waiting (`queue_filter`), approved, rejected, and the first capture. The counts
    are maintained tallies (migration 0012 keeps them in step with every write)."""
    return (await sessions_counts(s, [session_id]))[session_id]


async def sessions_counts(s: AsyncSession, session_ids: list[str]) -> dict[str, dict[str, Any]]:
    """session_counts for several sessions (a page of the session list): their tallies, and one
    index seek per session for its first capture."""
    tallied = await tallies.photo_tallies(s, session_ids)
    firsts: dict[str, Any] = dict(
        (await s.execute(_FIRST_CAPTURES, {"session_ids": session_ids})).all()
    )
    return {sid: _counts(tallied[sid], firsts.get(sid)) for sid in session_ids}


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
    """Jobs by status, for queue_status (maintained tallies, not a count of every job)."""
    by = await tallies.job_tallies(s)
    return {
        "pending": by["pending"],
        "processing": by["running"],
        "completed": by["completed"],
        "failed": by["failed"],
        "total": sum(by.values()),
    }


async def session_exists(s: AsyncSession, session_id: str) -> Session:
    """The session, or NotFound."""
    return await get_or_404(s, Session, session_id, "session")
