"""The export job: one file per approved photo and preset, written once, even across crashes.

The output path is claimed per export in the store (a unique index: two exports can never
claim one path, whatever is on disk). The file is rendered to a temp file, its SHA-256 is
recorded in the row, and only then is it linked into place (never over an existing file). A
re-run after a crash adopts the file at its own claim only if that file has the recorded
content; otherwise it renders again.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .. import events
from ..context import BridgeContext
from ..imaging.atomic import link_exclusive, remove_quietly
from ..imaging.errors import ExportError
from ..imaging.export_render import format_filename, sanitise_filename
from ..imaging.hashing import sha256_file
from ..services import transitions
from ..store.enums import Approval, ExportStatus
from ..store.models import Export, Photo
from ..timeutil import utcnow
from . import worker
from .export_withdrawal import withdraw_if_unpicked
from .metadata_sync import fields_of
from .scheduler import JobRun, PermanentJobError

MAX_NAME_SUFFIX: Final = 9999  # stem-1 … stem-9999
MAX_CLAIM_TRIES: Final = 50


def destination_for(ctx: BridgeContext, preset: dict[str, Any]) -> str:
    """The preset's folder, or `<export folder>/<preset name>`."""
    configured = str(preset.get("destination") or "")
    if configured:
        return os.path.expanduser(configured)
    return os.path.join(ctx.settings.export_dir, sanitise_filename(str(preset["name"])))


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
        src, file_name = ctx.local_path(photo.file_path), photo.file_name
        fields = fields_of(photo)
        stem = format_filename(
            str(preset.get("filename_template") or "{original}"),
            original_stem=Path(file_name).stem,
            captured_at=photo.captured_at,
            sequence=sequence,
        )
    record = await _export_row(ctx, run.photo_id, preset_name)
    if record.status == ExportStatus.WITHDRAWING:
        # Picked again while the last export's removal is under way: retried in a moment.
        raise RuntimeError("The previous export of this photo is still being removed")
    dest_dir = destination_for(ctx, preset)
    temp = os.path.join(dest_dir, f".export-{record.id}.tmp")  # ours by name, across restarts
    result = {"file_size": record.file_size, "preset_name": preset_name}
    # Idempotence: a finished export, or one put in place just before a crash, counts if the
    # file at the job's own claim has the content recorded for it.
    if record.output_path is not None and (
        await asyncio.to_thread(_holds, record.output_path, record.content_hash)
        if record.content_hash is not None
        # Written before content hashes were recorded (revision 0001): completed is trusted.
        else record.status == ExportStatus.COMPLETED
        and await asyncio.to_thread(os.path.isfile, record.output_path)
    ):
        await asyncio.to_thread(remove_quietly, temp)  # left by a kill after the link
        if record.status != ExportStatus.COMPLETED:
            size = await asyncio.to_thread(os.path.getsize, record.output_path)
            await _complete(ctx, record.id, run.photo_id, preset_name, record.output_path, size)
            result["file_size"] = size
        return {**result, "output_path": record.output_path}
    try:
        await asyncio.to_thread(os.makedirs, dest_dir, exist_ok=True)
    except OSError as exc:
        message = f"Cannot use export folder {dest_dir}: {exc.strerror or exc}"
        await _fail(ctx, record.id, run.photo_id, preset_name, message)
        raise PermanentJobError(message, {"preset_name": preset_name}) from exc
    claimed = record.output_path
    if claimed is None or os.path.dirname(claimed) != dest_dir:
        claimed = await _claim(ctx, record.id, dest_dir, stem, set())
    ctx.broker.publish(events.export_started(run.photo_id, preset_name, dest_dir))
    await run.progress("exporting", 30.0, f"Exporting {file_name} ({preset_name})", force=True)
    try:
        rendered = await ctx.pool.run(
            worker.export,
            src,
            preset,
            temp,
            fields.rating,
            fields.label,
            fields.keywords,
        )
    except (ExportError, FileNotFoundError) as exc:
        message = str(exc.message if isinstance(exc, ExportError) else f"Original is gone: {src}")
        await _fail(ctx, record.id, run.photo_id, preset_name, message)
        raise PermanentJobError(message, {"preset_name": preset_name}) from exc
    if run.cancelled:
        await asyncio.to_thread(remove_quietly, temp)
        run.check_cancelled()
    run.announce("saving", 90.0, f"Saving export of {file_name}")
    output = await _put_in_place(ctx, record.id, dest_dir, stem, claimed, rendered)
    size = int(rendered["file_size"])
    await _complete(ctx, record.id, run.photo_id, preset_name, output, size)
    return {**result, "output_path": output, "file_size": size}


async def _export_row(ctx: BridgeContext, photo_id: str, preset_name: str) -> Export:
    """The export row of this photo and preset, created once (a racing creator's row wins)."""
    key = (Export.photo_id == photo_id) & (Export.preset_name == preset_name)
    for _ in range(2):
        async with ctx.db.session() as s:
            record = (await s.execute(select(Export).where(key))).scalar_one_or_none()
        if record is not None:
            return record
        try:
            async with ctx.db.session() as s, s.begin():
                record = Export(photo_id=photo_id, preset_name=preset_name, created_at=utcnow())
                s.add(record)
            return record
        except IntegrityError:
            continue
    raise PermanentJobError(f"Could not create the export record for {photo_id}")


async def _claim(
    ctx: BridgeContext, export_id: int, dest_dir: str, stem: str, avoid: set[str]
) -> str:
    """Claim a free output path for this export in the store (a unique index decides)."""
    names = [os.path.join(dest_dir, f"{stem}.jpg")]
    names += [os.path.join(dest_dir, f"{stem}-{i}.jpg") for i in range(1, MAX_NAME_SUFFIX + 1)]
    prefix = os.path.join(dest_dir, stem)
    for _ in range(MAX_CLAIM_TRIES):
        async with ctx.db.session() as s:
            taken = set(
                (
                    await s.execute(
                        select(Export.output_path).where(
                            Export.output_path.startswith(prefix, autoescape=True),
                            Export.id != export_id,
                        )
                    )
                )
                .scalars()
                .all()
            )
        candidate = next((n for n in names if n not in taken and n not in avoid), None)
        if candidate is None:
            break
        try:
            async with ctx.db.session() as s, s.begin():
                await s.execute(
                    update(Export)
                    .where(Export.id == export_id)
                    .values(output_path=candidate, content_hash=None)
                )
            return candidate
        except IntegrityError:
            continue  # another export claimed it between our read and our write
    raise PermanentJobError(f"No free file name for {stem}.jpg in {dest_dir}")


async def _put_in_place(
    ctx: BridgeContext,
    export_id: int,
    dest_dir: str,
    stem: str,
    claimed: str,
    rendered: dict[str, Any],
) -> str:
    """Record the content hash, then link the temp file to the claimed name, never over
    another file; a name taken by a file that is not ours is given up for the next one."""
    temp, content_hash = str(rendered["temp_path"]), str(rendered["content_hash"])
    avoid: set[str] = set()
    while True:
        async with ctx.db.session() as s, s.begin():
            await s.execute(
                update(Export)
                .where(Export.id == export_id, Export.output_path == claimed)
                .values(content_hash=content_hash)
            )
        if await asyncio.to_thread(link_exclusive, temp, claimed):
            return claimed
        if await asyncio.to_thread(_holds, claimed, content_hash):
            await asyncio.to_thread(remove_quietly, temp)  # the same file is already there
            return claimed
        avoid.add(claimed)  # someone else's file: never overwritten
        claimed = await _claim(ctx, export_id, dest_dir, stem, avoid)


def _holds(path: str, content_hash: str) -> bool:
    try:
        return sha256_file(path) == content_hash
    except OSError:
        return False


async def _complete(
    ctx: BridgeContext, export_id: int, photo_id: str, preset_name: str, path: str, size: int
) -> None:
    async with ctx.db.session() as s, s.begin():
        rows = await transitions.apply(
            s,
            transitions.EXPORT_COMPLETED,
            Export.id == export_id,
            Export.output_path == path,
            values={"file_size": size, "error": None, "completed_at": utcnow()},
        )
    if rows:
        ctx.broker.publish(events.export_completed(photo_id, preset_name, path, size))
    # A pick taken back while this export ran: the file it just wrote goes too.
    await withdraw_if_unpicked(ctx, photo_id)
    if ctx.metadata is not None:
        ctx.metadata.schedule(photo_id)  # a decision changed during the render catches up


async def _fail(
    ctx: BridgeContext, export_id: int, photo_id: str, preset_name: str, message: str
) -> None:
    async with ctx.db.session() as s, s.begin():
        rows = await transitions.apply(
            s,
            transitions.EXPORT_FAILED,
            Export.id == export_id,
            values={"output_path": None, "content_hash": None, "error": message},
        )
    if rows:
        ctx.broker.publish(events.export_failed(photo_id, preset_name, message))
