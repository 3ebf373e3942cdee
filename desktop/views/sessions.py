"""Sessions: one row per shoot with its progress; import a folder, rename or delete a session."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QSortFilterProxyModel, Qt, pyqtSignal
from PyQt6.QtWidgets import QInputDialog, QMessageBox, QPushButton, QWidget

from bridge_server.config import Settings

from ..controller import BridgeModels
from ..delegates import ProgressBarDelegate
from ..models.sessions import PROGRESS_COLUMN
from ..models.table import RowRole, SortRole
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
        self.share_button.clicked.connect(self._share)
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete…")
        layout.addLayout(
            row_layout(
                self.rename_button,
                self.delete_button,
                self.share_button,
                self.import_button,
                stretch_at=3,
            )
        )
        self.models = models
        self.dialog: QInputDialog | QMessageBox | None = None
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
        models.library_empty_changed.connect(self.empty.setVisible)
        self.rename_button.clicked.connect(self.ask_rename)
        self.delete_button.clicked.connect(self.ask_delete)
        selection = self.table.selectionModel()
        assert selection is not None
        selection.selectionChanged.connect(self._update_buttons)
        models.sessions.modelReset.connect(self._update_buttons)
        models.sessions.rowsRemoved.connect(self._update_buttons)
        self._update_buttons()

    def selected_session(self) -> dict[str, Any] | None:
        """The selected session's row."""
        selection = self.table.selectionModel()
        rows = selection.selectedRows() if selection is not None else []
        return rows[0].data(RowRole) if rows else None

    def _update_buttons(self, *_args: object) -> None:
        chosen = self.selected_session() is not None
        self.rename_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)
        self.share_button.setEnabled(chosen)

    def _share(self) -> None:
        session = self.selected_session()
        if session is not None:
            self.share_requested.emit(
                str(session["session_id"]), str(session.get("session_name") or "")
            )

    def ask_rename(self) -> QInputDialog | None:
        """Ask for the selected session's new name (non-modal)."""
        session = self.selected_session()
        if session is None:
            return None
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Rename session")
        dialog.setLabelText("New name:")
        dialog.setTextValue(str(session.get("session_name") or ""))
        session_id = str(session["session_id"])

        def chosen(name: str) -> None:
            if name.strip():
                self.models.rename_session(session_id, name.strip())

        dialog.textValueSelected.connect(chosen)
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()
        self.dialog = dialog
        return dialog

    def ask_delete(self) -> QMessageBox | None:
        """Confirm, then delete the selected session (its files stay where they are)."""
        session = self.selected_session()
        if session is None:
            return None
        name = str(session.get("session_name") or "this session")
        total = int(session.get("total_photos") or 0)
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Delete session")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(f"Delete “{name}” ({total} photo{'s' if total != 1 else ''}) from the app?")
        box.setInformativeText(
            "Your photos are not touched: the originals, the library copies and every exported "
            "file stay on disk. The app forgets the session, its picks, stars and labels."
        )
        box.setStandardButtons(QMessageBox.StandardButton.Cancel | QMessageBox.StandardButton.Yes)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        yes = box.button(QMessageBox.StandardButton.Yes)
        if yes is not None:
            yes.setText("Delete session")
        session_id = str(session["session_id"])

        def answered(result: int) -> None:
            if result == QMessageBox.StandardButton.Yes.value:
                self.models.delete_session(session_id)
            box.deleteLater()

        box.finished.connect(answered)
        box.open()
        self.dialog = box
        return box
