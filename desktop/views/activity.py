"""Activity: the live event stream, newest at the bottom, filterable by channel."""

from __future__ import annotations

from PyQt6.QtGui import QShowEvent
from PyQt6.QtWidgets import QCheckBox, QComboBox, QLabel, QWidget

from bridge_server.events import Channel

from ..controller import BridgeModels
from ..models.activity import MAX_EVENTS, ChannelFilterProxy
from .common import data_table, page_layout, row_layout


class ActivityView(QWidget):
    """A bounded table of recent events."""

    def __init__(self, models: BridgeModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = page_layout(
            self, "Activity", f"Every event the bridge publishes (the last {MAX_EVENTS:,})."
        )
        self.channel = QComboBox()
        self.channel.addItem("All channels", None)
        for channel in Channel:
            self.channel.addItem(channel.value.capitalize(), channel.value)
        self.follow = QCheckBox("Follow newest")
        self.follow.setChecked(True)
        layout.addLayout(row_layout(QLabel("Channel"), self.channel, self.follow))
        self.proxy = ChannelFilterProxy(self)
        self.proxy.setSourceModel(models.activity)
        self.table = data_table()
        self.table.setSortingEnabled(False)
        self.table.setModel(self.proxy)
        for col, width in enumerate((90, 70, 80, 170)):
            self.table.setColumnWidth(col, width)
        layout.addWidget(self.table, 1)
        self.channel.currentIndexChanged.connect(
            lambda: self.proxy.set_channel(self.channel.currentData())
        )
        self.proxy.rowsInserted.connect(self._follow)

    def showEvent(self, a0: QShowEvent | None) -> None:
        """Catch up with what arrived while another view was shown."""
        super().showEvent(a0)
        self._follow()

    def _follow(self, *_args: object) -> None:
        if self.follow.isChecked() and self.isVisible():
            self.table.scrollToBottom()
