"""Helper processes that cannot outlive the app, however the app dies.

A SIGKILL gives the app no chance to stop its pool, and the workers never see end-of-file on
their queues (each also holds the queue's write end). So every helper process watches the app's
process itself and exits the moment it is gone: on Linux through a pidfd (woken by the kernel,
no polling), elsewhere by checking once a second.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from typing import Final

log = logging.getLogger(__name__)

POLL_SECONDS: Final = 1.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_for_exit(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)
    except AttributeError:  # not Linux
        fd = None
    except ProcessLookupError:
        return
    except OSError:
        fd = None
    if fd is not None:
        select.select([fd], [], [])  # readable once the process has exited
        return
    while _alive(pid):
        time.sleep(POLL_SECONDS)


def exit_when_gone(pid: int) -> None:
    """Exit this process at once when process `pid` ends (watched from a daemon thread)."""

    def watch() -> None:
        _wait_for_exit(pid)
        os._exit(0)  # no cleanup: the app that owned our work is gone

    threading.Thread(target=watch, name=f"lifeline-{pid}", daemon=True).start()
