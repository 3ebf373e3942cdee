"""A 100,000-photo library for bench/library.py, written through the real store.

The data folder gets the app's own database (created and migrated by `Database.migrate`), then
200 sessions of 500 photos each, in capture order, with what a finished shoot leaves behind:
every photo analysed (the analysis JSON of a real photo, analysed once by `analyze_file`, with
its score varied), selection's proposals, the photographer's decisions on most sessions, one
completed analysis job per photo and an export job per pick, and the persisted event log the
broker retains (`event_history_size` frames built by the real event builders and `serialize`).
Rows go in through the models' tables in batches of a few thousand (an import would take hours).

The folder is cached: a `library-ready` marker with the generator's version says it is complete;
anything else is wiped and made again.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import insert

from bridge_server import events
from bridge_server.broker import serialize
from bridge_server.config import Settings
from bridge_server.ids import new_id
from bridge_server.store.db import Database
from bridge_server.store.enums import (
    Approval,
    JobKind,
    JobStatus,
    PhotoStatus,
    Selection,
    SessionStatus,
)
from bridge_server.store.event_log import EPOCH_KEY, RESERVED_KEY
from bridge_server.store.models import EventRecord, Job, Meta, Photo, Session

VERSION: Final = "4"  # 4: made at 0012 as released (a 3 made at its draft lacks ix_photos_unsynced)
MARKER: Final = "library-ready"
SESSIONS: Final = 200
PHOTOS_PER_SESSION: Final = 500
EVENTS: Final = 50_000  # the broker's default event_history_size: what a busy library retains
UNDECIDED_SESSIONS: Final = 20  # the newest shoots still wait for the photographer
KEEPER_SHARE: Final = 0.3
BATCH: Final = 5_000


def _template_analysis(folder: Path) -> dict[str, Any]:
    """The analysis of one real photo (a generated 2 MP JPEG with a face-free scene)."""
    from bridge_server.imaging.analysis import analyze_file
    from tests.fixtures.photos import write_large_jpeg

    path = write_large_jpeg(folder / "template.jpg", megapixels=2, seed=7)
    result = analyze_file(str(path))
    path.unlink()
    return result


def _photo_rows(
    session_id: str, index: int, start: datetime, template: dict[str, Any], rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One session's photos and their jobs."""
    photos: list[dict[str, Any]] = []
    jobs: list[dict[str, Any]] = []
    decided = index < SESSIONS - UNDECIDED_SESSIONS
    for k in range(PHOTOS_PER_SESSION):
        photo_id = new_id("p")
        captured = start + timedelta(seconds=2 * k)
        score = round(rng.uniform(1.0, 5.0), 1)
        keeper = rng.random() < KEEPER_SHARE
        approval = Approval.PENDING
        if decided:
            approval = Approval.APPROVED if keeper else Approval.REJECTED
        analysis = {**template, "ai_score": score}
        name = f"IMG_{index:03d}_{k:04d}.jpg"
        photos.append(
            {
                "id": photo_id,
                "session_id": session_id,
                "file_name": name,
                "file_path": f"/library/{session_id}/{name}",
                "original_path": f"/card/DCIM/{name}",
                "content_hash": f"{index:04d}{k:06d}".ljust(64, "0"),
                "file_size": 5_000_000 + k,
                "width": 6000,
                "height": 4000,
                "exif": {"iso": 400, "aperture": 2.8, "exposure_time": 0.004},
                "captured_at": captured,
                "status": PhotoStatus.ANALYZED,
                "ai_score": score,
                "analysis": analysis,
                "phash": f"{rng.getrandbits(64):016x}",
                "group_id": f"g_{index:03d}_{k // 5:03d}",
                "is_group_best": k % 5 == 0,
                "group_rank": k % 5 + 1,
                "group_size": 5,
                "selection": Selection.KEEPER if keeper else Selection.NONE,
                "context_tag": "portrait",
                "selected_preset": "Archive",
                "approval": approval,
                "rejection_reason": None,
                "decided_at": captured + timedelta(days=1) if decided else None,
                "imported_at": captured + timedelta(minutes=1),
            }
        )
        finished = captured + timedelta(minutes=2)
        jobs.append(_job(JobKind.ANALYZE, photo_id, captured + timedelta(minutes=1), finished))
        if approval == Approval.APPROVED:
            jobs.append(_job(JobKind.EXPORT, photo_id, finished, finished + timedelta(seconds=5)))
    return photos, jobs


def _job(kind: JobKind, photo_id: str, created: datetime, finished: datetime) -> dict[str, Any]:
    return {
        "id": new_id("j"),
        "kind": kind,
        "photo_id": photo_id,
        "priority": 2,
        "status": JobStatus.COMPLETED,
        "progress": 100.0,
        "stage": "done",
        "params": {"preset": "Archive"} if kind == JobKind.EXPORT else {},
        "result": {"ai_score": 3.0} if kind == JobKind.ANALYZE else {"output_path": "/out"},
        "error": None,
        "retry_count": 0,
        "not_before": None,
        "created_at": created,
        "started_at": created,
        "finished_at": finished,
    }


def _event_rows(photo_ids: list[str], template: dict[str, Any]) -> list[dict[str, Any]]:
    """The retained event log: the frames the last photos' analyses published, in order."""
    rows: list[dict[str, Any]] = []
    seq = 0
    stamp = datetime(2026, 11, 1, tzinfo=UTC)
    for photo_id in photo_ids:
        job_id = new_id("j")
        for event in (
            events.job_created(job_id, photo_id, 2, "analyze"),
            events.job_started(job_id, photo_id, "analyze"),
            events.job_progress(job_id, "analyzing", 10.0, "Analysing"),
            events.photo_analyzed(photo_id, 3.4, template),
            events.job_completed(job_id, photo_id, {"ai_score": 3.4, "reasons": []}),
        ):
            seq += 1
            stamp += timedelta(milliseconds=50)
            timestamp = stamp.isoformat()
            message = {"type": event.type, "timestamp": timestamp, "seq": seq}
            message["channel"] = event.channel
            message.update(event.payload)
            rows.append(
                {
                    "seq": seq,
                    "type": event.type,
                    "channel": event.channel,
                    "timestamp": timestamp,
                    "data": serialize(message),
                }
            )
            if seq >= EVENTS:
                return rows
    return rows


async def _fill(data_dir: Path) -> dict[str, int]:
    db = Database(Settings(data_dir=str(data_dir)).database_path)
    await db.migrate()
    rng = random.Random(13)
    template = _template_analysis(data_dir)
    start = datetime(2024, 1, 6, 9, 0, tzinfo=UTC)
    counts = {"sessions": 0, "photos": 0, "jobs": 0, "events": 0}
    last_photos: list[str] = []
    try:
        for index in range(SESSIONS):
            session_id = new_id("s")
            shoot = start + timedelta(days=3 * index)
            decided = index < SESSIONS - UNDECIDED_SESSIONS
            photos, jobs = _photo_rows(session_id, index, shoot, template, rng)
            async with db.session() as s, s.begin():
                await s.execute(
                    insert(Session),
                    [
                        {
                            "id": session_id,
                            "name": f"Shoot {index + 1:03d}",
                            "import_folder": f"/card/shoot-{index + 1:03d}",
                            "status": SessionStatus.COMPLETED if decided else SessionStatus.ACTIVE,
                            "created_at": shoot,
                            "completed_at": shoot + timedelta(days=1) if decided else None,
                        }
                    ],
                )
                await s.execute(insert(Photo), photos)
                for i in range(0, len(jobs), BATCH):
                    await s.execute(insert(Job), jobs[i : i + BATCH])
            counts["sessions"] += 1
            counts["photos"] += len(photos)
            counts["jobs"] += len(jobs)
            last_photos = [p["id"] for p in photos]
        rows = _event_rows(last_photos * (EVENTS // (5 * len(last_photos)) + 1), template)
        async with db.session() as s, s.begin():
            for i in range(0, len(rows), BATCH):
                await s.execute(insert(EventRecord), rows[i : i + BATCH])
            await s.execute(
                insert(Meta),
                [
                    {"key": RESERVED_KEY, "value": str(len(rows))},
                    {"key": EPOCH_KEY, "value": new_id("e")},
                ],
            )
        counts["events"] = len(rows)
    finally:
        await db.close()
    return counts


async def _migrate(data_dir: Path) -> None:
    """To this tree's head; the count tallies folded, as a running bridge keeps them."""
    db = Database(Settings(data_dir=str(data_dir)).database_path)
    try:
        await db.migrate()
        if importlib.util.find_spec("bridge_server.store.tallies") is not None:
            from bridge_server.store import tallies

            await tallies.fold(db, min_saving=1)
    finally:
        await db.close()


def ensure_library(data_dir: Path) -> dict[str, Any]:
    """The generated library in `data_dir` (made when missing or stale); its counts."""
    marker = data_dir / MARKER
    if marker.exists():
        stored = json.loads(marker.read_text())
        if stored.get("version") == VERSION:
            asyncio.run(_migrate(data_dir))  # to this tree's head, once (new indexes)
            return dict(stored)
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    print(f"generating a {SESSIONS * PHOTOS_PER_SESSION:,}-photo library in {data_dir} ...")
    started = time.perf_counter()
    counts = asyncio.run(_fill(data_dir))
    asyncio.run(_migrate(data_dir))
    info = {"version": VERSION, **counts, "seconds": round(time.perf_counter() - started, 1)}
    marker.write_text(json.dumps(info))
    print(f"  done in {info['seconds']} s", flush=True)
    return info
