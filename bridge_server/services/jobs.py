"""Job operations: enqueue, list, re-prioritise, cancel, retry, pause and resume processing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..context import BridgeContext
from ..ids import new_id
from ..store.enums import ACTIVE_JOB_STATUSES, JobKind, JobStatus
from ..store.models import Job
from . import system
from .errors import Conflict, InvalidArguments
from .queries import get_or_404, paginate
from .serializers import job_dict

PRIORITY_HIGH, PRIORITY_NORMAL, PRIORITY_LOW = 1, 2, 3


def check_priority(priority: Any) -> int:
    """A priority from 1 (high) to 3 (low)."""
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 3:
        raise InvalidArguments("'priority' must be an integer from 1 (high) to 3 (low)")
    return priority


def add_job(
    s: AsyncSession,
    kind: JobKind,
    photo_id: str | None,
    priority: int,
    params: dict[str, Any] | None = None,
) -> Job:
    """Add a pending job to the caller's transaction; announce it with `announce_jobs`."""
    job = Job(
        id=new_id("j"),
        kind=kind,
        photo_id=photo_id,
        priority=check_priority(priority),
        status=JobStatus.PENDING,
        progress=0.0,
        stage="queued",
        params=params or {},
        retry_count=0,
    )
    s.add(job)
    return job


def announce_jobs(ctx: BridgeContext, jobs: list[Job]) -> None:
    """After commit: publish job_created for each job and wake the scheduler."""
    for job in jobs:
        ctx.broker.publish(events.job_created(job.id, job.photo_id, job.priority, job.kind.value))
    if jobs:
        jobs_changed(ctx)


def jobs_changed(ctx: BridgeContext) -> None:
    """Job states changed: wake the scheduler and refresh queue_status."""
    if ctx.runner is not None:
        ctx.runner.wake()
    if ctx.queue_status is not None:
        ctx.queue_status.changed()


async def get_job(ctx: BridgeContext, job_id: str) -> dict[str, Any]:
    """One job."""
    async with ctx.db.session() as s:
        return job_dict(await get_or_404(s, Job, job_id, "job"))


async def list_jobs(
    ctx: BridgeContext,
    *,
    status: JobStatus | None = None,
    kind: JobKind | None = None,
    photo_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Jobs, most urgent first: running, then by priority and age."""
    query = select(Job).order_by(
        (Job.status == JobStatus.RUNNING).desc(), Job.priority, Job.created_at, Job.id
    )
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    if photo_id is not None:
        query = query.where(Job.photo_id == photo_id)
    async with ctx.db.session() as s:
        rows, total = await paginate(s, query, limit, offset)
        return [job_dict(j) for j in rows], total


async def set_job_priority(
    ctx: BridgeContext, job_id: str, priority: Any, reason: str = "changed by user"
) -> dict[str, Any]:
    """Change a job's priority; a no-op when unchanged."""
    new = check_priority(priority)
    async with ctx.db.session() as s, s.begin():
        job = await get_or_404(s, Job, job_id, "job")
        if job.status not in ACTIVE_JOB_STATUSES:
            raise Conflict(
                f"Job {job_id} is {job.status.value}; only waiting or running jobs "
                "can be re-prioritised"
            )
        old = job.priority
        job.priority = new
        data = job_dict(job)
    if old != new:
        ctx.broker.publish(events.priority_changed(job_id, old, new, reason))
        jobs_changed(ctx)
    return data


async def cancel_job(ctx: BridgeContext, job_id: str) -> dict[str, Any]:
    """Cancel a waiting or running job (a running one stops at its next safe point)."""
    async with ctx.db.session() as s, s.begin():
        job = await get_or_404(s, Job, job_id, "job")
        if job.status == JobStatus.CANCELLED:
            return job_dict(job)
        if job.status not in ACTIVE_JOB_STATUSES:
            raise Conflict(f"Job {job_id} is already {job.status.value}")
        was_running = job.status == JobStatus.RUNNING
        job.status = JobStatus.CANCELLED
        job.stage = "cancelled"
        job.error = "Cancelled by user"
        data = job_dict(job)
        photo_id = job.photo_id
    if was_running and ctx.runner is not None:
        ctx.runner.cancel_running(job_id)
    ctx.broker.publish(
        events.job_failed(
            job_id, photo_id, "Cancelled by user", {"cancelled": True, "will_retry": False}
        )
    )
    jobs_changed(ctx)
    return data


async def retry_job(ctx: BridgeContext, job_id: str) -> dict[str, Any]:
    """Run a failed or cancelled job again."""
    async with ctx.db.session() as s, s.begin():
        job = await get_or_404(s, Job, job_id, "job")
        if job.status in ACTIVE_JOB_STATUSES:
            return job_dict(job)
        if job.status == JobStatus.COMPLETED:
            raise Conflict(f"Job {job_id} already completed")
        job.status = JobStatus.PENDING
        job.stage = "queued"
        job.progress = 0.0
        job.error = None
        job.not_before = None
        job.started_at = None
        job.finished_at = None
        data = job_dict(job)
    ctx.broker.publish(events.job_progress(job_id, "queued", 0.0, "Retry requested"))
    jobs_changed(ctx)
    return data


def set_processing_paused(ctx: BridgeContext, paused: bool) -> dict[str, Any]:
    """Pause or resume starting jobs (running ones finish)."""
    if ctx.runner is None:
        raise Conflict("No job scheduler is running")
    if ctx.runner.paused != paused:
        ctx.runner.set_paused(paused)
        details = system.snapshot(ctx)
        ctx.broker.publish(events.system_status(details["status"], details))
    return {"paused": paused}
