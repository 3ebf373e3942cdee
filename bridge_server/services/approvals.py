"""The photographer's decisions: approve, reject, undo; and the approval queue itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..context import BridgeContext
from ..store.enums import Approval, JobKind, JobStatus, PhotoStatus
from ..store.models import Job, Photo
from ..timeutil import utcnow
from . import transitions
from .errors import InvalidArguments
from .jobs import PRIORITY_NORMAL, add_job, announce_jobs, jobs_changed
from .queries import approval_queue_count, paginate, queue_filter
from .serializers import photo_dict
from .sessions import refresh_session

MAX_REASON: Final = 200
EXPORT_CANCELLED: Final = "Decision changed before export"


def _default_preset(ctx: BridgeContext) -> str:
    presets = ctx.settings.export_presets
    return str(presets[0]["name"]) if presets else "Archive"


async def _cancel_pending_exports(s: AsyncSession, photo_id: str) -> list[str]:
    """In the decision's transaction: cancel exports not yet started; returns their ids."""
    rows = await transitions.apply(
        s,
        transitions.JOB_CANCELLED,
        Job.photo_id == photo_id,
        Job.kind == JobKind.EXPORT,
        Job.status == JobStatus.PENDING,
        values={"stage": "cancelled", "error": EXPORT_CANCELLED, "finished_at": utcnow()},
    )
    return [job.id for job in rows]


def _announce_cancelled(ctx: BridgeContext, photo_id: str, job_ids: list[str]) -> None:
    for job_id in job_ids:
        ctx.broker.publish(
            events.job_failed(
                job_id, photo_id, EXPORT_CANCELLED, {"cancelled": True, "will_retry": False}
            )
        )
    if job_ids:
        jobs_changed(ctx)


async def _announce_queue(ctx: BridgeContext, session_id: str) -> None:
    async with ctx.db.session() as s:
        count = await approval_queue_count(s)
    ctx.broker.publish(events.approval_queue_updated(count, session_id))


def _undecidable(verb: str) -> Callable[[Photo], str]:
    def message(photo: Photo) -> str:
        return f"Photo {photo.id} is {photo.status.value}; only analysed photos can be {verb}"

    return message


async def approve_photo(ctx: BridgeContext, photo_id: str) -> dict[str, Any]:
    """Approve a photo and queue its export; approving twice changes nothing."""
    async with ctx.db.session() as s, s.begin():
        result = await transitions.change(
            s,
            transitions.APPROVE,
            photo_id,
            Photo.status == PhotoStatus.ANALYZED,
            values={"rejection_reason": None, "decided_at": utcnow()},
            conflict=_undecidable("approved"),
        )
        photo = result.row
        data = photo_dict(photo)
        if not result.changed:
            return data
        preset = photo.selected_preset or _default_preset(ctx)
        # The export job is written in the same transaction as the one winning approval.
        job = add_job(s, JobKind.EXPORT, photo.id, PRIORITY_NORMAL, {"preset": preset})
        session_id = photo.session_id
    ctx.broker.publish(events.photo_approved(photo_id, session_id))
    announce_jobs(ctx, [job])
    await _announce_queue(ctx, session_id)
    await refresh_session(ctx, session_id)
    return data


async def reject_photo(
    ctx: BridgeContext, photo_id: str, reason: str | None = None
) -> dict[str, Any]:
    """Reject a photo (with an optional reason); cancels its export if not yet started."""
    if reason is not None:
        if not isinstance(reason, str):
            raise InvalidArguments("'reason' must be a string")
        reason = reason.strip()[:MAX_REASON] or None
    async with ctx.db.session() as s, s.begin():
        same = (Photo.approval == Approval.REJECTED) & Photo.rejection_reason.is_not_distinct_from(
            reason
        )
        result = await transitions.change(
            s,
            transitions.REJECT,
            photo_id,
            Photo.status == PhotoStatus.ANALYZED,
            ~same,
            values={"rejection_reason": reason, "decided_at": utcnow()},
            conflict=_undecidable("rejected"),
        )
        data = photo_dict(result.row)
        if not result.changed:
            return data
        session_id = result.row.session_id
        cancelled = await _cancel_pending_exports(s, photo_id)
    _announce_cancelled(ctx, photo_id, cancelled)
    ctx.broker.publish(events.photo_rejected(photo_id, session_id, reason))
    await _announce_queue(ctx, session_id)
    await refresh_session(ctx, session_id)
    return data


async def undo_decision(ctx: BridgeContext, photo_id: str) -> dict[str, Any]:
    """Put a decided photo back to pending (a keeper re-enters the queue)."""
    async with ctx.db.session() as s, s.begin():
        result = await transitions.change(
            s,
            transitions.UNDO_DECISION,
            photo_id,
            values={"rejection_reason": None, "decided_at": None},
        )
        photo = result.row
        data = photo_dict(photo)
        if not result.changed:
            return data
        session_id = photo.session_id
        in_queue = data["in_queue"]
        context_tag, preset = photo.context_tag, photo.selected_preset
        cancelled = await _cancel_pending_exports(s, photo_id)
    _announce_cancelled(ctx, photo_id, cancelled)
    if in_queue:
        ctx.broker.publish(events.photo_selected(photo_id, context_tag or "general", preset or ""))
    await _announce_queue(ctx, session_id)
    await refresh_session(ctx, session_id)
    return data


async def approval_queue(
    ctx: BridgeContext, session_id: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Photos waiting for a decision, best first."""
    query = (
        select(Photo)
        .where(queue_filter())
        .order_by(Photo.ai_score.desc(), Photo.captured_at, Photo.id)
    )
    if session_id is not None:
        query = query.where(Photo.session_id == session_id)
    async with ctx.db.session() as s:
        rows, total = await paginate(s, query, limit, offset)
        return [photo_dict(p) for p in rows], total
