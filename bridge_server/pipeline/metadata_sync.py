"""Metadata follows decisions: the rating, label and keywords in sidecars and exported JPEGs.

After every decision change (and after an export completes) the photo's metadata is written,
off the event loop, once per burst of changes:
- the `.xmp` sidecar beside the original, for RAW originals (setting `write_raw_sidecars`) and
  JPEG originals (setting `write_jpeg_sidecars`), merged with what other programs wrote;
- the XMP inside each completed export, only while the file still has the content the app
  recorded (a file changed since is the photographer's and left alone). The new content hash is
  recorded before the rewritten file (staged beside it under a name of its own) replaces the
  old one, so an interrupted rewrite is finished on the next run.
Rating is the stars, or -1 for a rejected photo (as Lightroom and darktable read it); the stars
come back when the reject is taken back. `metadata_rev` counts decision changes and
`metadata_synced_rev` what was written, so a change a crash left unwritten is written at start.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select, update

from .. import events
from ..context import BridgeContext
from ..imaging.atomic import fsync_dir, remove_quietly
from ..imaging.errors import ExportError
from ..imaging.formats import is_raw
from ..imaging.hashing import sha256_file
from ..imaging.xmp import REJECTED_RATING, label_name, rewrite_jpeg_xmp, write_sidecar
from ..store.enums import Approval, ExportStatus
from ..store.models import Export, Photo
from .coalesce import KeyedCoalescer

log = logging.getLogger(__name__)

COALESCE_SECONDS: Final = 0.2
JPEG_SUFFIXES: Final = frozenset({".jpg", ".jpeg"})


@dataclass(frozen=True)
class Fields:
    """What the files say about a photo."""

    rating: int
    label: str | None
    keywords: list[str]


@dataclass(frozen=True)
class ExportedFile:
    """A completed export whose XMP follows the photo."""

    export_id: int
    path: str
    content_hash: str


def fields_of(photo: Photo) -> Fields:
    """Rating (-1 when rejected, else the stars), Lightroom's label name and the keywords."""
    rating = REJECTED_RATING if photo.approval == Approval.REJECTED else int(photo.stars or 0)
    return Fields(rating, label_name(photo.color_label), list(photo.keywords or []))


def takes_sidecar(path: str, write_raw: bool, write_jpeg: bool) -> bool:
    """Whether the original at `path` gets an .xmp sidecar under these settings."""
    if is_raw(path):
        return write_raw
    return write_jpeg and os.path.splitext(path)[1].lower() in JPEG_SUFFIXES


def metadata_coordinator(ctx: BridgeContext) -> KeyedCoalescer:
    """Metadata per photo, once for a burst of changes."""
    return KeyedCoalescer(
        "Metadata", COALESCE_SECONDS, lambda photo_id: sync_photo_metadata(ctx, photo_id)
    )


async def unsynced_photos(ctx: BridgeContext) -> list[str]:
    """Photos whose last decisions are not yet in their files (a crash came in between)."""
    async with ctx.db.session() as s:
        query = select(Photo.id).where(Photo.metadata_rev != Photo.metadata_synced_rev)
        return list((await s.execute(query)).scalars().all())


async def sync_photo_metadata(ctx: BridgeContext, photo_id: str) -> None:
    """Write the photo's decision into its sidecar and its exports' XMP."""
    async with ctx.db.session() as s:
        photo = await s.get(Photo, photo_id)
        if photo is None:
            return
        rev, fields, original = photo.metadata_rev, fields_of(photo), photo.file_path
        exported: list[ExportedFile] = []
        if photo.approval == Approval.APPROVED:
            rows = await s.execute(
                select(Export.id, Export.output_path, Export.content_hash).where(
                    Export.photo_id == photo_id, Export.status == ExportStatus.COMPLETED
                )
            )
            exported = [ExportedFile(i, p, h) for i, p, h in rows.all() if p and h]
    settings = ctx.settings
    ok = True
    if takes_sidecar(original, settings.write_raw_sidecars, settings.write_jpeg_sidecars):
        try:
            await asyncio.to_thread(
                write_sidecar, original, fields.rating, fields.label, fields.keywords
            )
        except ExportError as exc:
            ok = False
            _report(ctx, photo_id, exc.message)
    for export in exported:
        ok = await _rewrite_export(ctx, photo_id, export, fields) and ok
    if ok:
        async with ctx.db.session() as s, s.begin():
            await s.execute(
                update(Photo)
                .where(Photo.id == photo_id, Photo.metadata_synced_rev < rev)
                .values(metadata_synced_rev=rev)
            )


def staged_rewrite(path: str, export_id: int) -> str:
    """Where the rewritten export waits beside `path` until it replaces it."""
    return os.path.join(os.path.dirname(path), f".export-{export_id}.xmp.tmp")


def _staged_name(export: ExportedFile) -> str:
    return staged_rewrite(export.path, export.export_id)


def _prepare(export: ExportedFile, fields: Fields) -> tuple[str, str, int] | None:
    """Stage the rewritten export beside it; (staged path, new hash, size), or None if the
    file is not the app's any more or already says this."""
    staged = _staged_name(export)
    if os.path.isfile(staged) and sha256_file(staged) == export.content_hash:
        return staged, export.content_hash, os.path.getsize(staged)  # recorded, not yet moved
    try:
        with open(export.path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        remove_quietly(staged)  # a stage left by a kill is never used now
        return None
    if hashlib.sha256(data).hexdigest() != export.content_hash:
        remove_quietly(staged)
        return None  # changed or replaced since the export: the photographer's file now
    new = rewrite_jpeg_xmp(data, fields.rating, fields.label, fields.keywords)
    if new == data:
        remove_quietly(staged)
        return None
    with open(staged, "wb") as fh:
        fh.write(new)
        fh.flush()
        os.fsync(fh.fileno())
    return staged, hashlib.sha256(new).hexdigest(), len(new)


def _put_in_place(staged: str, path: str) -> None:
    try:
        os.replace(staged, path)
    except FileNotFoundError:
        return  # a withdrawal that began meanwhile finished the rewrite (and removed it)
    fsync_dir(os.path.dirname(path))


async def _rewrite_export(
    ctx: BridgeContext, photo_id: str, export: ExportedFile, fields: Fields
) -> bool:
    """Rewrite one export's XMP atomically; False if it failed (reported)."""
    try:
        prepared = await asyncio.to_thread(_prepare, export, fields)
    except (ExportError, OSError) as exc:
        await asyncio.to_thread(remove_quietly, _staged_name(export))
        _report(ctx, photo_id, getattr(exc, "message", None) or f"{export.path}: {exc}")
        return False
    if prepared is None:
        return True
    staged, new_hash, size = prepared
    if new_hash != export.content_hash:
        # The new content is recorded before it replaces the file (see the module's docstring).
        unchanged = (
            (Export.id == export.export_id)
            & (Export.status == ExportStatus.COMPLETED)  # not being withdrawn meanwhile
            & (Export.content_hash == export.content_hash)
        )
        async with ctx.db.session() as s, s.begin():
            recorded = (
                await s.execute(
                    update(Export)
                    .where(unchanged)
                    .values(content_hash=new_hash, file_size=size)
                    .returning(Export.id)
                )
            ).scalar()
        if recorded is None:  # withdrawn or re-exported meanwhile: this rewrite is moot
            await asyncio.to_thread(remove_quietly, staged)
            return True
    try:
        await asyncio.to_thread(_put_in_place, staged, export.path)
    except OSError as exc:
        _report(ctx, photo_id, f"cannot update {export.path}: {exc.strerror or exc}")
        return False
    return True


def _report(ctx: BridgeContext, photo_id: str, message: str) -> None:
    log.warning("Metadata of %s not written: %s", photo_id, message)
    ctx.broker.publish(
        events.error_occurred("metadata_write_failed", message, {}, photo_id=photo_id)
    )
