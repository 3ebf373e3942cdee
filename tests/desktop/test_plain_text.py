"""Names that come from devices, files and EXIF show literally: never interpreted as markup."""

from __future__ import annotations

import aiohttp
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QTextDocument
from PyQt6.QtWidgets import QApplication, QLabel

from bridge_server.config import Settings
from desktop.views.approvals import PhotoDetails
from desktop.views.empty import EmptyLibrary
from tests.desktop.conftest import Desk

HOSTILE = '<b>x</b><img src="file:///etc/hosts">'


def shown_text(label: QLabel) -> str:
    """What a label puts on screen, as text."""
    if label.textFormat() == Qt.TextFormat.PlainText:
        return label.text()
    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def test_a_paired_device_name_with_markup_shows_literally(desk: Desk) -> None:
    async def scenario() -> None:
        dialog = desk.app.open_pairing()
        async with aiohttp.ClientSession() as http:
            resp = await http.post(
                f"{desk.base_url}/api/pairing/complete",
                json={"code": dialog.code_text, "device_name": HOSTILE},
            )
            assert resp.status == 201
        await desk.until(lambda: dialog.status.text() != "Waiting for the phone…", what="paired")
        label = dialog.status
        assert label.textFormat() == Qt.TextFormat.PlainText
        assert shown_text(label) == f"Paired: {HOSTILE}"
        # Laid out as the whole literal string, not as a bold "x" beside an image.
        width = label.fontMetrics().horizontalAdvance(f"Paired: {HOSTILE}")
        assert label.sizeHint().width() >= width * 0.9

    desk.run(scenario(), timeout=30)


def test_file_exif_and_folder_names_show_literally(qapp: QApplication) -> None:
    details = PhotoDetails()
    details.show_photo(
        {
            "photo_id": "p_1",
            "file_name": f"{HOSTILE}.jpg",
            "context_tag": "<i>portrait</i>",
            "ai_score": 4.0,
            "exif": {"model": HOSTILE, "lens": "<u>50mm</u>"},
            "analysis_results": {"reasons": ["<s>sharp</s>"]},
        }
    )
    assert shown_text(details.name) == f"{HOSTILE}.jpg"
    assert shown_text(details.camera).startswith(f"{HOSTILE} · <u>50mm</u>")
    assert "<i>portrait</i>" in shown_text(details.reasons)
    assert "<s>sharp</s>" in shown_text(details.reasons)

    empty = EmptyLibrary(Settings(data_dir="/tmp/unused", hot_folders=[f"/shoots/{HOSTILE}"]))
    empty.refresh()
    assert f"/shoots/{HOSTILE}" in shown_text(empty.where)
