"""A tethered shot: a complete JPEG is taken at once, a half-written one waits, and a new
arrival's analysis goes ahead of an import's backlog."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from bridge_server.app import BridgeServer
from bridge_server.pipeline.importer import import_paths
from bridge_server.pipeline.watcher import STABLE_SECONDS, HotFolderWatcher, _stat_all
from bridge_server.services.jobs import set_processing_paused
from bridge_server.store.enums import JobKind
from bridge_server.store.models import Job, Photo
from tests.helpers import make_settings, wait_for


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


async def test_a_hot_folder_arrival_is_analysed_before_an_imports_backlog(
    tmp_path: Path, photo_set
) -> None:
    hot = tmp_path / "hot"
    hot.mkdir()
    backlog = tmp_path / "card"
    backlog.mkdir()
    names = ["burst_1", "burst_2", "burst_3", "burst_4", "coffee", "rocket"]
    for name in names:
        shutil.copyfile(photo_set[name], backlog / f"{name}.jpg")
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
