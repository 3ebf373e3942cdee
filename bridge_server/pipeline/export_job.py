"""The export job: one file per approved photo and preset, written once, even across crashes.

Before rendering, the chosen output path is claimed in the `exports` row. If the process dies
after the file was linked into place but before the row said so, the next run finds the
claimed file and records it instead of writing a second copy.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select

from .. import events
from ..context import BridgeContext
from ..imaging.errors import ExportError
from ..imaging.export_render import format_filename, sanitise_filename
from ..store.enums import Approval, ExportStatus
from ..store.models import Export, Photo
from ..timeutil import utcnow
from . import worker
from .scheduler import JobRun, PermanentJobError

APPROVED_LABEL: Final = "Green"
CLAIM_CLOCK_SLACK: Final = timedelta(seconds=2)


def rating_for(score: float | None) -> int:
    """Stars for Lightroom and darktable: the AI score rounded, 1 to 5."""
    return max(1, min(5, round(score or 1)))


def keywords_for(photo: Photo) -> list[str]:
    """Keywords carrying the analysis into the exported file."""
    analysis = photo.analysis or {}
    words = ["AutoDev Bridge", f"AI score {photo.ai_score}"]
    if photo.context_tag:
        words.append(photo.context_tag)
    words.extend(str(r) for r in analysis.get("reasons", []))
    return list(dict.fromkeys(words))


def destination_for(ctx: BridgeContext, preset: dict[str, Any]) -> str:
    """The preset's folder, or `<export folder>/<preset name>`."""
    configured = str(preset.get("destination") or "")
    if configured:
        return os.path.expanduser(configured)
    return os.path.join(ctx.settings.export_dir, sanitise_filename(str(preset["name"])))


def _claim_free_path(directory: str, stem: str) -> str:
    candidate = os.path.join(directory, f"{stem}.jpg")
    n = 1
    while os.path.exists(candidate):
        candidate = os.path.join(directory, f"{stem}-{n}.jpg")
        n += 1
    return candidate


async def export_handler(run: JobRun) -> dict[str, Any]:
    """Handler for JobKind.EXPORT."""
    ctx = run.ctx
    assert ctx.pool is not None and run.photo_id is not None
    preset_name = str(run.params.get("preset") or "")
    preset = ctx.settings.preset(preset_name)
    async with ctx.db.session() as s, s.begin():
        photo = await s.get(Photo, run.photo_id)
        if photo is None or photo.approval != Approval.APPROVED:
            raise PermanentJobError("The photo is no longer approved")
        if preset is None:
            message = f"Unknown export preset: {preset_name!r}"
            ctx.broker.publish(events.export_failed(run.photo_id, preset_name, message))
            raise PermanentJobError(message)
        record = (
            await s.execute(
                select(Export).where(Export.photo_id == photo.id, Export.preset_name == preset_name)
            )
        ).scalar_one_or_none()
        if record is None:
            record = Export(
                photo_id=photo.id,
                preset_name=preset_name,
                status=ExportStatus.PENDING,
                created_at=utcnow(),
            )
            s.add(record)
            await s.flush()
        sequence = (
            1
            + (
                await s.execute(
                    select(func.count())
                    .select_from(Photo)
                    .where(
                        Photo.session_id == photo.session_id, Photo.captured_at < photo.captured_at
                    )
                )
            ).scalar_one()
            if photo.captured_at is not None
            else 1
        )
        src, file_name = photo.file_path, photo.file_name
        rating, keywords = rating_for(photo.ai_score), keywords_for(photo)
        stem = format_filename(
            str(preset.get("filename_template") or "{original}"),
            original_stem=Path(file_name).stem,
            captured_at=photo.captured_at,
            sequence=sequence,
        )
        claimed = record.output_path
        claimed_at = record.created_at
        done = record.status == ExportStatus.COMPLETED
    dest_dir = destination_for(ctx, preset)
    # Idempotence: a finished export, or a file claimed and written before a crash, counts.
    if claimed is not None and await asyncio.to_thread(_is_our_file, claimed, claimed_at):
        size = await asyncio.to_thread(os.path.getsize, claimed)
        if not done:
            await _record(ctx, run.photo_id, preset_name, ExportStatus.COMPLETED, claimed, size)
            ctx.broker.publish(events.export_completed(run.photo_id, preset_name, claimed, size))
        return {"output_path": claimed, "file_size": size, "preset_name": preset_name}
    try:
        claimed = await asyncio.to_thread(_claim_in, dest_dir, stem)
    except OSError as exc:
        message = f"Cannot use export folder {dest_dir}: {exc.strerror or exc}"
        await _fail(ctx, run.photo_id, preset_name, message)
        raise PermanentJobError(message, {"preset_name": preset_name}) from exc
    await _record(ctx, run.photo_id, preset_name, ExportStatus.PENDING, claimed, None)
    ctx.broker.publish(events.export_started(run.photo_id, preset_name, dest_dir))
    await run.progress("exporting", 30.0, f"Exporting {file_name} ({preset_name})", force=True)
    try:
        result = await ctx.pool.run(
            worker.export,
            src,
            preset,
            dest_dir,
            Path(claimed).stem,
            rating,
            APPROVED_LABEL,
            keywords,
            ctx.settings.write_raw_sidecars,
        )
    except (ExportError, FileNotFoundError) as exc:
        message = str(exc.message if isinstance(exc, ExportError) else f"Original is gone: {src}")
        await _fail(ctx, run.photo_id, preset_name, message)
        raise PermanentJobError(message, {"preset_name": preset_name}) from exc
    run.announce("saving", 90.0, f"Saving export of {file_name}")
    output, size = result["output_path"], int(result["file_size"])
    await _record(ctx, run.photo_id, preset_name, ExportStatus.COMPLETED, output, size)
    ctx.broker.publish(events.export_completed(run.photo_id, preset_name, output, size))
    return {
        "output_path": output,
        "file_size": size,
        "preset_name": preset_name,
        "sidecar_path": result.get("sidecar_path"),
    }


async def _fail(ctx: BridgeContext, photo_id: str, preset_name: str, message: str) -> None:
    await _record(ctx, photo_id, preset_name, ExportStatus.FAILED, None, None, message)
    ctx.broker.publish(events.export_failed(photo_id, preset_name, message))


def _claim_in(directory: str, stem: str) -> str:
    os.makedirs(directory, exist_ok=True)
    return _claim_free_path(directory, stem)


def _is_our_file(path: str, claimed_at: Any) -> bool:
    # The claimed name was free when claimed; a file there written since then is ours.
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return False
    return claimed_at is None or mtime >= (claimed_at - CLAIM_CLOCK_SLACK).timestamp()


async def _record(
    ctx: BridgeContext,
    photo_id: str,
    preset_name: str,
    status: ExportStatus,
    output_path: str | None,
    size: int | None,
    error: str | None = None,
) -> None:
    async with ctx.db.session() as s, s.begin():
        record = (
            await s.execute(
                select(Export).where(Export.photo_id == photo_id, Export.preset_name == preset_name)
            )
        ).scalar_one()
        record.status = status
        record.output_path = output_path
        record.file_size = size
        record.error = error
        if status == ExportStatus.COMPLETED:
            record.completed_at = utcnow()
        else:
            record.created_at = utcnow()
