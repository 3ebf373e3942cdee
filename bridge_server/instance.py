"""One running bridge per data folder: a lock file the operating system releases with its process.

The lock is an advisory OS lock (flock, or msvcrt on Windows) on `<data folder>/instance.lock`,
so a process killed with SIGKILL cannot leave it held. The file also records the holder's process
id and address; finding a record while the lock is free means the last holder died without
cleaning up (a stale lock), which is logged and taken over.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

log = logging.getLogger(__name__)

LOCK_FILE: Final = "instance.lock"
# Windows locks are mandatory: lock one byte past the record so others can still read it.
_WINDOWS_LOCK_OFFSET: Final = 1 << 20


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) the lock: a process id and the address it serves, once known."""

    pid: int
    url: str = ""


class AlreadyRunning(Exception):
    """Another running process holds the data folder."""

    def __init__(self, data_dir: Path, holder: Holder | None) -> None:
        who = ""
        if holder is not None:
            who = f" (process {holder.pid}" + (f", {holder.url}" if holder.url else "") + ")"
        super().__init__(
            f"AutoDev Bridge is already running on the data folder {data_dir}{who}. Use that "
            "instance, stop it first, or start this one with another --data-dir."
        )
        self.holder = holder


def _try_lock(fh: IO[str]) -> bool:
    """Take the OS lock without waiting; False when another process holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            fh.seek(_WINDOWS_LOCK_OFFSET)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fh: IO[str]) -> None:
    if sys.platform == "win32":
        import msvcrt

        fh.seek(_WINDOWS_LOCK_OFFSET)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def read_holder(path: Path) -> Holder | None:
    """The record in a lock file, or None when it is empty or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "null")
        return Holder(pid=int(data["pid"]), url=str(data.get("url") or ""))
    except (OSError, ValueError, TypeError, KeyError):
        return None


class InstanceLock:
    """Hold the data folder for this process; `acquire` raises AlreadyRunning if it is taken."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.path = self.data_dir / LOCK_FILE
        self.stale: Holder | None = None  # the record a dead holder left, if any
        self._fh: IO[str] | None = None

    @property
    def held(self) -> bool:
        """Whether this process holds the lock."""
        return self._fh is not None

    def acquire(self) -> None:
        """Take the lock, or raise AlreadyRunning naming the running process."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Opened without truncating: the record belongs to whoever holds the lock.
        fh = open(self.path, "a+", encoding="utf-8")  # kept open while held
        if not _try_lock(fh):
            fh.close()
            raise AlreadyRunning(self.data_dir, read_holder(self.path))
        self._fh = fh
        previous = read_holder(self.path)
        if previous is not None and previous.pid != os.getpid():
            self.stale = previous
            log.warning(
                "Took over a stale lock on %s: process %d stopped without releasing it",
                self.data_dir,
                previous.pid,
            )
        self.record("")

    def record(self, url: str) -> None:
        """Write this process's id and address into the lock file."""
        fh = self._fh
        if fh is None:
            raise RuntimeError("the instance lock is not held")
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "url": url}))
        fh.flush()

    def release(self) -> None:
        """Clear the record and let the lock go (the file stays: unlinking it would race)."""
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            fh.seek(0)
            fh.truncate()
            fh.flush()
            _unlock(fh)
        finally:
            fh.close()
