"""Compare: frames side by side, zoom and pan in step, any frame picked, nothing demoted."""

from __future__ import annotations

from PyQt6.QtCore import QItemSelectionModel, QPointF, Qt
from PyQt6.QtTest import QTest

from bridge_server.services import photos as photo_service
from tests.desktop.conftest import Desk, import_and_settle


async def _library(desk: Desk) -> None:
    await import_and_settle(desk)
    desk.window.show_page("library")
    library = desk.window.library
    library.model.reload()
    total = (await photo_service.list_photos(desk.ctx, limit=1))[1]
    await desk.until(lambda: library.model.rowCount() == total, what="every photo")


def test_a_multi_selection_compares_with_synced_zoom_and_picks_any_frame(desk: Desk) -> None:
    async def scenario() -> None:
        await _library(desk)
        library = desk.window.library
        ids = library.model.photo_ids()[:3]
        selection = library.grid.selectionModel()
        selection.clearSelection()
        for photo_id in ids:
            index = library.model.index(library.model.row_of(photo_id))
            selection.select(index, QItemSelectionModel.SelectionFlag.Select)
        QTest.keyClick(library.grid, Qt.Key.Key_C)
        compare = library.compare
        assert library.mode == "compare"
        assert [p["photo_id"] for p in compare.photos()] == ids
        QTest.keyClick(compare, Qt.Key.Key_Z)
        assert all(pane.image.zoomed for pane in compare.panes), "zoom is shared"
        compare.panes[0].image.zoom_at(QPointF(0.3, 0.6))  # as a drag would move it
        centres = {
            (round(p.image.centre.x(), 3), round(p.image.centre.y(), 3)) for p in compare.panes
        }
        assert len(centres) == 1, "pan is shared"
        await desk.until(
            lambda: all(p.image.is_full_resolution() for p in compare.panes),
            timeout=60,
            what="every frame at 100 %",
        )
        QTest.keyClick(compare, Qt.Key.Key_Right)  # arrows move between frames
        assert compare.active_photo()["photo_id"] == ids[1]
        QTest.keyClick(compare, Qt.Key.Key_P)
        await desk.until(lambda: desk.models.desk.pending() is None)
        assert (await photo_service.get_photo(desk.ctx, ids[1]))["flag"] == "pick"
        assert (await photo_service.get_photo(desk.ctx, ids[0]))["flag"] == "none"
        await desk.until(
            lambda: "Picked" in compare.panes[1].caption.text(), what="the pane shows it"
        )

    desk.run(scenario(), timeout=150)


def test_picking_an_alternate_says_the_best_stays_picked(desk: Desk) -> None:
    async def scenario() -> None:
        await _library(desk)
        library = desk.window.library
        library.auto_advance.setChecked(False)
        rows, _ = await photo_service.list_photos(desk.ctx, limit=100)
        burst = [p for p in rows if p["group_id"] and (p["group_size"] or 0) > 1]
        best = next(p for p in burst if p["is_group_best"])
        other = next(p for p in burst if p["group_id"] == best["group_id"] and p is not best)
        assert library.select_photo(best["photo_id"])
        QTest.keyClick(library.grid, Qt.Key.Key_P)
        await desk.until(lambda: desk.models.desk.pending() is None, timeout=30)
        assert library.select_photo(other["photo_id"])
        QTest.keyClick(library.grid, Qt.Key.Key_C)  # compare opens the burst
        await desk.until(lambda: library.mode == "compare", timeout=30, what="the burst compared")
        assert {p["photo_id"] for p in library.compare.photos()} >= {
            best["photo_id"],
            other["photo_id"],
        }
        assert library.compare.active_photo()["photo_id"] == other["photo_id"]
        QTest.keyClick(library.compare, Qt.Key.Key_P)
        await desk.until(
            lambda: f"{best['file_name']} stays picked" in library.status.text(),
            timeout=30,
            what="what stays picked is said",
        )
        # The line is said as the pick is stored: wait for the store before reading it.
        await desk.until(lambda: desk.models.desk.pending() is None, timeout=30)
        assert (await photo_service.get_photo(desk.ctx, best["photo_id"]))["flag"] == "pick"
        assert (await photo_service.get_photo(desk.ctx, other["photo_id"]))["flag"] == "pick"

    desk.run(scenario(), timeout=150)
