"""The job scheduler: runs pending jobs by priority, as many at once as there are workers.

Jobs live in the store, so a restart (even after a kill) loses none: jobs found `running` at
start-up were interrupted and run again; their handlers are idempotent.

In studio mode (PostgreSQL, several bridges and workers) a job is claimed with `SELECT … FOR
UPDATE SKIP LOCKED` and a lease the claimant renews while it works; a job whose lease ran out
(its worker died) is requeued by whoever notices first, and only such jobs are. Every write of
a run is guarded by its claim, so a worker that lost its lease cannot overwrite the new run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final, TypeVar

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..context import BridgeContext
from ..ids import new_id
from ..services import transitions
from ..services.jobs import PRIORITY_HIGH, jobs_changed
from ..services.transitions import Transition
from ..store.enums import JobKind, JobStatus
from ..store.models import Job
from ..timeutil import utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_ATTEMPTS: Final = 3
BACKOFF_SECONDS: Final = (1.0, 4.0, 16.0)
PROGRESS_INTERVAL: Final = 0.25  # at most four progress events a second per job
STOP_GRACE_SECONDS: Final = 10.0
SETTLE_RETRY_FIRST: Final = 0.5  # retrying a job's final write: first delay, then doubling
SETTLE_RETRY_MAX: Final = 30.0
POLL_SECONDS: Final = 1.0  # studio mode: how often a claimant looks for jobs queued elsewhere
# Jobs that may take the express worker when every other one is busy: a photo the
# photographer is waiting for (a hot-folder arrival's analysis), never a backlog's.
EXPRESS_KINDS: Final = frozenset({JobKind.ANALYZE})
EXPRESS_PRIORITY: Final = PRIORITY_HIGH


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
    claim_id: str = ""
    cancelled: bool = False
    express: bool = False  # runs on the pool's express worker (see `pool.PixelPool`)
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
            self.mine(),
            values={"stage": stage, "progress": percent},
        )
        if not rows:
            self.cancelled = True
            raise JobCancelled(self.job_id)

    def mine(self) -> Any:
        """SQL: the job row, as long as this run's claim holds it."""
        if not self.claim_id:
            return Job.id == self.job_id
        return (Job.id == self.job_id) & (Job.claim_id == self.claim_id)

    def still_running(self) -> Any:
        """SQL: this job is still running under this claim (a guard for the handler's writes)."""
        return exists().where(self.mine(), Job.status == JobStatus.RUNNING)

    async def pixels(self, fn: Callable[..., T], *args: Any) -> T:
        """Run pixel work for this job in the pool: on the express worker if it holds that."""
        pool = self.ctx.pool
        assert pool is not None
        return await (pool.run_express(fn, *args) if self.express else pool.run(fn, *args))

    def announce(self, stage: str, percent: float, message: str) -> None:
        """Publish progress without writing it (a step the job record need not keep)."""
        self._last_progress = time.monotonic()
        self.ctx.broker.publish(events.job_progress(self.job_id, stage, percent, message))


JobHandler = Callable[[JobRun], Awaitable[dict[str, Any]]]
AfterJob = Callable[[JobRun], Awaitable[None]]


# Built once: looked up after every job start and settle.
_EARLIEST_RETRY = (
    select(Job.not_before)
    .where(Job.status == JobStatus.PENDING, Job.not_before.is_not(None))
    .order_by(Job.not_before)
    .limit(1)
)


class JobScheduler:
    """Starts pending jobs by priority; pause, cancel and retry act on it through services."""

    def __init__(
        self,
        ctx: BridgeContext,
        handlers: dict[JobKind, JobHandler],
        concurrency: int,
        after_job: AfterJob | None = None,
        *,
        claims: bool = True,
    ) -> None:
        self._ctx = ctx
        # Studio mode: leases and SKIP LOCKED claims on the shared PostgreSQL store.
        self._leased = ctx.db.shared
        self._lease = timedelta(seconds=max(1.0, ctx.settings.job_lease_seconds))
        self._claims = claims  # False: this bridge leaves jobs to the studio's workers
        self._lease_task: asyncio.Task[None] | None = None
        self._handlers = handlers
        self._after_job = after_job
        self._concurrency = max(1, concurrency)
        self._paused = False
        self._stopping = False
        self._wake = asyncio.Event()
        self._running: dict[str, tuple[JobRun, asyncio.Task[None]]] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        # Whether an express job may be waiting: asked by `wake_express` (and at start, for
        # jobs a restart requeued), answered when a look found none, so a backlog's every
        # wake does not query for arrivals that are not there. Counters, so that an arrival
        # asking while a look is under way is not answered by that look.
        self._express_asked = 1
        self._express_answered = 0

    # --- JobRunner protocol -------------------------------------------------------------

    @property
    def paused(self) -> bool:
        """Whether starting jobs is paused."""
        return self._paused

    def wake(self) -> None:
        """Look for runnable jobs soon."""
        self._wake.set()

    def wake_express(self) -> None:
        """Look for runnable jobs soon, the express lane's too: an arrival was queued."""
        self._express_asked += 1
        self.wake()

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
    def capacity(self) -> int:
        """Jobs this scheduler may run at once (0 when it leaves jobs to the studio's workers)."""
        return self._concurrency if self._claims else 0

    @property
    def running_count(self) -> int:
        """Jobs running now."""
        return len(self._running)

    # --- life ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Requeue jobs a previous run left running, then start dispatching.

        On a shared store only jobs whose lease ran out are requeued: the others belong to a
        worker that is alive elsewhere.
        """
        requeued = await self._requeue_interrupted()
        if requeued:
            log.info("Requeued %d job(s) interrupted by the last stop", requeued)
        loop = asyncio.get_running_loop()
        self._loop_task = loop.create_task(self._dispatch(), name="job-dispatch")
        if self._leased:
            self._lease_task = loop.create_task(self._keep_leases(), name="job-leases")
        self.wake()

    async def _requeue_interrupted(self) -> int:
        where = []
        if self._leased:
            where.append(or_(Job.lease_until.is_(None), Job.lease_until < utcnow()))
        async with self._ctx.db.session() as s, s.begin():
            requeued = await transitions.apply(
                s,
                transitions.JOB_REQUEUED,
                *where,
                values={
                    "stage": "queued",
                    "progress": 0.0,
                    "started_at": None,
                    "claim_id": None,
                    "lease_until": None,
                },
            )
            for job in requeued:
                await transitions.photo_follows_job(
                    s, job.kind, job.photo_id, JobStatus.PENDING, None
                )
        for job in requeued if self._leased else ():
            self._ctx.broker.publish(
                events.job_progress(job.id, "queued", 0.0, f"Requeued: {job.worker} stopped")
            )
        return len(requeued)

    async def _keep_leases(self) -> None:
        """Renew the leases of the jobs running here; requeue jobs whose worker is gone."""
        interval = self._lease.total_seconds() / 3
        while not self._stopping:
            await asyncio.sleep(interval)
            try:
                await self._renew_leases()
                if await self._requeue_interrupted():
                    jobs_changed(self._ctx)
            except Exception:  # the store is away: the next round tries again
                log.exception("Renewing job leases failed")

    async def _renew_leases(self) -> None:
        runs = [run for run, _task in self._running.values()]
        if not runs:
            return
        until = utcnow() + self._lease
        async with self._ctx.db.session() as s, s.begin():
            for run in runs:
                kept = await transitions.apply(
                    s, transitions.JOB_PROGRESSED, run.mine(), values={"lease_until": until}
                )
                if not kept:  # cancelled, or our lease lapsed and another worker has it
                    run.cancelled = True

    async def stop(self) -> None:
        """Start nothing new; give running jobs time to finish, then leave them to requeue."""
        self._stopping = True
        self.wake()
        if self._timer is not None:
            self._timer.cancel()
        if self._loop_task is not None:
            await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._lease_task is not None:
            self._lease_task.cancel()
            await asyncio.gather(self._lease_task, return_exceptions=True)
        tasks = [task for _, task in self._running.values()]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()  # the job stays `running` in the store and is requeued at start
            await asyncio.gather(*pending, return_exceptions=True)

    # --- dispatch -------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while not self._stopping:
            if self._leased:
                # Other machines queue jobs too: look again at least once a second.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            else:
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
        running = list(self._running.values())
        free = self._concurrency - sum(1 for run, _t in running if not run.express)
        asked = self._express_asked
        express_free = asked > self._express_answered and not any(r.express for r, _t in running)
        if self._paused or not self._claims or (free <= 0 and not express_free):
            return
        now = utcnow()
        runnable = (
            Job.status == JobStatus.PENDING,
            or_(Job.not_before.is_(None), Job.not_before <= now),
        )
        order = (Job.priority, Job.created_at, Job.id)
        queries = []
        if free > 0:
            queries.append(select(Job).where(*runnable).order_by(*order).limit(free))
        if express_free:
            # The best waiting arrival, whether or not a regular slot is free: with one free
            # it may take that slot, and the express worker then stays ready for the next.
            queries.append(
                select(Job)
                .where(
                    *runnable,
                    Job.priority <= EXPRESS_PRIORITY,
                    Job.kind.in_(EXPRESS_KINDS),
                )
                .order_by(*order)
                .limit(1)
            )
        if self._leased:
            # Rows another worker is claiming right now are skipped, not waited for.
            queries = [q.with_for_update(skip_locked=True) for q in queries]
        claim_id = new_id("c")
        claim = {
            "worker": self._ctx.instance_name,
            "claim_id": claim_id,
            "lease_until": now + self._lease if self._leased else None,
        }
        async with self._ctx.db.session() as s, s.begin():
            candidates: dict[str, tuple[Job, bool]] = {}
            for lane, query in enumerate(queries):
                express = lane == len(queries) - 1 and express_free
                found = (await s.execute(query)).scalars().all()
                if express and not found:
                    self._express_answered = asked  # none waiting; the next arrival asks again
                for job in found:
                    candidates.setdefault(job.id, (job, express))
            started: list[tuple[Job, bool]] = []
            for candidate, express in candidates.values():
                # Only the writer whose conditional update matched starts the job; a cancel
                # (or another scheduler) that got there first wins.
                won = await transitions.apply(
                    s,
                    transitions.JOB_STARTED,
                    Job.id == candidate.id,
                    values={
                        "stage": "starting",
                        "started_at": now,
                        "finished_at": None,
                        **claim,
                    },
                )
                started += [(job, express) for job in won]
            snapshot = [
                (j.id, j.kind, j.photo_id, dict(j.params or {}), j.retry_count, express)
                for j, express in started
            ]
        for job_id, kind, photo_id, params, attempt, express in snapshot:
            run = JobRun(
                self._ctx, job_id, kind, photo_id, params, attempt, claim_id=claim_id,
                express=express,
            )  # fmt: skip
            task = asyncio.get_running_loop().create_task(self._run(run), name=f"job-{job_id}")
            self._running[job_id] = (run, task)
            self._ctx.broker.publish(
                events.job_started(job_id, photo_id, kind.value, self._ctx.instance_name)
            )
        if snapshot:
            jobs_changed(self._ctx)
        elif free <= 0:
            return  # only the express lane was looked at: no regular slot to arm a retry for
        await self._arm_timer()

    async def _arm_timer(self) -> None:
        """Wake when the earliest delayed retry becomes due."""
        async with self._ctx.db.session() as s:
            earliest = (await s.execute(_EARLIEST_RETRY)).scalar()
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
                    rows = await transitions.apply(s, t, run.mine(), values=values)
                    if rows:
                        await transitions.photo_follows_job(
                            s, run.kind, run.photo_id, t.target, values.get("error")
                        )
                return bool(rows)
            except (DBAPIError, OSError) as exc:  # OSError: the shared database is unreachable
                log.warning(
                    "Could not record job %s as %s (%s); retrying in %.1f s",
                    run.job_id,
                    t.target.value,
                    getattr(exc, "orig", None) or exc,
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
