"""Import: files and folders into the library, one session per shoot, one analysis job each."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from .. import events
from ..context import BridgeContext
from ..ids import new_id
from ..imaging.formats import is_supported
from ..services.errors import InvalidArguments
from ..services.import_roots import has_printable_name, inside, printable_path
from ..services.jobs import PRIORITY_NORMAL, add_job, announce_jobs
from ..services.sessions import find_or_create_session, refresh_session
from ..store.enums import JobKind
from ..store.models import Photo
from . import worker
from .library_files import Probe, finish_even_if_cancelled, photo_row, place_in_library

log = logging.getLogger(__name__)

MAX_PATHS = 1000
SHOOT_DATE_SAMPLE = 8  # files whose capture time names a new session


@dataclass
class ImportReport:
    """What an import did with each file."""

    session_id: str | None = None
    imported: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "session_id": self.session_id,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "unsupported": self.unsupported,
            "failed": self.failed,
        }


def expand_paths(paths: list[str]) -> tuple[list[Path], list[str], Path]:
    """Files under the given files and folders (recursive, sorted), the paths that do not
    exist, and the folder that names the shoot."""
    first = Path(paths[0]).expanduser()
    shoot_folder = first if first.is_dir() else first.parent
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            )
        elif path.is_file():
            files.append(path)
        else:
            missing.append(raw)
    return files, missing, shoot_folder


def default_session_name(folder: Path | None, shoot_date: str | None = None) -> str:
    """`<folder name> <shoot date>`, as a shoot is usually called (today without one)."""
    day = shoot_date or datetime.now().strftime("%Y-%m-%d")
    return f"{folder.name} {day}" if folder is not None and folder.name else f"Import {day}"


async def shoot_session_name(ctx: BridgeContext, folder: Path | None, files: list[Path]) -> str:
    """The session name for these files: their folder and the day they were shot (the first
    capture time among the first few files), not the day of the import."""
    times: list[str] = []
    if files:
        sample = [str(f) for f in sorted(files)[:SHOOT_DATE_SAMPLE]]
        # EXIF is file reading, not pixel work: a thread, so a hot-folder arrival's import
        # does not wait for a worker busy with a backlog's analysis.
        times = await asyncio.to_thread(worker.capture_times, sample)
    days = sorted(t[:10] for t in times if len(t) >= 10 and t[4] == "-" and t[7] == "-")
    return default_session_name(folder, days[0] if days else None)


async def import_paths(
    ctx: BridgeContext,
    paths: list[str],
    session_name: str | None = None,
    *,
    mode: str | None = None,
    session_id: str | None = None,
    within: list[Path] | None = None,
    priority: int = PRIORITY_NORMAL,
) -> dict[str, Any]:
    """Import files and folders into one session; returns what happened to each file.

    With `within`, files whose real location is outside those folders (symlinks leading out)
    are refused and reported. `priority` is the analysis jobs' (a hot folder's new arrivals go
    ahead of an import's backlog).
    """
    if not isinstance(paths, list) or not paths or len(paths) > MAX_PATHS:
        raise InvalidArguments(f"'paths' must be a list of 1 to {MAX_PATHS} paths")
    mode = mode or ctx.settings.import_mode
    files, missing, folder = await asyncio.to_thread(expand_paths, paths)
    report = ImportReport()
    report.failed.extend({"path": p, "error": "No such file or folder"} for p in missing)
    files = await asyncio.to_thread(_refuse_unsafe, files, within, report)
    supported = [f for f in files if is_supported(f)]
    report.unsupported.extend(str(f) for f in files if not is_supported(f))
    if not supported:
        return report.as_dict()
    if session_id is None:
        name = session_name or await shoot_session_name(ctx, folder, supported)
        session_id = await find_or_create_session(ctx, name, str(folder))
    report.session_id = session_id
    limit = asyncio.Semaphore(max(2, 2 * (ctx.pool.workers if ctx.pool else 1)))

    async def one(path: Path) -> None:
        async with limit:
            await _import_one(ctx, path, session_id, mode, report, priority)

    try:
        await asyncio.gather(*(one(p) for p in supported))
    finally:
        # Also when abandoned: a session that got no photo is empty, never "in progress".
        await finish_even_if_cancelled(refresh_session(ctx, session_id))
    return report.as_dict()


async def _import_one(
    ctx: BridgeContext,
    path: Path,
    session_id: str,
    mode: str,
    report: ImportReport,
    priority: int = PRIORITY_NORMAL,
) -> None:
    try:
        # Hashing and EXIF are file reading, not pixel work: a thread, so a new arrival's
        # import never queues behind the analyses that fill the pool.
        probe = await asyncio.to_thread(worker.probe_file, str(path))
    except OSError as exc:
        report.failed.append({"path": str(path), "error": f"Cannot read file: {exc.strerror}"})
        return
    async with ctx.db.session() as s:
        exists = (
            await s.execute(select(Photo.id).where(Photo.content_hash == probe["sha256"]))
        ).scalar()
    if exists is not None:
        report.duplicates.append(str(path))
        log.info("Skipped %s: same content as photo %s", path.name, exists)
        return
    facts = Probe(path, probe["sha256"], probe["file_size"], probe.get("exif") or {})
    if mode in ("copy", "move"):
        try:
            # Once the file is touched, the import runs to its end even if cancelled.
            photo_id = await finish_even_if_cancelled(
                place_in_library(ctx, facts, session_id, mode, priority)
            )
        except IntegrityError:
            report.duplicates.append(str(path))  # the same content arrived twice at once
            return
        except DBAPIError as exc:
            log.error("Import of %s not recorded: %s", path, exc.orig)
            report.failed.append({"path": str(path), "error": "The library is busy; try again"})
            return
        except OSError as exc:
            report.failed.append(
                {
                    "path": str(path),
                    "error": f"Cannot {mode} into the library: {exc.strerror or exc}",
                }
            )
            return
        report.imported.append(photo_id)
        return
    photo = photo_row(new_id("p"), session_id, facts, str(path))
    try:
        async with ctx.db.session() as s, s.begin():
            s.add(photo)
            await s.flush()
            job = add_job(s, JobKind.ANALYZE, photo.id, priority)
    except IntegrityError:
        # The same content arrived twice at once; the other copy won.
        report.duplicates.append(str(path))
        return
    report.imported.append(photo.id)
    ctx.broker.publish(
        events.photo_imported(photo.id, session_id, photo.file_name, photo.file_path)
    )
    announce_jobs(ctx, [job])


def _refuse_unsafe(
    files: list[Path], within: list[Path] | None, report: ImportReport
) -> list[Path]:
    """Report files the store cannot name (not UTF-8) or that lead outside `within`."""
    kept: list[Path] = []
    for path in files:
        if not has_printable_name(path):
            error = "File name is not valid UTF-8; rename the file to import it"
            report.failed.append({"path": printable_path(path), "error": error})
        elif within is not None and not inside(Path(os.path.realpath(path)), within):
            error = "A symlink leading outside the import folders; not imported"
            report.failed.append({"path": str(path), "error": error})
        else:
            kept.append(path)
    return kept
