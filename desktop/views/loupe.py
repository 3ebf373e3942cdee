"""The loupe: one photo large, 100 % zoom at a point or the main face, and the face panel.

Previews of the next and previous photos are prefetched so moving on paints at once; the full
resolution is decoded in a worker thread when asked for (Z) or after the photo has been looked
at for a moment, never on the GUI thread.
"""

from __future__ import annotations

from typing import Any, Final

from PyQt6.QtCore import QPointF, QSize, Qt
from PyQt6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from ..controller import BridgeModels
from ..timers import make_timer
from .common import plain_label
from .faces import FacePanel, face_centre, faces_of
from .zoom import ZoomImage

DWELL_MS: Final = 600  # looked at this long: decode the full resolution ahead of a zoom
PREFETCH_AHEAD: Final = 2  # previews decoded on each side of the current photo


def full_size_of(photo: dict[str, Any]) -> QSize:
    """The photo's size at full resolution, as analysed."""
    width, height = photo.get("width"), photo.get("height")
    return QSize(int(width), int(height)) if width and height else QSize()


class LoupeView(QWidget):
    """The current photo, its zoom, its faces and one line about it."""

    def __init__(self, models: BridgeModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        self.photo: dict[str, Any] | None = None
        self.prefetch_enabled = True
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        column = QVBoxLayout()
        column.setSpacing(6)
        self.image = ZoomImage()
        self.caption = plain_label()
        self.caption.setObjectName("muted")
        self.caption.setFixedHeight(22)  # one line, always: the photo above never moves
        column.addWidget(self.image, 1)
        column.addWidget(self.caption)
        layout.addLayout(column, 1)
        self.faces = FacePanel()
        layout.addWidget(self.faces)
        self._dwell = make_timer(self, DWELL_MS, single_shot=True)
        self._dwell.timeout.connect(self._decode_full)
        self.faces.face_clicked.connect(self.zoom_to_face)
        self.image.zoom_changed.connect(self._zoom_changed)
        models.previews.image_ready.connect(self._preview_ready)
        models.full.image_ready.connect(self._full_ready)
        models.stopping.connect(self._dwell.stop)

    # --- showing --------------------------------------------------------------------------

    def show_photo(
        self, photo: dict[str, Any] | None, neighbours: list[dict[str, Any]] | None = None
    ) -> None:
        """Show a photo fitted, and prefetch the previews of its neighbours."""
        self.photo = photo
        if photo is None:
            self.image.clear()
            self.faces.show_faces(None)
            self.caption.setText("")
            return
        photo_id = photo["photo_id"]
        same = photo_id == self.image.photo_id
        preview = self.models.previews.get(photo_id, photo.get("file_path"))
        self.image.set_photo(
            photo_id, preview or self.models.thumbnails.peek(photo_id), full_size_of(photo)
        )
        if preview is not None:
            self.image.set_preview(preview)
        full = self.models.full.peek(photo_id)
        if full is not None:
            self.image.set_full(full)
        if not same:
            self.faces.show_faces(photo)
        self.faces.set_image(full or preview, full_size_of(photo))
        self.caption.setText(caption_line(photo))
        if self.prefetch_enabled and neighbours:
            self.models.previews.prefetch([(p["photo_id"], p.get("file_path")) for p in neighbours])
        self._dwell.start()

    def _preview_ready(self, photo_id: str) -> None:
        if self.photo is not None and self.photo["photo_id"] == photo_id:
            preview = self.models.previews.peek(photo_id)
            self.image.set_preview(preview)
            if not self.image.has_full():
                self.faces.set_image(preview, full_size_of(self.photo))

    def _full_ready(self, photo_id: str) -> None:
        if self.photo is not None and self.photo["photo_id"] == photo_id:
            full = self.models.full.peek(photo_id)
            if full is not None:
                self.image.set_full(full)
                self.faces.set_image(full, full_size_of(self.photo))

    def _decode_full(self) -> None:
        if self.photo is not None:
            self.models.full.get(self.photo["photo_id"], self.photo.get("file_path"))

    # --- zoom -----------------------------------------------------------------------------

    def toggle_zoom(self) -> None:
        """Z: 100 % at the main face (or the middle), or back to fit."""
        if self.image.zoomed:
            self.image.fit()
            return
        faces = faces_of(self.photo)
        self.image.zoom_at(face_centre(faces[0]) if faces else QPointF(0.5, 0.5))

    def zoom_to_face(self, number: int) -> None:
        """100 % on one face of the panel."""
        faces = self.faces.faces
        if 0 <= number < len(faces):
            self.image.zoom_at(face_centre(faces[number]))

    def _zoom_changed(self, zoomed: bool, _centre: QPointF) -> None:
        if zoomed:
            self._dwell.stop()
            self._decode_full()


def caption_line(photo: dict[str, Any]) -> str:
    """'IMG_4136.jpg · 12:04:31 · score 4.2 · keywords: bride · eyes closed, soft'."""
    parts = [str(photo.get("file_name", ""))]
    captured = photo.get("captured_at")
    if captured:
        parts.append(str(captured)[11:19])
    if photo.get("ai_score") is not None:
        parts.append(f"score {float(photo['ai_score']):.1f}")
    keywords = photo.get("keywords") or []
    if keywords:
        parts.append("keywords: " + ", ".join(map(str, keywords)))
    reasons = (photo.get("analysis_results") or {}).get("reasons") or []
    if reasons:
        parts.append(", ".join(map(str, reasons[:3])))
    return "  ·  ".join(parts)


ZOOM_KEYS: Final = frozenset({Qt.Key.Key_Z})
