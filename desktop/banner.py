"""Non-modal banners at the top of the window: errors, and notices when there is no tray."""

from __future__ import annotations

from typing import Final

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

MAX_BANNERS: Final = 3
INFO_SECONDS: Final = 10


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
        layout.addWidget(close)

    def repeat(self) -> None:
        """The same message again: count it instead of stacking it."""
        self.count += 1
        self.label.setText(f"{self.text}  (×{self.count})")


class BannerArea(QWidget):
    """A column of banners; the newest on top, at most three."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(12, 8, 12, 0)
        self._layout.setSpacing(6)
        self.setVisible(False)

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
        for old in self.banners()[MAX_BANNERS:]:
            old.deleteLater()
        if level == "info":
            QTimer.singleShot(INFO_SECONDS * 1000, banner.deleteLater)
        self.setVisible(True)
        return banner

    def _tidy(self) -> None:
        QTimer.singleShot(0, lambda: self.setVisible(bool(self.banners())))
