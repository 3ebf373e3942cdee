"""Toasts: errors, and notices when there is no tray, floating over the window's top right.

The toast area is an overlay, not part of any layout: a notice never moves the content under the
pointer (a click meant for a button cannot land on another because a notice arrived).
"""

from __future__ import annotations

from typing import Final

from PyQt6.QtCore import QEvent, QObject, Qt, QTimer
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

MAX_BANNERS: Final = 3
INFO_SECONDS: Final = 10
TOAST_WIDTH: Final = 440
TOAST_MARGIN: Final = 12


class Banner(QFrame):
    """One message with a close button; level styles it (error, warning, info)."""

    def __init__(self, text: str, level: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setProperty("level", level)
        self.text = text
        self.count = 1
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        self.label = QLabel(text)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # messages quote file names
        self.label.setWordWrap(True)
        self.label.setObjectName("bannerText")
        layout.addWidget(self.label, 1)
        close = QPushButton("Dismiss")
        close.setObjectName("bannerClose")
        close.setFlat(True)
        close.clicked.connect(self.deleteLater)
        self.setAutoFillBackground(True)  # a toast floats over content: it must be opaque
        layout.addWidget(close)

    def set_text(self, text: str) -> None:
        """Say something else in the same place (a live count)."""
        self.text = text
        self.count = 1
        self.label.setText(text)

    def repeat(self) -> None:
        """The same message again: count it instead of stacking it."""
        self.count += 1
        self.label.setText(f"{self.text}  (×{self.count})")


class BannerArea(QWidget):
    """A column of toasts over the parent's top right corner; the newest on top, at most three."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("toasts")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self.setVisible(False)
        if parent is not None:
            parent.installEventFilter(self)

    def eventFilter(self, a0: QObject | None, a1: QEvent | None) -> bool:
        """Follow the parent's size (the overlay stays in its corner)."""
        if a0 is self.parent() and a1 is not None and a1.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        width = min(TOAST_WIDTH, parent.width() - 2 * TOAST_MARGIN)
        height = self._layout.sizeHint().height() if self.banners() else 0
        self.setGeometry(parent.width() - width - TOAST_MARGIN, TOAST_MARGIN, width, height)
        self.raise_()

    def banners(self) -> list[Banner]:
        """Banners currently shown, newest first."""
        found = []
        for i in range(self._layout.count()):
            item = self._layout.itemAt(i)
            widget = item.widget() if item is not None else None
            if isinstance(widget, Banner) and not widget.isHidden():
                found.append(widget)
        return found

    def show_message(self, text: str, level: str = "error") -> Banner:
        """Show a message (repeats are counted on the existing banner)."""
        for banner in self.banners():
            if banner.text == text:
                banner.repeat()
                return banner
        banner = Banner(text, level, self)
        banner.destroyed.connect(self._tidy)
        close = banner.findChild(QPushButton)
        if close is not None:
            close.clicked.connect(banner.hide)
        self._layout.insertWidget(0, banner)
        banner.show()  # now, not queued: the area's height is measured just below
        for old in self.banners()[MAX_BANNERS:]:
            old.deleteLater()
        if level == "info":
            QTimer.singleShot(INFO_SECONDS * 1000, banner.deleteLater)
        self.setVisible(True)
        self._layout.activate()
        self._place()
        return banner

    def _tidy(self) -> None:
        def settle() -> None:
            self.setVisible(bool(self.banners()))
            self._layout.activate()
            self._place()

        QTimer.singleShot(0, settle)
