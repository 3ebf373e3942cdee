"""Library: every photo of the shoot in a grid, a loupe, and compare; decisions by key.

The grid pages through the whole-shoot query as it scrolls. Keys (desktop/cull_keys.py) decide;
arrows only move. Decisions go on the desk's undo stack. New arrivals never move what is on
screen: they are appended after the last photo when they sort there, or counted on a button.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Final

from PyQt6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, Qt, pyqtSignal
from PyQt6.QtGui import QKeyEvent
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QPushButton,
    QStackedWidget,
    QWidget,
)

from bridge_server.services import photos as photo_service

from ..controller import BridgeModels
from ..cull_keys import KEY_HELP, MOVE_KEYS, CullAction, action_for
from ..delegates import LIBRARY_TILE, LibraryTileDelegate
from ..desk_decisions import decision_of, describe_change
from ..dialogs.keywords import KeywordsDialog
from ..models.approvals import PhotoIdRole, PhotoRole
from ..models.library import LibraryModel, LibraryQuery, StackRole, stack_key
from ..tasks import run_service
from ..timers import make_timer
from .common import page_layout, plain_label, row_layout
from .compare import MAX_FRAMES, CompareView
from .library_filters import LibraryFilters
from .loupe import LoupeView

REFRESH_MS: Final = 250  # photo events are gathered this long, then the changed rows re-read
MODES: Final = ("grid", "loupe", "compare")
LAYOUT_BATCH: Final = 200  # tiles laid out per pass: more than a full screen holds


class LibraryGrid(QListView):
    """A virtualised grid of fixed cells: the column count depends on the width alone."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWrapping(True)
        self.setUniformItemSizes(True)
        # Each page that arrives makes a showing grid lay every loaded tile out again (two model
        # calls per tile). In batches, that work is spread over loop passes instead of one pass
        # of about 25 ms at 5,000 tiles, so the window keeps answering while the grid scrolls.
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(LAYOUT_BATCH)
        self.setGridSize(LIBRARY_TILE)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setItemDelegate(LibraryTileDelegate(self, LIBRARY_TILE))
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # Always there: a scroll bar that appears would take a column away.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setObjectName("photoGrid")

    def columns(self) -> int:
        """Tiles per row at this width."""
        viewport = self.viewport()
        width = viewport.width() if viewport is not None else self.width()
        return max(1, width // LIBRARY_TILE.width())


class LibraryView(QWidget):
    """Filters, then the grid, the loupe or compare; one current photo across all three."""

    mode_changed = pyqtSignal(str)

    def __init__(self, models: BridgeModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        self.model: LibraryModel = models.library
        self.mode = "grid"
        self._dirty: set[str] = set()
        self._seen: dict[str, int] = {}  # photo id -> events seen (a read answers the newest)
        self._arrivals: set[str] = set()
        self._pending_arrivals = 0
        self._keep: str | None = None  # photo to reselect once the reloaded pages arrive
        self._started = False
        self._stack_query: LibraryQuery | None = None  # the shoot's query while a stack is open
        self.keywords_dialog: KeywordsDialog | None = None  # K, while it is open
        layout = page_layout(self, "Library", KEY_HELP, spacing=8)
        self.filters = LibraryFilters(models)
        layout.addWidget(self.filters)

        self.count = plain_label()
        self.count.setObjectName("muted")
        self.count.setMinimumWidth(220)
        self.arrivals_button = QPushButton()
        self.arrivals_button.setObjectName("arrivals")
        self.arrivals_button.setFixedWidth(190)
        self.arrivals_button.setEnabled(False)
        self.auto_advance = QPushButton("Auto-advance")
        self.auto_advance.setCheckable(True)
        self.auto_advance.setChecked(True)
        self.auto_advance.setToolTip("After a decision, move on to the next photo")
        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        self.mode_buttons = {name: QPushButton(name.capitalize()) for name in MODES}
        for button in self.mode_buttons.values():
            button.setCheckable(True)
        layout.addLayout(
            row_layout(
                self.count,
                self.arrivals_button,
                self.auto_advance,
                self.undo_button,
                self.redo_button,
                *self.mode_buttons.values(),
                stretch_at=2,
            )
        )

        self.pages = QStackedWidget()
        self.grid = LibraryGrid()
        self.grid.setModel(self.model)
        self.model.fetch_gate = self.grid.isVisible  # a hidden grid pulls no pages
        self.loupe = LoupeView(models)
        self.compare = CompareView(models)
        for page in (self.grid, self.loupe, self.compare):
            self.pages.addWidget(page)
        layout.addWidget(self.pages, 1)
        self.status = plain_label()
        self.status.setObjectName("muted")
        self.status.setFixedHeight(22)  # what just happened, in one line that never moves
        layout.addWidget(self.status)

        for widget in (self.grid, self.loupe, self.loupe.image, self.compare, self):
            widget.installEventFilter(self)
        self.loupe.image.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.compare.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._refresh = make_timer(self, REFRESH_MS, single_shot=True)
        self._refresh.timeout.connect(self._refresh_dirty)

        self.filters.query_changed.connect(self._filters_changed)
        self.model.total_changed.connect(lambda _t: self._update_count())
        self.model.modelReset.connect(self._update_count)
        self.model.modelReset.connect(self._arrivals_included)
        self.model.loaded.connect(self._page_loaded)
        selection = self.grid.selectionModel()
        assert selection is not None
        selection.currentChanged.connect(self._current_changed)
        self.grid.doubleClicked.connect(self._grid_double_clicked)
        self.arrivals_button.clicked.connect(self.show_arrivals)
        self.undo_button.clicked.connect(models.desk.stack.undo)
        self.redo_button.clicked.connect(models.desk.stack.redo)
        models.desk.stack.canUndoChanged.connect(self.undo_button.setEnabled)
        models.desk.stack.canRedoChanged.connect(self.redo_button.setEnabled)
        models.desk.restored.connect(self.reselect)
        models.photo_event.connect(self._photo_event)
        models.reselected.connect(self._reselected)
        models.stopping.connect(self._refresh.stop)
        self.compare.active_changed.connect(self._compare_active)
        for name, button in self.mode_buttons.items():
            button.clicked.connect(lambda _c, n=name: self.set_mode(n))
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)
        self._set_arrivals(0)
        self.set_mode("grid")

    # --- the current photo ----------------------------------------------------------------

    def current_photo(self) -> dict[str, Any] | None:
        """The photo the keys act on in the loupe (the grid's current one)."""
        if self.mode == "compare":
            return self.compare.active_photo()
        index = self.grid.currentIndex()
        return index.data(PhotoRole) if index.isValid() else None

    def target_photos(self) -> list[dict[str, Any]]:
        """What a decision applies to: the grid's selection, or the one photo in view."""
        if self.mode == "grid":
            selection = self.grid.selectionModel()
            rows = sorted(selection.selectedIndexes(), key=lambda i: i.row()) if selection else []
            if rows:
                return [i.data(PhotoRole) for i in rows]
        photo = self.current_photo()
        return [photo] if photo else []

    def select_photo(self, photo_id: str) -> bool:
        """Make a loaded photo current (and scroll to it); False when it is not loaded."""
        row = self.model.row_of(photo_id)
        if row is None:
            return False
        index = self.model.index(row)
        selection = self.grid.selectionModel()
        assert selection is not None
        selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.grid.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
        return True

    def reselect(self, photo_id: str) -> None:
        """Undo or redo touched this photo: show it."""
        if not self.select_photo(photo_id):
            self.status.setText("The photo this undo restored is hidden by the filters")

    def step(self, step: int) -> None:
        """The next or previous photo (arrows in the loupe; auto-advance)."""
        if self.mode == "compare":
            self.compare.move_active(step)
            return
        count = self.model.rowCount()
        if not count:
            return
        current = self.grid.currentIndex()
        row = (current.row() if current.isValid() else -1) + step
        if row >= count and self.model.has_more():
            self.model.fetchMore(QModelIndex())
        row = max(0, min(row, count - 1))
        photo_id = self.model.index(row).data(PhotoIdRole)
        if photo_id:
            self.select_photo(str(photo_id))

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self.mode == "loupe":
            self._show_in_loupe(current.data(PhotoRole) if current.isValid() else None)

    def _show_in_loupe(self, photo: dict[str, Any] | None) -> None:
        self.loupe.show_photo(photo, self._neighbours(photo))

    def _neighbours(self, photo: dict[str, Any] | None, reach: int = 2) -> list[dict[str, Any]]:
        if photo is None:
            return []
        row = self.model.row_of(photo["photo_id"])
        if row is None:
            return []
        count = self.model.rowCount()
        rows = [row + d for d in (1, -1, 2, -2)[: reach * 2] if 0 <= row + d < count]
        return [self.model.index(r).data(PhotoRole) for r in rows]

    # --- modes ----------------------------------------------------------------------------

    def set_mode(self, mode: str) -> None:
        """Grid, loupe or compare."""
        if mode == "compare" and not self._start_compare():
            mode = "grid" if self.mode == "grid" else self.mode
        if mode == "loupe" and not self.grid.currentIndex().isValid() and self.model.rowCount():
            self.select_photo(str(self.model.index(0).data(PhotoIdRole)))
        self.mode = mode
        self.pages.setCurrentIndex(MODES.index(mode))
        for name, button in self.mode_buttons.items():
            button.setChecked(name == mode)
        if mode == "loupe":
            self._show_in_loupe(self.current_photo())
            self.loupe.image.setFocus()
        elif mode == "grid":
            self.grid.setFocus()
            current = self.grid.currentIndex()
            if current.isValid():
                self.grid.scrollTo(current)
        else:
            self.compare.setFocus()
        self.mode_changed.emit(mode)

    def _start_compare(self) -> bool:
        """Compare the selection (2–6), or the current photo's stack (loaded first)."""
        selection = self.grid.selectionModel()
        chosen = [i.data(PhotoRole) for i in (selection.selectedIndexes() if selection else [])]
        chosen = sorted(chosen, key=lambda p: self.model.row_of(p["photo_id"]) or 0)
        current = self.grid.currentIndex().data(PhotoRole)
        if len(chosen) < 2 and current is not None and stack_key(current):
            self.models.load_stack(current, self._compare_stack)
            return False
        if len(chosen) < 2:
            self.status.setText("Select 2 to 6 photos (or a photo of a burst) to compare")
            return False
        self._compare(chosen, current["photo_id"] if current else None)
        return True

    def _compare(self, photos: list[dict[str, Any]], active_id: str | None) -> None:
        if len(photos) > MAX_FRAMES:
            self.status.setText(f"Comparing the first {MAX_FRAMES} of {len(photos)} photos")
        self.compare.show_photos(photos, active_id)

    def _compare_stack(self, anchor: dict[str, Any], members: list[dict[str, Any]]) -> None:
        current = self.grid.currentIndex().data(PhotoRole)
        if current is None or current["photo_id"] != anchor["photo_id"] or len(members) < 2:
            return
        self._compare(members, anchor["photo_id"])
        self.mode = "compare"
        self.pages.setCurrentIndex(MODES.index("compare"))
        for name, button in self.mode_buttons.items():
            button.setChecked(name == "compare")
        self.compare.setFocus()
        self.mode_changed.emit("compare")

    def _filters_changed(self, query: LibraryQuery) -> None:
        self._stack_query = None
        current = self.current_photo()
        self._keep = current["photo_id"] if current else None  # kept in view if it still fits
        self.model.set_query(query)

    def _compare_active(self, photo: dict[str, Any]) -> None:
        self.select_photo(photo["photo_id"])

    def _grid_double_clicked(self, index: QModelIndex) -> None:
        if index.isValid() and not self._open_stack():
            self.set_mode("loupe")

    def _open_stack(self) -> bool:
        """On a collapsed stack: show all its frames (Esc or G goes back to the shoot)."""
        index = self.grid.currentIndex()
        photo = index.data(PhotoRole) if index.isValid() else None
        if photo is None or index.data(StackRole) is None:
            return False
        self._stack_query = self.model.query
        self._keep = photo["photo_id"]
        self.model.set_query(
            self.model.query.with_(group_id=photo["group_id"], collapse_stacks=False)
        )
        self.status.setText(
            f"The {index.data(StackRole)} frames of this stack. Esc goes back to the shoot."
        )
        return True

    def close_stack(self) -> None:
        """Back from an opened stack to the whole shoot, on the stack's photo."""
        query, self._stack_query = self._stack_query, None
        if query is not None:
            current = self.current_photo()
            self._keep = current["photo_id"] if current else None
            self.model.set_query(query)
            self.status.setText("")

    # --- keys -----------------------------------------------------------------------------

    def eventFilter(self, a0: QObject | None, a1: QEvent | None) -> bool:
        """The culling keys, wherever focus is inside the library."""
        if isinstance(a1, QKeyEvent) and a1.type() == QEvent.Type.KeyPress:
            return self.handle_key(a1)
        return False

    def handle_key(self, event: QKeyEvent) -> bool:
        """Act on a culling key; True when it was one. Arrows only ever move."""
        key = event.key()
        if key in MOVE_KEYS and self.mode != "grid" and not event.modifiers():
            if key in (Qt.Key.Key_Left, Qt.Key.Key_Up):
                self.step(-1)
            elif key in (Qt.Key.Key_Right, Qt.Key.Key_Down):
                self.step(1)
            return True
        action = action_for(key, event.modifiers())
        if action is None:
            return False
        self.act(action)
        return True

    def act(self, action: CullAction) -> None:
        """Carry out a culling action."""
        stack = self.models.desk.stack
        if action.kind == "undo":
            if stack.canUndo():
                self.status.setText(f"Undone: {stack.undoText()}")
                stack.undo()
            else:
                self.status.setText("Nothing to undo")
        elif action.kind == "redo":
            if stack.canRedo():
                self.status.setText(f"Redone: {stack.redoText()}")
                stack.redo()
        elif action.kind == "view":
            self._view_action(str(action.value))
        elif action.kind == "keywords":
            self.edit_keywords()
        else:
            self._decide(action)

    def _view_action(self, what: str) -> None:
        if what == "zoom":
            if self.mode == "grid":
                self.set_mode("loupe")
            if self.mode == "loupe":
                self.loupe.toggle_zoom()
            else:
                self.compare.toggle_zoom()
        elif what == "grid" and self.mode == "loupe" and self.loupe.image.zoomed:
            self.loupe.image.fit()  # Escape at 100 %: back to the whole photo first
        elif what == "loupe" and self.mode == "grid" and self._open_stack():
            pass
        elif what == "grid" and self.mode == "grid" and self._stack_query is not None:
            self.close_stack()
        else:
            self.set_mode(what)

    def _decide(self, action: CullAction) -> None:
        photos = self.target_photos()
        if not photos:
            return
        if action.kind == "flag":
            change: dict[str, Any] = {"flag": action.value}
        elif action.kind == "stars":
            change = {"stars": action.value}
        else:  # the same label again takes it off, as in Lightroom
            same = all(decision_of(p)["color_label"] == action.value for p in photos)
            change = {"color_label": None if same else action.value}
        changed = self.models.desk.decide(photos, change)
        name = photos[0].get("file_name", "") if len(photos) == 1 else f"{len(photos)} photos"
        self.status.setText(describe_change(str(name), change) if changed else "No change")
        if action.kind == "flag" and action.value == "pick":
            self._say_what_stays(photos)
        if self.auto_advance.isChecked() and len(photos) == 1 and self.mode != "compare":
            self.step(1)

    def edit_keywords(self) -> KeywordsDialog | None:
        """K: the keywords of the photos in hand, as one undo step when accepted."""
        photos = self.target_photos()
        if not photos:
            return None
        known = {
            str(w)
            for photo_id in self.model.photo_ids()
            for w in (self.model.photo(photo_id) or {}).get("keywords") or []
        }

        def done(changes: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
            if len(photos) == 1:
                text = describe_change(str(photos[0].get("file_name", "")), changes[0][1])
            else:
                text = f"Keywords on {len(photos)} photos"
            changed = self.models.desk.decide_each(changes, text)
            self.status.setText(text if changed else "No change")

        self.keywords_dialog = KeywordsDialog(photos, known, done, self)
        self.keywords_dialog.open()
        return self.keywords_dialog

    def _say_what_stays(self, photos: list[dict[str, Any]]) -> None:
        # Picking an alternate demotes nothing: say which frames of its burst stay picked.
        if len(photos) == 1 and stack_key(photos[0]):
            self.models.load_stack(photos[0], self._picked_in_stack)

    def _picked_in_stack(self, photo: dict[str, Any], members: list[dict[str, Any]]) -> None:
        others = [
            p
            for p in members
            if p["photo_id"] != photo["photo_id"] and decision_of(p)["flag"] == "pick"
        ]
        if others:
            names = ", ".join(str(p.get("file_name")) for p in others[:3])
            self.status.setText(
                f"Picked {photo.get('file_name')}; {names} stay{'s' if len(others) == 1 else ''}"
                f" picked too ({len(others) + 1} picks in this burst; nothing was unpicked)"
            )

    # --- keeping current ------------------------------------------------------------------

    def _photo_event(self, kind: str, payload: dict[str, Any]) -> None:
        photo_id = payload.get("photo_id")
        if not photo_id:
            return
        if kind == "export_withdrawn" and payload.get("message"):
            # What an undo did to the exported file, in the photographer's words.
            self.status.setText(str(payload["message"]))
        if kind == "photo_imported":
            session = self.model.query.session_id
            if not self._started:
                return  # the first load will have it
            if session is None or payload.get("session_id") == session:
                self._arrivals.add(str(photo_id))
        elif self.model.photo(str(photo_id)) is not None or kind == "photo_analyzed":
            self._dirty.add(str(photo_id))
            self._seen[str(photo_id)] = self._seen.get(str(photo_id), 0) + 1
        if not self._refresh.isActive():
            self._refresh.start()

    def _refresh_dirty(self) -> None:
        ids, self._dirty = self._dirty, set()
        current = self.current_photo()
        if current is not None and current.get("group_id") is None and ids:
            ids.add(current["photo_id"])  # a burst may have formed around the photo in view
        for photo_id in ids:
            run_service(
                photo_service.get_photo(self.models.ctx, photo_id),
                partial(self._photo_read, self._seen.get(photo_id, 0)),
            )
        arrivals, self._arrivals = self._arrivals, set()
        for photo_id in arrivals:
            run_service(photo_service.get_photo(self.models.ctx, photo_id), self._arrival_loaded)

    def _photo_read(self, seen: int, photo: dict[str, Any]) -> None:
        # A read overtaken by a newer event of the photo is stale: the newer one's read follows.
        if self._seen.get(photo["photo_id"], 0) == seen:
            self._photo_loaded(photo)

    def _photo_loaded(self, photo: dict[str, Any]) -> None:
        old = self.model.photo(photo["photo_id"])
        regrouped = old is not None and (old.get("group_id"), old.get("group_size")) != (
            photo.get("group_id"),
            photo.get("group_size"),
        )
        if not self.model.update_photo(photo) and photo.get("group_id"):
            # Not loaded here, but maybe a new frame of the burst in view.
            current = self.current_photo()
            regrouped = bool(current and current.get("group_id") == photo.get("group_id"))
        self.compare.update_photo(photo)
        current = self.current_photo()
        if current is not None and current["photo_id"] == photo["photo_id"]:
            if self.mode == "loupe":
                self.loupe.show_photo(self.model.photo(photo["photo_id"]) or photo)
        if regrouped and self.mode == "compare":
            self.status.setText("This burst has changed; press C to compare it again")

    def _arrival_loaded(self, photo: dict[str, Any]) -> None:
        if self.model.photo(photo["photo_id"]) is not None:
            return
        last = self.model.index(self.model.rowCount() - 1).data(PhotoRole)
        sorts_last = last is None or (photo.get("captured_at") or "") >= (
            last.get("captured_at") or ""
        )
        query = self.model.query
        plain = query == type(query)(session_id=query.session_id)
        if self.model.is_complete() and plain and sorts_last:
            self.model.append_arrival(photo)  # after everything: nothing on screen moves
        else:
            self._set_arrivals(self._pending_arrivals + 1)

    def _reselected(self) -> None:
        # New verdicts everywhere: load the query again, on the same photo.
        if self._started:
            self.show_arrivals()
            self.status.setText("Selection ran again with the new settings")

    def _arrivals_included(self) -> None:
        # A fresh load of the query has every photo that arrived so far.
        self._arrivals.clear()
        self._set_arrivals(0)

    def _set_arrivals(self, count: int) -> None:
        self._pending_arrivals = count
        self.arrivals_button.setEnabled(count > 0)
        self.arrivals_button.setText(
            f"Show {count} new photo{'s' if count != 1 else ''}" if count else "No new photos"
        )

    def show_arrivals(self) -> None:
        """Load the query again with the new photos, keeping the current photo in view."""
        current = self.current_photo()
        self._keep = current["photo_id"] if current else None
        self._set_arrivals(0)
        self.model.reload()

    def _page_loaded(self) -> None:
        if self._keep is not None and self.select_photo(self._keep):
            self._keep = None
        if not self.grid.currentIndex().isValid() and self.model.rowCount():
            index = self.model.index(0)
            selection = self.grid.selectionModel()
            if selection is not None:
                selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self._update_count()

    def _update_count(self) -> None:
        total = self.model.total
        self.count.setText(f"{total:,} photo{'s' if total != 1 else ''}" if total else "No photos")

    def showEvent(self, a0: Any) -> None:
        """Load the whole shoot the first time the library is shown."""
        super().showEvent(a0)
        if not self._started:
            self.start()

    def start(self) -> None:
        """Load the first page of the filters' query."""
        self._started = True
        self.model.set_query(self.filters.query())
