"""The whole shoot as a paged list model: rows arrive page by page as the grid scrolls.

The model asks a page source (the whole-shoot query) for one keyset page at a time through
`fetchMore`, so a 10,000-photo session costs one page per screenful, never one big query.
Stacks (bursts and scenes, from the photos' group fields) can be collapsed to their best frame.
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

StackRole: Final = Qt.ItemDataRole.UserRole + 5  # (frames in the stack, collapsed?) or None
PAGE_SIZE: Final = 200

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

    def with_(self, **changes: Any) -> LibraryQuery:
        """A copy with some filters changed."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Page:
    """One keyset page of the whole-shoot query."""

    photos: list[dict[str, Any]]
    next_cursor: str | None
    total: int


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
        self.collapse_stacks = False
        self.expanded: set[str] = set()  # stacks opened while stacks are collapsed
        self._all: list[dict[str, Any]] = []  # every loaded photo, in query order
        self._rows: list[dict[str, Any]] = []  # what is shown (stacks folded)
        self._row_of: dict[str, int] = {}
        self._cursor: str | None = None
        self._more = False
        self._fetching = False
        self._generation = 0  # pages of an older query are dropped
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
            key = stack_key(photo)
            if key is None or not self.collapse_stacks:
                return None
            return int(photo.get("group_size") or 1), key not in self.expanded
        if role == Qt.ItemDataRole.ToolTipRole:
            return literal_tooltip(str(photo.get("file_name", "")))
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Selectable, not editable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def canFetchMore(self, parent: Index) -> bool:
        """Another page exists and none is on its way."""
        return not parent.isValid() and self._more and not self._fetching

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
        self._all, self._rows, self._row_of = [], [], {}
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
        known = {p["photo_id"] for p in self._all}
        fresh = [dict(p) for p in page.photos if p["photo_id"] not in known]
        self._all.extend(fresh)
        shown = [p for p in fresh if self._visible(p)]
        if shown:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(shown) - 1)
            for photo in shown:
                self._row_of[photo["photo_id"]] = len(self._rows)
                self._rows.append(photo)
            self.endInsertRows()
        if page.total != self.total:
            self.total = page.total
            self.total_changed.emit(self.total)
        self.loaded.emit()

    def _page_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self._fetching = False
            self._more = False
        reporter.report(f"Loading photos failed: {describe(exc)}", exc)

    def _visible(self, photo: dict[str, Any]) -> bool:
        if not self.collapse_stacks:
            return True
        key = stack_key(photo)
        if key is None or key in self.expanded:
            return True
        return self._stack_head(key) is photo

    def _stack_head(self, key: str) -> dict[str, Any] | None:
        # The best frame stands for its stack; until it is loaded, the first loaded one does.
        members = [p for p in self._all if stack_key(p) == key]
        best = [p for p in members if p.get("is_group_best")]
        chosen = best or members
        return chosen[0] if chosen else None

    def _refold(self) -> None:
        self.beginResetModel()
        self._rows = [p for p in self._all if self._visible(p)]
        self._row_of = {p["photo_id"]: i for i, p in enumerate(self._rows)}
        self.endResetModel()
        self.loaded.emit()

    def set_collapse_stacks(self, collapse: bool) -> None:
        """Fold every stack to its best frame (or show every frame)."""
        if collapse != self.collapse_stacks:
            self.collapse_stacks = collapse
            self.expanded.clear()
            self._refold()

    def toggle_stack(self, photo_id: str) -> None:
        """Open or close the stack of this photo (when stacks are collapsed)."""
        photo = self.photo(photo_id)
        key = stack_key(photo) if photo else None
        if key is None or not self.collapse_stacks:
            return
        self.expanded.symmetric_difference_update({key})
        self._refold()

    # --- lookups and live updates ---------------------------------------------------------

    def photo(self, photo_id: str) -> dict[str, Any] | None:
        """A loaded photo (shown or folded in a stack)."""
        row = self._row_of.get(photo_id)
        if row is not None:
            return self._rows[row]
        return next((p for p in self._all if p["photo_id"] == photo_id), None)

    def row_of(self, photo_id: str) -> int | None:
        """The row showing this photo."""
        return self._row_of.get(photo_id)

    def photo_ids(self) -> list[str]:
        """Ids of the rows shown, in order."""
        return [p["photo_id"] for p in self._rows]

    def stack_members(self, photo: dict[str, Any]) -> list[dict[str, Any]]:
        """Loaded frames of the photo's stack, best first (itself alone when it has none)."""
        key = stack_key(photo)
        if key is None:
            return [photo]
        members = [p for p in self._all if stack_key(p) == key]
        return sorted(members, key=lambda p: (p.get("group_rank") or 99, p["photo_id"]))

    def update_photo(self, photo: dict[str, Any]) -> bool:
        """Take a fresher copy of a loaded photo; True when it is loaded here."""
        photo_id = photo["photo_id"]
        known = next((i for i, p in enumerate(self._all) if p["photo_id"] == photo_id), None)
        if known is None:
            return False
        regrouped = stack_key(self._all[known]) != stack_key(photo)
        self._all[known] = dict(photo)
        row = self._row_of.get(photo_id)
        if regrouped and self.collapse_stacks:
            self._refold()
        elif row is not None:
            self._rows[row] = self._all[known]
            index = self.index(row)
            self.dataChanged.emit(index, index)
        return True

    def append_arrival(self, photo: dict[str, Any]) -> None:
        """A new photo that sorts after everything loaded: added at the end, nothing moves."""
        if self.photo(photo["photo_id"]) is not None:
            return
        self._all.append(dict(photo))
        self.total += 1
        if self._visible(photo):
            row = len(self._rows)
            self.beginInsertRows(QModelIndex(), row, row)
            self._rows.append(self._all[-1])
            self._row_of[photo["photo_id"]] = row
            self.endInsertRows()
        self.total_changed.emit(self.total)

    def _thumbnail_ready(self, photo_id: str) -> None:
        row = self._row_of.get(photo_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [ImageRole])
