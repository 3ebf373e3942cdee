"""Delegates: a progress bar in a table cell, and a photo tile in the approval grid."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Final

from PyQt6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QFont, QImage, QPainter, QPalette, QPen, QPixmap
from PyQt6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from .models.approvals import ImageRole, PhotoRole
from .models.library import StackRole

Index = QModelIndex | QPersistentModelIndex

MAX_SCALED_TILES: Final = 400
TILE: Final = QSize(196, 184)
LIBRARY_TILE: Final = QSize(196, 204)
IMAGE_BOX: Final = QSize(180, 132)


class ProgressBarDelegate(QStyledItemDelegate):
    """Draws a float 0–100 as a slim bar with the percentage."""

    def paint(self, painter: QPainter | None, option: QStyleOptionViewItem, index: Index) -> None:
        """Bar, then the number."""
        if painter is None:
            return
        value = index.data(Qt.ItemDataRole.DisplayRole)
        try:
            progress = max(0.0, min(100.0, float(value or 0.0)))
        except (TypeError, ValueError):
            progress = 0.0
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = option.palette
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, palette.color(QPalette.ColorRole.Highlight).darker(160))
        rect = option.rect.adjusted(6, 0, -6, 0)
        bar = QRectF(rect.left(), rect.center().y() - 3, rect.width() - 44, 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Mid))
        painter.drawRoundedRect(bar, 3, 3)
        if progress > 0:
            filled = QRectF(bar)
            filled.setWidth(max(6.0, bar.width() * progress / 100.0))
            color = (
                QColor("#5fae6e")
                if progress >= 100
                else palette.color(QPalette.ColorRole.Highlight)
            )
            painter.setBrush(color)
            painter.drawRoundedRect(filled, 3, 3)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        text_rect = QRect(int(bar.right()) + 4, rect.top(), 40, rect.height())
        painter.drawText(
            text_rect,
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            f"{progress:.0f}%",
        )
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """Wide enough for a readable bar."""
        return QSize(140, 24)


def score_color(score: float | None) -> QColor:
    """Green for strong, amber for fair, red for weak scores (1–5)."""
    if score is None:
        return QColor("#7d8590")
    if score >= 4.0:
        return QColor("#5fae6e")
    if score >= 3.0:
        return QColor("#d3a44a")
    return QColor("#c8594f")


class PhotoTileDelegate(QStyledItemDelegate):
    """A thumbnail on a dark mat, the file name, and a score badge."""

    def __init__(self, parent: Any = None, tile: QSize = TILE, image_box: QSize = IMAGE_BOX):
        super().__init__(parent)
        self.tile = tile
        self.image_box = image_box
        # Thumbnails scaled once to their box: a scroll frame then only copies pixmaps.
        self.cache_tiles = True
        self._scaled: OrderedDict[tuple[int, int, int], QPixmap] = OrderedDict()

    def scaled(self, image: QImage, size: QSize) -> QPixmap:
        """The image scaled (smoothly) to `size`, cached by the image's identity."""
        key = (image.cacheKey(), size.width(), size.height())
        pixmap = self._scaled.get(key)
        if pixmap is None:
            pixmap = QPixmap.fromImage(
                image.scaled(
                    size,
                    Qt.AspectRatioMode.IgnoreAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
            self._scaled[key] = pixmap
            while len(self._scaled) > MAX_SCALED_TILES:
                self._scaled.popitem(last=False)
        else:
            self._scaled.move_to_end(key)
        return pixmap

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """Fixed tiles make a calm grid."""
        return self.tile

    def paint(self, painter: QPainter | None, option: QStyleOptionViewItem, index: Index) -> None:
        """Selection frame, image fitted into its box, caption and badge."""
        if painter is None:
            return
        photo: dict[str, Any] = index.data(PhotoRole) or {}
        image: QImage | None = index.data(ImageRole)
        palette = option.palette
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        cell = option.rect.adjusted(4, 4, -4, -4)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
        painter.drawRoundedRect(QRectF(cell), 6, 6)
        if selected:  # a tint of the highlight reads well on dark and light themes
            tint = QColor(palette.color(QPalette.ColorRole.Highlight))
            tint.setAlpha(70)
            painter.setBrush(tint)
            painter.drawRoundedRect(QRectF(cell), 6, 6)
        if selected:
            pen = QPen(palette.color(QPalette.ColorRole.Highlight).lighter(120), 2.0)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(cell).adjusted(1, 1, -1, -1), 6, 6)
        box = QRect(
            cell.left() + (cell.width() - self.image_box.width()) // 2,
            cell.top() + 8,
            self.image_box.width(),
            self.image_box.height(),
        )
        if image is not None and not image.isNull():
            size = image.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(box.center())
            if self.cache_tiles:
                painter.drawPixmap(target.topLeft(), self.scaled(image, target.size()))
            else:
                painter.drawImage(target, image)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Base))
            painter.drawRect(box)
        caption = QRect(cell.left() + 8, box.bottom() + 6, cell.width() - 16, 20)
        font = QFont(option.font)
        painter.setFont(font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        metrics = painter.fontMetrics()
        name = metrics.elidedText(
            str(photo.get("file_name", "")), Qt.TextElideMode.ElideMiddle, caption.width() - 44
        )
        painter.drawText(
            caption, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), name
        )
        score = photo.get("ai_score")
        if score is not None:
            badge = QRectF(caption.right() - 38, caption.top() + 1, 38, 18)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(score_color(score))
            painter.drawRoundedRect(badge, 9, 9)
            painter.setPen(QColor("#101214"))
            bold = QFont(font)
            bold.setBold(True)
            painter.setFont(bold)
            painter.drawText(badge, int(Qt.AlignmentFlag.AlignCenter), f"{score:.1f}")
        painter.restore()


LABEL_COLORS: Final = {
    "red": QColor("#d2504a"),
    "yellow": QColor("#d8b53c"),
    "green": QColor("#58a55c"),
    "blue": QColor("#4a7fd2"),
    "purple": QColor("#9260c7"),
}
VERDICT_WORDS: Final = {
    "keeper": "Proposed",
    "alternate": "Alternate",
    "below_threshold": "Below",
}


class LibraryTileDelegate(PhotoTileDelegate):
    """A photo tile with the decision on it: flag, stars, colour label, verdict, stack, hearts."""

    def paint(self, painter: QPainter | None, option: QStyleOptionViewItem, index: Index) -> None:
        """The tile, then the decision marks over it."""
        super().paint(painter, option, index)
        if painter is None:
            return
        photo: dict[str, Any] = index.data(PhotoRole) or {}
        stack = index.data(StackRole)
        cell = option.rect.adjusted(4, 4, -4, -4)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        label = LABEL_COLORS.get(str(photo.get("color_label")))
        if label is not None:  # a colour strip along the tile's foot, as Lightroom has it
            painter.fillRect(QRect(cell.left() + 6, cell.bottom() - 5, cell.width() - 12, 4), label)
        flag = photo.get("flag") or {"approved": "pick", "rejected": "reject"}.get(
            str(photo.get("approval")), "none"
        )
        top = QRect(cell.left() + 12, cell.top() + 12, 22, 22)
        if flag != "none":
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#3e9b58") if flag == "pick" else QColor("#c2463e"))
            painter.drawEllipse(top)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(top, int(Qt.AlignmentFlag.AlignCenter), "✓" if flag == "pick" else "✕")
        if flag == "reject":  # a rejected frame reads as set aside
            painter.fillRect(cell.adjusted(8, 8, -8, -44), QColor(0, 0, 0, 110))
        stars = int(photo.get("stars") or 0)
        metrics = painter.fontMetrics()
        footer = QRect(cell.left() + 8, cell.bottom() - 23, cell.width() - 16, 16)
        painter.setPen(QColor("#e0b341"))
        if stars:
            painter.drawText(footer, int(Qt.AlignmentFlag.AlignLeft), "★" * stars)
        verdict = VERDICT_WORDS.get(str(photo.get("selection")))
        if photo.get("status") == "failed":
            verdict = "Unreadable"
        if verdict:
            painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(footer, int(Qt.AlignmentFlag.AlignRight), verdict)
        badges = []
        if stack is not None:
            badges.append(f"▣ {stack[0]}")
        if photo.get("favorites"):
            badges.append(f"♥ {photo['favorites']}")
        if badges:
            text = "  ".join(badges)
            width = metrics.horizontalAdvance(text) + 14
            box = QRectF(cell.right() - 12 - width, cell.top() + 12, width, 20)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 170))
            painter.drawRoundedRect(box, 10, 10)
            painter.setPen(QColor("#f1f1f1"))
            painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.restore()
