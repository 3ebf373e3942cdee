"""The photographer's decisions: approve, reject, undo; and the approval queue itself."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select, update

from .. import events
from ..context import BridgeContext
from ..store.enums import Approval, JobKind, JobStatus, PhotoStatus
from ..store.models import Job, Photo
from ..timeutil import utcnow
from .errors import Conflict, InvalidArguments
from .jobs import PRIORITY_NORMAL, add_job, announce_jobs, jobs_changed
from .queries import approval_queue_count, get_or_404, paginate, queue_filter
from .serializers import photo_dict
from .sessions import refresh_session

MAX_REASON: Final = 200


def _default_preset(ctx: BridgeContext) -> str:
    presets = ctx.settings.export_presets
    return str(presets[0]["name"]) if presets else "Archive"


async def _cancel_pending_exports(ctx: BridgeContext, photo_id: str) -> None:
    """Cancel exports not yet started; each is announced like any cancelled job."""
    message = "Decision changed before export"
    async with ctx.db.session() as s, s.begin():
        cancelled = (
            (
                await s.execute(
                    update(Job)
                    .where(
                        Job.photo_id == photo_id,
                        Job.kind == JobKind.EXPORT,
                        Job.status == JobStatus.PENDING,
                    )
                    .values(status=JobStatus.CANCELLED, stage="cancelled", error=message)
                    .returning(Job.id)
                )
            )
            .scalars()
            .all()
        )
    for job_id in cancelled:
        ctx.broker.publish(
            events.job_failed(job_id, photo_id, message, {"cancelled": True, "will_retry": False})
        )
    if cancelled:
        jobs_changed(ctx)


async def _announce_queue(ctx: BridgeContext, session_id: str) -> None:
    async with ctx.db.session() as s:
        count = await approval_queue_count(s)
    ctx.broker.publish(events.approval_queue_updated(count, session_id))


async def approve_photo(ctx: BridgeContext, photo_id: str) -> dict[str, Any]:
    """Approve a photo and queue its export; approving twice changes nothing."""
    async with ctx.db.session() as s, s.begin():
        photo = await get_or_404(s, Photo, photo_id, "photo")
        if photo.approval == Approval.APPROVED:
            return photo_dict(photo)
        if photo.status != PhotoStatus.ANALYZED:
            raise Conflict(
                f"Photo {photo_id} is {photo.status.value}; only analysed photos can be approved"
            )
        photo.approval = Approval.APPROVED
        photo.rejection_reason = None
        photo.decided_at = utcnow()
        preset = photo.selected_preset or _default_preset(ctx)
        job = add_job(s, JobKind.EXPORT, photo.id, PRIORITY_NORMAL, {"preset": preset})
        data = photo_dict(photo)
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
        photo = await get_or_404(s, Photo, photo_id, "photo")
        if photo.approval == Approval.REJECTED and photo.rejection_reason == reason:
            return photo_dict(photo)
        if photo.status != PhotoStatus.ANALYZED:
            raise Conflict(
                f"Photo {photo_id} is {photo.status.value}; only analysed photos can be rejected"
            )
        photo.approval = Approval.REJECTED
        photo.rejection_reason = reason
        photo.decided_at = utcnow()
        data = photo_dict(photo)
        session_id = photo.session_id
    await _cancel_pending_exports(ctx, photo_id)
    ctx.broker.publish(events.photo_rejected(photo_id, session_id, reason))
    await _announce_queue(ctx, session_id)
    await refresh_session(ctx, session_id)
    return data


async def undo_decision(ctx: BridgeContext, photo_id: str) -> dict[str, Any]:
    """Put a decided photo back to pending (a keeper re-enters the queue)."""
    async with ctx.db.session() as s, s.begin():
        photo = await get_or_404(s, Photo, photo_id, "photo")
        if photo.approval == Approval.PENDING:
            return photo_dict(photo)
        photo.approval = Approval.PENDING
        photo.rejection_reason = None
        photo.decided_at = None
        data = photo_dict(photo)
        session_id = photo.session_id
        in_queue = data["in_queue"]
        context_tag, preset = photo.context_tag, photo.selected_preset
    await _cancel_pending_exports(ctx, photo_id)
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
