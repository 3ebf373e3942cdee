"""The analyze job: pixels in the pool, results in the store, photo_analyzed on the broker."""

from __future__ import annotations

from typing import Any

from .. import events
from ..imaging.errors import ImageError
from ..store.enums import PhotoStatus
from ..store.models import Photo
from . import worker
from .coalesce import KeyedCoalescer
from .scheduler import JobRun, PermanentJobError


def make_analyze_handler(selection: KeyedCoalescer) -> Any:
    """The handler for JobKind.ANALYZE, which triggers selection for the photo's session."""

    async def analyze(run: JobRun) -> dict[str, Any]:
        ctx = run.ctx
        assert ctx.pool is not None and run.photo_id is not None
        async with ctx.db.session() as s, s.begin():
            photo = await s.get(Photo, run.photo_id)
            if photo is None:
                raise PermanentJobError("The photo was removed from the library")
            photo.status = PhotoStatus.ANALYZING
            path, exif, session_id = photo.file_path, dict(photo.exif or {}), photo.session_id
            name = photo.file_name
            await run.record_progress(s, "analyzing", 10.0)
        run.announce("analyzing", 10.0, f"Analysing {name}")
        try:
            result = await ctx.pool.run(worker.analyze, path, exif or None)
        except (ImageError, FileNotFoundError) as exc:
            message = exc.message if isinstance(exc, ImageError) else f"File is gone: {path}"
            await _mark_failed(run, message)
            raise PermanentJobError(message, {"file_name": name}) from exc
        except BaseException:
            await _reset_status(run)
            raise
        run.check_cancelled()
        # Saving takes milliseconds and the job completes right after: announce, do not write.
        run.announce("saving", 90.0, f"Saving analysis of {name}")
        async with ctx.db.session() as s, s.begin():
            photo = await s.get(Photo, run.photo_id)
            if photo is None:
                raise PermanentJobError("The photo was removed from the library")
            photo.status = PhotoStatus.ANALYZED
            photo.error = None
            photo.ai_score = result["ai_score"]
            photo.analysis = result
            photo.phash = result.get("phash")
            photo.width = photo.width or result.get("width")
            photo.height = photo.height or result.get("height")
        ctx.broker.publish(events.photo_analyzed(run.photo_id, result["ai_score"], result))
        selection.schedule(session_id)
        return {"ai_score": result["ai_score"], "reasons": result.get("reasons", [])}

    return analyze


async def _mark_failed(run: JobRun, message: str) -> None:
    async with run.ctx.db.session() as s, s.begin():
        photo = await s.get(Photo, run.photo_id)
        if photo is not None:
            photo.status = PhotoStatus.FAILED
            photo.error = message


async def _reset_status(run: JobRun) -> None:
    async with run.ctx.db.session() as s, s.begin():
        photo = await s.get(Photo, run.photo_id)
        if photo is not None and photo.status == PhotoStatus.ANALYZING:
            photo.status = PhotoStatus.IMPORTED
