"""Sessions: one row per shoot with its progress; import a folder into a new session."""

from __future__ import annotations

from PyQt6.QtCore import QSortFilterProxyModel, Qt, pyqtSignal
from PyQt6.QtWidgets import QPushButton, QWidget

from bridge_server.config import Settings

from ..controller import BridgeModels
from ..delegates import ProgressBarDelegate
from ..models.sessions import PROGRESS_COLUMN
from ..models.table import SortRole
from ..theme import icon
from .common import data_table, page_layout, row_layout
from .empty import EmptyLibrary


class SessionsView(QWidget):
    """Sessions table with progress bars; import and sample buttons."""

    import_requested = pyqtSignal()
    samples_requested = pyqtSignal()
    settings_requested = pyqtSignal()

    def __init__(self, models: BridgeModels, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        layout = page_layout(self, "Sessions", "Each import or hot-folder shoot is a session.")
        self.import_button = QPushButton(icon("import"), " Import a folder…")
        self.import_button.setObjectName("primary")
        self.import_button.clicked.connect(self.import_requested)
        layout.addLayout(row_layout(self.import_button))
        self.empty = EmptyLibrary(settings)
        self.empty.import_requested.connect(self.import_requested)
        self.empty.samples_requested.connect(self.samples_requested)
        self.empty.settings_requested.connect(self.settings_requested)
        self.empty.setVisible(False)
        layout.addWidget(self.empty)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(models.sessions)
        self.proxy.setSortRole(SortRole)
        self.table = data_table()
        self.table.setModel(self.proxy)
        self.table.setItemDelegateForColumn(PROGRESS_COLUMN, ProgressBarDelegate(self.table))
        for col, width in enumerate((200, 100, 170, 70, 90, 80, 90, 90, 110)):
            self.table.setColumnWidth(col, width)
        self.table.sortByColumn(8, Qt.SortOrder.DescendingOrder)
        layout.addWidget(self.table, 1)
        models.library_empty_changed.connect(self.empty.setVisible)
