"""PostgreSQL and Redis on loopback for the studio-mode tests: a fresh database and a fresh Redis
key prefix per test. Unreachable servers skip those tests with the reason, and fail them under
CI=true (scripts/start-studio-services starts both there)."""

from __future__ import annotations

import asyncio
import os
import secrets
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest

# The role scripts/start-studio-services creates; override to use another server.
ADMIN_URL = os.environ.get(
    "AUTODEV_TEST_POSTGRES", "postgresql://autodev:autodev@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("AUTODEV_TEST_REDIS", "redis://127.0.0.1:6379/0")


def unavailable(what: str, exc: BaseException) -> None:
    """Skip (or, under CI=true, fail) a test whose server is not reachable."""
    reason = f"{what} not reachable on loopback ({exc}); run scripts/start-studio-services"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name`."""
    return url.rsplit("/", 1)[0] + "/" + name


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for this test (dropped after it)."""
    name = f"autodev_test_{secrets.token_hex(6)}"
    try:
        await _admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # refused, timed out, authentication or server errors
        unavailable("PostgreSQL", exc)
    yield with_database(ADMIN_URL, name)
    await drop_database(name)


async def drop_database(name: str) -> None:
    """Drop a test database; one still held by a server's background process is left behind."""
    import asyncpg

    for _ in range(20):
        try:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except asyncpg.PostgresError:  # an autovacuum worker of another role holds it
            await asyncio.sleep(0.25)
    warnings.warn(f"test database {name} could not be dropped", stacklevel=1)


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """The test Redis (checked reachable)."""
    from redis import asyncio as aioredis

    client: Any = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        unavailable("Redis", exc)
    await client.aclose()
    yield REDIS_URL


@pytest.fixture
async def studio_key(redis_url: str) -> AsyncIterator[str]:
    """A Redis key prefix only this test uses; its keys are removed after it."""
    from redis import asyncio as aioredis

    key = f"autodev-test-{secrets.token_hex(6)}"
    yield key
    client: Any = aioredis.Redis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{key}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
def studio(postgres_url: str, redis_url: str, studio_key: str) -> dict[str, Any]:
    """Settings overrides that put a bridge in studio mode on this test's database and keys."""
    return {"database_url": postgres_url, "redis_url": redis_url, "studio_key": studio_key}
