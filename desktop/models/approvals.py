"""The approval queue as a list model: photos waiting for a decision, best first."""

from __future__ import annotations

import bisect
from typing import Any, Final

from PyQt6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from ..formatting import literal_tooltip
from ..thumbnails import ImageCache

PhotoRole: Final = Qt.ItemDataRole.UserRole + 1
PhotoIdRole: Final = Qt.ItemDataRole.UserRole + 2
ScoreRole: Final = Qt.ItemDataRole.UserRole + 3
ImageRole: Final = Qt.ItemDataRole.UserRole + 4

Index = QModelIndex | QPersistentModelIndex


def _order(photo: dict[str, Any]) -> tuple[float, str, str]:
    # The queue's own order: best score first, then capture time, then id.
    return (-(photo.get("ai_score") or 0.0), photo.get("captured_at") or "", photo["photo_id"])


class ApprovalQueueModel(QAbstractListModel):
    """Queue photos in the service's order; rows come and go with decisions and selections."""

    def __init__(self, thumbnails: ImageCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._photos: list[dict[str, Any]] = []
        self._keys: list[tuple[float, str, str]] = []
        self._thumbs = thumbnails
        thumbnails.image_ready.connect(self._thumbnail_ready)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Photos waiting."""
        return 0 if parent.isValid() else len(self._photos)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """File name, the photo, its score and its thumbnail."""
        if not index.isValid():
            return None
        photo = self._photos[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return photo.get("file_name", "")
        if role == PhotoRole:
            return photo
        if role == PhotoIdRole:
            return photo["photo_id"]
        if role == ScoreRole:
            return photo.get("ai_score")
        if role == ImageRole:
            return self._thumbs.get(photo["photo_id"], photo.get("file_path"))
        if role == Qt.ItemDataRole.ToolTipRole:
            score = photo.get("ai_score")
            name = photo.get("file_name", "")
            return literal_tooltip(f"{name} — score {score:.1f}") if score else None
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Selectable, not editable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # --- feeding --------------------------------------------------------------------------

    def photo_ids(self) -> list[str]:
        """Ids in display order."""
        return [p["photo_id"] for p in self._photos]

    def row_of(self, photo_id: str) -> int | None:
        """The row of a photo, if it is in the queue."""
        for row, photo in enumerate(self._photos):
            if photo["photo_id"] == photo_id:
                return row
        return None

    def set_photos(self, photos: list[dict[str, Any]]) -> None:
        """Replace the whole queue (initial load, resync)."""
        self.beginResetModel()
        self._photos = sorted((dict(p) for p in photos), key=_order)
        self._keys = [_order(p) for p in self._photos]
        self.endResetModel()

    def sync(self, photos: list[dict[str, Any]]) -> None:
        """Make the queue hold exactly `photos`, row by row, so selection survives."""
        wanted = {p["photo_id"]: p for p in photos}
        for photo_id in [pid for pid in self.photo_ids() if pid not in wanted]:
            self.remove(photo_id)
        for photo in photos:
            row = self.row_of(photo["photo_id"])
            if row is None:
                self.add(photo)
            elif _order(photo) != self._keys[row]:
                self.add(photo)  # score changed: move it
            else:
                self._photos[row] = dict(photo)

    def add(self, photo: dict[str, Any]) -> None:
        """Insert a photo that entered the queue (or update it if present)."""
        self.remove(photo["photo_id"])
        key = _order(photo)
        row = bisect.bisect_left(self._keys, key)
        self.beginInsertRows(QModelIndex(), row, row)
        self._photos.insert(row, dict(photo))
        self._keys.insert(row, key)
        self.endInsertRows()

    def remove(self, photo_id: str) -> bool:
        """Drop a photo that left the queue."""
        row = self.row_of(photo_id)
        if row is None:
            return False
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._photos[row]
        del self._keys[row]
        self.endRemoveRows()
        return True

    def _thumbnail_ready(self, photo_id: str) -> None:
        row = self.row_of(photo_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [ImageRole])
