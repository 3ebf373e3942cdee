"""Overview: what is happening now, in a few numbers, all live."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from bridge_server.config import Settings

from ..controller import BridgeModels
from ..delegates import ProgressBarDelegate
from ..formatting import megabytes
from ..models.sessions import PROGRESS_COLUMN, RecentSessionsProxy
from ..models.table import SortRole
from ..theme import icon
from .common import StatCard, data_table, page_layout
from .empty import EmptyLibrary


class OverviewView(QWidget):
    """Counts of jobs, queue, sessions and clients; machine health; the phone address."""

    pair_requested = pyqtSignal()
    import_requested = pyqtSignal()
    samples_requested = pyqtSignal()
    settings_requested = pyqtSignal()
    show_approvals = pyqtSignal()

    def __init__(self, models: BridgeModels, settings: Settings, phone_url: str, parent=None):
        super().__init__(parent)
        self.models = models
        layout = page_layout(self, "Overview", "Everything the bridge is doing, live.", spacing=16)

        self.empty = EmptyLibrary(settings)
        self.empty.import_requested.connect(self.import_requested)
        self.empty.samples_requested.connect(self.samples_requested)
        self.empty.settings_requested.connect(self.settings_requested)
        self.empty.setVisible(False)
        layout.addWidget(self.empty)

        grid = QGridLayout()
        grid.setSpacing(12)
        self.approval = StatCard("Waiting for approval")
        self.jobs = StatCard("Jobs")
        self.sessions = StatCard("Sessions in progress")
        self.clients = StatCard("Connected clients")
        self.cpu = StatCard("CPU")
        self.memory = StatCard("Memory")
        self.disk = StatCard("Free disk")
        self.phone = StatCard("Phone address")
        self.phone.value.setObjectName("cardUrl")
        self.phone.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        cards = [self.approval, self.jobs, self.sessions, self.clients,
                 self.cpu, self.memory, self.disk, self.phone]  # fmt: skip
        for i, card in enumerate(cards):
            grid.addWidget(card, i // 4, i % 4)
        for col in range(4):
            grid.setColumnStretch(col, 1)
        layout.addLayout(grid)

        actions = QHBoxLayout()
        actions.setSpacing(8)
        review = QPushButton(icon("approvals"), " Review photos")
        review.setObjectName("primary")
        review.clicked.connect(self.show_approvals)
        pair = QPushButton(icon("pair"), " Pair a phone…")
        pair.clicked.connect(self.pair_requested)
        self.import_button = QPushButton(icon("import"), " Import a folder…")
        self.import_button.clicked.connect(self.import_requested)
        self.pause = QPushButton(icon("pause"), " Pause processing")
        self.pause.clicked.connect(lambda: models.set_paused(not models.paused))
        for button in (review, self.import_button, pair, self.pause):
            actions.addWidget(button)
        actions.addStretch(1)
        layout.addLayout(actions)

        self.recent = recent = QLabel("Recent sessions")
        recent.setObjectName("sectionLabel")
        layout.addWidget(recent)
        proxy = RecentSessionsProxy(models.sessions, self)
        proxy.setSortRole(SortRole)
        self.sessions_table = data_table()
        self.sessions_table.setModel(proxy)
        self.sessions_table.setItemDelegateForColumn(
            PROGRESS_COLUMN, ProgressBarDelegate(self.sessions_table)
        )
        for col, width in enumerate((240, 110, 180, 80, 90, 80, 90, 90, 110)):
            self.sessions_table.setColumnWidth(col, width)
        self.sessions_table.setColumnHidden(9, True)  # the folder: see Sessions
        self.sessions_table.sortByColumn(8, Qt.SortOrder.DescendingOrder)
        layout.addWidget(self.sessions_table, 1)
        layout.addStretch(0)  # takes the space while the table is hidden

        self._phone_url = phone_url
        models.overview_changed.connect(self.refresh)
        models.paused_changed.connect(self._paused)
        models.library_empty_changed.connect(self._library_empty)
        self.refresh()

    def _library_empty(self, empty: bool) -> None:
        self.empty.setVisible(empty)
        self.recent.setVisible(not empty)
        self.sessions_table.setVisible(not empty)

    def _paused(self, paused: bool) -> None:
        self.pause.setText("Resume processing" if paused else "Pause processing")
        self.pause.setIcon(icon("play" if paused else "pause"))
        self.refresh()

    def refresh(self) -> None:
        """Re-read every figure from the models."""
        m = self.models
        q = m.queue_counts
        self.approval.set(str(m.approval_count), "photos proposed as keepers")
        self.jobs.set(
            f"{q.get('processing', 0)} running",
            f"{q.get('pending', 0)} waiting · {q.get('completed', 0)} done · "
            f"{q.get('failed', 0)} failed" + (" · paused" if m.paused else ""),
        )
        total_sessions = m.session_counts["total"]
        self.sessions.set(
            str(m.session_counts["in_progress"]),
            f"of {total_sessions} session{'s' if total_sessions != 1 else ''}",
        )
        rows = m.clients.rows()
        phones = sum(1 for r in rows if r.get("device_id"))
        others = len(rows) - phones
        self.clients.set(
            str(len(rows)),
            f"{phones} phone{'s' if phones != 1 else ''} · {others} other"
            f"{'s' if others != 1 else ''}",
        )
        s = m.system
        cpu = s.get("cpu_percent")
        self.cpu.set(f"{cpu:.0f}%" if cpu is not None else "–", "all cores")
        mem = s.get("memory_percent")
        self.memory.set(
            f"{mem:.0f}%" if mem is not None else "–",
            f"{megabytes(s.get('memory_available_mb'))} available",
        )
        disk = s.get("disk_free_mb") or {}
        self.disk.set(
            megabytes(disk.get("library")), f"library · exports {megabytes(disk.get('export'))}"
        )
        if self._phone_url.startswith("http"):
            url, _, note = self._phone_url.partition(" ")
            self.phone.set(url, note.strip("()") or "open it on a phone, or pair with a QR code")
        else:
            self.phone.set("Off", self._phone_url)

    def set_phone_url(self, url: str) -> None:
        """Where a phone should go."""
        self._phone_url = url
        self.refresh()
