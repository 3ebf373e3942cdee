"""The analyze job: pixels in the pool, results in the store, photo_analyzed on the broker.

The photo's status follows the job through conditional transitions: `analyzing` only while
this job runs, `analyzed` only if the job is still running when the result is saved. A
failure, a retry later, a cancel or a requeue moves it on in the job's own transaction (see
`transitions.photo_follows_job`), so no path leaves a photo stranded in `analyzing`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..context import BridgeContext
from ..imaging.analysis import ANALYSIS_VERSION
from ..imaging.errors import ImageError
from ..services import transitions
from ..services.jobs import PRIORITY_LOW, add_job, announce_jobs
from ..store.enums import ACTIVE_JOB_STATUSES, Approval, JobKind, PhotoStatus
from ..store.models import Job, Meta, Photo
from ..store.portable import json_number
from . import worker
from .coalesce import KeyedCoalescer
from .scheduler import JobCancelled, JobRun, PermanentJobError

UPGRADE = "analysis_upgrade"  # a re-analysis because the analysis version changed
# The analysis version whose start-up scan for older analyses has run (meta key).
SCANNED_VERSION_KEY = "analysis_version_scanned"


def make_analyze_handler(selection: KeyedCoalescer, previews: bool = True) -> Any:
    """The handler for JobKind.ANALYZE, which triggers selection for the photo's session.

    With `previews` (a bridge, not a studio's worker host) the analysis also writes the
    previews its decode allows into the bridge's preview cache.
    """

    async def analyze(run: JobRun) -> dict[str, Any]:
        ctx = run.ctx
        assert ctx.pool is not None and run.photo_id is not None
        async with ctx.db.session() as s, s.begin():
            await run.record_progress(s, "analyzing", 10.0)
            # A decided photo keeps its analysis (the schema allows decisions only on analysed
            # photos); anything else (new, failed, a re-analysis) starts analysing.
            await transitions.apply(
                s,
                transitions.ANALYSIS_STARTED,
                Photo.id == run.photo_id,
                Photo.approval == Approval.PENDING,
            )
            photo = await s.get(Photo, run.photo_id, populate_existing=True)
            if photo is None:
                raise PermanentJobError("The photo was removed from the library")
            upgrade = run.params.get("reason") == UPGRADE and _outdated(photo.analysis)
            if photo.status == PhotoStatus.ANALYZED and not upgrade:
                # Decided meanwhile: the result it was decided on stands.
                analysis = photo.analysis or {}
                return {"ai_score": photo.ai_score, "reasons": analysis.get("reasons", [])}
            path, exif = ctx.local_path(photo.file_path), dict(photo.exif or {})
            session_id = photo.session_id
            name = photo.file_name
            decided = photo.status == PhotoStatus.ANALYZED
        run.announce("analyzing", 10.0, f"Analysing {name}")
        try:
            cache = ctx.thumbnails.directory if previews and ctx.thumbnails else None
            result = await run.pixels(
                worker.analyze, path, exif or None, cache and str(cache), run.photo_id
            )
        except (ImageError, FileNotFoundError) as exc:
            message = exc.message if isinstance(exc, ImageError) else f"File is gone: {path}"
            raise PermanentJobError(message, {"file_name": name}) from exc
        run.check_cancelled()
        # Saving takes milliseconds and the job completes right after: announce, do not write.
        run.announce("saving", 90.0, f"Saving analysis of {name}")
        async with ctx.db.session() as s, s.begin():
            if decided:
                saved = await _refresh_decided(s, run, result)
            else:
                saved = bool(
                    await transitions.apply(
                        s,
                        transitions.ANALYSIS_SUCCEEDED,
                        Photo.id == run.photo_id,
                        run.still_running(),
                        values=_analysis_values(result),
                    )
                )
        if not saved:
            if cache is not None and ctx.thumbnails is not None:  # it wrote the grid preview
                await ctx.thumbnails.drop_if_removed(run.photo_id)
            raise JobCancelled(run.job_id)  # cancelled (or removed) while the pixels were worked
        ctx.broker.publish(events.photo_analyzed(run.photo_id, result["ai_score"], result))
        selection.schedule(session_id)
        return {"ai_score": result["ai_score"], "reasons": result.get("reasons", [])}

    return analyze


def _outdated(analysis: dict[str, Any] | None) -> bool:
    """Whether an analysis was made by an older analysis version than this one."""
    return int((analysis or {}).get("version") or 0) < ANALYSIS_VERSION


def _analysis_values(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "error": None,
        "ai_score": result["ai_score"],
        "analysis": result,
        "phash": result.get("phash"),
        "width": _keep(Photo.width, result.get("width")),
        "height": _keep(Photo.height, result.get("height")),
    }


async def _refresh_decided(s: AsyncSession, run: JobRun, result: dict[str, Any]) -> bool:
    """A decided photo's analysis brought up to date in place: its decision is not touched.

    No status changes (a decided photo stays analysed); the write is guarded on the photo
    still being decided and the job still running.
    """
    written = (
        await s.execute(
            update(Photo)
            .where(
                Photo.id == run.photo_id,
                Photo.status == PhotoStatus.ANALYZED,
                Photo.approval != Approval.PENDING,
                run.still_running(),
            )
            .values(_analysis_values(result))
            .returning(Photo.id)
        )
    ).scalar()
    return written is not None


async def queue_outdated_analyses(ctx: BridgeContext) -> int:
    """Queue a low-priority re-analysis of every photo analysed by an older analysis version.

    Decisions stay as they are (a decided photo's analysis is refreshed in place); a photo that
    already has an analysis job waiting or running gets no second one. The scan reads every
    photo's analysis, so it runs once per analysis version (recorded in `meta`): afterwards
    only this version's code writes analyses.
    """
    version = func.coalesce(json_number(Photo.analysis, literal("$.version")), 0)
    busy = exists().where(
        Job.photo_id == Photo.id,
        Job.kind == JobKind.ANALYZE,
        Job.status.in_(ACTIVE_JOB_STATUSES),
    )
    async with ctx.db.session() as s, s.begin():
        scanned = await s.get(Meta, SCANNED_VERSION_KEY)
        if scanned is not None and scanned.value == str(ANALYSIS_VERSION):
            return 0
        outdated = (
            await s.execute(
                select(Photo.id, version).where(
                    Photo.status == PhotoStatus.ANALYZED, version < ANALYSIS_VERSION, ~busy
                )
            )
        ).all()
        jobs = [
            add_job(
                s, JobKind.ANALYZE, photo_id, PRIORITY_LOW,
                {"reason": UPGRADE, "from_version": int(v or 0), "to_version": ANALYSIS_VERSION},
            )
            for photo_id, v in outdated
        ]  # fmt: skip
        if scanned is None:
            s.add(Meta(key=SCANNED_VERSION_KEY, value=str(ANALYSIS_VERSION)))
        else:
            scanned.value = str(ANALYSIS_VERSION)
    announce_jobs(ctx, jobs)
    return len(jobs)


def _keep(column: Any, fallback: Any) -> Any:
    """SQL: the column's value, or `fallback` where it is NULL."""
    return func.coalesce(column, fallback)
