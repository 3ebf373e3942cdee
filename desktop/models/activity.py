"""The live event stream: a bounded model of the newest events, filterable by channel."""

from __future__ import annotations

import json
from collections import deque
from typing import Any, Final

from PyQt6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from bridge_server.broker import PublishedEvent

from ..formatting import literal_tooltip, local_time
from ..timers import make_timer
from .table import HeaderedTableModel

MAX_EVENTS: Final = 2000
FLUSH_MS: Final = 150
COLUMNS: Final = ("Time", "Seq", "Channel", "Event", "Details")
ChannelRole: Final = Qt.ItemDataRole.UserRole + 1

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

    def __init__(self, parent: QObject | None = None, limit: int = MAX_EVENTS) -> None:
        super().__init__(parent)
        self._limit = limit
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
            if col == 3:
                return event.type
            return summarize(event.payload)
        if role == ChannelRole:
            return event.channel
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 4:
            return literal_tooltip(json.dumps(event.payload, indent=2)[:2000])
        return None

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
                self._events.popleft()
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
