"""The one way to change a status: a named transition run as one conditional UPDATE.

Each transition names the states it may start from and the state it leads to. `apply` runs it
as `UPDATE … WHERE <state> IN <sources> AND <guards> … RETURNING`, so when several writers
race (two clients, the scheduler and a cancel, or several machines on PostgreSQL) exactly one
of them changes the row and the others get no row back. Callers publish an event only for the
rows `apply` (or `change`) reports as changed. The tables in docs/architecture.md list them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.enums import Approval, ExportStatus, JobStatus, PhotoStatus, SessionStatus
from ..store.models import Base, Export, Job, Photo, Session
from .errors import Conflict, NotFound

M = TypeVar("M", bound=Base)


@dataclass(frozen=True)
class Transition:
    """From any of `sources` to `target` on `column`, triggered by `name`."""

    name: str
    column: Any  # the mapped status attribute, e.g. Photo.status
    sources: tuple[StrEnum, ...]
    target: StrEnum

    @property
    def model(self) -> type[Base]:
        """The mapped class whose rows this transition changes."""
        return self.column.class_


@dataclass(frozen=True)
class Change(Generic[M]):
    """A row after a transition, and whether this call changed it."""

    row: M
    changed: bool


_BASES: dict[tuple[Any, ...], Any] = {}


def _base(t: Transition) -> Any:
    """The part of `t`'s UPDATE that never varies, built once (RETURNING lists every column)."""
    key = (t.name, t.model.__name__, t.column.key, t.sources, t.target)
    base = _BASES.get(key)
    if base is None:
        model = t.model
        base = _BASES[key] = (
            update(model)
            .where(t.column.in_([v.value for v in t.sources]))
            .returning(model)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
    return base


def _statement(t: Transition, where: tuple[Any, ...], values: dict[str, Any] | None) -> Any:
    return _base(t).where(*where).values({t.column.key: t.target, **(values or {})})


async def apply(
    s: AsyncSession, t: Transition, *where: Any, values: dict[str, Any] | None = None
) -> list[Any]:
    """Run `t` on the rows matching `where` that are in a source state; returns the changed rows."""
    return list((await s.execute(_statement(t, where, values))).scalars().all())


class Prepared:
    """A transition's statement built once, with `bindparam()` for what varies per call: for a
    hot path, where building and keying the statement each time cost more than running it."""

    def __init__(self, t: Transition, *where: Any, values: dict[str, Any] | None = None) -> None:
        self.statement = _statement(t, where, values)

    async def apply(self, s: AsyncSession, **params: Any) -> list[Any]:
        """Run it with the bound parameters' values; the changed rows, as `apply` returns them."""
        return list((await s.execute(self.statement, params)).scalars().all())


async def change(
    s: AsyncSession,
    t: Transition,
    key: str,
    *where: Any,
    values: dict[str, Any] | None = None,
    conflict: Callable[[Any], str] | None = None,
) -> Change[Any]:
    """Run `t` on one row by id: changed, already in the target (a repeat), or Conflict."""
    model = t.model
    rows = await apply(s, t, model.id == key, *where, values=values)  # type: ignore[attr-defined]
    if rows:
        return Change(rows[0], True)
    current = await s.get(model, key, populate_existing=True)
    if current is None:
        raise NotFound(f"Unknown {model.__tablename__.rstrip('s')}: {key!r}")
    if getattr(current, t.column.key) == t.target:
        return Change(current, False)
    if conflict is not None:
        raise Conflict(conflict(current))
    state = getattr(current, t.column.key)
    raise Conflict(f"Cannot {t.name.replace('_', ' ')}: {key} is {state.value}")


async def set_values(
    s: AsyncSession, model: type[M], key: str, values: dict[str, Any], differs: Any
) -> M | None:
    """Set plain (non-state) columns of one row only if `differs` holds: the changed row or None.

    The photographer's stars, label, keywords and preset are no state machine, but they change
    the same way: one conditional UPDATE, so an event follows only a real change.
    """
    statement = (
        update(model)
        .where(model.id == key, differs)  # type: ignore[attr-defined]
        .values(values)
        .returning(model)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return (await s.execute(statement)).scalars().first()


def _t(name: str, column: Any, sources: Sequence[StrEnum], target: StrEnum) -> Transition:
    return Transition(name, column, tuple(sources), target)


# --- photo analysis (Photo.status) -------------------------------------------------------------
ANALYSIS_STARTED = _t(  # from analyzed: a re-analysis, only while undecided (see the guard)
    "analysis_started",
    Photo.status,
    (PhotoStatus.IMPORTED, PhotoStatus.FAILED, PhotoStatus.ANALYZED),
    PhotoStatus.ANALYZING,
)
ANALYSIS_SUCCEEDED = _t(
    "analysis_succeeded", Photo.status, (PhotoStatus.ANALYZING,), PhotoStatus.ANALYZED
)
ANALYSIS_FAILED = _t(  # from imported too: an attempt that failed before analysis began
    "analysis_failed",
    Photo.status,
    (PhotoStatus.IMPORTED, PhotoStatus.ANALYZING),
    PhotoStatus.FAILED,
)
ANALYSIS_INTERRUPTED = _t(
    "analysis_interrupted", Photo.status, (PhotoStatus.ANALYZING,), PhotoStatus.IMPORTED
)
ANALYSIS_CANCELLED = _t(
    "analysis_cancelled",
    Photo.status,
    (PhotoStatus.IMPORTED, PhotoStatus.ANALYZING),
    PhotoStatus.FAILED,
)

# --- the photographer's decision (Photo.approval; only on analysed photos) -------------------
APPROVE = _t("approve", Photo.approval, (Approval.PENDING, Approval.REJECTED), Approval.APPROVED)
REJECT = _t(
    "reject",
    Photo.approval,
    (Approval.PENDING, Approval.APPROVED, Approval.REJECTED),
    Approval.REJECTED,
)
UNDO_DECISION = _t(
    "undo_decision", Photo.approval, (Approval.APPROVED, Approval.REJECTED), Approval.PENDING
)

# --- jobs (Job.status) ---------------------------------------------------------------------
JOB_STARTED = _t("start", Job.status, (JobStatus.PENDING,), JobStatus.RUNNING)
JOB_PROGRESSED = _t("record_progress", Job.status, (JobStatus.RUNNING,), JobStatus.RUNNING)
JOB_COMPLETED = _t("complete", Job.status, (JobStatus.RUNNING,), JobStatus.COMPLETED)
JOB_FAILED = _t("fail", Job.status, (JobStatus.RUNNING,), JobStatus.FAILED)
JOB_RETRY_LATER = _t("retry_later", Job.status, (JobStatus.RUNNING,), JobStatus.PENDING)
JOB_REQUEUED = _t("requeue", Job.status, (JobStatus.RUNNING,), JobStatus.PENDING)
JOB_CANCELLED = _t(
    "cancel", Job.status, (JobStatus.PENDING, JobStatus.RUNNING), JobStatus.CANCELLED
)
JOB_RETRIED = _t("retry", Job.status, (JobStatus.FAILED, JobStatus.CANCELLED), JobStatus.PENDING)

# --- export files (Export.status) -----------------------------------------------------------
# A re-export (picked again after a withdrawal) writes the same row again.
EXPORT_COMPLETED = _t(
    "export_written",
    Export.status,
    (
        ExportStatus.PENDING,
        ExportStatus.FAILED,
        ExportStatus.COMPLETED,
        ExportStatus.WITHDRAWN,
        ExportStatus.KEPT,
    ),
    ExportStatus.COMPLETED,
)
EXPORT_FAILED = _t(
    "export_failed",
    Export.status,
    (ExportStatus.PENDING, ExportStatus.WITHDRAWN, ExportStatus.KEPT),
    ExportStatus.FAILED,
)
EXPORT_WITHDRAWING = _t(
    "withdraw_export", Export.status, (ExportStatus.COMPLETED,), ExportStatus.WITHDRAWING
)
EXPORT_REMOVED = _t(
    "export_removed", Export.status, (ExportStatus.WITHDRAWING,), ExportStatus.WITHDRAWN
)
EXPORT_KEPT = _t("export_kept", Export.status, (ExportStatus.WITHDRAWING,), ExportStatus.KEPT)

# --- sessions (Session.status) ---------------------------------------------------------------
SESSION_COMPLETED = _t(
    "complete_session", Session.status, (SessionStatus.ACTIVE,), SessionStatus.COMPLETED
)
SESSION_REOPENED = _t(
    "reopen_session",
    Session.status,
    (SessionStatus.COMPLETED, SessionStatus.EMPTY),
    SessionStatus.ACTIVE,
)
SESSION_EMPTIED = _t("session_empty", Session.status, (SessionStatus.ACTIVE,), SessionStatus.EMPTY)

ALL: tuple[Transition, ...] = (
    ANALYSIS_STARTED,
    ANALYSIS_SUCCEEDED,
    ANALYSIS_FAILED,
    ANALYSIS_INTERRUPTED,
    ANALYSIS_CANCELLED,
    APPROVE,
    REJECT,
    UNDO_DECISION,
    JOB_STARTED,
    JOB_PROGRESSED,
    JOB_COMPLETED,
    JOB_FAILED,
    JOB_RETRY_LATER,
    JOB_REQUEUED,
    JOB_CANCELLED,
    JOB_RETRIED,
    EXPORT_COMPLETED,
    EXPORT_FAILED,
    EXPORT_WITHDRAWING,
    EXPORT_REMOVED,
    EXPORT_KEPT,
    SESSION_COMPLETED,
    SESSION_REOPENED,
    SESSION_EMPTIED,
)


async def photo_follows_job(
    s: AsyncSession, kind: str, photo_id: str | None, job_target: StrEnum, error: str | None
) -> None:
    """Keep a photo's analysis state in step with its analyze job, in the job's transaction."""
    if kind != "analyze" or photo_id is None:
        return
    where = Photo.id == photo_id
    if job_target == JobStatus.CANCELLED:
        await apply(s, ANALYSIS_CANCELLED, where, values={"error": error or "Analysis cancelled"})
    elif job_target == JobStatus.FAILED:
        await apply(s, ANALYSIS_FAILED, where, values={"error": error})
    elif job_target == JobStatus.PENDING:
        await apply(s, ANALYSIS_INTERRUPTED, where)
