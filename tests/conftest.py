"""Shared fixtures: a real bridge on loopback with its own data folder, and an HTTP client."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bridge_server.app import BridgeServer
from bridge_server.config import Settings
from tests.helpers import make_settings
from tests.studio_services import postgres_url, redis_url, studio, studio_key  # noqa: F401


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default test settings in a fresh folder."""
    return make_settings(tmp_path / "data")


@pytest.fixture
async def bridge(settings: Settings) -> AsyncIterator[BridgeServer]:
    """A started bridge on 127.0.0.1, its start-up catch-up done; stopped after the test.

    Tests that write rows directly would otherwise race the catch-up's re-analysis scan.
    """
    server = BridgeServer(settings)
    await server.start()
    await server.pipeline.caught_up()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def strict_bridge(tmp_path: Path) -> AsyncIterator[BridgeServer]:
    """A bridge that treats loopback like a phone on the LAN: every API call needs a token."""
    server = BridgeServer(make_settings(tmp_path / "d", require_token_on_loopback=True))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client session."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(scope="session")
def photo_set(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real photographs (scikit-image's) with EXIF, degraded variants, a burst, broken files."""
    from tests.fixtures.photos import write_photo_set

    return write_photo_set(tmp_path_factory.mktemp("photo_set"))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings overrides for the embedded store, or for studio mode on PostgreSQL and Redis
    (a test taking it runs on both)."""
    if request.param == "sqlite":
        return {}
    return dict(request.getfixturevalue("studio"))


# A test still running this long (pytest-timeout stops it at 300 s) prints what every asyncio
# task of its running loop awaits: the thread stacks pytest-timeout prints show only an idle
# loop when a coroutine waits for something that never comes.
HANG_REPORT_AFTER_S = float(os.environ.get("AUTODEV_TEST_HANG_REPORT_S", "240"))


def _report_waiting_tasks(name: str) -> None:
    import asyncio
    import gc
    import sys

    loops = [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop)]
    for loop in (lp for lp in loops if lp.is_running()):
        try:
            tasks = list(asyncio.all_tasks(loop))
        except RuntimeError:  # the set changed while read: one more try
            tasks = list(asyncio.all_tasks(loop))
        print(f"\n--- {name}: still running; {len(tasks)} asyncio tasks ---", file=sys.stderr)
        for task in tasks:
            print(f"task {task.get_name()}: {task!r}"[:400], file=sys.stderr)
            task.print_stack(limit=15, file=sys.stderr)
    sys.stderr.flush()


@pytest.fixture(autouse=True)
def report_a_hang(request: pytest.FixtureRequest) -> Any:
    """Print the asyncio tasks of a test that hangs, before it is stopped."""
    import threading

    timer = threading.Timer(HANG_REPORT_AFTER_S, _report_waiting_tasks, (request.node.nodeid,))
    timer.daemon = True
    timer.start()
    yield
    timer.cancel()
