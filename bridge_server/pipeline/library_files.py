"""Copying or moving a photo into the library so that a crash or a cancel never loses it.

The protocol, for one file:
1. a `file_intents` row is written (source, a hidden staging name only this intent uses);
2. the file is renamed (same disk) or copied (another disk) to the staging name;
3. the final, free name is recorded in the intent, then the staging file is linked there
   (never overwriting) and the staging name removed; a move across disks now deletes the source;
4. one transaction adds the photo and its analysis job and deletes the intent.

Steps 2 to 4 run to the end even when the import is cancelled (a stopped watcher, a changed hot
folder): see `finish_even_if_cancelled`. The same table and start-up recovery carry the
removal of exports whose pick was taken back (mode "unexport", pipeline/export_withdrawal.py).

After a kill, `recover_file_intents` runs at start-up
before the watcher and scheduler and, per intent: if the photo was added, removes leftovers;
in copy mode, or in move mode while the source still exists, rolls back (deletes the library
copies; the source is where it was); in move mode with the source gone, finishes (the complete
file is in the library; the photo row is added from the facts the intent recorded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from .. import events
from ..context import BridgeContext
from ..ids import new_id
from ..imaging.atomic import link_exclusive
from ..imaging.hashing import sha256_file
from ..services.jobs import PRIORITY_NORMAL, add_job, announce_jobs
from ..store.enums import JobKind
from ..store.models import FileIntent, Job, Photo, Session
from ..timeutil import utcnow
from .export_withdrawal import UNEXPORT, recover_withdrawal

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_NAME_TRIES: Final = 1000
RECORD_RETRY_FIRST: Final = 0.5  # recording a placed file: first delay, doubling, up to ~1 min
RECORD_RETRY_LAST: Final = 32.0


@dataclass(frozen=True)
class Probe:
    """What import learned about a file before touching it."""

    source: Path
    content_hash: str
    file_size: int
    exif: dict[str, Any]


async def finish_even_if_cancelled(work: Awaitable[T]) -> T:
    """Await `work` to its end; a cancel that arrives meanwhile is re-raised afterwards."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled() or task.done():
                raise
            cancelled = True
            continue
        except Exception as exc:
            if cancelled:
                raise asyncio.CancelledError from exc  # the work ended; the cancel still holds
            raise
        if cancelled:
            raise asyncio.CancelledError
        return result


def _same_disk(a: Path, b: Path) -> bool:
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return False


def _stage(source: Path, staging: Path, mode: str) -> None:
    """Step 2: the file under the staging name (the source is untouched by a copy)."""
    staging.parent.mkdir(parents=True, exist_ok=True)
    if mode == "move" and _same_disk(source, staging.parent):
        os.rename(source, staging)  # atomic: the file is in exactly one of the two places
        return
    shutil.copy2(source, staging)
    with open(staging, "rb+") as fh:
        os.fsync(fh.fileno())


def _drop_source(source: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(source)


def _free_name(directory: Path, name: str, attempt: int) -> Path:
    stem, suffix = os.path.splitext(name)
    return directory / (name if attempt == 0 else f"{stem}-{attempt}{suffix}")


def _publish(staging: Path, target: Path) -> bool:
    """Step 3: link staging to target without overwriting; False if the name is taken."""
    return link_exclusive(str(staging), str(target))


async def place_in_library(
    ctx: BridgeContext, probe: Probe, session_id: str, mode: str, priority: int = PRIORITY_NORMAL
) -> str:
    """Copy or move one probed file into the library and add its photo; returns the photo id.

    Raises IntegrityError (after putting the file back) if the same content was added
    meanwhile. Run it under `finish_even_if_cancelled`.
    """
    directory = Path(ctx.settings.library_dir) / session_id
    intent = FileIntent(
        id=new_id("fi"),
        mode=mode,
        source=str(probe.source),
        photo_id=new_id("p"),
        session_id=session_id,
        content_hash=probe.content_hash,
        file_size=probe.file_size,
        exif=probe.exif,
        target=None,
    )
    intent.staging = str(directory / f".{intent.id}.importing")
    async with ctx.db.session() as s, s.begin():
        s.add(intent)  # step 1: the intent is durable before any file is touched
    try:
        await asyncio.to_thread(_stage, probe.source, Path(intent.staging), mode)
        intent.target = await _choose_and_publish(ctx, intent, directory, probe.source.name)
    except Exception:
        # A full disk, a locked store: put the file back now (recovery would at next start).
        await asyncio.to_thread(_roll_back, intent)
        with contextlib.suppress(DBAPIError):
            await _forget(ctx, intent.id)
        raise
    if mode == "move":
        await asyncio.to_thread(_drop_source, probe.source)  # a move across disks ends here
    try:
        job = await _record_photo_retrying(ctx, intent, priority)
    except IntegrityError:
        await asyncio.to_thread(_roll_back, intent)
        await _forget(ctx, intent.id)
        raise
    _announce(ctx, intent, job)
    return intent.photo_id


async def _choose_and_publish(
    ctx: BridgeContext, intent: FileIntent, directory: Path, name: str
) -> str:
    """Step 3: record a free final name, then link the staged file there (never over one)."""
    for attempt in range(MAX_NAME_TRIES):
        target = _free_name(directory, name, attempt)
        async with ctx.db.session() as s, s.begin():
            await s.execute(
                update(FileIntent).where(FileIntent.id == intent.id).values(target=str(target))
            )
        if await asyncio.to_thread(_publish, Path(intent.staging), target):
            return str(target)
    raise OSError(f"No free file name for {name} in {directory}")


async def _record_photo_retrying(
    ctx: BridgeContext, intent: FileIntent, priority: int = PRIORITY_NORMAL
) -> Job:
    """Step 4, retried while the store is busy: the file is in the library, its row must land.

    If it still cannot be written, the intent stays and start-up recovery finishes it.
    """
    delay = RECORD_RETRY_FIRST
    while True:
        try:
            return await _record_photo(ctx, intent, priority)
        except IntegrityError:
            raise
        except DBAPIError as exc:
            if delay > RECORD_RETRY_LAST:
                raise
            log.warning("Could not record %s yet (%s); retrying", intent.target, exc.orig)
            await asyncio.sleep(delay)
            delay *= 2


def _announce(ctx: BridgeContext, intent: FileIntent, job: Job) -> None:
    assert intent.target is not None
    name = Path(intent.source).name
    ctx.broker.publish(
        events.photo_imported(intent.photo_id, intent.session_id, name, intent.target)
    )
    announce_jobs(ctx, [job])


def photo_row(photo_id: str, session_id: str, probe: Probe, stored: str) -> Photo:
    """The new photo for a probed file kept at `stored`."""
    return Photo(
        id=photo_id,
        session_id=session_id,
        file_name=probe.source.name,
        file_path=stored,
        original_path=str(probe.source),
        content_hash=probe.content_hash,
        file_size=probe.file_size,
        width=probe.exif.get("width"),
        height=probe.exif.get("height"),
        exif=probe.exif,
        captured_at=parse_capture_time(probe.exif.get("captured_at")),
        imported_at=utcnow(),
    )


def parse_capture_time(value: Any) -> datetime | None:
    """EXIF capture time; camera clocks carry no zone, so wall time is kept as if UTC."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


async def _record_photo(
    ctx: BridgeContext, intent: FileIntent, priority: int = PRIORITY_NORMAL
) -> Job:
    """Step 4: the photo, its analysis job, and the end of the intent, in one transaction."""
    probe = Probe(Path(intent.source), intent.content_hash, intent.file_size, intent.exif or {})
    assert intent.target is not None
    async with ctx.db.session() as s, s.begin():
        s.add(photo_row(intent.photo_id, intent.session_id, probe, intent.target))
        await s.flush()
        job = add_job(s, JobKind.ANALYZE, intent.photo_id, priority)
        await s.execute(delete(FileIntent).where(FileIntent.id == intent.id))
    return job


async def _forget(ctx: BridgeContext, intent_id: str) -> None:
    async with ctx.db.session() as s, s.begin():
        await s.execute(delete(FileIntent).where(FileIntent.id == intent_id))


def _holds(path: str | None, content_hash: str) -> bool:
    """Whether `path` is a file with exactly this content."""
    if not path or not os.path.isfile(path):
        return False
    try:
        return sha256_file(path) == content_hash
    except OSError:
        return False


def _roll_back(intent: FileIntent) -> None:
    """Put the file back where it was and remove every library copy this intent made."""
    source = Path(intent.source)
    ours = [p for p in (intent.target, intent.staging) if p and _holds(p, intent.content_hash)]
    if intent.mode == "move" and not source.exists() and ours:
        source.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(ours[0], source)
        ours = ours[1:]
    for path in ours:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    # A staging file that is not complete (a copy cut short) is ours by name alone.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(intent.staging)


def _finish_files(intent: FileIntent) -> str | None:
    """Put the complete file at a final name; returns it (None if no complete copy exists)."""
    if _holds(intent.target, intent.content_hash):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(intent.staging)
        return intent.target
    if not _holds(intent.staging, intent.content_hash):
        return None
    directory = Path(intent.staging).parent
    for attempt in range(MAX_NAME_TRIES):
        target = _free_name(directory, Path(intent.source).name, attempt)
        if _publish(Path(intent.staging), target):
            return str(target)
    return None


async def recover_file_intents(ctx: BridgeContext) -> dict[str, int]:
    """Finish or roll back every file operation a crash interrupted (before watcher and
    scheduler): imports here, export withdrawals in export_withdrawal."""
    outcome = {"finished": 0, "rolled_back": 0, "already_done": 0, "withdrawn": 0}
    async with ctx.db.session() as s:
        intents = list((await s.execute(select(FileIntent))).scalars().all())
    for intent in intents:
        if intent.mode == UNEXPORT:
            done = await recover_withdrawal(ctx, intent)
            outcome["already_done" if done == "already_done" else "withdrawn"] += 1
            continue
        async with ctx.db.session() as s:
            photo = await s.get(Photo, intent.photo_id)
            session = await s.get(Session, intent.session_id)
        if photo is not None:
            await asyncio.to_thread(_clean_after_done, intent, photo.file_path)
            outcome["already_done"] += 1
        elif (
            intent.mode == "move"
            and session is not None
            and not await asyncio.to_thread(os.path.exists, intent.source)
        ):
            target = await asyncio.to_thread(_finish_files, intent)
            if target is not None and await _finish_record(ctx, intent, target):
                outcome["finished"] += 1
            else:
                await asyncio.to_thread(_roll_back, intent)
                outcome["rolled_back"] += 1
        else:
            await asyncio.to_thread(_roll_back, intent)
            outcome["rolled_back"] += 1
        await _forget(ctx, intent.id)
    if intents:
        log.warning("Recovered %d interrupted file operation(s): %s", len(intents), outcome)
    return outcome


async def _finish_record(ctx: BridgeContext, intent: FileIntent, target: str) -> bool:
    intent.target = target
    try:
        job = await _record_photo(ctx, intent)
    except IntegrityError:
        return False  # the same content is already in the library: roll back instead
    _announce(ctx, intent, job)
    return True


def _clean_after_done(intent: FileIntent, recorded: str) -> None:
    """The photo was added: only a staging leftover can remain (never the recorded file)."""
    if intent.staging != recorded:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(intent.staging)
