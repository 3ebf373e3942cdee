"""DesktopApp: the bridge server and the window on one loop; start, quit, tray, notices."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from typing import Any, Final

from PyQt6.QtCore import QObject
from PyQt6.QtWidgets import QApplication, QWidget

from bridge_server.app import BridgeServer
from bridge_server.config import Settings
from bridge_server.long_lived import settle_long_lived
from bridge_server.services.settings import SELECTION_SETTINGS, apply_settings_change
from bridge_server.web.security import lan_addresses

from .banner import Banner
from .bridge import BridgeLink
from .controller import BridgeModels
from .dialogs.folders import pick_folder
from .dialogs.pairing import PairingDialog
from .dialogs.proofing import ShareDialog
from .dialogs.settings import SettingsDialog
from .launcher import set_autostart
from .notifier import Notice, Notifier
from .paths import sample_photos
from .tasks import pending_tasks, reporter, run_service
from .theme import apply_theme
from .tray import Tray
from .window import MainWindow

log = logging.getLogger(__name__)

LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
DRAIN_SECONDS: Final = 5.0


class DesktopApp(QObject):
    """Owns the server, the models, the window, the tray and the notifier."""

    def __init__(self, settings: Settings, *, use_tray: bool | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.server = BridgeServer(settings, owns_process=True)
        self.use_tray = Tray.available() if use_tray is None else use_tray
        self.window: MainWindow | None = None
        self.models: BridgeModels | None = None
        self.link: BridgeLink | None = None
        self.tray: Tray | None = None
        self.notifier: Notifier | None = None
        self.addresses: list[str] = []
        self.notices: list[Notice] = []
        self.pairing_dialog: PairingDialog | None = None
        self.arrivals_toast: Banner | None = None  # one live toast for photos to approve
        self._arrivals_new = 0
        self._quit = asyncio.Event()
        self._stopped = False
        self._told_about_tray = False
        self._show_when_started = False  # asked for (a second start) before the window existed

    # --- life -----------------------------------------------------------------------------

    async def start(self, *, minimized: bool = False) -> None:
        """Start the bridge, build the window, load the models, show (or stay in the tray)."""
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        apply_theme(app, self.settings.theme)
        await self.server.start()
        ctx = self.server.context
        self.link = BridgeLink(ctx, self)
        self.models = models = BridgeModels(ctx, self.link, self)
        self.addresses = await asyncio.to_thread(lan_addresses)
        self.window = window = MainWindow(models, self.settings, self.phone_url())
        window.set_listening(f"Listening on {self.settings.host}:{self.server.port}")
        reporter.error_reported.connect(self._show_error)
        models.info.connect(lambda text: window.banners.show_message(text, "info"))
        models.imported.connect(self._imported)
        models.overview_changed.connect(self._update_arrivals_toast)
        window.close_requested.connect(self._window_closed)
        window.settings_requested.connect(self.open_settings)
        window.pair_requested.connect(self.open_pairing)
        window.share_requested.connect(self.open_share)
        window.import_requested.connect(self.choose_import)
        window.samples_requested.connect(self.import_samples)

        loop = asyncio.get_running_loop()
        self.notifier = notifier = Notifier(
            self._show_notice,
            loop.call_later,
            is_muted=lambda: self.settings.notifications_muted,
        )
        self.link.event_published.connect(lambda e: notifier.on_event(e.type, e.payload))
        self.link.device_paired.connect(notifier.device_paired)

        if self.use_tray:
            self.tray = tray = Tray(self)
            tray.show_requested.connect(self.show_window)
            tray.pause_toggled.connect(lambda: models.set_paused(not models.paused))
            tray.pair_requested.connect(self.open_pairing)
            tray.quit_requested.connect(self.request_quit)
            models.paused_changed.connect(tray.set_paused)
            tray.show()

        # Shown first: the models fill in a moment later (their first pages), as events do.
        if not (minimized and self.tray is not None) or self._show_when_started:
            self.show_window()
        await models.load()
        settle_long_lived()  # the start's objects stay: keep full collections short
        # The pipeline spawns its workers from a thread at start; wait for them here (the
        # window already up: on a busy machine that takes seconds), so the first import does
        # not pay for it.
        if ctx.pool is not None:
            await ctx.pool.warm_up()

    async def run(
        self, *, minimized: bool = False, on_started: Callable[[], None] | None = None
    ) -> None:
        """Start, wait for Quit, stop."""
        try:
            await self.start(minimized=minimized)
            if on_started is not None:
                on_started()
            await self._quit.wait()
        finally:
            await self.stop()

    def request_quit(self) -> None:
        """Quit the app (tray menu, window close without a tray, SIGINT)."""
        self._quit.set()

    async def stop(self) -> None:
        """Close clients with 1001, let jobs reach a safe point, close the database."""
        if self._stopped:
            return
        self._stopped = True
        if self.window is not None:
            self.window.hide()
        if self.notifier is not None:
            self.notifier.close()
        # Decisions already clicked are finished before the store closes.
        running = pending_tasks()
        if running:
            await asyncio.wait(running, timeout=DRAIN_SECONDS)
        if self.link is not None:
            self.link.detach()
        if self.models is not None:
            self.models.stop()
        if self.tray is not None:
            self.tray.hide()
        with contextlib.suppress(TypeError):
            reporter.error_reported.disconnect(self._show_error)
        await self.server.stop()
        log.info("Desktop stopped")

    # --- window and tray ------------------------------------------------------------------

    def show_window(self) -> None:
        """Bring the window forward (once it exists, if the app is still starting)."""
        if self.window is None:
            self._show_when_started = True
            return
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def _window_closed(self) -> None:
        if self.tray is not None:
            assert self.window is not None
            self.window.hide()
            if not self._told_about_tray:
                self._told_about_tray = True
                self.tray.notify(
                    Notice("info", "Still running", "AutoDev Bridge keeps working in the tray.")
                )
        else:
            self.request_quit()

    def _show_error(self, text: str) -> None:
        if self.window is not None:
            self.window.banners.show_message(text, "error")

    def _show_notice(self, notice: Notice) -> None:
        self.notices.append(notice)
        if self.tray is not None:
            self.tray.notify(notice)
        elif self.window is not None and notice.kind == "approval":
            self._show_arrivals(notice.count)
        elif self.window is not None:
            level = "warning" if notice.kind in ("failure", "warning") else "info"
            self.window.banners.show_message(f"{notice.title}: {notice.message}", level)

    def _show_arrivals(self, count: int) -> None:
        # One toast that counts on while photos arrive; "waiting" is the sidebar's own number.
        assert self.window is not None
        if self.arrivals_toast is None:
            self._arrivals_new = 0
            toast = self.window.banners.show_message(self._arrivals_text(count), "info")
            toast.destroyed.connect(self._arrivals_toast_gone)
            self.arrivals_toast = toast
        self._arrivals_new += count
        self._update_arrivals_toast()

    def _arrivals_toast_gone(self) -> None:
        self.arrivals_toast = None

    def _arrivals_text(self, _new: int) -> str:
        # Only the queue's count: a photo proposed, then folded into a burst, was "new" but
        # never waits, so a count of arrivals would disagree with the sidebar.
        waiting = self.models.approval_count if self.models is not None else 0
        photos = "1 photo waits" if waiting == 1 else f"{waiting} photos wait"
        return f"Photos to approve: {photos} for a decision"

    def _update_arrivals_toast(self) -> None:
        toast = self.arrivals_toast
        if toast is not None and not toast.isHidden():
            toast.set_text(self._arrivals_text(self._arrivals_new))

    def phone_url(self) -> str:
        """The address a phone should open (or why it cannot)."""
        port = self.server.port
        if self.settings.host in LOOPBACK_HOSTS:
            return f"http://127.0.0.1:{port}/ (this computer only: phones cannot connect)"
        if not self.settings.allow_remote:
            return "Phones are switched off in Settings"
        host = self.addresses[0] if self.addresses else "127.0.0.1"
        return f"http://{host}:{port}/"

    def pairing_addresses(self) -> list[str]:
        """Addresses to offer in the pairing dialog, most likely first."""
        if self.settings.host in LOOPBACK_HOSTS:
            return ["127.0.0.1"]
        return [*self.addresses, "127.0.0.1"]

    # --- dialogs and imports --------------------------------------------------------------

    def open_pairing(self) -> PairingDialog:
        """Show the pairing dialog (one at a time)."""
        assert self.models is not None
        self.show_window()
        if self.pairing_dialog is not None and self.pairing_dialog.isVisible():
            self.pairing_dialog.raise_()
            return self.pairing_dialog
        dialog = PairingDialog(
            self.models, self.pairing_addresses(), self.server.port, self._parent()
        )
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        self.pairing_dialog = dialog
        dialog.show()
        return dialog

    def open_share(self, session_id: str, session_name: str) -> ShareDialog:
        """Show the "Share for proofing" dialog for a session."""
        assert self.models is not None
        self.show_window()
        port = self.server.port
        urls = [f"http://{ip}:{port}" for ip in self.pairing_addresses()]
        dialog = ShareDialog(self.models, session_id, session_name, urls, self._parent())
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.show()
        return dialog

    def open_settings(self) -> SettingsDialog:
        """Show the settings dialog."""
        dialog = SettingsDialog(self.settings, self._parent(), self.server.context)
        app = QApplication.instance()
        dialog.theme_changed.connect(lambda name: apply_theme(app, name))  # type: ignore[arg-type]
        dialog.settings_applied.connect(self._settings_applied)
        dialog.restart_pending.connect(self._restart_pending)
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.show()
        return dialog

    def _settings_applied(self, names: list[str]) -> None:
        if "start_at_login" in names:
            run_service(
                asyncio.to_thread(
                    set_autostart, self.settings.start_at_login, self.settings.data_dir
                ),
                what="Start at login",
            )
        if "hot_folders" in names:
            run_service(
                self.server.pipeline.set_hot_folders(list(self.settings.hot_folders)),
                what="Watching the new hot folders",
            )
        if not SELECTION_SETTINGS.isdisjoint(names):
            # Existing, undecided photos are proposed again under the new rules (a job).
            run_service(
                apply_settings_change(self.server.context, names),
                what="Selecting again with the new settings",
            )
        if self.window is not None and "hot_folders" in names:
            self.window.overview.empty.refresh()
            self.window.sessions.empty.refresh()

    def _restart_pending(self, names: list[str]) -> None:
        if self.window is not None:
            listed = ", ".join(n.replace("_", " ") for n in names)
            self.window.banners.show_message(
                f"Saved. {listed.capitalize()}: takes effect after restart.", "info"
            )

    def choose_import(self) -> None:
        """Ask for a folder and import it into a new session named after it."""

        def chosen(folder: str) -> None:
            if self.models is not None:
                self.models.import_paths([folder], os.path.basename(folder.rstrip("/")) or folder)

        pick_folder(self._parent(), "Import a folder of photos", chosen)

    def import_samples(self) -> asyncio.Task[Any] | None:
        """Import the bundled sample photos into a "Sample photos" session."""
        if self.models is None:
            return None
        paths = sample_photos()
        if not paths:
            reporter.report("The sample photos are missing from resources/samples")
            return None
        return self.models.import_paths(paths, "Sample photos")

    def _imported(self, result: dict[str, Any]) -> None:
        if self.window is None:
            return
        imported = len(result.get("imported") or [])
        duplicates = len(result.get("duplicates") or [])
        problems = len(result.get("failed") or []) + len(result.get("unsupported") or [])
        parts = [f"Imported {imported} photo{'s' if imported != 1 else ''}"]
        if duplicates:
            parts.append(f"{duplicates} already in the library")
        if problems:
            parts.append(f"{problems} could not be read")
        text = ", ".join(parts) + (" — analysis is running." if imported else ".")
        self.window.banners.show_message(text, "info" if imported else "warning")

    def _parent(self) -> QWidget | None:
        return self.window
