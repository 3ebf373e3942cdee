"""The main window: a sidebar of views, banners on top, and the pages."""

from __future__ import annotations

from typing import Final

from PyQt6.QtCore import QSize, Qt, pyqtSignal
from PyQt6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from bridge_server.config import Settings

from .banner import BannerArea
from .controller import BridgeModels
from .theme import icon
from .views.activity import ActivityView
from .views.approvals import ApprovalsView
from .views.clients import ClientsView
from .views.jobs import JobsView
from .views.library import LibraryView
from .views.overview import OverviewView
from .views.sessions import SessionsView

PAGES: Final = ("overview", "library", "approvals", "jobs", "sessions", "clients", "activity")


class MainWindow(QMainWindow):
    """Overview, Approvals, Jobs, Sessions, Clients, Activity."""

    close_requested = pyqtSignal()
    settings_requested = pyqtSignal()
    pair_requested = pyqtSignal()
    share_requested = pyqtSignal(str, str)  # session id, session name
    import_requested = pyqtSignal()
    samples_requested = pyqtSignal()

    def __init__(self, models: BridgeModels, settings: Settings, phone_url: str) -> None:
        super().__init__()
        self.models = models
        self.setWindowTitle("AutoDev Bridge")
        self.setWindowIcon(icon("app"))
        self.resize(1360, 860)
        self.setMinimumSize(QSize(980, 640))

        central = QWidget()
        root = QHBoxLayout(central)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(0)

        sidebar = QWidget()
        sidebar.setObjectName("sidebar")
        sidebar.setFixedWidth(200)
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(10, 16, 10, 12)
        side.setSpacing(8)
        brand = QLabel("AutoDev Bridge")
        brand.setObjectName("brand")
        side.addWidget(brand)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for name in PAGES:
            QListWidgetItem(icon(name), name.capitalize(), self.nav)
        side.addWidget(self.nav, 1)
        settings_button = QPushButton(icon("settings"), " Settings")
        settings_button.setObjectName("sidebarButton")
        settings_button.clicked.connect(self.settings_requested)
        side.addWidget(settings_button)
        root.addWidget(sidebar)

        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.pages = QStackedWidget()
        column.addWidget(self.pages, 1)
        self.banners = BannerArea(right)  # an overlay: notices never move the pages
        root.addWidget(right, 1)
        self.setCentralWidget(central)

        self.overview = OverviewView(models, settings, phone_url)
        self.library = LibraryView(models)
        self.approvals = ApprovalsView(models)
        self.jobs = JobsView(models)
        self.sessions = SessionsView(models, settings)
        self.clients = ClientsView(models)
        self.activity = ActivityView(models)
        for page in (self.overview, self.library, self.approvals, self.jobs, self.sessions,
                     self.clients, self.activity):  # fmt: skip
            self.pages.addWidget(page)
        self.nav.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.nav.currentRowChanged.connect(self._page_shown)
        self.nav.setCurrentRow(0)

        for signal in (self.overview.pair_requested, self.clients.pair_requested):
            signal.connect(self.pair_requested)
        self.sessions.share_requested.connect(self.share_requested)
        for signal in (self.overview.import_requested, self.sessions.import_requested):
            signal.connect(self.import_requested)
        for signal in (self.overview.samples_requested, self.sessions.samples_requested):
            signal.connect(self.samples_requested)
        for signal in (self.overview.settings_requested, self.sessions.settings_requested):
            signal.connect(self.settings_requested)
        self.overview.show_approvals.connect(lambda: self.show_page("approvals"))
        for i, name in enumerate(PAGES):
            QShortcut(QKeySequence(f"Ctrl+{i + 1}"), self, lambda n=name: self.show_page(n))

        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setObjectName("statusText")
        status_bar = self.statusBar()
        assert status_bar is not None  # QMainWindow creates it on first use
        status_bar.addWidget(self.status, 1)
        models.overview_changed.connect(self._update_status)
        models.paused_changed.connect(lambda _p: self._update_status())
        models.overview_changed.connect(self._update_nav_badges)
        self._listening = ""

    def set_listening(self, text: str) -> None:
        """The address line in the status bar."""
        self._listening = text
        self._update_status()

    def show_page(self, name: str) -> None:
        """Switch to a view by name."""
        self.nav.setCurrentRow(PAGES.index(name))

    def current_page(self) -> str:
        """The name of the visible view."""
        return PAGES[self.pages.currentIndex()]

    def _page_shown(self, row: int) -> None:
        if PAGES[row] == "approvals":
            self.approvals.grid.setFocus()
        elif PAGES[row] == "library":
            self.library.set_mode(self.library.mode)

    def _update_status(self) -> None:
        m = self.models
        state = "Processing paused" if m.paused else "Processing"
        q = m.queue_counts
        self.status.setText(
            f"{self._listening}   ·   {state}: {q.get('processing', 0)} running, "
            f"{q.get('pending', 0)} waiting   ·   {m.clients.rowCount()} clients"
        )

    def _update_nav_badges(self) -> None:
        item = self.nav.item(PAGES.index("approvals"))
        if item is not None:
            count = self.models.approval_count
            item.setText(f"Approvals  ({count})" if count else "Approvals")

    def closeEvent(self, a0: QCloseEvent | None) -> None:
        """Let the app decide: hide to the tray, or quit."""
        if a0 is not None:
            a0.ignore()
        self.close_requested.emit()
