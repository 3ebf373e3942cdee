"""Closing the window: to the tray when there is one, otherwise quit; --minimized starts hidden."""

from __future__ import annotations

from pathlib import Path

import qasync

from desktop.app import DesktopApp
from tests.desktop.conftest import Desk
from tests.helpers import make_settings


def test_without_a_tray_closing_the_window_quits(desk: Desk) -> None:
    assert desk.app.tray is None
    desk.window.close()
    assert desk.app._quit.is_set()


def test_with_a_tray_closing_hides_and_minimized_starts_hidden(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    app = DesktopApp(make_settings(tmp_path / "data"), use_tray=True)
    desk = Desk(qloop, app)
    desk.run(app.start(minimized=True))
    try:
        assert app.tray is not None
        assert not desk.window.isVisible()  # started in the tray
        app.tray.show_action.trigger()
        assert desk.window.isVisible()
        desk.window.close()
        assert not desk.window.isVisible()
        assert not app._quit.is_set()  # still running in the tray

        async def pause_from_the_tray() -> None:
            app.tray.pause_action.trigger()
            await desk.until(lambda: desk.models.paused, what="paused")
            assert app.tray.pause_action.text() == "Resume processing"
            app.tray.pause_action.trigger()
            await desk.until(lambda: not desk.models.paused, what="resumed")

        desk.run(pause_from_the_tray())
        app.tray.quit_action.trigger()
        assert app._quit.is_set()
    finally:
        desk.run(app.stop())
        desk.window.deleteLater()
