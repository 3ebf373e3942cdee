"""A photo that fits its box, or shows at 100 % (one image pixel per screen pixel) with panning.

The fitted view paints the preview; at 100 % the full-resolution image is painted unscaled. Until
the full resolution has been decoded (off the GUI thread, by the caller), the preview stands in,
scaled up, and `is_full_resolution()` says so.
"""

from __future__ import annotations

from typing import Final

from PyQt6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPixmap
from PyQt6.QtWidgets import QSizePolicy, QWidget

MAT: Final = 8  # px around a fitted photo


class ZoomImage(QWidget):
    """Fit or 100 %; double-click zooms at the point, drag pans."""

    zoom_changed = pyqtSignal(bool, QPointF)  # zoomed, centre as fractions of the photo
    painted = pyqtSignal(str, str)  # photo id and what was painted: preview, stand-in, full
    double_clicked = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.photo_id = ""
        self._preview: QImage | None = None
        self._full: QImage | None = None
        self._fitted: QPixmap | None = None
        self._full_pixmap: QPixmap | None = None
        self._full_size = QSize()  # the photo's size at full resolution
        self._full_origin = QPoint(0, 0)  # where `_full` sits in the photo (a decoded region)
        self.zoomed = False
        self.centre = QPointF(0.5, 0.5)  # what is in the middle, as fractions of the photo
        self._drag_from: QPoint | None = None
        self._drag_centre = QPointF()
        self.setMinimumSize(QSize(240, 180))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setObjectName("preview")
        self.setMouseTracking(False)

    # --- content --------------------------------------------------------------------------

    def set_photo(self, photo_id: str, preview: QImage | None, full_size: QSize) -> None:
        """Show another photo (fitted); its full resolution comes later, if asked for."""
        if photo_id != self.photo_id:
            self._full = None
            self._full_pixmap = None
            self.zoomed = False
            self.centre = QPointF(0.5, 0.5)
        self.photo_id = photo_id
        self._preview = preview
        self.preview_is_final = False  # the preview proper (not a thumbnail standing in)
        self._fitted = None
        self._full_size = full_size if full_size.isValid() else QSize()
        self.update()

    def set_preview(self, preview: QImage | None) -> None:
        """The preview proper of the same photo arrived."""
        self._preview = preview
        self.preview_is_final = preview is not None
        self._fitted = None
        self.update()

    def set_full(self, image: QImage, region: QRect | None = None) -> None:
        """The full-resolution decode of the photo shown (or of a region of it)."""
        self._full = image
        self._full_pixmap = None
        if region is None:
            self._full_size = image.size()
            self._full_origin = QPoint(0, 0)
        else:
            self._full_origin = region.topLeft()
        if self.zoomed:
            self.update()

    def clear(self) -> None:
        """Show nothing."""
        self.set_photo("", None, QSize())

    def has_full(self) -> bool:
        """The full resolution is decoded."""
        return self._full is not None

    def visible_region(self, margin: int = 0) -> QRect:
        """The part of the photo (full-resolution pixels) a 100 % view shows now."""
        whole = self.zoom_rect()
        size = self.photo_size()
        rect = QRect(round(-whole.left()), round(-whole.top()), self.width(), self.height())
        rect = rect.adjusted(-margin, -margin, margin, margin)
        return rect.intersected(QRect(0, 0, size.width(), size.height()))

    def is_full_resolution(self) -> bool:
        """Zoomed, and every pixel in view is a full-resolution pixel painted 1:1."""
        if not self.zoomed or self._full is None:
            return False
        decoded = QRect(self._full_origin, self._full.size())
        return decoded.intersected(self.visible_region()) == self.visible_region()

    def photo_size(self) -> QSize:
        """The photo's full-resolution size (or the preview's while unknown)."""
        if self._full_size.isValid():
            return self._full_size
        return self._preview.size() if self._preview is not None else QSize()

    def scale(self) -> float:
        """Screen pixels per photo pixel: 1.0 at 100 %, less when fitted."""
        size = self.photo_size()
        if not size.isValid() or size.width() == 0:
            return 0.0
        if self.zoomed:
            return 1.0
        return self._fit_rect().width() / size.width()

    # --- zoom and pan ---------------------------------------------------------------------

    def zoom_at(self, fraction: QPointF) -> None:
        """Show 100 % with this point of the photo (fractions) in the middle."""
        self.zoomed = True
        self.centre = self._clamped(fraction)
        self.update()
        self.zoom_changed.emit(True, self.centre)

    def zoom_at_widget_point(self, point: QPointF) -> None:
        """Zoom to 100 % at a point of the fitted photo (what was clicked stays put)."""
        fit = QRectF(self._fit_rect())
        if fit.width() <= 0 or fit.height() <= 0:
            return
        self.zoom_at(
            QPointF((point.x() - fit.left()) / fit.width(), (point.y() - fit.top()) / fit.height())
        )

    def fit(self) -> None:
        """Back to the whole photo."""
        self.zoomed = False
        self.update()
        self.zoom_changed.emit(False, self.centre)

    def set_view(self, zoomed: bool, centre: QPointF) -> None:
        """Follow another view's zoom and pan (compare), without echoing it back."""
        self.zoomed = zoomed
        self.centre = self._clamped(centre)
        self.update()

    def _clamped(self, fraction: QPointF) -> QPointF:
        size = self.photo_size()
        if not size.isValid() or size.width() == 0 or size.height() == 0:
            return QPointF(0.5, 0.5)
        # Keep the photo covering the view where it can (no empty mat when panned to an edge).
        half_w = min(0.5, self.width() / 2 / size.width())
        half_h = min(0.5, self.height() / 2 / size.height())
        return QPointF(
            min(max(fraction.x(), half_w), 1 - half_w), min(max(fraction.y(), half_h), 1 - half_h)
        )

    def _fit_rect(self) -> QRect:
        size = self.photo_size()
        area = self.rect().adjusted(MAT, MAT, -MAT, -MAT)
        if not size.isValid() or area.width() <= 0:
            return QRect()
        fitted = size.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(0, 0, fitted.width(), fitted.height())
        target.moveCenter(area.center())
        return target

    def zoom_rect(self) -> QRectF:
        """Where the whole photo lies, in widget coordinates, at 100 %."""
        size = self.photo_size()
        left = self.width() / 2 - self.centre.x() * size.width()
        top = self.height() / 2 - self.centre.y() * size.height()
        return QRectF(left, top, size.width(), size.height())

    # --- events ---------------------------------------------------------------------------

    def paintEvent(self, a0: QPaintEvent | None) -> None:
        """The fitted preview, or the 100 % view."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(self.backgroundRole()).darker(130))
        if self.zoomed:
            self._paint_zoomed(painter)
        else:
            self._paint_fitted(painter)
        painter.end()
        if self.is_full_resolution():
            self.painted.emit(self.photo_id, "full")
        elif self._preview is not None:
            self.painted.emit(self.photo_id, "preview" if self.preview_is_final else "stand-in")

    def _paint_fitted(self, painter: QPainter) -> None:
        source = self._preview if self._preview is not None else self._full
        if source is None or source.isNull():
            return
        target = self._fit_rect()
        if self._fitted is None or self._fitted.size() != target.size():
            self._fitted = QPixmap.fromImage(
                source.scaled(
                    target.size(),
                    Qt.AspectRatioMode.IgnoreAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        painter.drawPixmap(target.topLeft(), self._fitted)

    def _paint_zoomed(self, painter: QPainter) -> None:
        whole = self.zoom_rect()
        if not self.is_full_resolution() and self._preview is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(whole, self._preview)  # stands in until the pixels are decoded
        if self._full is not None:
            if self._full_pixmap is None:
                self._full_pixmap = QPixmap.fromImage(self._full)
            # Unscaled: one photo pixel on one screen pixel.
            at = QPoint(round(whole.left()), round(whole.top())) + self._full_origin
            painter.drawPixmap(at, self._full_pixmap)
        if not self.is_full_resolution():
            painter.setPen(QColor("#e8e8e8"))
            painter.drawText(
                self.rect().adjusted(12, 10, -12, -10),
                int(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight),
                "Loading full resolution…",
            )

    def mouseDoubleClickEvent(self, a0: QMouseEvent | None) -> None:
        """Zoom to 100 % where clicked, or back to fit."""
        if a0 is None:
            return
        self.double_clicked.emit()
        if self.zoomed:
            self.fit()
        else:
            self.zoom_at_widget_point(a0.position())

    def mousePressEvent(self, a0: QMouseEvent | None) -> None:
        """Start a pan."""
        if a0 is not None and self.zoomed and a0.button() == Qt.MouseButton.LeftButton:
            self._drag_from = a0.position().toPoint()
            self._drag_centre = QPointF(self.centre)
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        super().mousePressEvent(a0)

    def mouseMoveEvent(self, a0: QMouseEvent | None) -> None:
        """Pan: the photo follows the pointer."""
        if a0 is None or self._drag_from is None:
            return
        size = self.photo_size()
        delta = a0.position().toPoint() - self._drag_from
        self.centre = self._clamped(
            QPointF(
                self._drag_centre.x() - delta.x() / max(1, size.width()),
                self._drag_centre.y() - delta.y() / max(1, size.height()),
            )
        )
        self.update()
        self.zoom_changed.emit(True, self.centre)

    def mouseReleaseEvent(self, a0: QMouseEvent | None) -> None:
        """End a pan."""
        self._drag_from = None
        self.unsetCursor()
        super().mouseReleaseEvent(a0)
