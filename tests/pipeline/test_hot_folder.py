"""A tethered shot: a complete JPEG is taken at once, a half-written one waits, and a new
arrival's analysis goes ahead of an import's backlog, on the express worker when every other
worker is busy with it."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bridge_server.app import BridgeServer
from bridge_server.pipeline.importer import import_paths
from bridge_server.pipeline.scheduler import JobRun
from bridge_server.pipeline.watcher import STABLE_SECONDS, HotFolderWatcher, _stat_all
from bridge_server.services.jobs import set_processing_paused
from bridge_server.store.enums import JobKind, PhotoStatus, Selection
from bridge_server.store.models import Job, Photo
from tests.helpers import jobs_settled, make_settings, wait_for


async def _ignore(_folder: Path, _files: list[Path]) -> None:
    return None


def _watcher(root: Path) -> HotFolderWatcher:
    return HotFolderWatcher([str(root)], _ignore)


def test_a_complete_jpeg_is_ready_after_one_quiet_check(tmp_path: Path, photo_set) -> None:
    shot = tmp_path / "shot.jpg"
    shutil.copyfile(photo_set["astronaut"], shot)
    watcher = _watcher(tmp_path)
    watcher._note(shot)
    assert watcher._take_stable(_stat_all([shot]), now=10.0) == []  # first sight
    assert watcher._take_stable(_stat_all([shot]), now=10.1) == [shot]


def test_a_half_written_jpeg_waits_until_it_holds_still(tmp_path: Path, photo_set) -> None:
    data = Path(photo_set["astronaut"]).read_bytes()
    shot = tmp_path / "shot.jpg"
    shot.write_bytes(data[: len(data) // 2])  # the copier paused mid-file
    watcher = _watcher(tmp_path)
    watcher._note(shot)
    assert watcher._take_stable(_stat_all([shot]), now=10.0) == []
    assert watcher._take_stable(_stat_all([shot]), now=10.1) == []
    assert watcher._take_stable(_stat_all([shot]), now=10.0 + STABLE_SECONDS / 2) == []
    # Held still for the full STABLE_SECONDS: a stalled copy is imported as it is (as before).
    assert watcher._take_stable(_stat_all([shot]), now=10.0 + STABLE_SECONDS) == [shot]


def test_a_growing_jpeg_is_not_taken_while_it_grows(tmp_path: Path, photo_set) -> None:
    data = Path(photo_set["astronaut"]).read_bytes()
    shot = tmp_path / "shot.jpg"
    shot.write_bytes(data[:1000])
    watcher = _watcher(tmp_path)
    watcher._note(shot)
    assert watcher._take_stable(_stat_all([shot]), now=10.0) == []
    shot.write_bytes(data)  # finished between two checks: the new stamp must hold once more
    assert watcher._take_stable(_stat_all([shot]), now=10.1) == []
    assert watcher._take_stable(_stat_all([shot]), now=10.2) == [shot]


def _hot_folder_and_card(
    tmp_path: Path, photo_set: dict[str, Path], names: list[str]
) -> tuple[Path, Path]:
    """An empty hot folder, and a card folder holding these photos (the import's backlog)."""
    hot, card = tmp_path / "hot", tmp_path / "card"
    hot.mkdir()
    card.mkdir()
    for name in names:
        shutil.copyfile(photo_set[name], card / f"{name}.jpg")
    return hot, card


async def test_a_hot_folder_arrival_is_analysed_before_an_imports_backlog(
    tmp_path: Path, photo_set
) -> None:
    names = ["burst_1", "burst_2", "burst_3", "burst_4", "coffee", "rocket"]
    hot, backlog = _hot_folder_and_card(tmp_path, photo_set, names)
    server = BridgeServer(make_settings(tmp_path / "data", hot_folders=[str(hot)]))
    await server.start()
    try:
        ctx = server.context
        set_processing_paused(ctx, True)  # the backlog waits, as behind a busy pool
        report = await import_paths(ctx, [str(backlog)], "Card")
        assert len(report["imported"]) == len(names)
        shutil.copyfile(photo_set["astronaut"], hot / ".arrival.jpg")
        (hot / ".arrival.jpg").rename(hot / "arrival.jpg")

        async def arrival_job() -> Job | None:
            async with ctx.db.session() as s:
                return (
                    await s.execute(
                        select(Job)
                        .join(Photo, Photo.id == Job.photo_id)
                        .where(Photo.file_name == "arrival.jpg", Job.kind == JobKind.ANALYZE)
                    )
                ).scalar()

        assert await wait_for(arrival_job, timeout=60)
        started: list[str] = []
        ctx.broker.add_listener(
            lambda e: started.append(e.payload["photo_id"]) if e.type == "job_started" else None
        )
        set_processing_paused(ctx, False)

        async def any_started() -> bool:
            return bool(started)

        await wait_for(any_started, timeout=60)
        job = await arrival_job()
        assert job is not None
        # Started first, though queued after all of the backlog.
        assert started[0] == job.photo_id
    finally:
        await server.stop()


async def test_an_arrival_is_analysed_and_proposed_while_every_worker_is_busy(
    tmp_path: Path, photo_set
) -> None:
    hot, backlog = _hot_folder_and_card(tmp_path, photo_set, ["burst_1", "coffee"])
    server = BridgeServer(make_settings(tmp_path / "data", workers=1, hot_folders=[str(hot)]))
    await server.start()
    scheduler = server.pipeline.scheduler
    analyze = scheduler._handlers[JobKind.ANALYZE]
    gate = asyncio.Event()  # holds the backlog's photos, as long 24 MP analyses would
    lanes: dict[str, bool] = {}

    async def held(run: JobRun) -> dict[str, Any]:
        lanes[run.photo_id or ""] = getattr(run, "express", False)
        async with server.context.db.session() as s:
            name = (
                await s.execute(select(Photo.file_name).where(Photo.id == run.photo_id))
            ).scalar()
        if name != "arrival.jpg":
            await gate.wait()
        return await analyze(run)

    scheduler._handlers[JobKind.ANALYZE] = held
    try:
        ctx = server.context
        await import_paths(ctx, [str(backlog)], "Card")

        async def worker_taken() -> bool:
            return scheduler.running_count == 1

        await wait_for(worker_taken, timeout=60)
        shutil.copyfile(photo_set["astronaut"], hot / ".arrival.jpg")
        (hot / ".arrival.jpg").rename(hot / "arrival.jpg")

        async def arrival() -> Photo | None:
            async with ctx.db.session() as s:
                photo = (
                    await s.execute(select(Photo).where(Photo.file_name == "arrival.jpg"))
                ).scalar()
            return photo if photo is not None and photo.selection != Selection.NONE else None

        proposed = await wait_for(arrival, timeout=60)
        # Analysed and proposed on the express worker while the backlog kept the other.
        assert proposed.status == PhotoStatus.ANALYZED
        assert lanes[proposed.id] is True
        assert not gate.is_set() and scheduler.running_count == 1
        assert sorted(lanes.values()) == [False, True]  # the backlog's second photo waited
        gate.set()
        await wait_for(lambda: jobs_settled(server), timeout=60)
        async with ctx.db.session() as s:
            statuses = (await s.execute(select(Photo.status))).scalars().all()
        assert statuses == [PhotoStatus.ANALYZED] * 3
        assert [express for pid, express in lanes.items() if pid != proposed.id] == [False] * 2
    finally:
        gate.set()
        await server.stop()
