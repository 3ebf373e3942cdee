"""The app's helper processes (fork server, pool workers) die with it, even on SIGKILL."""

from __future__ import annotations

from tests.app_process import descendants, free_port, kill_app, start_app
from tests.helpers import wait_for


async def test_a_killed_app_leaves_no_worker_behind(tmp_path):
    proc = await start_app(tmp_path / "data", free_port())
    try:

        async def workers_up() -> bool:
            # The fork server and both pool workers are running before the kill.
            return len(descendants(proc)) >= 3

        await wait_for(workers_up, timeout=60)
        kill_app(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
