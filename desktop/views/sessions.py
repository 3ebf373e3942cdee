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
    share_requested = pyqtSignal(str, str)  # session id, session name

    def __init__(self, models: BridgeModels, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        layout = page_layout(self, "Sessions", "Each import or hot-folder shoot is a session.")
        self.import_button = QPushButton(icon("import"), " Import a folder…")
        self.import_button.setObjectName("primary")
        self.import_button.clicked.connect(self.import_requested)
        self.share_button = QPushButton("Share for proofing…")
        self.share_button.setToolTip("Show this shoot to your client live, from a QR code")
        self.share_button.setEnabled(False)
        self.share_button.clicked.connect(self._share)
        layout.addLayout(row_layout(self.import_button, self.share_button))
        self.empty = EmptyLibrary(settings)
        self.empty.import_requested.connect(self.import_requested)
        self.empty.samples_requested.connect(self.samples_requested)
        self.empty.settings_requested.connect(self.settings_requested)
        self.empty.setVisible(False)
        layout.addWidget(self.empty)
        self.proxy = QSortFilterProxyModel(self)
        self.models_sessions = models.sessions
        self.proxy.setSourceModel(models.sessions)
        self.proxy.setSortRole(SortRole)
        self.table = data_table()
        self.table.setModel(self.proxy)
        self.table.setItemDelegateForColumn(PROGRESS_COLUMN, ProgressBarDelegate(self.table))
        for col, width in enumerate((200, 100, 170, 70, 90, 80, 90, 90, 110)):
            self.table.setColumnWidth(col, width)
        self.table.sortByColumn(8, Qt.SortOrder.DescendingOrder)
        layout.addWidget(self.table, 1)
        selection = self.table.selectionModel()
        if selection is not None:
            selection.currentRowChanged.connect(
                lambda current, _previous: self.share_button.setEnabled(current.isValid())
            )
        models.library_empty_changed.connect(self.empty.setVisible)

    def selected_session(self) -> tuple[str, str] | None:
        """The id and name of the session selected in the table."""
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        row = self.proxy.mapToSource(index).row()
        rows = self.models_sessions.rows()
        if not 0 <= row < len(rows):
            return None
        data = rows[row]
        return str(data["session_id"]), str(data.get("session_name") or "")

    def _share(self) -> None:
        chosen = self.selected_session()
        if chosen is not None:
            self.share_requested.emit(*chosen)
