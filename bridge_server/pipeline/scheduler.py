"""The job scheduler: runs pending jobs by priority, as many at once as there are workers.

Jobs live in the store, so a restart (even after a kill) loses none: jobs found `running` at
start-up were interrupted and run again; their handlers are idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..context import BridgeContext
from ..services import transitions
from ..services.jobs import jobs_changed
from ..services.transitions import Transition
from ..store.enums import JobKind, JobStatus
from ..store.models import Job
from ..timeutil import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 3
BACKOFF_SECONDS: Final = (1.0, 4.0, 16.0)
PROGRESS_INTERVAL: Final = 0.25  # at most four progress events a second per job
STOP_GRACE_SECONDS: Final = 10.0
SETTLE_RETRY_FIRST: Final = 0.5  # retrying a job's final write: first delay, then doubling
SETTLE_RETRY_MAX: Final = 30.0


class JobCancelled(Exception):
    """The job was cancelled while it ran; stop at this safe point."""


class PermanentJobError(Exception):
    """A failure that retrying cannot fix (a corrupt file, a full disk)."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


@dataclass
class JobRun:
    """A running job as its handler sees it: ids, parameters, progress and cancellation."""

    ctx: BridgeContext
    job_id: str
    kind: JobKind
    photo_id: str | None
    params: dict[str, Any]
    attempt: int
    cancelled: bool = False
    _last_progress: float = field(default=0.0)

    def check_cancelled(self) -> None:
        """Raise JobCancelled at a safe point if the job was cancelled."""
        if self.cancelled:
            raise JobCancelled(self.job_id)

    async def progress(
        self, stage: str, percent: float, message: str, *, force: bool = False
    ) -> None:
        """Record and publish progress (throttled unless `force`)."""
        self.check_cancelled()
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_INTERVAL:
            return
        self._last_progress = now
        async with self.ctx.db.session() as s, s.begin():
            await self.record_progress(s, stage, percent)
        self.announce(stage, percent, message)

    async def record_progress(self, s: AsyncSession, stage: str, percent: float) -> None:
        """Write stage and progress in the caller's transaction (publish with announce).

        The write is conditional on the job still running: if it matched no row, the job was
        cancelled (here or by another writer) and JobCancelled stops the handler.
        """
        rows = await transitions.apply(
            s,
            transitions.JOB_PROGRESSED,
            Job.id == self.job_id,
            values={"stage": stage, "progress": percent},
        )
        if not rows:
            self.cancelled = True
            raise JobCancelled(self.job_id)

    def still_running(self) -> Any:
        """SQL: this job is still running (a guard for the handler's own writes)."""
        return exists().where(Job.id == self.job_id, Job.status == JobStatus.RUNNING)

    def announce(self, stage: str, percent: float, message: str) -> None:
        """Publish progress without writing it (a step the job record need not keep)."""
        self._last_progress = time.monotonic()
        self.ctx.broker.publish(events.job_progress(self.job_id, stage, percent, message))


JobHandler = Callable[[JobRun], Awaitable[dict[str, Any]]]
AfterJob = Callable[[JobRun], Awaitable[None]]


class JobScheduler:
    """Starts pending jobs by priority; pause, cancel and retry act on it through services."""

    def __init__(
        self,
        ctx: BridgeContext,
        handlers: dict[JobKind, JobHandler],
        concurrency: int,
        after_job: AfterJob | None = None,
    ) -> None:
        self._ctx = ctx
        self._handlers = handlers
        self._after_job = after_job
        self._concurrency = max(1, concurrency)
        self._paused = False
        self._stopping = False
        self._wake = asyncio.Event()
        self._running: dict[str, tuple[JobRun, asyncio.Task[None]]] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    # --- JobRunner protocol -------------------------------------------------------------

    @property
    def paused(self) -> bool:
        """Whether starting jobs is paused."""
        return self._paused

    def wake(self) -> None:
        """Look for runnable jobs soon."""
        self._wake.set()

    def cancel_running(self, job_id: str) -> bool:
        """Mark a running job cancelled; its handler stops at the next safe point."""
        entry = self._running.get(job_id)
        if entry is None:
            return False
        entry[0].cancelled = True
        return True

    def set_paused(self, paused: bool) -> None:
        """Pause or resume starting jobs (running ones finish)."""
        self._paused = paused
        self.wake()

    @property
    def running_count(self) -> int:
        """Jobs running now."""
        return len(self._running)

    # --- life ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Requeue jobs a previous run left running, then start dispatching."""
        async with self._ctx.db.session() as s, s.begin():
            requeued = await transitions.apply(
                s,
                transitions.JOB_REQUEUED,
                values={"stage": "queued", "progress": 0.0, "started_at": None},
            )
            for job in requeued:
                await transitions.photo_follows_job(
                    s, job.kind, job.photo_id, JobStatus.PENDING, None
                )
        if requeued:
            log.info("Requeued %d job(s) interrupted by the last stop", len(requeued))
        self._loop_task = asyncio.get_running_loop().create_task(
            self._dispatch(), name="job-dispatch"
        )
        self.wake()

    async def stop(self) -> None:
        """Start nothing new; give running jobs time to finish, then leave them to requeue."""
        self._stopping = True
        self.wake()
        if self._timer is not None:
            self._timer.cancel()
        if self._loop_task is not None:
            await asyncio.gather(self._loop_task, return_exceptions=True)
        tasks = [task for _, task in self._running.values()]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()  # the job stays `running` in the store and is requeued at start
            await asyncio.gather(*pending, return_exceptions=True)

    # --- dispatch -------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            if self._stopping:
                break
            try:
                await self._start_runnable()
            except Exception:
                log.exception("Job dispatch failed")
                await asyncio.sleep(1.0)
                self.wake()

    async def _start_runnable(self) -> None:
        free = self._concurrency - len(self._running)
        if self._paused or free <= 0:
            return
        now = utcnow()
        async with self._ctx.db.session() as s, s.begin():
            candidates = (
                (
                    await s.execute(
                        select(Job)
                        .where(
                            Job.status == JobStatus.PENDING,
                            or_(Job.not_before.is_(None), Job.not_before <= now),
                        )
                        .order_by(Job.priority, Job.created_at, Job.id)
                        .limit(free)
                    )
                )
                .scalars()
                .all()
            )
            started: list[Job] = []
            for candidate in candidates:
                # Only the writer whose conditional update matched starts the job; a cancel
                # (or another scheduler) that got there first wins.
                started += await transitions.apply(
                    s,
                    transitions.JOB_STARTED,
                    Job.id == candidate.id,
                    values={"stage": "starting", "started_at": now, "finished_at": None},
                )
            snapshot = [
                (j.id, j.kind, j.photo_id, dict(j.params or {}), j.retry_count) for j in started
            ]
        for job_id, kind, photo_id, params, attempt in snapshot:
            run = JobRun(self._ctx, job_id, kind, photo_id, params, attempt)
            task = asyncio.get_running_loop().create_task(self._run(run), name=f"job-{job_id}")
            self._running[job_id] = (run, task)
            self._ctx.broker.publish(events.job_started(job_id, photo_id, kind.value))
        if snapshot:
            jobs_changed(self._ctx)
        await self._arm_timer()

    async def _arm_timer(self) -> None:
        """Wake when the earliest delayed retry becomes due."""
        async with self._ctx.db.session() as s:
            earliest = (
                await s.execute(
                    select(Job.not_before)
                    .where(Job.status == JobStatus.PENDING, Job.not_before.is_not(None))
                    .order_by(Job.not_before)
                    .limit(1)
                )
            ).scalar()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if earliest is not None:
            delay = max(0.05, (earliest - utcnow()).total_seconds())
            self._timer = asyncio.get_running_loop().call_later(delay, self.wake)

    async def _run(self, run: JobRun) -> None:
        try:
            result = await self._handlers[run.kind](run)
            run.check_cancelled()
            completed = {"result": result, "finished_at": utcnow(), "progress": 100.0}
            if await self._settle(run, transitions.JOB_COMPLETED, {**completed, "stage": "done"}):
                self._ctx.broker.publish(events.job_completed(run.job_id, run.photo_id, result))
        except JobCancelled:
            pass  # whoever cancelled it recorded and announced it
        except PermanentJobError as exc:
            if await self._fail(run, exc.message):
                self._ctx.broker.publish(
                    events.job_failed(
                        run.job_id,
                        run.photo_id,
                        exc.message,
                        {**exc.details, "will_retry": False, "attempt": run.attempt + 1},
                    )
                )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._transient_failure(run, exc)
        finally:
            self._running.pop(run.job_id, None)
            jobs_changed(self._ctx)
        if self._after_job is not None:
            try:
                await self._after_job(run)
            except Exception:
                log.exception("After-job hook failed for %s", run.job_id)

    async def _settle(self, run: JobRun, t: Transition, values: dict[str, Any]) -> bool:
        """Move the job out of `running` (and its photo with it); True if this call did.

        A failed write (a full disk, a locked database) is retried until it lands: a job left
        `running` would keep its session open forever. A stop cancels the retries; the job is
        then requeued at the next start.
        """
        delay = SETTLE_RETRY_FIRST
        while True:
            try:
                async with self._ctx.db.session() as s, s.begin():
                    rows = await transitions.apply(s, t, Job.id == run.job_id, values=values)
                    if rows:
                        await transitions.photo_follows_job(
                            s, run.kind, run.photo_id, t.target, values.get("error")
                        )
                return bool(rows)
            except DBAPIError as exc:
                log.warning(
                    "Could not record job %s as %s (%s); retrying in %.1f s",
                    run.job_id,
                    t.target.value,
                    exc.orig if exc.orig is not None else exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, SETTLE_RETRY_MAX)

    async def _fail(self, run: JobRun, message: str, **extra: Any) -> bool:
        values = {"error": message, "finished_at": utcnow(), "stage": "failed", **extra}
        return await self._settle(run, transitions.JOB_FAILED, values)

    async def _transient_failure(self, run: JobRun, exc: Exception) -> None:
        message = f"{type(exc).__name__}: {exc}"
        attempt = run.attempt + 1
        will_retry = attempt < MAX_ATTEMPTS
        if will_retry:
            delay = BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)]
            retried = await self._settle(
                run,
                transitions.JOB_RETRY_LATER,
                {
                    "stage": "retrying",
                    "retry_count": attempt,
                    "error": message,
                    "not_before": utcnow() + timedelta(seconds=delay),
                },
            )
            if not retried:
                return  # cancelled meanwhile
            log.warning("Job %s failed (%s); retrying in %.0f s", run.job_id, message, delay)
            self._report_error(run, exc, message, attempt, will_retry)
            self._ctx.broker.publish(
                events.job_progress(
                    run.job_id, "retrying", 0.0, f"Retrying in {delay:.0f} s after: {message}"
                )
            )
            await self._arm_timer()
            return
        if not await self._fail(run, message, retry_count=attempt):
            return
        log.error("Job %s failed for good: %s", run.job_id, message, exc_info=exc)
        self._report_error(run, exc, message, attempt, will_retry)
        self._ctx.broker.publish(
            events.job_failed(
                run.job_id, run.photo_id, message, {"will_retry": False, "attempt": attempt}
            )
        )

    def _report_error(
        self, run: JobRun, exc: Exception, message: str, attempt: int, will_retry: bool
    ) -> None:
        # Unexpected failures (a crashed worker, a bug) are reported even when retried.
        self._ctx.broker.publish(
            events.error_occurred(
                "job_error",
                message,
                {"exception": type(exc).__name__, "attempt": attempt, "will_retry": will_retry},
                run.job_id,
                run.photo_id,
            )
        )
