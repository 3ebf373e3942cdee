"""The tray icon: its menu, and notifications when the system has a tray."""

from __future__ import annotations

from typing import Final

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QMenu, QSystemTrayIcon

from .notifier import Notice
from .theme import icon

MESSAGE_MS: Final = 6000


class Tray(QObject):
    """Show window, Pause/Resume processing, Pair a phone…, Quit."""

    show_requested = pyqtSignal()
    pause_toggled = pyqtSignal()
    pair_requested = pyqtSignal()
    quit_requested = pyqtSignal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.icon = QSystemTrayIcon(icon("app"), self)
        self.icon.setToolTip("AutoDev Bridge")
        self.menu = QMenu()
        self.show_action = QAction("Show window", self.menu)
        self.pause_action = QAction("Pause processing", self.menu)
        self.pair_action = QAction("Pair a phone…", self.menu)
        self.quit_action = QAction("Quit", self.menu)
        self.show_action.triggered.connect(self.show_requested)
        self.pause_action.triggered.connect(self.pause_toggled)
        self.pair_action.triggered.connect(self.pair_requested)
        self.quit_action.triggered.connect(self.quit_requested)
        self.menu.addAction(self.show_action)
        self.menu.addSeparator()
        self.menu.addAction(self.pause_action)
        self.menu.addAction(self.pair_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)

    @staticmethod
    def available() -> bool:
        """Whether the desktop has a system tray."""
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        """Put the icon in the tray."""
        self.icon.show()

    def hide(self) -> None:
        """Remove the icon."""
        self.icon.hide()

    def set_paused(self, paused: bool) -> None:
        """Reflect the processing state in the menu."""
        self.pause_action.setText("Resume processing" if paused else "Pause processing")
        self.icon.setToolTip("AutoDev Bridge — paused" if paused else "AutoDev Bridge")

    def notify(self, notice: Notice) -> None:
        """A desktop notification."""
        kind = (
            QSystemTrayIcon.MessageIcon.Warning
            if notice.kind in ("failure", "warning")
            else QSystemTrayIcon.MessageIcon.Information
        )
        self.icon.showMessage(notice.title, notice.message, kind, MESSAGE_MS)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.show_requested.emit()
