"""Hot folders: new files are imported once their writing has finished (size stable).

A card reader copies a file over seconds; importing it half-written would hash and analyse
garbage. Each candidate is imported only after its size and mtime stay the same for
STABLE_SECONDS; a JPEG that already ends with its end-of-image marker needs only to hold still
across one QUICK_SECONDS check, so a tethered shot reaches the approval queue within a second.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

from watchfiles import Change, awatch

from ..imaging.formats import is_supported

log = logging.getLogger(__name__)

STABLE_SECONDS: Final = 1.0
QUICK_SECONDS: Final = 0.1  # how often pending files are checked; enough for a complete JPEG
JPEG_SUFFIXES: Final = frozenset({".jpg", ".jpeg"})
JPEG_END: Final = b"\xff\xd9"  # EOI: a JPEG written to its end finishes with it
WATCH_TICK_MS: Final = 250  # the watch yields at least this often, even with nothing new

ImportCallback = Callable[[Path, list[Path]], Awaitable[None]]
Stamp = tuple[int, int, bool]  # size, mtime in ns, a JPEG written to its end


def shoot_folder(root: Path, path: Path) -> Path:
    """The folder naming the shoot: the first sub-folder under the hot folder, or the root."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        return path.parent
    return root / relative.parts[0] if len(relative.parts) > 1 else root


SETTLE_TASK: Final = "hot-folder-settle"


class HotFolderWatcher:
    """Watches folders recursively and hands stable new files to `on_files`, per shoot."""

    def __init__(
        self, folders: list[str], on_files: ImportCallback, stable_seconds: float = STABLE_SECONDS
    ) -> None:
        self._roots = [Path(f).expanduser() for f in folders]
        self._on_files = on_files
        self._stable_seconds = stable_seconds
        # path -> (size, mtime, complete) last seen, and when that stamp was first seen.
        self._pending: dict[Path, tuple[Stamp, float] | None] = {}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()

    def start(self, scan_existing: bool = True) -> None:
        """Begin watching (and pick up files already there)."""
        loop = asyncio.get_running_loop()
        roots = [r for r in self._roots if r.is_dir()]
        for missing in set(self._roots) - set(roots):
            log.warning("Hot folder %s does not exist; not watching it", missing)
        if not roots:
            return
        self._tasks.append(
            loop.create_task(self._watch(roots, scan_existing), name="hot-folder-watch")
        )
        self._tasks.append(loop.create_task(self._settle(), name=SETTLE_TASK))

    async def stop(self) -> None:
        """Stop watching; an import already handed over finishes first."""
        self._stop.set()
        self._wake.set()
        for task in self._tasks:
            # The settle task is not cancelled: it ends by itself once the import in flight is
            # done. Cancelled halfway, an import could leave a moved file without its row.
            if task.get_name() != SETTLE_TASK:
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _scan(self, roots: list[Path]) -> None:
        def walk() -> list[Path]:
            return [p for r in roots for p in r.rglob("*") if p.is_file()]

        for path in await asyncio.to_thread(walk):
            self._note(path)

    async def _watch(self, roots: list[Path], scan_existing: bool) -> None:
        # The scan starts only once the watch is in place (its first tick), so a file that
        # lands while the app starts is seen by one or the other, never missed by both.
        scan: asyncio.Task[None] | None = None
        async for changes in awatch(
            *roots,
            stop_event=self._stop,
            recursive=True,
            debounce=200,
            step=20,  # a burst's events are handed over 20 ms after its last one
            rust_timeout=WATCH_TICK_MS,
            yield_on_timeout=True,
        ):
            if scan is None and scan_existing:
                scan = asyncio.get_running_loop().create_task(
                    self._scan(roots), name="hot-folder-scan"
                )
                self._tasks.append(scan)
            for change, raw in changes:
                if change in (Change.added, Change.modified):
                    self._note(Path(raw))

    def _note(self, path: Path) -> None:
        if path.name.startswith(".") or not is_supported(path):
            return
        self._pending.setdefault(path, None)
        self._wake.set()

    async def _settle(self) -> None:
        while not self._stop.is_set():
            await self._wake.wait()
            while self._pending and not self._stop.is_set():
                # A new file is looked at once on sight (its first stamp), so a complete JPEG
                # is ready one quiet check later rather than two.
                # The thread only stats a copy; `_pending` is changed on the loop alone.
                stamps = await asyncio.to_thread(_stat_all, list(self._pending))
                ready = self._take_stable(stamps, time.monotonic())
                if ready:
                    await self._dispatch(ready)
                if self._pending:
                    await asyncio.sleep(min(QUICK_SECONDS, self._stable_seconds))
            self._wake.clear()

    def _take_stable(self, stamps: dict[Path, Stamp | None], now: float) -> list[Path]:
        """Files whose writing has finished leave `_pending` (on the loop)."""
        ready: list[Path] = []
        for path, stamp in stamps.items():
            if path not in self._pending:
                continue
            seen = self._pending[path]
            if stamp is None:
                self._pending.pop(path)  # gone again (a temp file of the copier)
            elif seen is None or seen[0] != stamp or stamp[0] == 0:
                self._pending[path] = (stamp, now)
            elif stamp[2] or now - seen[1] >= self._stable_seconds:
                ready.append(path)
                self._pending.pop(path)
        return ready

    async def _dispatch(self, ready: list[Path]) -> None:
        by_shoot: dict[Path, list[Path]] = {}
        for path in ready:
            root = next((r for r in self._roots if path.is_relative_to(r)), path.parent)
            by_shoot.setdefault(shoot_folder(root, path), []).append(path)
        for folder, files in by_shoot.items():
            if self._stop.is_set():
                return  # stopping: these stay in the folder for the next start's scan
            try:
                await self._on_files(folder, sorted(files))
            except Exception:
                log.exception("Import from hot folder %s failed", folder)


def _stat_all(paths: list[Path]) -> dict[Path, Stamp | None]:
    """Size, mtime and completeness of each path, None for a path that is gone (in a thread)."""
    stamps: dict[Path, Stamp | None] = {}
    for path in paths:
        try:
            st = os.stat(path)
            stamps[path] = (st.st_size, st.st_mtime_ns, _jpeg_complete(path, st.st_size))
        except OSError:
            stamps[path] = None
    return stamps


def _jpeg_complete(path: Path, size: int) -> bool:
    """Whether a JPEG file already ends with its end-of-image marker (any other file: no)."""
    if path.suffix.lower() not in JPEG_SUFFIXES or size < 4:
        return False
    with path.open("rb") as fh:
        fh.seek(size - 2)
        return fh.read(2) == JPEG_END
