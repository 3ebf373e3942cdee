"""Copy and move into the library: a stop or a kill mid-file never loses or orphans a photo."""

from __future__ import annotations

import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bridge_server.app import BridgeServer
from bridge_server.store.models import Photo
from tests.app_process import free_port, kill_app
from tests.fixtures.photos import write_large_jpeg
from tests.helpers import make_settings, wait_for
from tests.pipeline.crash_helpers import query, sha256, start_headless, unaccounted


@pytest.fixture
def library() -> Iterator[Path]:
    """A library on another file system than the hot folder, so a move is a copy that takes
    a moment (as from a card or to a NAS), not an instant rename."""
    path = Path(tempfile.mkdtemp(prefix="library-", dir="/dev/shm"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _card(folder: Path, count: int) -> dict[Path, str]:
    folder.mkdir(parents=True)
    files = [write_large_jpeg(folder / f"IMG_{i:04d}.jpg", 12, seed=i) for i in range(count)]
    return {f: sha256(f) for f in files}


async def _first_library_file(library: Path, timeout: float = 60) -> None:
    async def arrived() -> bool:
        return any(p.is_file() for p in library.rglob("*"))

    await wait_for(arrived, timeout=timeout, interval=0.001)


async def _photos(server: BridgeServer) -> list[tuple[str, str]]:
    async with server.context.db.session() as s:
        rows = (await s.execute(select(Photo.original_path, Photo.file_path))).all()
    return [(r[0], r[1]) for r in rows]


@pytest.mark.parametrize("mode", ["move", "copy"])
async def test_stopping_the_watcher_mid_import_leaves_every_file_accounted_for(
    tmp_path, library, mode
):
    hot = tmp_path / "hot"
    sources = _card(hot / "Wedding", 4)
    settings = make_settings(
        tmp_path / "data", import_mode=mode, library_dir=str(library), hot_folders=[str(hot)]
    )
    server = BridgeServer(settings)
    await server.start()
    try:
        await _first_library_file(library)
        await server.pipeline.set_hot_folders([])  # as changing the hot folders in Settings
    finally:
        await server.stop()
    # What a restart shows: the library's rows against the files on disk.
    settings.hot_folders = []
    server = BridgeServer(settings)
    await server.start()
    try:
        photos = await _photos(server)
        assert unaccounted(sources, library, photos, mode) == []
        assert photos, "the stop came before any file was imported; nothing was tested"
    finally:
        await server.stop()


@pytest.mark.parametrize("mode", ["move", "copy"])
async def test_a_kill_mid_import_is_finished_or_rolled_back_at_the_next_start(
    tmp_path, library, mode
):
    hot = tmp_path / "hot"
    sources = _card(hot / "Wedding", 4)
    data = tmp_path / "data"
    settings = {"hot_folders": [str(hot)], "import_mode": mode, "library_dir": str(library)}
    port = free_port()
    proc = await start_headless(data, port, {**settings, "workers": 2})
    try:
        await _first_library_file(library)
        kill_app(proc)  # and nothing it started outlives it
    finally:
        if proc.poll() is None:
            proc.kill()
    proc = await start_headless(data, port, {**settings, "workers": 2})
    db = data / "bridge.sqlite3"
    try:

        async def settled() -> bool:
            # Rolled-back files are still in the hot folder: the watcher imports them again.
            photos = query(db, "SELECT original_path, file_path FROM photos")
            return len(photos) == len(sources) and not unaccounted(sources, library, photos, mode)

        try:
            await wait_for(settled, timeout=90, interval=0.2)
        finally:
            photos = query(db, "SELECT original_path, file_path FROM photos")
            assert unaccounted(sources, library, photos, mode) == []
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    # After the restart every file ends up in the library, each once.
    assert len(photos) == len(sources)
    assert sorted(p[0] for p in photos) == sorted(str(s) for s in sources)
