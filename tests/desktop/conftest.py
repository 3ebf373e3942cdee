"""The desktop on a qasync loop: a real BridgeServer on 127.0.0.1 and the main window.

Tests are plain functions that drive the loop with `desk.run(coro)`; waiting happens inside
coroutines (`desk.until(...)`) so that asyncio and Qt events are both processed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from PyQt6.QtWidgets import QApplication

from desktop.app import DesktopApp
from desktop.controller import BridgeModels
from desktop.window import MainWindow
from tests.helpers import make_settings

T = TypeVar("T")


class Desk:
    """A started DesktopApp and the loop it runs on."""

    def __init__(self, loop: qasync.QEventLoop, app: DesktopApp) -> None:
        self.loop = loop
        self.app = app

    @property
    def window(self) -> MainWindow:
        """The main window."""
        assert self.app.window is not None
        return self.app.window

    @property
    def models(self) -> BridgeModels:
        """The window's models."""
        assert self.app.models is not None
        return self.app.models

    @property
    def ctx(self) -> Any:
        """The bridge context."""
        return self.app.server.context

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self.app.server.port}"

    def run(self, coro: Awaitable[T], timeout: float = 30.0) -> T:
        """Run a coroutine on the qasync loop (Qt events are processed meanwhile)."""
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    async def until(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
    ) -> Any:
        """Wait, with the loop running, until `predicate()` is truthy."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}: {value!r}")
            await asyncio.sleep(0.02)


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """A qasync loop over the test QApplication, set as the current loop."""
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def start_desk(loop: qasync.QEventLoop, data_dir: Path, **overrides: Any) -> Desk:
    """Start a DesktopApp (no tray) on `loop` with its own data folder."""
    app = DesktopApp(make_settings(data_dir, **overrides), use_tray=False)
    desk = Desk(loop, app)
    desk.run(app.start())
    return desk


@pytest.fixture
def desk(qloop: qasync.QEventLoop, tmp_path: Path) -> Iterator[Desk]:
    """A started desktop app with its window shown (offscreen)."""
    desk = start_desk(qloop, tmp_path / "data")
    try:
        yield desk
    finally:
        desk.run(desk.app.stop())
        desk.window.deleteLater()
        QApplication.processEvents()


async def import_and_settle(
    desk: Desk, paths: list[str] | None = None, session_name: str = "Sample photos"
) -> dict[str, Any]:
    """Import photos through the window's action and wait for analysis and selection."""
    from desktop.paths import sample_photos
    from tests.helpers import jobs_settled

    task = desk.models.import_paths(paths or sample_photos(), session_name)
    report = await task
    server = desk.app.server
    deadline = time.monotonic() + 120
    while not await jobs_settled(server):
        assert time.monotonic() < deadline, "analysis did not finish"
        await asyncio.sleep(0.1)
    from bridge_server.services.approvals import approval_queue

    # The store's queue, photo for photo (not only the model's own count of it).
    photos, waiting = await approval_queue(server.context, None, 500, 0)
    queued = sorted(p["photo_id"] for p in photos)
    await desk.until(
        lambda: (
            sorted(desk.models.queue.photo_ids()) == queued
            and desk.models.approval_count == waiting
        ),
        timeout=30,
        what="the approval grid to match the store's queue",
    )
    return report
