"""Machine and bridge health: the snapshot behind system_status and resource warnings."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Final

import psutil

from .. import events
from ..config import Settings
from ..context import BridgeContext

log = logging.getLogger(__name__)

STATUS_INTERVAL: Final = 10.0
CHANGE_COALESCE: Final = 1.0


def _existing_parent(path: str) -> str:
    p = Path(path).expanduser()
    while not p.exists() and p != p.parent:
        p = p.parent
    return str(p)


def disk_free_mb(path: str) -> float:
    """Free space, in MiB, on the file system that holds (or will hold) `path`."""
    return round(psutil.disk_usage(_existing_parent(path)).free / 2**20, 1)


def machine_figures(settings: Settings) -> dict[str, Any]:
    """CPU, memory and free disk: blocking (a NAS path can take seconds), so call in a thread."""
    memory = psutil.virtual_memory()
    return {
        "cpu_percent": psutil.cpu_percent(interval=None),
        "memory_percent": memory.percent,
        "memory_available_mb": round(memory.available / 2**20, 1),
        "disk_free_mb": {
            "library": disk_free_mb(settings.library_dir),
            "export": disk_free_mb(settings.export_dir),
        },
    }


def snapshot(ctx: BridgeContext, machine: dict[str, Any] | None = None) -> dict[str, Any]:
    """The bridge's status with the machine's figures (the monitor's latest when it runs).

    Without a running monitor the figures are measured here, which blocks: callers on the
    event loop get them from the monitor, callers without one run this in a thread.
    """
    if machine is None:
        latest = ctx.system.latest if ctx.system is not None else None
        machine = latest if latest is not None else machine_figures(ctx.settings)
    queue = ctx.queue_status.latest if ctx.queue_status is not None else {}
    paused = ctx.runner.paused if ctx.runner is not None else False
    return {
        "status": "paused" if paused else "running",
        "paused": paused,
        **machine,
        "clients": len(ctx.clients),
        "queue": queue,
        "last_seq": ctx.broker.last_seq,
    }


class SystemMonitor:
    """Publishes system_status periodically and on change, and resource warnings on crossing.

    The machine's figures are measured in a worker thread; the latest are kept for callers on
    the loop (`snapshot`), so nothing here blocks the event loop.
    """

    def __init__(self, ctx: BridgeContext, interval: float = STATUS_INTERVAL) -> None:
        self._ctx = ctx
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._warned: set[str] = set()
        self._soon: asyncio.TimerHandle | None = None
        self._checking: asyncio.Task[None] | None = None
        self.latest: dict[str, Any] | None = None

    async def start(self) -> None:
        """Measure once, then run the periodic loop and publish soon after clients change."""
        # Primes cpu_percent too: its first call always says 0.0.
        self.latest = await asyncio.to_thread(machine_figures, self._ctx.settings)
        self._ctx.system = self
        self._task = asyncio.get_running_loop().create_task(self._run(), name="system-monitor")
        self._ctx.clients.on_change(self.changed)

    def changed(self) -> None:
        """Something in the status changed: publish within a second (once for a burst)."""
        if self._soon is None and self._task is not None:
            self._soon = asyncio.get_running_loop().call_later(CHANGE_COALESCE, self._fire)

    def _fire(self) -> None:
        self._soon = None
        if self._checking is None and self._task is not None:
            self._checking = asyncio.get_running_loop().create_task(self._check_logged())

    async def _check_logged(self) -> None:
        try:
            await self.check()
        except Exception:
            log.exception("System monitor failed")
        finally:
            self._checking = None

    async def stop(self) -> None:
        """End the loop."""
        self._ctx.clients.off_change(self.changed)
        if self._soon is not None:
            self._soon.cancel()
            self._soon = None
        for task in (self._task, self._checking):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._task = self._checking = None
        if self._ctx.system is self:
            self._ctx.system = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.check()
            except Exception:
                log.exception("System monitor failed")

    async def check(self) -> dict[str, Any]:
        """Measure (in a thread), publish a status now and any warnings whose threshold crossed."""
        self.latest = await asyncio.to_thread(machine_figures, self._ctx.settings)
        details = snapshot(self._ctx, self.latest)
        self._ctx.broker.publish(events.system_status(details["status"], details))
        settings = self._ctx.settings
        for name, free in details["disk_free_mb"].items():
            self._threshold(
                f"disk_{name}",
                free < settings.disk_warning_mb,
                free,
                settings.disk_warning_mb,
                f"Only {free / 1024:.1f} GiB free for the {name} folder",
            )
        self._threshold(
            "memory",
            details["memory_percent"] > settings.memory_warning_percent,
            details["memory_percent"],
            settings.memory_warning_percent,
            f"Memory is {details['memory_percent']:.0f}% used",
        )
        return details

    def _threshold(
        self, resource: str, crossed: bool, value: float, threshold: float, message: str
    ) -> None:
        # Warn once on crossing, again only after it recovered.
        if crossed and resource not in self._warned:
            self._warned.add(resource)
            self._ctx.broker.publish(events.resource_warning(resource, value, threshold, message))
        elif not crossed:
            self._warned.discard(resource)
