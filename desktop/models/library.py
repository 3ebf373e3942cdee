"""The whole shoot as a paged list model: rows arrive page by page as the grid scrolls.

The model asks a page source (the whole-shoot query) for one keyset page at a time through
`fetchMore`, so a 10,000-photo session costs one page per screenful, never one big query.
Stacks (bursts and scenes) are collapsed by the query itself, each to its top frame.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any, Final

from PyQt6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    pyqtSignal,
)

from ..formatting import literal_tooltip
from ..tasks import describe, reporter, run_service
from ..thumbnails import ImageCache
from .approvals import ImageRole, PhotoIdRole, PhotoRole

StackRole: Final = Qt.ItemDataRole.UserRole + 5  # frames in the collapsed stack, or None
PAGE_SIZE: Final = 50  # photos a page: fetched within 20 ms on a 100,000-photo library

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class LibraryQuery:
    """What the grid shows: the filters of the whole-shoot query (docs/protocol.md)."""

    session_id: str | None = None
    sort: str = "captured"  # captured | score
    verdict: str | None = None  # proposed | alternate | below_threshold | failed | pending
    flag: str | None = None  # pick | reject | none
    min_stars: int | None = None
    color_label: str | None = None
    problem: str | None = None  # an analysis flag: eyes_closed, out_of_focus, noisy...
    favorite: bool | None = None  # client hearts (proofing)
    collapse_stacks: bool = False  # each burst or scene as its top frame
    group_id: str | None = None  # one stack, opened

    def with_(self, **changes: Any) -> LibraryQuery:
        """A copy with some filters changed."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Page:
    """One keyset page of the whole-shoot query."""

    photos: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None  # None: not counted (a next page; events keep the first page's total)


PageSource = Callable[[LibraryQuery, str | None, int], Coroutine[Any, Any, Page]]


def stack_key(photo: dict[str, Any]) -> str | None:
    """The stack a photo belongs to (its burst or scene group), if it has company."""
    group = photo.get("group_id")
    return str(group) if group and int(photo.get("group_size") or 1) > 1 else None


class LibraryModel(QAbstractListModel):
    """Photos of the query in the source's order, loaded page by page on demand."""

    loaded = pyqtSignal()  # a page arrived (or the model was reset)
    total_changed = pyqtSignal(int)

    def __init__(
        self, source: PageSource, thumbnails: ImageCache, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._source = source
        self._thumbs = thumbnails
        self.query = LibraryQuery()
        self.total = 0
        self._rows: list[dict[str, Any]] = []  # every loaded photo, in query order
        self._row_of: dict[str, int] = {}
        self._cursor: str | None = None
        self._more = False
        self._fetching = False
        self._generation = 0  # pages of an older query are dropped
        # Whether a view scrolling through the model may pull pages (the grid, while it shows).
        # Qt asks a hidden view's model too, after each page, and a yes made the hidden grid lay
        # every loaded tile out again (two model calls per tile) to see if it needed more.
        self.fetch_gate: Callable[[], bool] = lambda: True
        thumbnails.image_ready.connect(self._thumbnail_ready)

    # --- Qt model -------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Rows loaded and shown."""
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """File name, the photo, its id, thumbnail and stack."""
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        photo = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return photo.get("file_name", "")
        if role == PhotoRole:
            return photo
        if role == PhotoIdRole:
            return photo["photo_id"]
        if role == ImageRole:
            return self._thumbs.get(photo["photo_id"], photo.get("file_path"))
        if role == StackRole:
            size = int(photo.get("stack_size") or 1)
            return size if self.query.collapse_stacks and size > 1 else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return literal_tooltip(str(photo.get("file_name", "")))
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Selectable, not editable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def canFetchMore(self, parent: Index) -> bool:
        """Another page exists, none is on its way, and the view asking is showing."""
        return not parent.isValid() and self.has_more() and self.fetch_gate()

    def has_more(self) -> bool:
        """Another page exists and none is on its way (for code that pages in itself)."""
        return self._more and not self._fetching

    def fetchMore(self, parent: Index) -> None:
        """Ask the source for the next page (the view calls this near the end)."""
        if parent.isValid() or not self._more or self._fetching:
            return
        self._fetching = True
        generation = self._generation
        run_service(
            self._source(self.query, self._cursor, PAGE_SIZE),
            lambda page: self._page_arrived(generation, page),
            lambda exc: self._page_failed(generation, exc),
        )

    # --- feeding --------------------------------------------------------------------------

    def set_query(self, query: LibraryQuery) -> None:
        """Show another query: empty the grid and load its first page."""
        self.beginResetModel()
        self.query = query
        self._generation += 1
        self._rows, self._row_of = [], {}
        self._cursor, self._more, self._fetching = None, True, False
        self.total = 0
        self.endResetModel()
        self.fetchMore(QModelIndex())

    def reload(self) -> None:
        """Load the current query again from its first page."""
        self.set_query(self.query)

    def is_complete(self) -> bool:
        """Every page of the query has arrived."""
        return not self._more and not self._fetching

    def _page_arrived(self, generation: int, page: Page) -> None:
        if generation != self._generation:
            return
        self._fetching = False
        self._cursor = page.next_cursor
        self._more = page.next_cursor is not None
        shown = [dict(p) for p in page.photos if p["photo_id"] not in self._row_of]
        if shown:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(shown) - 1)
            for photo in shown:
                self._row_of[photo["photo_id"]] = len(self._rows)
                self._rows.append(photo)
            self.endInsertRows()
        if page.total is not None and page.total != self.total:
            self.total = page.total
            self.total_changed.emit(self.total)
        self.loaded.emit()

    def _page_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self._fetching = False
            self._more = False
        reporter.report(f"Loading photos failed: {describe(exc)}", exc)

    # --- lookups and live updates ---------------------------------------------------------

    def photo(self, photo_id: str) -> dict[str, Any] | None:
        """A loaded photo."""
        row = self._row_of.get(photo_id)
        return None if row is None else self._rows[row]

    def row_of(self, photo_id: str) -> int | None:
        """The row showing this photo."""
        return self._row_of.get(photo_id)

    def photo_ids(self) -> list[str]:
        """Ids of the rows shown, in order."""
        return [p["photo_id"] for p in self._rows]

    def update_photo(self, photo: dict[str, Any]) -> bool:
        """Take a fresher copy of a loaded photo; True when it is loaded here."""
        row = self._row_of.get(photo["photo_id"])
        if row is None:
            return False
        # The query's own extras (the collapsed stack's size) stay.
        extras = {k: v for k, v in self._rows[row].items() if k not in photo}
        self._rows[row] = {**extras, **photo}
        index = self.index(row)
        self.dataChanged.emit(index, index)
        return True

    def append_arrival(self, photo: dict[str, Any]) -> None:
        """A new photo that sorts after everything loaded: added at the end, nothing moves."""
        if photo["photo_id"] in self._row_of:
            return
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append(dict(photo))
        self._row_of[photo["photo_id"]] = row
        self.endInsertRows()
        self.total += 1
        self.total_changed.emit(self.total)

    def _thumbnail_ready(self, photo_id: str) -> None:
        row = self._row_of.get(photo_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [ImageRole])
