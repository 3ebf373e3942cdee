"""Culling at the desk: next photo painted after a key, 100 % zoom, scrolling a 10,000-photo grid.

A real DesktopApp (offscreen unless a display is set) imports N 24-megapixel JPEGs (made once,
as bench/pipeline.py makes them), lets analysis finish, and then:

1. Loupe, key → next photo's preview PAINTED (the ZoomImage's paint event reports it): the
   photographer looks at each photo for --look seconds, presses →, and the clock runs until the
   paint event of the next photo's preview. Without prefetch (baseline: the preview is decoded
   when asked for) and with prefetch (ours: neighbours decoded while looking), alternated in
   the same run, both from cold in-memory caches (the on-disk previews exist for both).
2. 100 % zoom: Z pressed → the full-resolution pixels painted 1:1. Baseline: Z at once (the
   decode starts with the key); ours: Z after looking for --dwell seconds (the loupe starts the
   full decode after 0.6 s of looking).
3. Grid of 10,000 photos (rows inserted into the store, thumbnails of the sample photos):
   scrolling 48 px per frame from top to bottom, frame time = the scroll, a synchronous repaint
   of the viewport and one turn of the event loop (pages arriving, thumbnails landing).
   Baseline: the same library grid drawing each thumbnail scaled at every paint (as the tile
   delegate did before); ours: thumbnails scaled once per tile and cached. Thumbnail decodes
   of tiles scrolled past before their turn are skipped in both.

Usage (from the repo root):
    .venv/bin/python bench/culling.py                      # 12 photos, 2 rounds
    .venv/bin/python bench/culling.py --photos 8 --rounds 1 --look 0.4
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _common

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication

GRID_PHOTOS = 10_000
SCROLL_STEP = 48  # px per frame: a brisk trackpad flick
MAX_FRAMES = 2000  # both grids scroll the same distance (96,000 px, about 3,000 photos)


def ms(values: list[float], q: float) -> float:
    """A percentile of seconds, in milliseconds."""
    return _common.percentile(sorted(values), q) * 1000


async def until(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "") -> None:
    """Wait with the loop running until predicate() is truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


class PaintClock:
    """Records when the loupe painted a given photo in a given way."""

    def __init__(self, image: Any) -> None:
        self.seen: dict[tuple[str, str], float] = {}
        image.painted.connect(self._painted)

    def _painted(self, photo_id: str, kind: str) -> None:
        self.seen.setdefault((photo_id, kind), time.perf_counter())

    async def wait(self, photo_id: str, kinds: tuple[str, ...], timeout: float = 30.0) -> float:
        """The time of the first paint of `photo_id` in one of `kinds`."""
        await until(
            lambda: any((photo_id, k) in self.seen for k in kinds), timeout, f"paint {photo_id}"
        )
        return min(self.seen[(photo_id, k)] for k in kinds if (photo_id, k) in self.seen)


async def loupe_run(desk: Any, ids: list[str], prefetch: bool, look: float) -> list[float]:
    """Key → next preview painted, through the shoot and back."""
    library, models = desk.window.library, desk.models
    models.previews.clear()
    models.full.clear()
    library.loupe.prefetch_enabled = prefetch
    library.set_mode("grid")
    library.select_photo(ids[0])
    library.set_mode("loupe")
    image = library.loupe.image
    clock = PaintClock(image)
    await clock.wait(ids[0], ("preview",))
    times: list[float] = []
    order = ids[1:] + list(reversed(ids[:-1]))
    for n, photo_id in enumerate(order):
        await asyncio.sleep(look)
        key = Qt.Key.Key_Right if n < len(ids) - 1 else Qt.Key.Key_Left
        clock.seen.clear()
        start = time.perf_counter()
        QTest.keyClick(image, key)
        times.append(await clock.wait(photo_id, ("preview", "full")) - start)
    return times


async def zoom_run(desk: Any, ids: list[str], dwell: float) -> list[float]:
    """Z → full resolution painted, after looking `dwell` seconds at each photo."""
    library, models = desk.window.library, desk.models
    library.loupe.prefetch_enabled = True
    image = library.loupe.image
    clock = PaintClock(image)
    times: list[float] = []
    for photo_id in ids:
        models.full.clear()
        library.set_mode("grid")
        library.select_photo(photo_id)
        library.set_mode("loupe")
        await clock.wait(photo_id, ("preview", "stand-in"))
        if dwell:
            await asyncio.sleep(dwell)
        else:
            library.loupe._dwell.stop()  # baseline: nothing decoded before the key
        clock.seen.clear()
        start = time.perf_counter()
        QTest.keyClick(image, Qt.Key.Key_Z)
        times.append(await clock.wait(photo_id, ("full",)) - start)
        QTest.keyClick(image, Qt.Key.Key_Z)
    return times


async def scroll_run(view: Any, model: Any, app: QApplication) -> list[float]:
    """Frame times scrolling a grid from top to bottom."""
    bar = view.verticalScrollBar()
    bar.setValue(0)
    await asyncio.sleep(0.5)
    frames: list[float] = []
    for _ in range(MAX_FRAMES):
        start = time.perf_counter()
        bar.setValue(bar.value() + SCROLL_STEP)
        view.viewport().repaint()
        await asyncio.sleep(0)
        frames.append(time.perf_counter() - start)
        if bar.value() >= bar.maximum():
            if model.rowCount() >= GRID_PHOTOS:
                break
            await asyncio.sleep(0.01)  # the next page is on its way
    return frames


async def bench(args: argparse.Namespace) -> list[list[Any]]:
    """Run every measurement; returns the table rows."""
    from pipeline import ensure_photos

    from bridge_server.config import Settings
    from bridge_server.services import photos as photo_service
    from desktop.app import DesktopApp
    from desktop.models.library import LibraryQuery
    from desktop.paths import sample_photos
    from tests.fixtures.big_shoot import insert_shoot
    from tests.helpers import jobs_settled

    paths = ensure_photos(args.cache, args.photos, 2)
    with tempfile.TemporaryDirectory(prefix="autodev-culling-", ignore_cleanup_errors=True) as data:
        settings = Settings(data_dir=data, host="127.0.0.1", port=0, workers=2)
        app = DesktopApp(settings, use_tray=False)
        await app.start()
        desk = app
        models, window = app.models, app.window
        assert models is not None and window is not None
        window.resize(1400, 900)
        try:
            print(f"importing {len(paths)} photos and analysing them ...", flush=True)
            await models.import_paths([str(p) for p in paths], "Bench shoot")
            deadline = time.monotonic() + 900
            while not await jobs_settled(app.server):
                if time.monotonic() > deadline:
                    raise TimeoutError("analysis did not finish")
                await asyncio.sleep(0.2)
            rows, _ = await photo_service.list_photos(app.server.context, limit=500)
            ids = [p["photo_id"] for p in rows if p["status"] == "analyzed"]
            for photo_id in ids:  # the on-disk previews, as after a first look (both arms)
                await app.server.context.thumbnails.path(photo_id, "large")
            window.show_page("library")
            library = window.library
            library.model.set_query(LibraryQuery(session_id=rows[0]["session_id"]))
            await until(lambda: library.model.rowCount() == len(rows), 30, "library rows")
            ids = [i for i in library.model.photo_ids() if i in set(ids)]

            cold: list[float] = []
            warm: list[float] = []
            for r in range(args.rounds):
                cold += await loupe_run(desk, ids, False, args.look)
                warm += await loupe_run(desk, ids, True, args.look)
                print(f"  loupe round {r + 1}: done", flush=True)
            zoom_cold = await zoom_run(desk, ids[: args.zooms], 0.0)
            zoom_dwell = await zoom_run(desk, ids[: args.zooms], args.dwell)
            print("  zoom: done", flush=True)

            context = app.server.context
            session = await insert_shoot(
                context, GRID_PHOTOS, [str(p) for p in sample_photos()], "Scroll shoot"
            )
            library.set_mode("grid")
            library.model.set_query(LibraryQuery(session_id=session))
            await until(lambda: library.model.rowCount() > 0, 30, "first page")
            qapp = QApplication.instance()
            assert isinstance(qapp, QApplication)
            delegate = library.grid.itemDelegate()
            base: list[float] = []
            ours: list[float] = []
            for cached in (False, True, False, True):  # alternated; the second pair counts
                delegate.cache_tiles = cached
                models.thumbnails.clear()
                frames = await scroll_run(library.grid, library.model, qapp)
                (ours if cached else base)[:] = frames
                print(f"  grid, tiles cached={cached}: {len(frames)} frames", flush=True)
        finally:
            await app.stop()

    def row(name: str, goal: float, b: list[float], o: list[float], q: float) -> list[Any]:
        bq, oq = ms(b, q), ms(o, q)
        return [
            name,
            f"< {goal:g} ms",
            f"{bq:.1f} ms",
            f"{oq:.1f} ms",
            f"{bq / oq:.1f}x" if oq else "-",
            _common.verdict(oq < goal),
        ]

    samples = (
        f"(samples: {len(warm)} key presses per arm, {len(zoom_dwell)} zooms per arm, "
        f"{len(ours)} / {len(base)} scroll frames)"
    )
    return [
        row("key → next preview painted, p50", 50, cold, warm, 50),
        row("key → next preview painted, p95", 50, cold, warm, 95),
        row("Z → 100 % painted, p50", 150, zoom_cold, zoom_dwell, 50),
        row("Z → 100 % painted, max", 150, zoom_cold, zoom_dwell, 100),
        row("10,000-photo grid scroll frame, p99", 16, base, ours, 99),
        [samples, "", "", "", "", ""],
    ]


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print one table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=12, help="24 MP photos (12)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "autodev-bench-photos",
        help="folder of the generated photos (shared with bench/pipeline.py)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="alternated loupe rounds (2)")
    parser.add_argument("--look", type=float, default=0.35, help="seconds on each photo (0.35)")
    parser.add_argument("--dwell", type=float, default=1.0, help="look before Z, ours (1.0)")
    parser.add_argument("--zooms", type=int, default=6, help="photos zoomed per arm (6)")
    args = parser.parse_args(argv)
    if not 3 <= args.photos <= 100 or not 1 <= args.rounds <= 10:
        parser.error("need 3 <= --photos <= 100 and 1 <= --rounds <= 10")
    if str(_common.REPO) not in sys.path:
        sys.path.insert(0, str(_common.REPO))

    import qasync

    from desktop.theme import apply_theme

    app = QApplication(sys.argv[:1])
    apply_theme(app, "dark")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    print(_common.machine_line(), flush=True)
    with loop:
        rows = loop.run_until_complete(bench(args))
    print()
    print(_common.table(["measure", "goal", "baseline", "ours", "ratio", "goal met"], rows))
    print()
    print(_common.machine_line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
