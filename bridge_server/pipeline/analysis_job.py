"""The analyze job: pixels in the pool, results in the store, photo_analyzed on the broker.

The photo's status follows the job through conditional transitions: `analyzing` only while
this job runs, `analyzed` only if the job is still running when the result is saved. A
failure, a retry later, a cancel or a requeue moves it on in the job's own transaction (see
`transitions.photo_follows_job`), so no path leaves a photo stranded in `analyzing`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func

from .. import events
from ..imaging.errors import ImageError
from ..services import transitions
from ..store.enums import Approval, PhotoStatus
from ..store.models import Photo
from . import worker
from .coalesce import KeyedCoalescer
from .scheduler import JobCancelled, JobRun, PermanentJobError


def make_analyze_handler(selection: KeyedCoalescer) -> Any:
    """The handler for JobKind.ANALYZE, which triggers selection for the photo's session."""

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
            if photo.status == PhotoStatus.ANALYZED:
                # Decided meanwhile: the result it was decided on stands.
                analysis = photo.analysis or {}
                return {"ai_score": photo.ai_score, "reasons": analysis.get("reasons", [])}
            path, exif, session_id = photo.file_path, dict(photo.exif or {}), photo.session_id
            name = photo.file_name
        run.announce("analyzing", 10.0, f"Analysing {name}")
        try:
            result = await ctx.pool.run(worker.analyze, path, exif or None)
        except (ImageError, FileNotFoundError) as exc:
            message = exc.message if isinstance(exc, ImageError) else f"File is gone: {path}"
            raise PermanentJobError(message, {"file_name": name}) from exc
        run.check_cancelled()
        # Saving takes milliseconds and the job completes right after: announce, do not write.
        run.announce("saving", 90.0, f"Saving analysis of {name}")
        async with ctx.db.session() as s, s.begin():
            saved = await transitions.apply(
                s,
                transitions.ANALYSIS_SUCCEEDED,
                Photo.id == run.photo_id,
                run.still_running(),
                values={
                    "error": None,
                    "ai_score": result["ai_score"],
                    "analysis": result,
                    "phash": result.get("phash"),
                    "width": _keep(Photo.width, result.get("width")),
                    "height": _keep(Photo.height, result.get("height")),
                },
            )
        if not saved:
            raise JobCancelled(run.job_id)  # cancelled (or removed) while the pixels were worked
        ctx.broker.publish(events.photo_analyzed(run.photo_id, result["ai_score"], result))
        selection.schedule(session_id)
        return {"ai_score": result["ai_score"], "reasons": result.get("reasons", [])}

    return analyze


def _keep(column: Any, fallback: Any) -> Any:
    """SQL: the column's value, or `fallback` where it is NULL."""
    return func.coalesce(column, fallback)
