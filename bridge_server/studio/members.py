"""Who is in the studio: every bridge and worker refreshes a short-lived Redis key with its load.

A key expires TTL seconds after its instance stopped refreshing it, so a killed machine drops
out of the list by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from ..timeutil import now_iso

if TYPE_CHECKING:
    from ..context import BridgeContext
    from .backplane import RedisBackplane

log = logging.getLogger(__name__)

INTERVAL: Final = 2.0  # seconds between refreshes
TTL: Final = 10  # seconds a member stays listed without a refresh


def member_key(prefix: str, name: str) -> str:
    """The Redis key of one member."""
    return f"{prefix}:member:{name}"


class Heartbeat:
    """Refreshes this instance's member key until stopped, then removes it."""

    def __init__(
        self,
        ctx: BridgeContext,
        backplane: RedisBackplane,
        info: Callable[[], dict[str, object]],
    ) -> None:
        self._ctx = ctx
        self._redis = backplane.redis
        self._key = member_key(ctx.settings.studio_key, ctx.instance_name)
        self._info = info
        self._started = now_iso()
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def start(self) -> None:
        """Begin refreshing."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="studio-heartbeat")

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.beat()
            except Exception as exc:  # Redis away: the backplane reports it
                log.debug("Studio heartbeat failed: %s", exc)
            # Never cancelled inside a Redis command: the stop is awaited here instead.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), INTERVAL)

    async def beat(self) -> None:
        """Write this instance's entry now."""
        entry = {
            "name": self._ctx.instance_name,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": self._started,
            "seen": time.time(),
            **self._info(),
        }
        await self._redis.set(self._key, json.dumps(entry), ex=TTL)

    async def stop(self) -> None:
        """Stop refreshing and leave the list at once."""
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            await self._redis.delete(self._key)
        except Exception as exc:  # it expires by itself
            log.debug("Could not remove the studio member key: %s", exc)


def studio_summary(members: list[dict[str, Any]], backplane: dict[str, Any]) -> str:
    """One line for the desktop: who is in the studio, or what is down and what it means."""
    if not backplane.get("ok"):
        return (
            f"Studio event stream (Redis) unreachable: {backplane.get('error')}. Decisions are "
            "stored in PostgreSQL; live updates resume when Redis is back."
        )
    bridges = sum(1 for m in members if m.get("role") == "bridge")
    workers = len(members) - bridges
    running = sum(int(m.get("running_jobs") or 0) for m in members)
    return (
        f"Studio: {bridges} bridge{'s' if bridges != 1 else ''}, "
        f"{workers} worker{'s' if workers != 1 else ''}, {running} job(s) running"
    )


async def list_members(ctx: BridgeContext) -> list[dict[str, Any]]:
    """Every live bridge and worker of this studio, bridges first, by name."""
    backplane = ctx.backplane
    if backplane is None:
        return []
    redis = backplane.redis
    keys = [k async for k in redis.scan_iter(match=member_key(ctx.settings.studio_key, "*"))]
    values = await redis.mget(keys) if keys else []
    members = [json.loads(v) for v in values if v]
    return sorted(members, key=lambda m: (m.get("role") != "bridge", str(m.get("name"))))
