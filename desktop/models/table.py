"""A keyed table model: rows are dicts identified by a key; updates report changed cells only."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

from PyQt6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from ..formatting import literal_tooltip

RowRole: Final = Qt.ItemDataRole.UserRole + 1
KeyRole: Final = Qt.ItemDataRole.UserRole + 2
SortRole: Final = Qt.ItemDataRole.UserRole + 3

Index = QModelIndex | QPersistentModelIndex
Column = tuple[str, Callable[[dict[str, Any]], Any]]
# (offset, limit) -> (rows of that page, whether more follow): one page from a service. No
# total: counting a large table would cost more than the page itself.
PageLoader = Callable[[int, int], Awaitable[tuple[list[dict[str, Any]], bool]]]
PAGE_ROWS: Final = 50  # rows a page: fetched within 20 ms on a 100,000-photo library

log = logging.getLogger(__name__)


class HeaderedTableModel(QAbstractTableModel):
    """A table with fixed column titles; subclasses say how many rows and which titles."""

    column_titles: tuple[str, ...] = ()

    def titles(self) -> Sequence[str]:
        """Column titles, in order."""
        return self.column_titles

    def row_total(self) -> int:
        """Rows held."""
        raise NotImplementedError

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Rows."""
        return 0 if parent.isValid() else self.row_total()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Columns."""
        return 0 if parent.isValid() else len(self.titles())

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.titles()[section]
        return None


class PagedRows:
    """Rows fetched a page at a time as the view scrolls (Qt's canFetchMore / fetchMore).

    The owner says how many rows it holds (`row_total`) and takes each page (`add_page`); rows
    already there (arrived by an event meanwhile) are the owner's to skip.
    """

    def __init__(self) -> None:
        self._loader: PageLoader | None = None
        self._offset = 0  # rows of the service's list already fetched
        self._more = False
        self._fetching: asyncio.Task[int] | None = None

    def set_page_loader(self, loader: PageLoader, first: list[dict[str, Any]], more: bool) -> None:
        """Page through `loader` from now on; `first` is the page already fetched."""
        self._loader = loader
        self._offset = len(first)
        self._more = more

    def has_more(self) -> bool:
        """Whether the service holds rows not fetched yet."""
        return self._loader is not None and self._more

    async def load_more(self) -> int:
        """Fetch the next page now; returns how many rows it brought."""
        if self._loader is None or not self.has_more():
            return 0
        rows, more = await self._loader(self._offset, PAGE_ROWS)
        self._offset += len(rows)
        self._more = more
        self.add_page(rows)
        return len(rows)

    def request_more(self) -> None:
        """Start fetching the next page unless a fetch is under way (never waits)."""
        if self._fetching is not None and not self._fetching.done():
            return
        self._fetching = asyncio.get_event_loop().create_task(self.load_more())
        self._fetching.add_done_callback(_log_failure)

    def add_page(self, rows: list[dict[str, Any]]) -> None:
        """Append a fetched page."""
        raise NotImplementedError


def _log_failure(task: asyncio.Task[int]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("Loading a page failed", exc_info=task.exception())


class KeyedTableModel(HeaderedTableModel, PagedRows):
    """Rows of dicts by key; subclasses name the columns as (title, row -> text)."""

    columns: tuple[Column, ...] = ()
    key: str = "id"

    def __init__(self, parent: QObject | None = None) -> None:
        HeaderedTableModel.__init__(self, parent)
        PagedRows.__init__(self)
        # Titles from the column declarations, once: a view asks columnCount thousands of
        # times as a page of rows arrives.
        self.column_titles = tuple(title for title, _ in self.columns)
        self._rows: list[dict[str, Any]] = []
        self._row_of: dict[str, int] = {}

    def row_total(self) -> int:
        """Rows held."""
        return len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, the row dict, its key, and a sort key."""
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[index.column()][1](row)
        if role == RowRole:
            return row
        if role == KeyRole:
            return row[self.key]
        if role == SortRole:
            return self.sort_key(row, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            text = self.columns[index.column()][1](row)
            return literal_tooltip(text) if isinstance(text, str) and len(text) > 24 else None
        return None

    def sort_key(self, row: dict[str, Any], column: int) -> Any:
        """What a column sorts by (its text unless overridden)."""
        value = self.columns[column][1](row)
        return value if isinstance(value, int | float) else str(value or "").lower()

    # --- feeding --------------------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        """Every row (copies are not made; do not mutate)."""
        return self._rows

    def get(self, key: str) -> dict[str, Any] | None:
        """The row with this key."""
        row = self._row_of.get(key)
        return None if row is None else self._rows[row]

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        """Replace everything."""
        self.beginResetModel()
        self._rows = [dict(r) for r in rows]
        self._row_of = {r[self.key]: i for i, r in enumerate(self._rows)}
        self.endResetModel()

    def upsert(self, values: dict[str, Any], *, at_top: bool = False) -> None:
        """Insert a row, or merge `values` into the existing one and report changed cells."""
        key = values[self.key]
        row = self._row_of.get(key)
        if row is None:
            position = 0 if at_top else len(self._rows)
            self.beginInsertRows(QModelIndex(), position, position)
            self._rows.insert(position, dict(values))
            self._reindex()
            self.endInsertRows()
            return
        old = self._rows[row]
        new = {**old, **values}
        self._rows[row] = new
        changed = [c for c, (_t, fn) in enumerate(self.columns) if fn(old) != fn(new)] or [0]
        self.dataChanged.emit(self.index(row, min(changed)), self.index(row, max(changed)))

    def remove(self, key: str) -> None:
        """Drop a row."""
        row = self._row_of.get(key)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self._reindex()
        self.endRemoveRows()

    def canFetchMore(self, parent: Index) -> bool:
        """More rows wait in the service."""
        return not parent.isValid() and self.has_more()

    def fetchMore(self, parent: Index) -> None:
        """The view scrolled to the end: fetch the next page."""
        if not parent.isValid():
            self.request_more()

    def add_page(self, rows: list[dict[str, Any]]) -> None:
        """Append a page's rows not already held."""
        new = [dict(r) for r in rows if r[self.key] not in self._row_of]
        if not new:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        self._rows.extend(new)
        self._reindex()
        self.endInsertRows()

    def sync(self, rows: list[dict[str, Any]]) -> None:
        """Make the model hold exactly `rows`: remove gone, update kept, append new."""
        wanted = {r[self.key]: r for r in rows}
        for key in [k for k in self._row_of if k not in wanted]:
            self.remove(key)
        for values in rows:
            self.upsert(values)

    def _reindex(self) -> None:
        self._row_of = {r[self.key]: i for i, r in enumerate(self._rows)}
