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


def test_a_hidden_grid_pulls_no_pages_and_shows_every_photo_once_back(desk: Desk) -> None:
    """While another view shows, the library grid asks for no pages (Qt asks a hidden view's
    model after every page; a yes made it lay every loaded tile out again each time). Pages the
    loupe pulls meanwhile arrive, and back on the grid every loaded photo is laid out."""

    async def scenario() -> None:
        await insert_shoot(desk.ctx, 600, [str(p) for p in sample_photos()])
        window = desk.window
        library = window.library
        model = library.model
        window.show_page("library")
        model.reload()
        await desk.until(lambda: model.rowCount() > 0, what="the first page")
        await desk.until(model.has_more, what="the first page settled")
        assert model.canFetchMore(QModelIndex())  # the grid shows: scrolling pulls pages

        window.show_page("overview")
        await desk.until(lambda: not library.grid.isVisible(), what="the grid hidden")
        assert model.has_more() and not model.canFetchMore(QModelIndex())
        for _ in range(3):  # pages pulled by code that pages in itself (the loupe's steps)
            rows = model.rowCount()
            model.fetchMore(QModelIndex())
            await desk.until(lambda r=rows: model.rowCount() > r, what="the next page")
            assert not model.canFetchMore(QModelIndex())

        window.show_page("library")
        await desk.until(library.grid.isVisible, what="the grid shown")
        last = model.index(model.rowCount() - 1, 0)
        first = model.index(0, 0)
        rect = await desk.until(
            lambda: (r := library.grid.visualRect(last)).isValid() and r, what="the last tile"
        )
        assert rect.top() > library.grid.visualRect(first).top()  # laid out below the first
        assert len(set(model.photo_ids())) == model.rowCount()
        assert model.canFetchMore(QModelIndex()) == model.has_more()

    desk.run(scenario(), timeout=120)
