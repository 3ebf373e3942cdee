"""Compare / survey: 2–6 frames side by side, zoom and pan in step, pick any of them.

At 100 % every pane decodes only the region it shows, at full resolution, in a worker thread
(six whole 24 MP frames would take half a gigabyte).
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, Final

from PyQt6.QtCore import QPointF, QRect, pyqtSignal
from PyQt6.QtGui import QImage, QMouseEvent
from PyQt6.QtWidgets import QFrame, QGridLayout, QVBoxLayout, QWidget

from ..controller import BridgeModels
from ..desk_decisions import decision_of
from ..tasks import run_service
from ..thumbnails import load_region
from ..timers import make_timer
from .common import plain_label
from .loupe import full_size_of
from .zoom import ZoomImage

MAX_FRAMES: Final = 6
REGION_MARGIN: Final = 160  # decoded around what a pane shows, so a small pan needs nothing
REGION_DELAY_MS: Final = 120  # a pan settles before the regions are decoded


def decision_words(photo: dict[str, Any]) -> str:
    """'Picked · ★★★ · Red', 'Unflagged'."""
    decision = decision_of(photo)
    parts = [{"pick": "Picked", "reject": "Rejected"}.get(decision["flag"], "Unflagged")]
    if decision["stars"]:
        parts.append("★" * decision["stars"])
    if decision["color_label"]:
        parts.append(str(decision["color_label"]).capitalize())
    if photo.get("favorites"):
        parts.append(f"♥ {photo['favorites']}")
    return " · ".join(parts)


class ComparePane(QFrame):
    """One frame of the comparison: the photo and what has been decided about it."""

    activated = pyqtSignal(int)

    def __init__(self, number: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.number = number
        self.photo: dict[str, Any] = {}
        self.setObjectName("comparePane")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        self.image = ZoomImage()
        self.caption = plain_label()
        self.caption.setFixedHeight(20)
        layout.addWidget(self.image, 1)
        layout.addWidget(self.caption)
        self.image.installEventFilter(self)

    def show_photo(self, photo: dict[str, Any]) -> None:
        """Fill in the caption (the image is set by the view)."""
        self.photo = photo
        self.caption.setText(f"{photo.get('file_name', '')}  ·  {decision_words(photo)}")

    def set_active(self, active: bool) -> None:
        """The frame the decision keys act on."""
        self.setProperty("active", active)
        style = self.style()
        if style is not None:
            style.unpolish(self)
            style.polish(self)

    def eventFilter(self, a0: Any, a1: Any) -> bool:
        """A press on the image makes this pane the active one."""
        if isinstance(a1, QMouseEvent) and a1.type() == QMouseEvent.Type.MouseButtonPress:
            self.activated.emit(self.number)
        return False


class CompareView(QWidget):
    """Frames in a grid of up to three columns; one is active."""

    active_changed = pyqtSignal(dict)

    def __init__(self, models: BridgeModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        self.panes: list[ComparePane] = []
        self.active = 0
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(6)
        self._regions = make_timer(self, REGION_DELAY_MS, single_shot=True)
        self._regions.timeout.connect(self._decode_regions)
        self._syncing = False
        models.previews.image_ready.connect(self._preview_ready)
        models.stopping.connect(self._regions.stop)

    def show_photos(self, photos: list[dict[str, Any]], active_id: str | None = None) -> None:
        """Compare these frames (the first six); `active_id` starts active."""
        for pane in self.panes:
            pane.deleteLater()
        self.panes = []
        frames = photos[:MAX_FRAMES]
        columns = 2 if len(frames) <= 4 else 3
        for number, photo in enumerate(frames):
            pane = ComparePane(number)
            pane.show_photo(photo)
            preview = self.models.previews.get(photo["photo_id"], photo.get("file_path"))
            if preview is None:
                preview = self.models.thumbnails.peek(photo["photo_id"])
            pane.image.set_photo(photo["photo_id"], preview, full_size_of(photo))
            pane.image.zoom_changed.connect(partial(self._follow, number))
            pane.activated.connect(self.set_active)
            self._grid.addWidget(pane, number // columns, number % columns)
            self.panes.append(pane)
        ids = [p["photo_id"] for p in frames]
        self.set_active(ids.index(active_id) if active_id in ids else 0)

    def photos(self) -> list[dict[str, Any]]:
        """The frames compared."""
        return [pane.photo for pane in self.panes]

    def active_photo(self) -> dict[str, Any] | None:
        """The frame the keys act on."""
        return self.panes[self.active].photo if self.panes else None

    def set_active(self, number: int) -> None:
        """Make one frame active."""
        if not self.panes:
            return
        self.active = max(0, min(number, len(self.panes) - 1))
        for pane in self.panes:
            pane.set_active(pane.number == self.active)
        self.active_changed.emit(self.panes[self.active].photo)

    def move_active(self, step: int) -> None:
        """Arrows move between frames (never decide)."""
        self.set_active((self.active + step) % max(1, len(self.panes)))

    def update_photo(self, photo: dict[str, Any]) -> None:
        """A compared frame changed (a decision, from any door)."""
        for pane in self.panes:
            if pane.photo.get("photo_id") == photo["photo_id"]:
                pane.show_photo(photo)

    def toggle_zoom(self) -> None:
        """Z: every frame to 100 % at the same point, or back to fit."""
        if not self.panes:
            return
        lead = self.panes[self.active].image
        if lead.zoomed:
            lead.fit()
        else:
            lead.zoom_at(QPointF(0.5, 0.5))

    def _follow(self, number: int, zoomed: bool, centre: QPointF) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            for pane in self.panes:
                if pane.number != number:
                    pane.image.set_view(zoomed, centre)
        finally:
            self._syncing = False
        if zoomed:
            self._regions.start()

    def _decode_regions(self) -> None:
        for pane in self.panes:
            image = pane.image
            path = pane.photo.get("file_path")
            if not image.zoomed or not path or image.is_full_resolution():
                continue
            region = image.visible_region(REGION_MARGIN)
            if region.isEmpty():
                continue
            run_service(
                asyncio.to_thread(load_region, str(path), region),
                partial(self._region_decoded, pane, pane.photo["photo_id"], region),
                what="Decoding at 100 %",
            )

    def _region_decoded(
        self, pane: ComparePane, photo_id: str, region: QRect, image: QImage
    ) -> None:
        if pane in self.panes and pane.image.photo_id == photo_id:
            pane.image.set_full(image, region)

    def _preview_ready(self, photo_id: str) -> None:
        for pane in self.panes:
            if pane.image.photo_id == photo_id:
                pane.image.set_preview(self.models.previews.peek(photo_id))
