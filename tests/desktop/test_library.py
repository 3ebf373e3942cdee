"""Library: the whole shoot in a grid; keys decide, arrows only move; a real undo stack."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest

from bridge_server.services import photos as photo_service
from tests.desktop.conftest import Desk, import_and_settle


def _current_id(desk: Desk) -> str | None:
    photo = desk.window.library.current_photo()
    return photo["photo_id"] if photo else None


async def _open_library(desk: Desk) -> None:
    await import_and_settle(desk)
    desk.window.show_page("library")
    library = desk.window.library
    library.model.reload()
    total = (await photo_service.list_photos(desk.ctx, limit=1))[1]
    await desk.until(lambda: library.model.rowCount() == total, what="every photo in the grid")
    await desk.until(lambda: _current_id(desk) is not None, what="a current photo")


def test_the_grid_shows_every_photo_of_the_shoot_not_only_the_queue(desk: Desk) -> None:
    async def scenario() -> None:
        await _open_library(desk)
        rows, total = await photo_service.list_photos(desk.ctx, limit=500)
        shown = set(desk.window.library.model.photo_ids())
        assert shown == {p["photo_id"] for p in rows}
        # Below-threshold frames and alternates are there too, not only the proposed keepers.
        assert {p["selection"] for p in rows if p["photo_id"] in shown} - {"keeper"}
        assert desk.window.library.count.text() == f"{total} photos"

    desk.run(scenario(), timeout=120)


def test_arrows_never_decide(desk: Desk) -> None:
    async def scenario() -> None:
        await _open_library(desk)
        library = desk.window.library
        for mode in ("grid", "loupe"):
            library.set_mode(mode)
            target = library.loupe.image if mode == "loupe" else library.grid
            start = _current_id(desk)
            for key in (Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_Down):
                QTest.keyClick(target, key)
            assert _current_id(desk) != start or library.model.rowCount() == 1
        await desk.until(lambda: library.models.desk.pending() is None)
        rows, _ = await photo_service.list_photos(desk.ctx, limit=500)
        assert {p["approval"] for p in rows} == {"pending"}, "an arrow key made a decision"
        assert library.models.desk.stack.count() == 0

    desk.run(scenario(), timeout=120)


def test_p_x_u_reach_the_store_and_auto_advance_moves_on(desk: Desk) -> None:
    async def scenario() -> None:
        await _open_library(desk)
        library = desk.window.library
        ids = library.model.photo_ids()
        library.select_photo(ids[0])
        library.auto_advance.setChecked(True)
        QTest.keyClick(library.grid, Qt.Key.Key_P)
        assert _current_id(desk) == ids[1], "auto-advance moves to the next photo"
        QTest.keyClick(library.grid, Qt.Key.Key_X)
        assert _current_id(desk) == ids[2]
        library.auto_advance.setChecked(False)
        library.select_photo(ids[0])
        QTest.keyClick(library.grid, Qt.Key.Key_U)
        assert _current_id(desk) == ids[0], "with auto-advance off the photo stays"

        async def approval(photo_id: str) -> str:
            return str((await photo_service.get_photo(desk.ctx, photo_id))["approval"])

        await desk.until(lambda: library.models.desk.pending() is None, what="stored")
        assert await approval(ids[0]) == "pending"
        assert await approval(ids[1]) == "rejected"
        await desk.until(
            lambda: (library.model.photo(ids[1]) or {}).get("approval") == "rejected",
            what="the grid shows the reject",
        )

    desk.run(scenario(), timeout=120)


def test_undo_stack_takes_back_and_reselects_the_photo(desk: Desk) -> None:
    async def scenario() -> None:
        await _open_library(desk)
        library = desk.window.library
        ids = library.model.photo_ids()
        library.select_photo(ids[1])
        QTest.keyClick(library.grid, Qt.Key.Key_X)  # reject ids[1], move to ids[2]
        QTest.keyClick(library.grid, Qt.Key.Key_X)  # reject ids[2], move to ids[3]
        library.select_photo(ids[0])  # wander off
        QTest.keyClick(library.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert _current_id(desk) == ids[2], "undo shows the photo it restored"
        await desk.until(lambda: library.models.desk.pending() is None)
        assert (await photo_service.get_photo(desk.ctx, ids[2]))["approval"] == "pending"
        assert (await photo_service.get_photo(desk.ctx, ids[1]))["approval"] == "rejected"
        redo = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        library.select_photo(ids[0])
        QTest.keyClick(library.grid, Qt.Key.Key_Z, redo)
        assert _current_id(desk) == ids[2], "redo shows the photo it changed"
        await desk.until(lambda: library.models.desk.pending() is None)
        assert (await photo_service.get_photo(desk.ctx, ids[2]))["approval"] == "rejected"

    desk.run(scenario(), timeout=120)


def test_stars_and_labels_reach_the_store(desk: Desk) -> None:
    async def scenario() -> None:
        await _open_library(desk)
        library = desk.window.library
        library.auto_advance.setChecked(False)
        target = library.model.photo_ids()[0]
        library.select_photo(target)
        QTest.keyClick(library.grid, Qt.Key.Key_3)
        QTest.keyClick(library.grid, Qt.Key.Key_6)  # red
        QTest.keyClick(library.grid, Qt.Key.Key_P)
        await desk.until(lambda: library.models.desk.pending() is None, what="stored")
        stored = await photo_service.get_photo(desk.ctx, target)
        assert (stored["stars"], stored["color_label"], stored["flag"]) == (3, "red", "pick")
        QTest.keyClick(library.grid, Qt.Key.Key_X)  # a reject keeps the stars
        QTest.keyClick(library.grid, Qt.Key.Key_6)  # red again: the label comes off
        QTest.keyClick(library.grid, Qt.Key.Key_9)  # blue
        QTest.keyClick(library.grid, Qt.Key.Key_0)
        await desk.until(lambda: library.models.desk.pending() is None, what="stored")
        stored = await photo_service.get_photo(desk.ctx, target)
        assert (stored["stars"], stored["color_label"], stored["flag"]) == (0, "blue", "reject")
        # Every step is one undo step, back to the start.
        for _ in range(7):
            QTest.keyClick(library.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        await desk.until(lambda: library.models.desk.pending() is None, what="stored")
        stored = await photo_service.get_photo(desk.ctx, target)
        assert (stored["stars"], stored["color_label"], stored["flag"]) == (0, None, "none")
        await desk.until(
            lambda: (library.model.photo(target) or {}).get("flag") == "none",
            what="the grid follows",
        )

    desk.run(scenario(), timeout=120)


def test_undo_of_an_exported_pick_removes_the_file(desk: Desk) -> None:
    async def scenario() -> None:
        await _open_library(desk)
        library = desk.window.library
        library.auto_advance.setChecked(False)
        target = next(
            pid
            for pid in library.model.photo_ids()
            if (library.model.photo(pid) or {}).get("status") == "analyzed"
        )
        library.select_photo(target)
        exported: list[str] = []
        withdrawn: list[dict[str, object]] = []

        def listen(kind: str, payload: dict[str, object]) -> None:
            if payload.get("photo_id") != target:
                return
            if kind == "export_completed":
                exported.append(str(payload["output_path"]))
            elif kind == "export_withdrawn":
                withdrawn.append(payload)

        desk.models.photo_event.connect(listen)
        QTest.keyClick(library.grid, Qt.Key.Key_P)
        await desk.until(lambda: exported, timeout=60, what="the export written")
        output = Path(exported[0])
        assert output.is_file()
        QTest.keyClick(library.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        await desk.until(lambda: withdrawn, timeout=30, what="the export withdrawn")
        assert not output.exists(), "undo took the pick back but left its exported file"
        assert withdrawn[0]["outcome"] == "removed"
        assert (await photo_service.get_photo(desk.ctx, target))["flag"] == "none"
        await desk.until(lambda: library.status.text() == withdrawn[0]["message"])

    desk.run(scenario(), timeout=180)


def test_lowering_the_threshold_shows_more_proposals_in_the_grid(qloop, tmp_path) -> None:
    from tests.desktop.conftest import start_desk

    desk = start_desk(qloop, tmp_path / "data", selection_threshold=4.95, burst_hash_distance=0)

    async def scenario() -> None:
        await _open_library(desk)
        library = desk.window.library

        def proposed() -> int:
            return sum(
                1
                for pid in library.model.photo_ids()
                if (library.model.photo(pid) or {}).get("verdict") == "proposed"
            )

        before = proposed()
        assert before < library.model.rowCount()
        current = library.model.photo_ids()[-1]
        library.select_photo(current)
        desk.app.settings.selection_threshold = 1.0
        desk.app._settings_applied(["selection_threshold"])  # what Settings' Apply does
        await desk.until(
            lambda: library.status.text() == "Selection ran again with the new settings",
            timeout=60,
            what="the reselection finished",
        )
        await desk.until(lambda: proposed() > before, what="more proposals shown")
        await desk.until(lambda: _current_id(desk) == current, what="the same photo in view")

    try:
        desk.run(scenario(), timeout=180)
    finally:
        desk.run(desk.app.stop())
        desk.window.deleteLater()


def test_k_edits_keywords_of_one_photo_or_adds_to_a_selection_as_one_undo_step(
    desk: Desk,
) -> None:
    async def scenario() -> None:
        await _open_library(desk)
        library = desk.window.library
        library.auto_advance.setChecked(False)
        first, second = library.model.photo_ids()[:2]
        assert library.select_photo(first)
        QTest.keyClick(library.grid, Qt.Key.Key_K)
        dialog = library.keywords_dialog
        assert dialog is not None and dialog.isVisible()
        dialog.line.setText("bride, first dance, , Bride")  # blanks and a repeat are dropped
        dialog.apply()
        await desk.until(lambda: library.models.desk.pending() is None, what="stored")
        assert (await photo_service.get_photo(desk.ctx, first))["keywords"] == [
            "bride",
            "first dance",
        ]
        await desk.until(
            lambda: (library.model.photo(first) or {}).get("keywords") == ["bride", "first dance"],
            what="the grid follows",
        )
        assert library.status.text().endswith(": bride, first dance")

        # Two photos: the line shows what they share (nothing); a word added goes on each,
        # and the first keeps its own.
        selection = library.grid.selectionModel()
        selection.clearSelection()
        for photo_id in (first, second):
            index = library.model.index(library.model.row_of(photo_id))
            selection.select(index, selection.SelectionFlag.Select)
        QTest.keyClick(library.grid, Qt.Key.Key_K)
        dialog = library.keywords_dialog
        assert dialog.line.text() == ""
        dialog.line.setText("x" * 300)  # too long: said in the dialog, nothing stored
        dialog.apply()
        assert dialog.isVisible() and "at most" in dialog.problem.text()
        dialog.line.setText("reception")
        dialog.apply()
        await desk.until(lambda: library.models.desk.pending() is None, what="stored")
        assert (await photo_service.get_photo(desk.ctx, first))["keywords"] == [
            "bride",
            "first dance",
            "reception",
        ]
        assert (await photo_service.get_photo(desk.ctx, second))["keywords"] == ["reception"]

        QTest.keyClick(library.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        await desk.until(lambda: library.models.desk.pending() is None, what="undone")
        assert (await photo_service.get_photo(desk.ctx, first))["keywords"] == [
            "bride",
            "first dance",
        ]
        assert (await photo_service.get_photo(desk.ctx, second))["keywords"] == []

    desk.run(scenario(), timeout=120)
