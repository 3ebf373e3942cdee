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
        helpers = descendants(proc)
        kill_app(proc)  # also waits for every helper to exit
        assert proc.returncode is not None
        assert not [p for p in helpers if p.is_running() and p.status() != "zombie"]
    finally:
        if proc.poll() is None:
            proc.kill()
