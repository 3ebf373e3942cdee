"""A second start of the window on the same data folder brings the first window forward."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import qasync

from bridge_server.instance import InstanceLock
from desktop.app import DesktopApp
from desktop.single_instance import serve_activation
from tests.app_process import clean_env
from tests.desktop.conftest import Desk
from tests.helpers import make_settings

ROOT = Path(__file__).resolve().parents[2]
ALREADY = re.compile(r"already running on the data folder")


def test_second_window_start_brings_the_running_window_forward(desk: Desk) -> None:
    data_dir = desk.app.settings.data_dir
    lock = InstanceLock(data_dir)
    lock.acquire()
    activation = serve_activation(data_dir, desk.app.show_window)
    desk.window.hide()
    second = subprocess.Popen(
        [sys.executable, "-m", "autodev_bridge", "--data-dir", data_dir],
        cwd=ROOT,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        desk.run(desk.until(lambda: second.poll() is not None, 120, "the second start to end"))
        assert desk.window.isVisible()
        out = second.stdout.read() if second.stdout else ""
        assert second.returncode == 0, out
        assert "brought its window forward" in out
    finally:
        if second.poll() is None:
            second.kill()
        activation.close()
        lock.release()


def test_window_start_beside_a_headless_one_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    lock = InstanceLock(data)  # held as a headless server holds it: no window to bring forward
    lock.acquire()
    lock.record("http://127.0.0.1:5999/")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "autodev_bridge", "--data-dir", str(data)],
            cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        lock.release()
    assert done.returncode == 3
    assert ALREADY.search(done.stderr), done.stderr
    assert f"process {os.getpid()}, http://127.0.0.1:5999/" in done.stderr


def test_a_second_start_during_start_up_shows_the_window_once_it_exists(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    app = DesktopApp(make_settings(tmp_path / "data"), use_tray=True)
    desk = Desk(qloop, app)
    activation = serve_activation(tmp_path / "data", app.show_window)
    try:
        app.show_window()  # a second start's request, arriving before the window exists
        desk.run(app.start(minimized=True))  # started from the login entry, in the tray
        assert desk.window.isVisible()
    finally:
        activation.close()
        desk.run(app.stop())
        desk.window.deleteLater()
