"""Loupe: Z shows the photo at 100 % (its own pixels, 1:1), faces are cropped at 100 %."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QImage, QImageReader
from PyQt6.QtTest import QTest

from bridge_server.services import photos as photo_service
from tests.desktop.conftest import Desk, import_and_settle


def _original(path: str) -> QImage:
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    return reader.read().convertToFormat(QImage.Format.Format_RGB32)


def test_z_shows_the_original_pixels_one_to_one(desk: Desk) -> None:
    async def scenario() -> None:
        await import_and_settle(desk)
        rows, _ = await photo_service.list_photos(desk.ctx, limit=100)
        photo = max(rows, key=lambda p: (p.get("width") or 0) if p["status"] == "analyzed" else 0)
        window, library = desk.window, desk.window.library
        window.show_page("library")
        library.model.reload()
        await desk.until(lambda: library.select_photo(photo["photo_id"]), what="photo loaded")
        library.set_mode("loupe")
        loupe = library.loupe.image
        assert loupe.scale() < 1.0, "the loupe starts fitted"
        QTest.keyClick(loupe, Qt.Key.Key_Z)
        await desk.until(loupe.is_full_resolution, timeout=30, what="full resolution decoded")
        assert loupe.scale() == 1.0
        shot = loupe.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        original = _original(photo["file_path"])
        assert loupe.photo_size() == original.size()
        whole = loupe.zoom_rect()
        left, top = round(whole.left()), round(whole.top())
        # Every 37th pixel of the view is the photo's own pixel at the same offset.
        checked = 0
        for y in range(0, shot.height(), 37):
            for x in range(0, shot.width(), 37):
                px, py = x - left, y - top
                if 0 <= px < original.width() and 0 <= py < original.height():
                    assert shot.pixel(x, y) == original.pixel(px, py), (x, y)
                    checked += 1
        assert checked > 50
        QTest.keyClick(loupe, Qt.Key.Key_Z)
        assert not loupe.zoomed and loupe.scale() < 1.0

    desk.run(scenario(), timeout=120)


def test_the_face_panel_shows_every_face_with_its_verdicts(desk: Desk) -> None:
    async def scenario() -> None:
        await import_and_settle(desk)
        rows, _ = await photo_service.list_photos(desk.ctx, limit=100)
        with_faces = [p for p in rows if (p["analysis_results"] or {}).get("faces")]
        assert with_faces, "the samples have faces"
        photo = with_faces[0]
        faces = photo["analysis_results"]["faces"]
        library = desk.window.library
        desk.window.show_page("library")
        library.model.reload()
        await desk.until(lambda: library.select_photo(photo["photo_id"]), what="photo loaded")
        library.set_mode("loupe")
        panel = library.loupe.faces
        assert len(panel.tiles) == len(faces)
        words = {(t.eyes.text(), t.focus.text()) for t in panel.tiles}
        assert all(e.startswith("Eyes") for e, _f in words)
        assert all(
            f in ("Sharp", "Slightly soft", "Blurred", "Focus not judged") for _e, f in words
        )
        await desk.until(
            lambda: all(
                t.image.pixmap() is not None and not t.image.pixmap().isNull() for t in panel.tiles
            ),
            what="face crops",
        )
        panel.tiles[0].clicked.emit(0)  # a click on a face zooms there
        assert library.loupe.image.zoomed

    desk.run(scenario(), timeout=120)
