"""The process pool for pixel work. The event loop only awaits it; it never decodes itself."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from .lifeline import exit_when_gone

log = logging.getLogger(__name__)

T = TypeVar("T")

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
        self._warming: asyncio.Future[None] | None = None

    def _ensure(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # Each worker exits by itself when the app dies, even by SIGKILL.
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=_context(),
                initializer=exit_when_gone,
                initargs=(os.getpid(),),
            )
        return self._executor

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` in a worker process and await its result."""
        executor = self._ensure()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(executor, fn, *args)
        except BrokenProcessPool:
            log.error("A worker process died; starting a new pool")
            if self._executor is executor:
                executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
            raise

    async def warm_up(self) -> None:
        """Start the workers now rather than on the first photo."""
        from .worker import ping

        await asyncio.gather(*(self.run(ping) for _ in range(self.workers)))

    def start_in_background(self) -> None:
        """Spawn the workers from a thread: spawning takes long enough to stall the loop."""
        from .worker import ping

        executor = self._ensure()

        def spawn() -> None:
            try:
                for future in [executor.submit(ping) for _ in range(self.workers)]:
                    future.result(timeout=60)
            except Exception:  # a later run() reports pool problems where they matter
                log.debug("Worker warm-up failed", exc_info=True)

        self._warming = asyncio.get_running_loop().run_in_executor(None, spawn)

    async def close(self) -> None:
        """Shut the workers down without blocking the loop."""
        if self._warming is not None:
            await asyncio.gather(self._warming, return_exceptions=True)
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
