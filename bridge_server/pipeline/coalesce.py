"""Run an async action once per key for a burst of requests (per session, say)."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Final

log = logging.getLogger(__name__)


class KeyedCoalescer:
    """`action(key)` at most once per `delay` seconds however often `schedule(key)` is called.

    The first request after a quiet spell runs at once (a single new photo is proposed without
    waiting); requests during the next `delay` seconds share one run at its end. A run that
    fails (the store busy past its timeout, say) is tried again a few times, later each time,
    so a session is not left unproposed until something else happens in it.
    """

    RETRIES: Final = 4
    RETRY_SECONDS: Final = 1.0

    def __init__(self, name: str, delay: float, action: Callable[[str], Awaitable[object]]) -> None:
        self._name = name
        self._delay = delay
        self._action = action
        self._scheduled: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_fired: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._retries: dict[str, asyncio.TimerHandle] = {}
        self._stopping = False

    @property
    def busy(self) -> bool:
        """Whether a run is scheduled or running."""
        return (
            bool(self._scheduled) or bool(self._retries) or any(not t.done() for t in self._tasks)
        )

    def retrying(self, key: str) -> bool:
        """Whether a failed run for `key` waits to be tried again."""
        return key in self._retries

    def schedule(self, key: str) -> None:
        """Run the action for `key` soon, once for however many requests arrive meanwhile."""
        if key not in self._scheduled:
            loop = asyncio.get_running_loop()
            wait = self._last_fired.get(key, -math.inf) + self._delay - loop.time()
            self._scheduled[key] = loop.call_later(max(0.0, wait), self._fire, key)

    def _fire(self, key: str) -> None:
        self._scheduled.pop(key, None)
        loop = asyncio.get_running_loop()
        now = loop.time()
        # Forget keys quiet for a while, so the map stays as small as the active sessions.
        for old in [k for k, t in self._last_fired.items() if now - t > self._delay]:
            del self._last_fired[old]
        self._last_fired[key] = now
        task = asyncio.get_running_loop().create_task(self.run(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self, key: str) -> None:
        """Run the action now; failures are logged and retried, never raised into the loop."""
        try:
            await self._action(key)
        except Exception:
            failures = self._failures.get(key, 0) + 1
            if failures > self.RETRIES or self._stopping:
                self._failures.pop(key, None)
                log.exception("%s failed for %s; not tried again", self._name, key)
                return
            self._failures[key] = failures
            log.warning(
                "%s failed for %s; trying again (%d of %d)",
                self._name,
                key,
                failures,
                self.RETRIES,
                exc_info=True,
            )
            if key not in self._retries:
                loop = asyncio.get_running_loop()
                wait = self.RETRY_SECONDS * 2 ** (failures - 1)
                self._retries[key] = loop.call_later(wait, self._retry, key)
        else:
            self._failures.pop(key, None)

    def _retry(self, key: str) -> None:
        self._retries.pop(key, None)
        self.schedule(key)

    async def stop(self) -> None:
        """Run what is scheduled now and wait for running actions, so nothing is skipped."""
        self._stopping = True
        pending = list(dict.fromkeys([*self._scheduled, *self._retries]))
        for handle in [*self._scheduled.values(), *self._retries.values()]:
            handle.cancel()
        self._scheduled.clear()
        self._retries.clear()
        for key in pending:
            await self.run(key)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
