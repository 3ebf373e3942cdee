"""Activity: what happened, in words with the photo's thumbnail, newest at the bottom.

Sequence numbers, channels and raw payloads are behind the "Details" toggle."""

from __future__ import annotations

from PyQt6.QtGui import QShowEvent
from PyQt6.QtWidgets import QCheckBox, QComboBox, QLabel, QWidget

from bridge_server.events import Channel

from ..controller import BridgeModels
from ..models.activity import DETAILS_COLUMNS, ICON, MAX_EVENTS, WORDS_COLUMN, ChannelFilterProxy
from .common import data_table, page_layout, row_layout


class ActivityView(QWidget):
    """A bounded table of recent events."""

    def __init__(self, models: BridgeModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = page_layout(
            self, "Activity", f"What the bridge did, newest last (the last {MAX_EVENTS:,})."
        )
        self.channel = QComboBox()
        self.channel.addItem("All channels", None)
        for channel in Channel:
            self.channel.addItem(channel.value.capitalize(), channel.value)
        self.follow = QCheckBox("Follow newest")
        self.follow.setChecked(True)
        self.details = QCheckBox("Details")
        self.details.setToolTip("Sequence numbers, channels and the raw event data")
        layout.addLayout(
            row_layout(QLabel("Show"), self.channel, self.follow, self.details, stretch_at=4)
        )
        self.proxy = ChannelFilterProxy(self)
        self.proxy.setSourceModel(models.activity)
        self.table = data_table()
        self.table.setSortingEnabled(False)
        self.table.setModel(self.proxy)
        for col, width in enumerate((90, 70, 80, 520)):
            self.table.setColumnWidth(col, width)
        self.table.setIconSize(ICON)
        vertical = self.table.verticalHeader()
        if vertical is not None:
            vertical.setDefaultSectionSize(ICON.height() + 6)
        self.details.toggled.connect(self._show_details)
        self._show_details(False)
        layout.addWidget(self.table, 1)
        self.channel.currentIndexChanged.connect(
            lambda: self.proxy.set_channel(self.channel.currentData())
        )
        self.proxy.rowsInserted.connect(self._follow)

    def _show_details(self, shown: bool) -> None:
        for column in DETAILS_COLUMNS:
            self.table.setColumnHidden(column, not shown)
        self.table.setColumnHidden(WORDS_COLUMN, False)

    def showEvent(self, a0: QShowEvent | None) -> None:
        """Catch up with what arrived while another view was shown."""
        super().showEvent(a0)
        self._follow()

    def _follow(self, *_args: object) -> None:
        if self.follow.isChecked() and self.isVisible():
            self.table.scrollToBottom()
