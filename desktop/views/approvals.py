"""Approvals: the queue as a thumbnail grid, a large preview with scores and reasons, and the
burst alternates of the photo in view. Keyboard first: P approves, X rejects, U or Ctrl+Z undoes,
Ctrl+Shift+Z redoes; arrows only move."""

from __future__ import annotations

import html
from functools import partial
from typing import Any, Final

from PyQt6.QtCore import QItemSelectionModel, QModelIndex, QRect, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QImage, QKeyEvent, QPainter, QPaintEvent, QPixmap
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from bridge_server.services import photos

from ..controller import BridgeModels
from ..delegates import PhotoTileDelegate, score_color
from ..formatting import shutter_text
from ..models.approvals import ApprovalQueueModel, PhotoIdRole, PhotoRole
from ..tasks import run_service
from ..theme import icon
from .common import page_layout, plain_label, row_layout

APPROVE_KEYS: Final = {Qt.Key.Key_P}
REJECT_KEYS: Final = {Qt.Key.Key_X}
UNDO_KEYS: Final = {Qt.Key.Key_U}  # arrows are not decision keys: they only move
REGROUP_MS: Final = 400  # analysis settles this long before the burst in view is re-read
FACTOR_NAMES: Final = {"sharpness": "Focus", "exposure": "Exposure", "noise": "Noise",
                       "eyes": "Eyes", "compression": "Compression"}  # fmt: skip


class DecisionGrid(QListView):
    """A thumbnail grid where the decision keys act on the selected photos."""

    approve_pressed = pyqtSignal()
    reject_pressed = pyqtSignal()
    undo_pressed = pyqtSignal()
    redo_pressed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setSpacing(4)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setItemDelegate(PhotoTileDelegate(self))
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setObjectName("photoGrid")

    def keyPressEvent(self, e: QKeyEvent | None) -> None:
        """Decision keys first; everything else (arrows, Home, End...) moves."""
        if e is not None and e.modifiers() & Qt.KeyboardModifier.ControlModifier:
            if e.key() == Qt.Key.Key_Z:
                shift = e.modifiers() & Qt.KeyboardModifier.ShiftModifier
                (self.redo_pressed if shift else self.undo_pressed).emit()
                return
        elif e is not None:
            key = Qt.Key(e.key())
            if key in APPROVE_KEYS:
                self.approve_pressed.emit()
                return
            if key in REJECT_KEYS:
                self.reject_pressed.emit()
                return
            if key in UNDO_KEYS:
                self.undo_pressed.emit()
                return
        super().keyPressEvent(e)


class PreviewImage(QWidget):
    """A photo scaled to fit, on a dark mat; the scaled copy is cached per size."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._scaled: QPixmap | None = None
        self.setMinimumSize(QSize(320, 240))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setObjectName("preview")

    def set_image(self, image: QImage | None) -> None:
        """Show this image (None: the empty mat)."""
        self._image = image
        self._scaled = None
        self.update()

    def paintEvent(self, a0: QPaintEvent | None) -> None:
        """Fit the image, centred."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(self.backgroundRole()).darker(130))
        if self._image is None or self._image.isNull():
            return
        area = self.rect().adjusted(8, 8, -8, -8)
        size = self._image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
        if self._scaled is None or self._scaled.size() != size:
            self._scaled = QPixmap.fromImage(
                self._image.scaled(
                    size,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(area.center())
        painter.drawPixmap(target, self._scaled)


class PhotoDetails(QFrame):
    """Score, factor breakdown, reasons and camera data of one photo."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("details")
        layout = QGridLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setHorizontalSpacing(16)
        layout.setVerticalSpacing(4)
        self.name = plain_label()
        self.name.setObjectName("detailTitle")
        self.score = plain_label()
        self.score.setObjectName("scoreBadge")
        self.score.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.factors = plain_label()
        self.factors.setObjectName("muted")
        self.reasons = QLabel()  # rich text: the context tag in bold; every value escaped
        self.reasons.setTextFormat(Qt.TextFormat.RichText)
        self.reasons.setWordWrap(True)
        self.camera = plain_label()  # EXIF make, model and lens come from the file
        self.camera.setObjectName("muted")
        self.camera.setWordWrap(True)
        self.export = plain_label()
        self.export.setObjectName("muted")
        layout.addWidget(self.name, 0, 0)
        layout.addWidget(self.score, 0, 1, Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.reasons, 1, 0, 1, 2)
        layout.addWidget(self.factors, 2, 0, 1, 2)
        layout.addWidget(self.camera, 3, 0, 1, 2)
        layout.addWidget(self.export, 4, 0, 1, 2)
        layout.setColumnStretch(0, 1)

    def show_photo(self, photo: dict[str, Any] | None) -> None:
        """Fill in the labels."""
        if not photo:
            for label in (
                self.name,
                self.score,
                self.factors,
                self.reasons,
                self.camera,
                self.export,
            ):
                label.setText("")
            self.score.setVisible(False)
            return
        analysis = photo.get("analysis_results") or {}
        score = photo.get("ai_score")
        self.name.setText(str(photo.get("file_name", "")))
        self.score.setVisible(score is not None)
        if score is not None:
            self.score.setText(f"{score:.1f}")
            self.score.setStyleSheet(f"background: {score_color(score).name()};")
        reasons = analysis.get("reasons") or []
        tag = photo.get("context_tag")
        lead = f"<b>{html.escape(str(tag).capitalize())}</b> · " if tag else ""
        text = "; ".join(map(str, reasons)).capitalize() if reasons else "No problems found"
        self.reasons.setText(lead + html.escape(text))
        factors = analysis.get("factors") or {}
        # Factors are on the score's own 1–5 scale.
        parts = [
            f"{name} {float(factors[key]):.1f}"
            for key, name in FACTOR_NAMES.items()
            if isinstance(factors.get(key), int | float)
        ]
        faces = len(analysis.get("faces") or [])
        if faces:
            parts.append(f"{faces} face{'s' if faces > 1 else ''}")
        self.factors.setText("   ".join(parts))
        self.camera.setText(camera_line(photo))
        preset = photo.get("selected_preset")
        self.export.setText(f"Exports as {preset}" if preset else "")
        self.export.setVisible(bool(preset))


def camera_line(photo: dict[str, Any]) -> str:
    """'Canon EOS R5 · RF24-70mm · 50 mm · f/2.8 · 1/250 s · ISO 200 · 1600×1600'."""
    exif = photo.get("exif") or {}
    parts: list[str] = []
    if exif.get("model"):
        parts.append(str(exif["model"]))
    if exif.get("lens"):
        parts.append(str(exif["lens"]))
    if exif.get("focal_length"):
        parts.append(f"{float(exif['focal_length']):g} mm")
    if exif.get("aperture"):
        parts.append(f"f/{float(exif['aperture']):g}")
    if exif.get("shutter"):
        parts.append(shutter_text(exif["shutter"]))
    if exif.get("iso"):
        parts.append(f"ISO {exif['iso']}")
    if photo.get("width") and photo.get("height"):
        parts.append(f"{photo['width']}×{photo['height']}")
    return " · ".join(parts)


class ApprovalsView(QWidget):
    """The queue grid beside a large preview; decisions by keyboard or buttons."""

    def __init__(self, models: BridgeModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        self._current: dict[str, Any] | None = None
        self._restore_to: str | None = None  # undo restored this photo: select it when it is back
        layout = page_layout(
            self,
            "Approvals",
            "P approves, X rejects, U or Ctrl+Z undoes the last decision, Ctrl+Shift+Z redoes; "
            "arrows only move. Shift- or Ctrl-click to decide several at once.",
        )
        self.approve_button = QPushButton(icon("approve"), " Approve  (P)")
        self.approve_button.setObjectName("approve")
        self.reject_button = QPushButton(icon("reject"), " Reject  (X)")
        self.reject_button.setObjectName("reject")
        self.undo_button = QPushButton(icon("undo"), " Undo  (U)")
        self.count = plain_label()
        self.count.setObjectName("muted")
        layout.addLayout(
            row_layout(
                self.count, self.undo_button, self.reject_button, self.approve_button, stretch_at=1
            )
        )

        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.grid = DecisionGrid()
        self.grid.setModel(models.queue)
        models.queue.fetch_gate = self.grid.isVisible  # a hidden grid pulls no pages
        self.empty = QLabel(
            "Nothing is waiting for a decision.\n\n"
            "Photos the analysis proposes as keepers appear here."
        )
        self.empty.setObjectName("emptyHint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.grid_stack = QStackedWidget()
        self.grid_stack.addWidget(self.grid)
        self.grid_stack.addWidget(self.empty)
        splitter.addWidget(self.grid_stack)

        side = QWidget()
        side_layout = QHBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.setSpacing(10)
        main = QVBoxLayout()
        main.setSpacing(8)
        self.preview = PreviewImage()
        self.details = PhotoDetails()
        main.addWidget(self.preview, 1)
        main.addWidget(self.details)
        side_layout.addLayout(main, 1)
        # Burst alternates stand beside their best, in a narrow column.
        self.alternates_box = QWidget()
        column = QVBoxLayout(self.alternates_box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        self.alternates_label = plain_label("Burst alternates")
        self.alternates_label.setObjectName("sectionLabel")
        self.alternates_label.setWordWrap(True)
        self.alternates_model = ApprovalQueueModel(models.thumbnails, self)
        self.alternates = QListView()
        self.alternates.setObjectName("alternates")
        self.alternates.setFlow(QListView.Flow.TopToBottom)
        self.alternates.setMovement(QListView.Movement.Static)
        self.alternates.setItemDelegate(
            PhotoTileDelegate(self.alternates, QSize(168, 150), QSize(152, 100))
        )
        self.alternates.setModel(self.alternates_model)
        self.alternates.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.alternates.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        column.addWidget(self.alternates_label)
        column.addWidget(self.alternates, 1)
        self.alternates_box.setFixedWidth(184)
        side_layout.addWidget(self.alternates_box)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([440, 840])  # two columns of tiles; the preview takes the rest
        layout.addWidget(splitter, 1)

        self.grid.approve_pressed.connect(self.approve_selected)
        self.grid.reject_pressed.connect(self.reject_selected)
        self.grid.undo_pressed.connect(self.undo)
        self.grid.redo_pressed.connect(models.desk.stack.redo)
        models.desk.restored.connect(self._restored)
        # Regrouping publishes no event of its own: when analysis moves on, re-read the photo
        # in view and its burst (the panel follows a burst that grows while it is shown).
        self._regroup = QTimer(self)
        self._regroup.setSingleShot(True)
        self._regroup.setInterval(REGROUP_MS)
        self._regroup.timeout.connect(self._reread_current)
        models.photo_event.connect(self._photo_event)
        models.stopping.connect(self._regroup.stop)
        self.approve_button.clicked.connect(self.approve_selected)
        self.reject_button.clicked.connect(self.reject_selected)
        self.undo_button.clicked.connect(self.undo)
        selection = self.grid.selectionModel()
        assert selection is not None
        selection.currentChanged.connect(self._current_changed)
        selection.selectionChanged.connect(self._update_buttons)
        models.queue.rowsInserted.connect(self._rows_changed)
        models.queue.rowsRemoved.connect(self._rows_removed)
        models.queue.modelReset.connect(self._rows_changed)
        models.overview_changed.connect(self._update_count)
        models.previews.image_ready.connect(self._preview_ready)
        models.decision_made.connect(lambda *_: self._update_buttons())
        self._rows_changed()

    # --- decisions ------------------------------------------------------------------------

    def selected_ids(self) -> list[str]:
        """The selected photos (or the current one), in display order."""
        selection = self.grid.selectionModel()
        if selection is None:
            return []
        rows = sorted(selection.selectedIndexes(), key=lambda i: i.row())
        if not rows and self.grid.currentIndex().isValid():
            rows = [self.grid.currentIndex()]
        return [str(i.data(PhotoIdRole)) for i in rows]

    def approve_selected(self) -> None:
        """Approve the selection."""
        ids = self.selected_ids()
        if ids:
            self.models.approve(ids)

    def reject_selected(self) -> None:
        """Reject the selection."""
        ids = self.selected_ids()
        if ids:
            self.models.reject(ids)

    def undo(self) -> None:
        """Undo the newest decision made here."""
        if not self.models.undo_last():
            self.models.report_info("Nothing to undo")

    # --- keeping the view current ---------------------------------------------------------

    def _rows_changed(self, *_args: object) -> None:
        self._select_restored()
        count = self.models.queue.rowCount()
        self.grid_stack.setCurrentWidget(self.grid if count else self.empty)
        self._update_count()
        if count and not self.grid.currentIndex().isValid():
            self._select_row(0)
        if not count:
            self._show(None)
        self._update_buttons()

    def _update_count(self) -> None:
        # The grid holds the first pages only: the total comes with the queue's events.
        count = self.models.queue.rowCount()
        waiting = max(count, self.models.approval_count)
        self.count.setText(
            f"{waiting} photo{'s' if waiting != 1 else ''} waiting" if count else "Queue is empty"
        )

    def _rows_removed(self, _parent: QModelIndex, first: int, _last: int) -> None:
        # Keep going where the photographer was: select what moved into the decided slot.
        def reselect() -> None:
            selection = self.grid.selectionModel()
            if selection is not None and not selection.hasSelection():
                count = self.models.queue.rowCount()
                if count:
                    self._select_row(min(first, count - 1))
            self._rows_changed()

        QTimer.singleShot(0, reselect)

    def _select_row(self, row: int) -> None:
        index = self.models.queue.index(row)
        selection = self.grid.selectionModel()
        if selection is not None and index.isValid():
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.grid.scrollTo(index)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show(current.data(PhotoRole) if current.isValid() else None)

    def _show(self, photo: dict[str, Any] | None) -> None:
        self._current = photo
        self.details.show_photo(photo)
        if photo is None:
            self.preview.set_image(None)
            self.alternates_model.set_photos([])
            self._alternates_visible(False)
            return
        image = self.models.previews.get(photo["photo_id"], photo.get("file_path"))
        if image is None:
            image = self.models.thumbnails.get(photo["photo_id"], photo.get("file_path"))
        self.preview.set_image(image)
        group = photo.get("group_id")
        self.alternates_model.set_photos([])
        self._alternates_visible(False)
        if group:
            run_service(
                photos.list_photos(self.models.ctx, group_id=group, limit=50),
                partial(self._alternates_result, photo["photo_id"]),
                what="Loading alternates",
            )

    def _alternates_result(self, photo_id: str, result: tuple[list[dict[str, Any]], int]) -> None:
        self._alternates_loaded(photo_id, result[0])

    def _alternates_loaded(self, photo_id: str, rows: list[dict[str, Any]]) -> None:
        if self._current is None or self._current["photo_id"] != photo_id:
            return
        others = [r for r in rows if r["photo_id"] != photo_id]
        self.alternates_model.set_photos(others)
        self.alternates_label.setText(
            f"{len(others)} burst alternate{'s' if len(others) != 1 else ''}, scored lower"
        )
        self._alternates_visible(bool(others))

    def _alternates_visible(self, visible: bool) -> None:
        # The column keeps its place (hiding it would give the grid a column, then take it back).
        self.alternates.setVisible(visible)
        if not visible:
            self.alternates_label.setText("No burst alternates")

    def _photo_event(self, kind: str, _payload: dict[str, Any]) -> None:
        if kind in ("photo_analyzed", "photo_selected") and self._current is not None:
            self._regroup.start()

    def _reread_current(self) -> None:
        if self._current is None:
            return
        run_service(
            photos.get_photo(self.models.ctx, self._current["photo_id"]),
            self._current_reread,
            what="Loading alternates",
        )

    def _current_reread(self, photo: dict[str, Any]) -> None:
        if self._current is None or self._current["photo_id"] != photo["photo_id"]:
            return
        self._current = photo
        group = photo.get("group_id")
        if group:
            run_service(
                photos.list_photos(self.models.ctx, group_id=group, limit=50),
                partial(self._alternates_result, photo["photo_id"]),
                what="Loading alternates",
            )

    def _restored(self, photo_id: str) -> None:
        # Undo puts the photo back in the queue: select it once its row is there again.
        self._restore_to = photo_id
        self._select_restored()

    def _select_restored(self) -> None:
        if self._restore_to is None:
            return
        row = self.models.queue.row_of(self._restore_to)
        if row is not None:
            self._restore_to = None
            self._select_row(row)

    def _preview_ready(self, photo_id: str) -> None:
        if self._current is not None and self._current["photo_id"] == photo_id:
            self.preview.set_image(self.models.previews.get(photo_id, None))

    def _update_buttons(self, *_args: object) -> None:
        has = bool(self.selected_ids())
        self.approve_button.setEnabled(has)
        self.reject_button.setEnabled(has)
