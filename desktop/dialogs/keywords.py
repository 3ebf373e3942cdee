"""K: the keywords of the photos in hand, edited as one comma-separated line.

With several photos the line holds the keywords they all share: a word added goes onto each,
a word taken out comes off each, and every photo keeps its other keywords. The words are
checked by the decision service's own rules before the dialog closes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from bridge_server.services.decisions import clean_keywords
from bridge_server.services.errors import InvalidArguments

Change = dict[str, Any]


def parse_line(text: str) -> list[str]:
    """'wedding, first dance,,' -> ['wedding', 'first dance'] (checked: raises InvalidArguments)."""
    return list(clean_keywords([w for w in (p.strip() for p in text.split(",")) if w]))


def shared_keywords(photos: list[dict[str, Any]]) -> list[str]:
    """The keywords every one of the photos has (ignoring case), in the first photo's order."""
    if not photos:
        return []
    common = {str(w).casefold() for w in photos[0].get("keywords") or []}
    for photo in photos[1:]:
        common &= {str(w).casefold() for w in photo.get("keywords") or []}
    return [str(w) for w in photos[0].get("keywords") or [] if str(w).casefold() in common]


def keyword_changes(
    photos: list[dict[str, Any]], before: list[str], after: list[str]
) -> list[tuple[dict[str, Any], Change]]:
    """Each photo's new keywords when the shared line went from `before` to `after`."""
    removed = {w.casefold() for w in before} - {w.casefold() for w in after}
    changes = []
    for photo in photos:
        words = [str(w) for w in photo.get("keywords") or [] if str(w).casefold() not in removed]
        present = {w.casefold() for w in words}
        words += [w for w in after if w.casefold() not in present]
        changes.append((photo, {"keywords": words}))
    return changes


class KeywordsDialog(QDialog):
    """One line of keywords for the photos in hand; `on_done(changes)` when accepted."""

    def __init__(
        self,
        photos: list[dict[str, Any]],
        known: Iterable[str],
        on_done: Callable[[list[tuple[dict[str, Any], Change]]], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.photos = photos
        self._on_done = on_done
        self.before = shared_keywords(photos)
        one = len(photos) == 1
        self.setWindowTitle("Keywords")
        layout = QVBoxLayout(self)
        what = (
            str(photos[0].get("file_name", "this photo"))
            if one
            else f"the {len(photos)} selected photos (the keywords they share; "
            "each keeps its others)"
        )
        layout.addWidget(QLabel(f"Keywords of {what}, separated by commas:"))
        self.line = QLineEdit(", ".join(self.before))
        self.line.setMinimumWidth(420)
        words: list[str | None] = [w for w in sorted(set(known), key=lambda w: w.casefold())]
        completer = QCompleter(words, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.line.setCompleter(completer)
        layout.addWidget(self.line)
        self.problem = QLabel("")
        self.problem.setObjectName("error")
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.finished.connect(lambda _r: self.deleteLater())

    def apply(self) -> None:
        """Check the line; close and hand over the changes, or say what is wrong."""
        try:
            after = parse_line(self.line.text())
        except InvalidArguments as exc:
            self.problem.setText(exc.message)
            return
        self.accept()
        self._on_done(keyword_changes(self.photos, self.before, after))
