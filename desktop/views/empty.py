"""The empty-library panel: where to drop photos, and a way to try the app at once."""

from __future__ import annotations

import html

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from bridge_server.config import Settings

from ..theme import icon


class EmptyLibrary(QFrame):
    """Shown while the library has no photos."""

    import_requested = pyqtSignal()
    samples_requested = pyqtSignal()
    settings_requested = pyqtSignal()

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        self._settings = settings
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(10)
        title = QLabel("Your library is empty")
        title.setObjectName("emptyTitle")
        layout.addWidget(title)
        self.where = QLabel()
        self.where.setTextFormat(Qt.TextFormat.RichText)  # folder names are escaped below
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.where.setObjectName("emptyText")
        layout.addWidget(self.where)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.import_button = QPushButton(icon("import"), " Import a folder…")
        self.import_button.clicked.connect(self.import_requested)
        self.samples_button = QPushButton(icon("sample"), " Try with sample photos")
        self.samples_button.setObjectName("primary")
        self.samples_button.clicked.connect(self.samples_requested)
        self.folders_button = QPushButton(icon("settings"), " Choose hot folders…")
        self.folders_button.clicked.connect(self.settings_requested)
        buttons.addWidget(self.samples_button)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.folders_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the hot folders from the settings."""
        folders = self._settings.hot_folders
        if folders:
            listed = "".join(f"<br>&nbsp;&nbsp;<b>{html.escape(f)}</b>" for f in folders)
            text = (
                "Copy or tether a shoot into a hot folder and it is imported and analysed "
                f"on its own:{listed}"
            )
        else:
            text = (
                "No hot folder is set up yet. Choose one in the settings, and every photo "
                "that lands there is imported and analysed on its own — or import a folder "
                "by hand now."
            )
        self.where.setText(text)
