"""The process pool for pixel work. The event loop only awaits it; it never decodes itself.

Besides its workers (one per core) the pool keeps one express worker: a photo the
photographer is waiting for (a hot-folder arrival) starts on it at once instead of queuing
until a busy worker finishes a photo of the backlog. The regular workers run at a lower CPU
priority (BACKLOG_NICE), so the express worker, and the app's own event loop, get the cores
first whenever they want them; the regular workers still get every core the others leave idle.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Final, TypeVar

from .lifeline import exit_when_gone

log = logging.getLogger(__name__)

T = TypeVar("T")

BACKLOG_NICE: Final = 10  # added to the regular workers' niceness (0: the express worker's)

# Imported once by the fork server, so each worker starts with them loaded. The lifeline makes
# the fork server exit with the app.
PRELOAD = [
    "bridge_server.pipeline.forkserver_lifeline",
    "numpy",
    "PIL.Image",
    "cv2",
    "bridge_server.pipeline.worker",
]


def _context() -> multiprocessing.context.BaseContext:
    # Never plain fork: the parent holds Qt and threads. forkserver where available.
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        ctx.set_forkserver_preload(PRELOAD)
    return ctx


class PixelPool:
    """A process pool that survives a crashed worker by starting a fresh pool."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._executor: ProcessPoolExecutor | None = None
        self._express: ProcessPoolExecutor | None = None
        self._warming: asyncio.Future[None] | None = None

    def _ensure(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = _executor(self.workers, BACKLOG_NICE)
        return self._executor

    def _ensure_express(self) -> ProcessPoolExecutor:
        if self._express is None:
            self._express = _executor(1, 0)
        return self._express

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` in a worker process and await its result."""
        return await self._run(self._ensure(), fn, *args)

    async def run_express(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the express worker, beside whatever fills the others."""
        return await self._run(self._ensure_express(), fn, *args)

    async def _run(self, executor: ProcessPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(executor, fn, *args)
        except BrokenProcessPool:
            log.error("A worker process died; starting a new pool")
            executor.shutdown(wait=False, cancel_futures=True)
            if self._executor is executor:
                self._executor = None
            if self._express is executor:
                self._express = None
            raise

    async def warm_up(self) -> None:
        """Start the workers now rather than on the first photo."""
        from .worker import ping

        await asyncio.gather(*(self.run(ping) for _ in range(self.workers)), self.run_express(ping))

    def start_in_background(self) -> None:
        """Spawn the workers from a thread: spawning takes long enough to stall the loop."""
        from .worker import ping

        executor, express = self._ensure(), self._ensure_express()

        def spawn() -> None:
            try:
                pings = [executor.submit(ping) for _ in range(self.workers)]
                for future in [*pings, express.submit(ping)]:
                    future.result(timeout=60)
            except Exception:  # a later run() reports pool problems where they matter
                log.debug("Worker warm-up failed", exc_info=True)

        self._warming = asyncio.get_running_loop().run_in_executor(None, spawn)

    async def close(self) -> None:
        """Shut the workers down without blocking the loop."""
        if self._warming is not None:
            await asyncio.gather(self._warming, return_exceptions=True)
        executors = [e for e in (self._executor, self._express) if e is not None]
        self._executor = self._express = None
        for executor in executors:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)


def _executor(workers: int, nice: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_context(),
        initializer=start_worker,
        initargs=(os.getpid(), nice),
    )


def start_worker(parent_pid: int, nice: int) -> None:
    """In each new worker: exit when the app dies (even by SIGKILL); lower the CPU priority;
    keep OpenCV to one thread."""
    exit_when_gone(parent_pid)
    # The pool already runs one photo per core: OpenCV's own thread pool would only make the
    # workers contend for the same cores (about 7 % more CPU per photo, measured).
    import cv2

    cv2.setNumThreads(1)
    if nice and hasattr(os, "nice"):  # Windows has no nice: every worker runs alike there
        os.nice(nice)
