"""A keyed table model: rows are dicts identified by a key; updates report changed cells only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from PyQt6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from ..formatting import literal_tooltip

RowRole: Final = Qt.ItemDataRole.UserRole + 1
KeyRole: Final = Qt.ItemDataRole.UserRole + 2
SortRole: Final = Qt.ItemDataRole.UserRole + 3

Index = QModelIndex | QPersistentModelIndex
Column = tuple[str, Callable[[dict[str, Any]], Any]]


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


class KeyedTableModel(HeaderedTableModel):
    """Rows of dicts by key; subclasses name the columns as (title, row -> text)."""

    columns: tuple[Column, ...] = ()
    key: str = "id"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[dict[str, Any]] = []
        self._row_of: dict[str, int] = {}

    def titles(self) -> Sequence[str]:
        """Titles from the column declarations."""
        return [title for title, _ in self.columns]

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

    def sync(self, rows: list[dict[str, Any]]) -> None:
        """Make the model hold exactly `rows`: remove gone, update kept, append new."""
        wanted = {r[self.key]: r for r in rows}
        for key in [k for k in self._row_of if k not in wanted]:
            self.remove(key)
        for values in rows:
            self.upsert(values)

    def _reindex(self) -> None:
        self._row_of = {r[self.key]: i for i, r in enumerate(self._rows)}
