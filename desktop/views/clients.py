"""Clients: every connected WebSocket client, live; disconnect one; paired devices and revoke."""

from __future__ import annotations

from PyQt6.QtCore import QSortFilterProxyModel, Qt, pyqtSignal
from PyQt6.QtGui import QHideEvent, QShowEvent
from PyQt6.QtWidgets import (
    QCheckBox,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..controller import BridgeModels
from ..models.clients import DETAILS_COLUMNS
from ..models.table import KeyRole, SortRole
from ..theme import icon
from ..timers import make_timer
from .common import data_table, page_layout, plain_label, row_layout

REFRESH_MS = 1000


class ClientsView(QWidget):
    """Connected clients above, paired devices below."""

    pair_requested = pyqtSignal()

    def __init__(self, models: BridgeModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        layout = page_layout(
            self, "Clients", "Phones, scripts and other apps connected over WebSocket."
        )
        self.disconnect_button = QPushButton(icon("disconnect"), " Disconnect")
        self.count = plain_label()
        self.count.setObjectName("muted")
        pair = QPushButton(icon("pair"), " Pair a phone…")
        pair.setObjectName("primary")
        pair.clicked.connect(self.pair_requested)
        self.details = QCheckBox("Details")
        self.details.setToolTip("Type, address, channels, queue and device ids")
        layout.addLayout(
            row_layout(self.count, self.details, self.disconnect_button, pair, stretch_at=2)
        )

        splitter = QSplitter(Qt.Orientation.Vertical)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(models.clients)
        self.proxy.setSortRole(SortRole)
        self.table = data_table()
        self.table.setModel(self.proxy)
        for col, width in enumerate((420, 100, 170, 120, 110, 260, 70, 80)):
            self.table.setColumnWidth(col, width)
        self.details.toggled.connect(self._show_details)
        self._show_details(False)
        splitter.addWidget(self.table)

        devices = QWidget()
        devices_layout = QVBoxLayout(devices)
        devices_layout.setContentsMargins(0, 8, 0, 0)
        devices_layout.setSpacing(8)
        title = QLabel("Paired devices")
        title.setObjectName("sectionLabel")
        self.revoke_button = QPushButton(icon("reject"), " Revoke")
        devices_layout.addLayout(row_layout(title, self.revoke_button, stretch_at=1))
        self.devices_table = data_table()
        self.devices_table.setModel(models.devices)
        self.devices_table.setSortingEnabled(False)
        self.devices_table.setColumnWidth(0, 220)
        self.devices_table.setColumnWidth(1, 140)
        devices_layout.addWidget(self.devices_table)
        splitter.addWidget(devices)
        if models.ctx.backplane is not None:
            splitter.addWidget(self._studio_pane())
        splitter.setSizes([420, 220, 220])
        layout.addWidget(splitter, 1)

        self.disconnect_button.clicked.connect(self.disconnect_selected)
        self.revoke_button.clicked.connect(self.revoke_selected)
        for table in (self.table, self.devices_table):
            selection = table.selectionModel()
            assert selection is not None
            selection.selectionChanged.connect(self._update_buttons)
        models.clients.rowsInserted.connect(self._update_count)
        models.clients.rowsRemoved.connect(self._update_count)
        models.clients.modelReset.connect(self._update_count)
        # Queue depth and messages sent change without a registry notification.
        self._ticker = make_timer(self, REFRESH_MS)
        self._ticker.timeout.connect(models.refresh_clients)
        self._ticker.timeout.connect(models.refresh_studio)  # a no-op outside studio mode
        self._update_buttons()
        self._update_count()

    def _show_details(self, shown: bool) -> None:
        for column in DETAILS_COLUMNS:
            self.table.setColumnHidden(column, not shown)

    def _studio_pane(self) -> QWidget:
        """Studio mode: the bridges and workers sharing this library, with their load."""
        pane = QWidget()
        pane_layout = QVBoxLayout(pane)
        pane_layout.setContentsMargins(0, 8, 0, 0)
        pane_layout.setSpacing(8)
        title = QLabel("Studio")
        title.setObjectName("sectionLabel")
        self.studio_status = plain_label()
        self.studio_status.setObjectName("muted")
        self.studio_status.setWordWrap(True)
        pane_layout.addLayout(row_layout(title, self.studio_status, stretch_at=1))
        self.studio_table = data_table()
        self.studio_table.setModel(self.models.studio)
        self.studio_table.setColumnWidth(0, 200)
        pane_layout.addWidget(self.studio_table)
        self.models.overview_changed.connect(
            lambda: self.studio_status.setText(self.models.studio_status)
        )
        return pane

    def showEvent(self, a0: QShowEvent | None) -> None:
        """Refresh the counters every second while visible."""
        self._ticker.start()
        self.models.refresh_clients()
        self.models.refresh_studio()
        super().showEvent(a0)

    def hideEvent(self, a0: QHideEvent | None) -> None:
        """No refresh while hidden."""
        self._ticker.stop()
        super().hideEvent(a0)

    def _selected(self, table: QTableView) -> list[str]:
        selection = table.selectionModel()
        return [str(i.data(KeyRole)) for i in (selection.selectedRows() if selection else [])]

    def disconnect_selected(self) -> None:
        """Close the selected clients with 4009."""
        for client_id in self._selected(self.table):
            self.models.disconnect_client(client_id)

    def revoke_selected(self) -> None:
        """Revoke the selected devices."""
        for device_id in self._selected(self.devices_table):
            self.models.revoke_device(device_id)

    def select_client(self, client_id: str) -> bool:
        """Select a client's row."""
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data(KeyRole) == client_id:
                self.table.selectRow(row)
                return True
        return False

    def _update_buttons(self, *_args: object) -> None:
        self.disconnect_button.setEnabled(bool(self._selected(self.table)))
        self.revoke_button.setEnabled(bool(self._selected(self.devices_table)))

    def _update_count(self, *_args: object) -> None:
        n = self.models.clients.rowCount()
        self.count.setText(f"{n} connected client{'s' if n != 1 else ''}")
