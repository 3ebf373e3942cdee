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
