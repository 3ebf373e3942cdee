"""The library's filter bar: session, order, verdict, flag, stars, label, problem, stacks."""

from __future__ import annotations

from typing import Any, Final

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QWidget

from ..controller import BridgeModels
from ..models.approvals import PhotoRole
from ..models.library import LibraryQuery

SORTS: Final = (("Capture time", "captured"), ("Score", "score"))
VERDICTS: Final = (
    ("Any verdict", None),
    ("Proposed", "proposed"),
    ("Alternate", "alternate"),
    ("Below threshold", "below_threshold"),
    ("Unreadable", "failed"),
    ("Not analysed yet", "pending"),
)
FLAGS: Final = (("Any flag", None), ("Picks", "pick"), ("Rejects", "reject"), ("Unflagged", "none"))
STARS: Final = (("Any stars", None), *((f"{'★' * n} or more", n) for n in range(1, 6)))
LABELS: Final = (
    ("Any label", None),
    ("Red", "red"),
    ("Yellow", "yellow"),
    ("Green", "green"),
    ("Blue", "blue"),
    ("Purple", "purple"),
)
PROBLEMS: Final = (
    ("Any problem", None),
    ("Eyes closed", "blink"),
    ("Out of focus", "out_of_focus"),
    ("Soft", "soft"),
    ("Clipped", "clipped"),
    ("Underexposed", "underexposed"),
    ("Overexposed", "overexposed"),
    ("Noisy", "noisy"),
    ("Low JPEG quality", "low_jpeg_quality"),
)


def combo(options: tuple[tuple[str, Any], ...]) -> QComboBox:
    """A combo box of (text, value) options."""
    box = QComboBox()
    for text, value in options:
        box.addItem(text, value)
    return box


class LibraryFilters(QWidget):
    """Combo boxes that make a LibraryQuery; `query_changed` when one changes."""

    query_changed = pyqtSignal(LibraryQuery)

    def __init__(self, models: BridgeModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.session = QComboBox()
        self.session.setMinimumWidth(180)
        self.sort = combo(SORTS)
        self.verdict = combo(VERDICTS)
        self.flag = combo(FLAGS)
        self.stars = combo(STARS)
        self.label = combo(LABELS)
        self.problem = combo(PROBLEMS)
        self.favorites = QCheckBox("Client favourites")
        self.favorites.setVisible(False)  # until photos carry client hearts
        self.stacks = QCheckBox("Collapse stacks")
        self.stacks.setToolTip(
            "Show each burst or scene as its top frame; Enter opens a stack, Esc closes it"
        )
        for widget in (self.session, self.sort, self.verdict, self.flag, self.stars,
                       self.label, self.problem):  # fmt: skip
            layout.addWidget(widget)
            widget.currentIndexChanged.connect(self._changed)
        layout.addWidget(self.favorites)
        layout.addStretch(1)
        layout.addWidget(self.stacks)
        self.favorites.toggled.connect(self._changed)
        self.stacks.toggled.connect(self._changed)
        self._fill_sessions()
        models.sessions.modelReset.connect(self._fill_sessions)
        models.sessions.rowsInserted.connect(self._fill_sessions)
        models.sessions.rowsRemoved.connect(self._fill_sessions)
        models.sessions.dataChanged.connect(self._fill_sessions)
        models.library.loaded.connect(self._offer_favorites)

    def query(self) -> LibraryQuery:
        """The query the boxes describe."""
        return LibraryQuery(
            session_id=self.session.currentData(),
            sort=str(self.sort.currentData()),
            verdict=self.verdict.currentData(),
            flag=self.flag.currentData(),
            min_stars=self.stars.currentData(),
            color_label=self.label.currentData(),
            problem=self.problem.currentData(),
            favorite=True if self.favorites.isChecked() else None,
            collapse_stacks=self.stacks.isChecked(),
        )

    def _changed(self, *_args: object) -> None:
        self.query_changed.emit(self.query())

    def _fill_sessions(self, *_args: object) -> None:
        chosen = self.session.currentData()
        self.session.blockSignals(True)
        self.session.clear()
        self.session.addItem("All sessions", None)
        for row in self.models.sessions.rows():
            self.session.addItem(str(row.get("session_name") or "Untitled"), row["session_id"])
        at = self.session.findData(chosen)
        self.session.setCurrentIndex(max(0, at))
        self.session.blockSignals(False)

    def _offer_favorites(self) -> None:
        # Client hearts come with proofing; the filter appears once photos carry them.
        if self.favorites.isHidden() and self.models.library.rowCount():
            first = self.models.library.index(0).data(PhotoRole)
            if isinstance(first, dict) and "favorites" in first:
                self.favorites.setVisible(True)
