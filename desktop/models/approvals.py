"""The approval queue as a list model: photos waiting for a decision, best first, a page at a
time as the grid scrolls (Qt's canFetchMore / fetchMore), by the service's keyset cursor."""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from PyQt6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from bridge_server.services.library import LibraryPage

from ..formatting import literal_tooltip
from ..thumbnails import ImageCache

PhotoRole: Final = Qt.ItemDataRole.UserRole + 1
PhotoIdRole: Final = Qt.ItemDataRole.UserRole + 2
ScoreRole: Final = Qt.ItemDataRole.UserRole + 3
ImageRole: Final = Qt.ItemDataRole.UserRole + 4
PAGE_PHOTOS: Final = 50  # a page of tiles: fetched and shown within 20 ms in a large library

Index = QModelIndex | QPersistentModelIndex
# (cursor, limit) -> the page after `cursor` (None: the first), from the service.
QueueLoader = Callable[[str | None, int], Awaitable[LibraryPage]]
OrderKey = tuple[bool, float, bool, str, str, str]

log = logging.getLogger(__name__)


def _order(photo: dict[str, Any]) -> OrderKey:
    # The service's order (services.library, score order): best score first, unscored last,
    # then capture time (photos without one last, by import time), file name, id.
    score, captured = photo.get("ai_score"), photo.get("captured_at")
    return (
        score is None,
        -(score or 0.0),
        captured is None,
        captured or photo.get("imported_at") or "",
        photo.get("file_name") or "",
        photo["photo_id"],
    )


class ApprovalQueueModel(QAbstractListModel):
    """Queue photos in the service's order; rows come and go with decisions and selections.

    Only the rows up to the last fetched page are held: a resync re-reads that many from the
    top, so a photo entering the queue below them comes with the page it belongs to, once.
    """

    def __init__(self, thumbnails: ImageCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._photos: list[dict[str, Any]] = []
        self._keys: list[OrderKey] = []
        self._thumbs = thumbnails
        self._loader: QueueLoader | None = None
        self._cursor: str | None = None  # after the last held row; None: every row is held
        self._fetching: asyncio.Task[int] | None = None
        self.fetch_gate: Callable[[], bool] = lambda: True  # the grid sets: while it shows
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
        """The row of a photo, if it is held."""
        for row, photo in enumerate(self._photos):
            if photo["photo_id"] == photo_id:
                return row
        return None

    def set_page_loader(self, loader: QueueLoader, first: LibraryPage) -> None:
        """Page through `loader` from now on, starting with its first page (already fetched)."""
        self._loader = loader
        self.set_photos(first.photos)
        self._cursor = first.next_cursor

    def set_photos(self, photos: list[dict[str, Any]]) -> None:
        """Replace the held rows (every row of the queue unless a loader pages it)."""
        self.beginResetModel()
        self._photos = sorted((dict(p) for p in photos), key=_order)
        self._keys = [_order(p) for p in self._photos]
        self.endResetModel()

    def has_more(self) -> bool:
        """Whether the service holds queue photos after the held rows."""
        return self._loader is not None and self._cursor is not None

    def canFetchMore(self, parent: Index) -> bool:
        """More photos wait in the service, and the view asking is showing (a hidden grid
        asked after every page, and laid every tile out again to see if it needed more)."""
        return not parent.isValid() and self.has_more() and self.fetch_gate()

    def fetchMore(self, parent: Index) -> None:
        """The grid scrolled to the end: fetch the next page (never waits)."""
        if parent.isValid() or (self._fetching is not None and not self._fetching.done()):
            return
        self._fetching = asyncio.get_event_loop().create_task(self.load_more())
        self._fetching.add_done_callback(_log_failure)

    async def load_more(self) -> int:
        """Fetch the page after the held rows now; returns how many rows it brought."""
        if self._loader is None or self._cursor is None:
            return 0
        page = await self._loader(self._cursor, PAGE_PHOTOS)
        self._cursor = page.next_cursor
        held = set(self.photo_ids())
        new = [p for p in page.photos if p["photo_id"] not in held]
        if new:
            first = len(self._photos)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._photos.extend(dict(p) for p in new)
            self._keys.extend(_order(p) for p in new)
            self.endInsertRows()
        return len(new)

    async def reload(self) -> int:
        """Read the held part of the queue again and make the rows match it; the total."""
        if self._loader is None:
            return len(self._photos)
        # As many as held (all of them if every row was: none may vanish into a page).
        wanted = max(len(self._photos), PAGE_PHOTOS)
        everything = self._cursor is None
        photos: list[dict[str, Any]] = []
        page = await self._loader(None, PAGE_PHOTOS)
        total = page.total or 0  # the first page is counted
        photos += page.photos
        while page.next_cursor is not None and (everything or len(photos) < wanted):
            limit = PAGE_PHOTOS if everything else min(wanted - len(photos), PAGE_PHOTOS)
            page = await self._loader(page.next_cursor, limit)
            photos += page.photos
        self._cursor = page.next_cursor
        self.sync(photos)
        return total

    def sync(self, photos: list[dict[str, Any]]) -> None:
        """Make the held rows exactly `photos`, row by row, so selection survives."""
        wanted = {p["photo_id"]: p for p in photos}
        for photo_id in [pid for pid in self.photo_ids() if pid not in wanted]:
            self.remove(photo_id)
        for photo in photos:
            row = self.row_of(photo["photo_id"])
            if row is None or _order(photo) != self._keys[row]:
                self._insert(photo)  # new, or its score changed: (re)placed in order
            else:
                self._photos[row] = dict(photo)

    def _insert(self, photo: dict[str, Any]) -> None:
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
        if not self._photos and self.has_more():
            self.fetchMore(QModelIndex())  # every held photo decided: the next ones come in
        return True

    def _thumbnail_ready(self, photo_id: str) -> None:
        row = self.row_of(photo_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [ImageRole])


def _log_failure(task: asyncio.Task[int]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("Loading a page of the queue failed", exc_info=task.exception())
