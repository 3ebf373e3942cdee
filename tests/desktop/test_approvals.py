"""Approvals: keyboard decisions reach the store and every client; remote decisions show here."""

from __future__ import annotations

import aiohttp
from PyQt6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PyQt6.QtTest import QTest

from bridge_server.services import photos as photo_service
from desktop.window import PAGES
from tests.desktop.conftest import Desk, import_and_settle
from tests.helpers import ProtocolClient


async def _client(http: aiohttp.ClientSession, desk: Desk) -> ProtocolClient:
    ws = await http.ws_connect(f"{desk.base_url}/ws")
    client = ProtocolClient(ws)
    client.hello = await client.recv()
    await client.send({"type": "register", "client_type": "phone", "client_name": "pytest"})
    await client.recv_type("registration_confirmed")
    await client.subscribe(["photos", "approval"])
    return client


def _current_id(desk: Desk) -> str:
    return str(desk.window.approvals.grid.currentIndex().data(Qt.ItemDataRole.UserRole + 2))


def test_keyboard_approve_reaches_store_and_websocket_client(desk: Desk) -> None:
    async def scenario() -> None:
        await import_and_settle(desk)
        view = desk.window.approvals
        desk.window.show_page("approvals")
        assert desk.models.queue.rowCount() >= 3
        async with aiohttp.ClientSession() as http:
            phone = await _client(http, desk)
            first = _current_id(desk)
            ids = desk.models.queue.photo_ids()
            # The photo that moves into the decided one's place (the last moves back one).
            at = ids.index(first)
            second = ids[at + 1] if at + 1 < len(ids) else ids[at - 1]
            QTest.keyClick(view.grid, Qt.Key.Key_P)
            event = await phone.recv_type("photo_approved")
            assert event["photo_id"] == first
            stored = await photo_service.get_photo(desk.ctx, first)
            assert stored["approval"] == "approved"
            await desk.until(lambda: first not in desk.models.queue.photo_ids())
            # The next photo is selected, ready for the next key.
            await desk.until(lambda: first not in desk.models.queue.photo_ids())
            await desk.until(lambda: _current_id(desk) == second, what="selection moved on")

            QTest.keyClick(view.grid, Qt.Key.Key_X)  # X rejects (arrows only move)
            event = await phone.recv_type("photo_rejected")
            assert event["photo_id"] == second
            assert (await photo_service.get_photo(desk.ctx, second))["approval"] == "rejected"

            QTest.keyClick(view.grid, Qt.Key.Key_U)  # undo the rejection
            await desk.until(lambda: second in desk.models.queue.photo_ids(), what="undo")
            assert (await photo_service.get_photo(desk.ctx, second))["approval"] == "pending"
            await phone.ws.close()

    desk.run(scenario(), timeout=120)


def test_batch_decision_on_a_multi_selection(desk: Desk) -> None:
    async def scenario() -> None:
        await import_and_settle(desk)
        view, queue = desk.window.approvals, desk.models.queue
        ids = queue.photo_ids()[:3]
        selection = view.grid.selectionModel()
        selection.clearSelection()
        for row in range(3):
            selection.select(queue.index(row), QItemSelectionModel.SelectionFlag.Select)
        QTest.keyClick(view.grid, Qt.Key.Key_X)
        await desk.until(lambda: not set(ids) & set(queue.photo_ids()), what="three rejected")
        for photo_id in ids:
            assert (await photo_service.get_photo(desk.ctx, photo_id))["approval"] == "rejected"

    desk.run(scenario(), timeout=120)


def test_a_decision_from_a_phone_shows_up_at_once(desk: Desk) -> None:
    async def scenario() -> None:
        await import_and_settle(desk)
        queue = desk.models.queue
        target = queue.photo_ids()[-1]
        before = desk.models.approval_count
        async with aiohttp.ClientSession() as http:
            phone = await _client(http, desk)
            result = await phone.command("approve_photo", photo_id=target)
            assert result["success"] is True
            await desk.until(lambda: target not in queue.photo_ids(), what="row removed")
            await desk.until(lambda: desk.models.approval_count == before - 1, what="count")
            approvals_item = desk.window.nav.item(PAGES.index("approvals"))
            assert "Approvals  (" in approvals_item.text()
            # And back: an undo from the phone puts it in the grid again.
            result = await phone.command("undo_decision", command_id=2, photo_id=target)
            assert result["success"] is True
            await desk.until(lambda: target in queue.photo_ids(), what="row back")
            await phone.ws.close()

    desk.run(scenario(), timeout=120)


def test_preview_shows_scores_and_burst_alternates(desk: Desk) -> None:
    async def scenario() -> None:
        await import_and_settle(desk)
        view = desk.window.approvals
        items, _ = await photo_service.list_photos(desk.ctx, limit=100)
        best = next(p for p in items if p["is_group_best"] and p["in_queue"] and p["group_id"])
        await desk.until(
            lambda: desk.models.queue.row_of(best["photo_id"]) is not None,
            what="the best frame in the grid",
        )
        row = desk.models.queue.row_of(best["photo_id"])
        # Open it afresh (a burst that grows while shown: the test after this one).
        view.grid.setCurrentIndex(QModelIndex())
        view.grid.setCurrentIndex(desk.models.queue.index(row))
        group = {p["photo_id"] for p in items if p["group_id"] == best["group_id"]}
        await desk.until(
            lambda: len(view.alternates_model.photo_ids()) == len(group) - 1, what="alternates"
        )
        assert not view.alternates.isHidden()
        alternates = set(view.alternates_model.photo_ids())
        assert alternates == group - {best["photo_id"]}
        assert view.details.name.text() == best["file_name"]
        assert view.details.score.text() == f"{best['ai_score']:.1f}"
        await desk.until(lambda: view.preview._image is not None, what="preview image")

    desk.run(scenario(), timeout=120)


def test_the_burst_panel_follows_a_burst_that_grows_while_shown(desk: Desk) -> None:
    async def scenario() -> None:
        from sqlalchemy import update

        from bridge_server import events
        from bridge_server.store.models import Photo

        await import_and_settle(desk)
        view = desk.window.approvals
        items, _ = await photo_service.list_photos(desk.ctx, limit=100)
        best = next(p for p in items if p["is_group_best"] and p["in_queue"] and p["group_id"])
        await desk.until(
            lambda: desk.models.queue.row_of(best["photo_id"]) is not None,
            what="the best frame in the grid",
        )
        row = desk.models.queue.row_of(best["photo_id"])
        view.grid.setCurrentIndex(QModelIndex())
        view.grid.setCurrentIndex(desk.models.queue.index(row))
        group = {p["photo_id"] for p in items if p["group_id"] == best["group_id"]}
        await desk.until(
            lambda: len(view.alternates_model.photo_ids()) == len(group) - 1, what="alternates"
        )
        columns_before = view.grid.width()
        # Selection regroups another frame into this burst (as a late arrival would) and
        # announces only that photo; the panel of the photo in view follows.
        newcomer = next(p for p in items if p["photo_id"] not in group)
        async with desk.ctx.db.session() as s, s.begin():
            await s.execute(
                update(Photo)
                .where(Photo.id == newcomer["photo_id"])
                .values(group_id=best["group_id"], is_group_best=False)
            )
        desk.ctx.broker.publish(events.photo_selected(newcomer["photo_id"], "general", ""))
        await desk.until(
            lambda: newcomer["photo_id"] in view.alternates_model.photo_ids(),
            what="the newcomer in the burst panel",
        )
        assert view.grid.width() == columns_before, "the grid kept its width"

    desk.run(scenario(), timeout=120)


def test_arrows_only_move_in_the_approvals_grid(desk: Desk) -> None:
    async def scenario() -> None:
        await import_and_settle(desk)
        view = desk.window.approvals
        desk.window.show_page("approvals")
        waiting = desk.models.queue.photo_ids()
        for key in (Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Down):
            QTest.keyClick(view.grid, key)
        rows, _ = await photo_service.list_photos(desk.ctx, limit=100)
        assert [p["photo_id"] for p in rows if p["approval"] != "pending"] == []
        assert desk.models.queue.photo_ids() == waiting

    desk.run(scenario(), timeout=120)
