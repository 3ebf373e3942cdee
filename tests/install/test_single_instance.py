"""One running app per data folder; several data folders side by side; a killed one's lock is stale.

Real processes started from the checkout (`python -m bridge_server`, `python -m autodev_bridge`),
each on a free loopback port.
"""

from __future__ import annotations

import re
import signal
import sys
from pathlib import Path

from tests.app_process import AppProcess, clean_env, get, kill_app

ROOT = Path(__file__).resolve().parents[2]
ALREADY = re.compile(r"already running on the data folder")


def start_server(data_dir: Path) -> AppProcess:
    """A headless bridge on 127.0.0.1 and a free port."""
    return AppProcess(
        [sys.executable, "-m", "bridge_server", "--host", "127.0.0.1", "--port", "0",
         "--data-dir", data_dir],
        cwd=ROOT, env=clean_env(),
    )  # fmt: skip


def test_second_headless_start_on_a_folder_is_refused_and_another_folder_runs(
    tmp_path: Path,
) -> None:
    first = start_server(tmp_path / "studio-a")
    other = None
    try:
        url = first.wait_for_url()
        second = start_server(tmp_path / "studio-a")
        assert second.finish(timeout=120) == 3
        message = second.output()
        assert ALREADY.search(message), message
        assert f"process {first.proc.pid}, {url}" in message
        assert "Traceback" not in message

        other = start_server(tmp_path / "studio-b")
        other_url = other.wait_for_url()
        assert other_url != url
        assert get(url)[0] == 200 and get(other_url)[0] == 200  # both serve at once
    finally:
        codes = [first.stop(), other.stop() if other else 0]
    assert codes == [0, 0]


def test_lock_left_by_a_killed_process_is_detected_as_stale(tmp_path: Path) -> None:
    data = tmp_path / "data"
    killed = start_server(data)
    killed.wait_for_url()
    kill_app(killed.proc)  # SIGKILL, as a crash would; its workers follow it
    assert killed.finish() == -signal.SIGKILL
    assert str(killed.proc.pid) in (data / "instance.lock").read_text()  # left behind

    again = start_server(data)
    try:
        line = again.wait_for_line(re.compile(r"stale lock"), timeout=120)
        assert f"process {killed.proc.pid} stopped" in line.string
        assert get(again.wait_for_url())[0] == 200
    finally:
        assert again.stop() == 0
    assert (data / "instance.lock").read_text() == ""  # a clean stop leaves no record
