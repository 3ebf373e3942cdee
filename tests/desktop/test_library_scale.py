"""A 10,000-photo shoot: the grid pages in as it scrolls, and its columns never change."""

from __future__ import annotations

from PyQt6.QtCore import QModelIndex

from desktop.paths import sample_photos
from tests.desktop.conftest import Desk
from tests.fixtures.big_shoot import insert_shoot

PHOTOS = 10_000


def _columns(desk: Desk) -> int:
    grid = desk.window.library.grid
    model = grid.model()
    top = grid.visualRect(model.index(0, 0)).top()
    return sum(1 for r in range(min(50, model.rowCount()))
               if grid.visualRect(model.index(r, 0)).top() == top)  # fmt: skip


def test_ten_thousand_photos_load_page_by_page_and_columns_stay(desk: Desk) -> None:
    async def scenario() -> None:
        await insert_shoot(desk.ctx, PHOTOS, [str(p) for p in sample_photos()])
        window = desk.window
        library = window.library
        window.show_page("library")
        library.model.reload()
        await desk.until(lambda: library.model.rowCount() > 0, what="the first page")
        assert library.model.rowCount() < PHOTOS, "the grid loads pages, not everything"
        assert library.count.text() == f"{PHOTOS:,} photos"
        columns = _columns(desk)
        assert columns >= 2
        # A toast, a mode round trip and the stack panel of compare leave the columns alone.
        window.banners.show_message("Export folder is not writable", "error")
        library.set_mode("loupe")
        library.set_mode("grid")
        assert _columns(desk) == columns
        # Scrolling to the end pulls every page in.
        scroll = library.grid.verticalScrollBar()
        while library.model.rowCount() < PHOTOS:
            scroll.setValue(scroll.maximum())
            if library.model.canFetchMore(QModelIndex()):
                library.model.fetchMore(QModelIndex())
            rows = library.model.rowCount()
            await desk.until(
                lambda r=rows: library.model.rowCount() > r or library.model.is_complete(),
                what="the next page",
            )
        assert len(set(library.model.photo_ids())) == PHOTOS
        assert _columns(desk) == columns

    desk.run(scenario(), timeout=240)
