"""The live event stream: a bounded model of the newest events, in words, by channel.

Each event reads as a sentence ("Approved IMG_4136.jpg (Smith wedding)") with the photo's
thumbnail; the raw payload stays in the Details column and its tooltip.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from typing import Any, Final

from PyQt6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PyQt6.QtGui import QPixmap

from bridge_server.broker import PublishedEvent

from ..formatting import literal_tooltip, local_time
from ..thumbnails import ImageCache
from ..timers import make_timer
from .table import HeaderedTableModel

MAX_EVENTS: Final = 2000
MAX_ICONS: Final = 400
FLUSH_MS: Final = 150
COLUMNS: Final = ("Time", "Seq", "Channel", "What happened", "Details")
WORDS_COLUMN: Final = 3
DETAILS_COLUMNS: Final = (1, 2, 4)  # shown behind the view's "Details" toggle
ChannelRole: Final = Qt.ItemDataRole.UserRole + 1
ICON: Final = QSize(40, 30)

Words = Callable[[PublishedEvent], tuple[str, str | None]]  # sentence, photo id


def _type_only(event: PublishedEvent) -> tuple[str, str | None]:
    return event.type.replace("_", " ").capitalize(), event.payload.get("photo_id")


Index = QModelIndex | QPersistentModelIndex


def summarize(payload: dict[str, Any]) -> str:
    """A one-line, readable rendering of a payload."""
    parts = []
    for key, value in payload.items():
        if isinstance(value, dict | list):
            value = json.dumps(value, separators=(",", ":"))
            if len(value) > 80:
                value = value[:77] + "…"
        parts.append(f"{key}={value}")
    return "  ".join(parts)


class ActivityModel(HeaderedTableModel):
    """Newest events last; batched so a burst of events costs one insert, not hundreds."""

    column_titles = COLUMNS

    def __init__(
        self,
        parent: QObject | None = None,
        limit: int = MAX_EVENTS,
        *,
        words: Words = _type_only,
        thumbnails: ImageCache | None = None,
    ) -> None:
        super().__init__(parent)
        self._limit = limit
        self._words = words
        self._said: dict[int, tuple[str, str | None]] = {}  # seq -> words (said once)
        self._thumbs = thumbnails
        self._icons: dict[str, QPixmap] = {}
        if thumbnails is not None:
            thumbnails.image_ready.connect(self._thumbnail_ready)
        self._events: deque[PublishedEvent] = deque()
        self._pending: list[PublishedEvent] = []
        self._timer = make_timer(self, FLUSH_MS, single_shot=True)
        self._timer.timeout.connect(self.flush)

    def row_total(self) -> int:
        """Rows held."""
        return len(self._events)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Time, seq, channel, type and payload summary."""
        if not index.isValid():
            return None
        event = self._events[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            col = index.column()
            if col == 0:
                return local_time(event.timestamp)
            if col == 1:
                return event.seq
            if col == 2:
                return event.channel
            if col == WORDS_COLUMN:
                return self.words(event)[0]
            return f"{event.type}  {summarize(event.payload)}"
        if role == ChannelRole:
            return event.channel
        if role == Qt.ItemDataRole.DecorationRole and index.column() == WORDS_COLUMN:
            return self._icon(self.words(event)[1])
        if role == Qt.ItemDataRole.ToolTipRole and index.column() in (WORDS_COLUMN, 4):
            return literal_tooltip(f"{event.type}\n" + json.dumps(event.payload, indent=2)[:2000])
        return None

    def words(self, event: PublishedEvent) -> tuple[str, str | None]:
        """The event's sentence and photo (worked out once per event)."""
        said = self._said.get(event.seq)
        if said is None:
            said = self._said[event.seq] = self._words(event)
        return said

    def _icon(self, photo_id: str | None) -> QPixmap | None:
        if not photo_id or self._thumbs is None:
            return None
        icon = self._icons.get(photo_id)
        if icon is None:
            image = self._thumbs.get(photo_id, None)
            if image is None:
                return None
            icon = QPixmap.fromImage(
                image.scaled(
                    ICON,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
            if len(self._icons) > MAX_ICONS:
                self._icons.clear()
            self._icons[photo_id] = icon
        return icon

    def _thumbnail_ready(self, photo_id: str) -> None:
        rows = [r for r, e in enumerate(self._events) if self.words(e)[1] == photo_id]
        for row in rows:
            index = self.index(row, WORDS_COLUMN)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def add(self, event: PublishedEvent) -> None:
        """Queue an event; it appears within FLUSH_MS."""
        self._pending.append(event)
        if not self._timer.isActive():
            self._timer.start()

    def extend(self, events: list[PublishedEvent]) -> None:
        """Add many events at once (initial history)."""
        self._pending.extend(events)
        self.flush()

    def flush(self) -> None:
        """Insert queued events, dropping the oldest beyond the limit."""
        pending, self._pending = self._pending[-self._limit :], []
        if not pending:
            return
        overflow = len(self._events) + len(pending) - self._limit
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            for _ in range(overflow):
                self._said.pop(self._events.popleft().seq, None)
            self.endRemoveRows()
        first = len(self._events)
        self.beginInsertRows(QModelIndex(), first, first + len(pending) - 1)
        self._events.extend(pending)
        self.endInsertRows()


class ChannelFilterProxy(QSortFilterProxyModel):
    """Events of one channel (or all)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._channel: str | None = None

    def set_channel(self, channel: str | None) -> None:
        """Show only this channel (None: all)."""
        self.beginFilterChange()
        self._channel = channel
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        """Keep rows of the chosen channel."""
        if self._channel is None:
            return True
        model = self.sourceModel()
        assert model is not None
        return bool(model.index(source_row, 0).data(ChannelRole) == self._channel)
