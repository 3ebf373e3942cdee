"""Sessions: rename and delete from the window; deleting never touches a file."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtWidgets import QMessageBox

from bridge_server.services import photos as photo_service
from bridge_server.services import sessions as session_service
from desktop.models.table import KeyRole
from tests.desktop.conftest import Desk, import_and_settle


def _select(desk: Desk, session_id: str) -> None:
    view = desk.window.sessions
    for row in range(view.proxy.rowCount()):
        if view.proxy.index(row, 0).data(KeyRole) == session_id:
            view.table.selectRow(row)
            return
    raise AssertionError("session not listed")


def test_rename_and_delete_a_session_keeps_every_file(desk: Desk) -> None:
    async def scenario() -> None:
        await import_and_settle(desk)
        rows, total = await photo_service.list_photos(desk.ctx, limit=100)
        session_id = rows[0]["session_id"]
        files = [Path(p["file_path"]) for p in rows]
        desk.window.show_page("sessions")
        view = desk.window.sessions
        await desk.until(lambda: desk.models.sessions.get(session_id), what="session listed")
        _select(desk, session_id)

        dialog = view.ask_rename()
        assert dialog is not None
        dialog.setTextValue("Smith wedding")
        dialog.accept()
        await desk.until(
            lambda: (
                (desk.models.sessions.get(session_id) or {}).get("session_name") == "Smith wedding"
            ),
            what="renamed in the list",
        )
        assert (await session_service.get_session(desk.ctx, session_id))[
            "session_name"
        ] == "Smith wedding"

        _select(desk, session_id)
        box = view.ask_delete()
        assert box is not None
        assert "not touched" in box.informativeText() and f"{total} photos" in box.text()
        box.done(QMessageBox.StandardButton.Yes.value)
        await desk.until(lambda: desk.models.sessions.get(session_id) is None, what="gone")
        assert (await photo_service.list_photos(desk.ctx, limit=1))[1] == 0
        assert all(f.exists() for f in files), "deleting a session removed a photo file"
        await desk.until(lambda: desk.models.approval_count == 0, what="queue count follows")

    desk.run(scenario(), timeout=120)
