"""run_desktop: the QApplication, one qasync loop for Qt and the bridge, and a clean exit."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import qasync
from PyQt6.QtWidgets import QApplication

from bridge_server.cli import listening_url
from bridge_server.config import Settings, SettingsError
from bridge_server.instance import InstanceLock
from bridge_server.studio.settings import StudioUnavailable

from .app import DesktopApp
from .launcher import DESKTOP_FILE_ID
from .single_instance import serve_activation
from .tasks import install_exception_hooks
from .timers import make_timer

log = logging.getLogger(__name__)


def run_desktop(
    settings: Settings, minimized: bool = False, lock: InstanceLock | None = None
) -> int:
    """Run the window and the bridge until Quit; return the process exit code.

    `lock` holds the data folder; a second start on it brings this window forward.
    """
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("AutoDev Bridge")
    app.setOrganizationName("AutoDev")
    app.setQuitOnLastWindowClosed(False)  # the tray keeps the app alive
    app.setDesktopFileName(DESKTOP_FILE_ID)  # ties the window to the menu entry and its icon
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_exception_hooks(loop)
    desktop = DesktopApp(settings)
    activation = serve_activation(settings.data_dir, desktop.show_window)

    def started() -> None:
        if lock is not None:
            lock.record(listening_url(settings, desktop.server.port))

    # Qt's loop would keep Python from seeing Ctrl+C; a slow tick lets the handler run.
    signal.signal(signal.SIGINT, lambda *_: loop.call_soon_threadsafe(desktop.request_quit))
    signal.signal(signal.SIGTERM, lambda *_: loop.call_soon_threadsafe(desktop.request_quit))
    tick = make_timer(None, 500)
    tick.timeout.connect(lambda: None)
    tick.start()
    try:
        with loop:
            loop.run_until_complete(desktop.run(minimized=minimized, on_started=started))
    except (OSError, StudioUnavailable, SettingsError) as exc:
        print(f"autodev-bridge: cannot start the server: {exc}", file=sys.stderr)
        return 1
    finally:
        activation.close()
    return 0
