"""Taking back an export when its pick is taken back, so that a crash never leaves it half done.

The protocol, for each completed export of a photo whose flag leaves pick:
1. in the decision's transaction the export goes `completed → withdrawing` and a file intent
   (mode "unexport": the export's path, a hidden staging name beside it, its recorded content
   hash) is written, before any file is touched;
2. the file is renamed to the staging name (atomic, same folder) only if it still has the
   recorded content; the staged file is checked again and deleted, or put back if it changed;
3. one transaction moves the export to `withdrawn` (removed, or already gone) or `kept` (changed
   since the export: left alone) and deletes the intent; `export_withdrawn` says which.
After a kill, `recover_file_intents` (pipeline/library_files.py) hands every unexport intent to
`recover_withdrawal`, which runs steps 2 and 3 again (both are safe to repeat). An export that
completes after its pick was taken back (it was already running) is withdrawn the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any, Final

from sqlalchemy import delete, exists
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..context import BridgeContext
from ..ids import new_id
from ..imaging.atomic import fsync_dir, link_exclusive
from ..imaging.hashing import sha256_file
from ..services import transitions
from ..store.enums import Approval, ExportStatus
from ..store.models import Export, FileIntent, Photo
from .metadata_sync import staged_rewrite

UNEXPORT: Final = "unexport"
REMOVED: Final = "removed"
CHANGED: Final = "changed"
MISSING: Final = "missing"


async def begin_withdrawal(
    s: AsyncSession, photo_id: str, session_id: str, *where: Any
) -> list[FileIntent]:
    """Step 1, in the caller's transaction: the photo's completed exports (matching `where`)
    become `withdrawing`, each with its intent; returns the intents to carry out after commit."""
    rows = await transitions.apply(
        s,
        transitions.EXPORT_WITHDRAWING,
        Export.photo_id == photo_id,
        Export.output_path.is_not(None),
        *where,
    )
    intents = []
    for export in rows:
        assert export.output_path is not None
        intent_id = new_id("fi")
        intent = FileIntent(
            id=intent_id,
            mode=UNEXPORT,
            source=export.output_path,
            staging=os.path.join(os.path.dirname(export.output_path), f".{intent_id}.unexporting"),
            target=None,
            photo_id=photo_id,
            session_id=session_id,
            content_hash=export.content_hash or "",  # none recorded: never treated as ours
            file_size=export.file_size or 0,
            exif={},
            export_id=export.id,
        )
        s.add(intent)
        intents.append(intent)
    return intents


async def withdraw(ctx: BridgeContext, intents: list[FileIntent]) -> None:
    """Steps 2 and 3 for intents recorded by `begin_withdrawal` (files handled off the loop)."""
    for intent in intents:
        outcome = await asyncio.to_thread(_remove_file, intent)
        await _finish(ctx, intent, outcome)


async def withdraw_if_unpicked(ctx: BridgeContext, photo_id: str) -> None:
    """After an export completed: if the photo's pick was taken back meanwhile, withdraw it."""
    async with ctx.db.session() as s, s.begin():
        photo = await s.get(Photo, photo_id)
        if photo is None:
            return
        picked = exists().where(Photo.id == photo_id, Photo.approval == Approval.APPROVED)
        intents = await begin_withdrawal(s, photo_id, photo.session_id, ~picked)
    await withdraw(ctx, intents)


async def recover_withdrawal(ctx: BridgeContext, intent: FileIntent) -> str:
    """Finish a withdrawal a crash interrupted; returns what happened to the file."""
    async with ctx.db.session() as s:
        export = await s.get(Export, intent.export_id) if intent.export_id is not None else None
        status = export.status if export is not None else None
    if status != ExportStatus.WITHDRAWING:
        # Recorded before the crash (or the photo is gone): only a staged copy may be left.
        await asyncio.to_thread(_drop_staged, intent)
        async with ctx.db.session() as s, s.begin():
            await s.execute(delete(FileIntent).where(FileIntent.id == intent.id))
        return "already_done"
    outcome = await asyncio.to_thread(_remove_file, intent)
    await _finish(ctx, intent, outcome)
    return outcome


def _holds(path: str, content_hash: str) -> bool:
    if not content_hash or not os.path.isfile(path):
        return False
    try:
        return sha256_file(path) == content_hash
    except OSError:
        return False


def _remove_file(intent: FileIntent) -> str:
    """Step 2: remove the export if it still is what was exported; says what happened."""
    path, staging, digest = intent.source, intent.staging, intent.content_hash
    if _holds(staging, digest):  # renamed just before a crash: finish the removal
        os.unlink(staging)
        fsync_dir(os.path.dirname(staging))
        return REMOVED
    rewrite = staged_rewrite(path, intent.export_id or 0)
    if not _holds(path, digest) and _holds(rewrite, digest):
        # Its XMP rewrite (metadata_sync) was recorded but not yet in place: finish it first.
        with contextlib.suppress(FileNotFoundError):
            os.replace(rewrite, path)
    if not os.path.lexists(path):
        return MISSING
    if not _holds(path, digest):
        return CHANGED
    try:
        os.rename(path, staging)
    except FileNotFoundError:
        return MISSING
    if _holds(staging, digest):
        os.unlink(staging)
        fsync_dir(os.path.dirname(staging))
        return REMOVED
    # Changed between the check and the rename: put it back (never over another file).
    if link_exclusive(staging, path):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)
    return CHANGED


def _drop_staged(intent: FileIntent) -> None:
    if _holds(intent.staging, intent.content_hash):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(intent.staging)


def _message(outcome: str, path: str) -> str:
    name = Path(path).name
    if outcome == REMOVED:
        return f"Removed {name} from the export folder: its pick was taken back"
    if outcome == CHANGED:
        return f"Left {name} in the export folder: it was changed after the export"
    return f"{name} was no longer in the export folder (moved or deleted): nothing to remove"


async def _finish(ctx: BridgeContext, intent: FileIntent, outcome: str) -> None:
    """Step 3: record the outcome on the export, forget the intent, say what happened."""
    transition = transitions.EXPORT_KEPT if outcome == CHANGED else transitions.EXPORT_REMOVED
    message = _message(outcome, intent.source)
    async with ctx.db.session() as s, s.begin():
        rows = await transitions.apply(
            s,
            transition,
            Export.id == intent.export_id,
            values={"error": None if outcome == REMOVED else message},
        )
        await s.execute(delete(FileIntent).where(FileIntent.id == intent.id))
    if rows:
        ctx.broker.publish(
            events.export_withdrawn(
                intent.photo_id, rows[0].preset_name, intent.source, outcome, message
            )
        )
