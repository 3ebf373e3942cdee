"""Job operations: enqueue, list, re-prioritise, cancel, retry, pause and resume processing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..context import BridgeContext
from ..ids import new_id
from ..store import tallies
from ..store.enums import ACTIVE_JOB_STATUSES, Approval, JobKind, JobStatus, PhotoStatus
from ..store.models import Job, Photo
from ..timeutil import utcnow
from . import system, transitions
from .errors import Conflict, InvalidArguments, NotFound, ServiceError
from .queries import get_or_404
from .serializers import job_dict

PRIORITY_HIGH, PRIORITY_NORMAL, PRIORITY_LOW = 1, 2, 3


def check_priority(priority: Any) -> int:
    """A priority from 1 (high) to 3 (low)."""
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 3:
        raise InvalidArguments("'priority' must be an integer from 1 (high) to 3 (low)")
    return priority


def new_job(kind: JobKind, photo_id: str | None, priority: int, params: dict[str, Any]) -> Job:
    """A pending job row, not yet added to any transaction."""
    return Job(
        id=new_id("j"),
        kind=kind,
        photo_id=photo_id,
        priority=check_priority(priority),
        status=JobStatus.PENDING,
        progress=0.0,
        stage="queued",
        params=params,
        retry_count=0,
        created_at=utcnow(),
    )


def add_job(
    s: AsyncSession,
    kind: JobKind,
    photo_id: str | None,
    priority: int,
    params: dict[str, Any] | None = None,
) -> Job:
    """Add a pending job to the caller's transaction; announce it with `announce_jobs`."""
    job = new_job(kind, photo_id, priority, params or {})
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


# The jobs list's order after the running ones (the ix_jobs_order index).
JOB_ORDER = (Job.priority, Job.created_at, Job.id)


async def list_jobs(
    ctx: BridgeContext,
    *,
    status: JobStatus | None = None,
    kind: JobKind | None = None,
    photo_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Jobs, most urgent first: running, then by priority and age; and how many match."""
    filters = [Job.status == status] if status is not None else []
    if kind is not None:
        filters.append(Job.kind == kind)
    if photo_id is not None:
        filters.append(Job.photo_id == photo_id)
    async with ctx.db.snapshot() as s:
        if status is not None:
            query = select(Job).where(*filters).order_by(*JOB_ORDER).limit(limit).offset(offset)
            rows = list((await s.execute(query)).scalars().all())
        else:
            rows = await _running_first(s, filters, limit, offset)
        if kind is None and photo_id is None:  # a maintained tally, not a count of every job
            by_status = await tallies.job_tallies(s)
            total = by_status[status.value] if status is not None else sum(by_status.values())
        else:
            counted = select(func.count()).select_from(Job).where(*filters)
            total = int((await s.execute(counted)).scalar_one())
    return [job_dict(j) for j in rows], total


async def jobs_page(
    ctx: BridgeContext, limit: int, offset: int
) -> tuple[list[dict[str, Any]], bool]:
    """A page of `list_jobs`' order without its count: (jobs, whether more follow).

    A scrolling list needs no total, and counting every job is most of a page's cost in a
    large library.
    """
    async with ctx.db.snapshot() as s:
        rows = await _running_first(s, [], limit + 1, offset)
    return [job_dict(j) for j in rows[:limit]], len(rows) > limit


async def _running_first(s: AsyncSession, filters: list[Any], limit: int, offset: int) -> list[Job]:
    """A page of the jobs matching `filters`, the running ones first, then by `JOB_ORDER`.

    Two walks of the (priority, created_at, id) index instead of one sort of every job: the
    running few first, then the rest, the page cut across both.
    """
    running = select(Job).where(*filters, Job.status == JobStatus.RUNNING).order_by(*JOB_ORDER)
    first = list((await s.execute(running)).scalars().all())
    page = first[offset : offset + limit]
    rest = (
        select(Job)
        .where(*filters, Job.status != JobStatus.RUNNING)
        .order_by(*JOB_ORDER)
        .limit(limit - len(page))
        .offset(max(0, offset - len(first)))
    )
    return page + list((await s.execute(rest)).scalars().all())


async def set_job_priority(
    ctx: BridgeContext, job_id: str, priority: Any, reason: str = "changed by user"
) -> dict[str, Any]:
    """Change a job's priority; a no-op when unchanged."""
    new = check_priority(priority)
    async with ctx.db.session() as s, s.begin():
        job = await get_or_404(s, Job, job_id, "job")
        old = job.priority
        # Compare-and-set: only from the priority read, and only while the job is active.
        changed = (
            await s.execute(
                update(Job)
                .where(
                    Job.id == job_id,
                    Job.priority == old,
                    Job.status.in_([v.value for v in ACTIVE_JOB_STATUSES]),
                )
                .values(priority=new)
                .returning(Job)
                .execution_options(synchronize_session=False, populate_existing=True)
            )
        ).scalar_one_or_none()
        if changed is None:
            job = await get_or_404(s, Job, job_id, "job")
            if job.status not in ACTIVE_JOB_STATUSES:
                raise Conflict(
                    f"Job {job_id} is {job.status.value}; only waiting or running jobs "
                    "can be re-prioritised"
                )
            if job.priority != new:
                raise Conflict(f"Job {job_id} was re-prioritised meanwhile; try again")
            return job_dict(job)  # another caller set the same priority first
        data = job_dict(changed)
    if old != new:
        ctx.broker.publish(events.priority_changed(job_id, old, new, reason))
        jobs_changed(ctx)
    return data


async def cancel_job(ctx: BridgeContext, job_id: str) -> dict[str, Any]:
    """Cancel a waiting or running job (a running one stops at its next safe point)."""
    message = "Cancelled by user"
    async with ctx.db.session() as s, s.begin():
        result = await transitions.change(
            s,
            transitions.JOB_CANCELLED,
            job_id,
            values={"stage": "cancelled", "error": message, "finished_at": utcnow()},
            conflict=lambda job: f"Job {job_id} is already {job.status.value}",
        )
        job = result.row
        if result.changed:
            await transitions.photo_follows_job(
                s, job.kind, job.photo_id, JobStatus.CANCELLED, "Analysis cancelled"
            )
        data = job_dict(job)
        photo_id = job.photo_id
    if not result.changed:
        return data
    if ctx.runner is not None:
        # A no-op unless it runs here; a run elsewhere stops at its next conditional write.
        ctx.runner.cancel_running(job_id)
    ctx.broker.publish(
        events.job_failed(job_id, photo_id, message, {"cancelled": True, "will_retry": False})
    )
    jobs_changed(ctx)
    return data


async def retry_job(ctx: BridgeContext, job_id: str) -> dict[str, Any]:
    """Run a failed or cancelled job again; a waiting or running job is left as it is."""
    async with ctx.db.session() as s, s.begin():
        rows = await transitions.apply(
            s,
            transitions.JOB_RETRIED,
            Job.id == job_id,
            values={
                "stage": "queued",
                "progress": 0.0,
                "error": None,
                "not_before": None,
                "started_at": None,
                "finished_at": None,
            },
        )
        if not rows:
            job = await get_or_404(s, Job, job_id, "job")
            if job.status == JobStatus.COMPLETED:
                raise Conflict(f"Job {job_id} already completed")
            return job_dict(job)  # already waiting or running: retrying changes nothing
        data = job_dict(rows[0])
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


async def create_job(
    ctx: BridgeContext,
    photo_id: str,
    kind: JobKind,
    priority: int = PRIORITY_NORMAL,
    preset: str | None = None,
) -> dict[str, Any]:
    """Queue an export (with a preset) or a re-analysis of one photo, and announce it.

    The insert is one conditional statement: it happens only while the photo is in a state
    the job can work on and no job of the same kind is waiting or running for it.
    """
    params: dict[str, Any] = {}
    if kind == JobKind.EXPORT:
        preset = preset or await _photo_preset(ctx, photo_id)
        if ctx.settings.preset(preset) is None:
            raise NotFound(f"Unknown export preset: {preset!r}")
        params["preset"] = preset
        ready = Photo.approval == Approval.APPROVED
    else:
        # Analysis rewrites the photo's status, which a decided photo must keep.
        ready = (Photo.approval == Approval.PENDING) & (Photo.status != PhotoStatus.ANALYZING)
    job = new_job(kind, photo_id, priority, params)
    columns = [
        *("id", "kind", "photo_id", "priority", "status", "progress", "stage", "params"),
        *("retry_count", "created_at"),
    ]
    table = Job.__table__.c
    same = [Job.photo_id == photo_id, Job.kind == kind, Job.status.in_(list(ACTIVE_JOB_STATUSES))]
    if kind == JobKind.EXPORT:
        same.append(Job.params["preset"].as_string() == preset)
    busy = select(Job.id).where(*same).exists()
    source = select(*(literal(getattr(job, c), table[c].type) for c in columns)).where(
        select(Photo.id).where(Photo.id == photo_id, ready).exists(), ~busy
    )
    async with ctx.db.session() as s, s.begin():
        inserted = (
            await s.execute(insert(Job).from_select(columns, source).returning(Job.id))
        ).scalar_one_or_none()
        if inserted is None:
            raise await _why_not_queued(s, photo_id, kind, preset)
    announce_jobs(ctx, [job])
    return job_dict(job)


async def _photo_preset(ctx: BridgeContext, photo_id: str) -> str:
    async with ctx.db.session() as s:
        photo = await get_or_404(s, Photo, photo_id, "photo")
        chosen = photo.export_preset or photo.selected_preset
    presets = ctx.settings.export_presets
    return chosen or (str(presets[0]["name"]) if presets else "Archive")


async def _why_not_queued(
    s: AsyncSession, photo_id: str, kind: JobKind, preset: str | None
) -> ServiceError:
    photo = await get_or_404(s, Photo, photo_id, "photo")
    if kind == JobKind.EXPORT and photo.approval != Approval.APPROVED:
        return Conflict(f"Photo {photo_id} is not approved; only approved photos are exported")
    if kind == JobKind.ANALYZE and photo.approval != Approval.PENDING:
        return Conflict(f"Photo {photo_id} is {photo.approval.value}; undo the decision first")
    what = f"an export with {preset!r}" if kind == JobKind.EXPORT else "an analysis"
    return Conflict(f"Photo {photo_id} already has {what} waiting or running")
