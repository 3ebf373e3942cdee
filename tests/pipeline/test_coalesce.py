"""Work done once per burst of changes (selection, session counts, metadata) is never lost."""

from __future__ import annotations

import sqlite3

from bridge_server.pipeline.coalesce import KeyedCoalescer
from tests.helpers import wait_for


def until(condition):
    """An async predicate for wait_for from a plain one."""

    async def check() -> bool:
        return bool(condition())

    return check


async def test_a_run_that_fails_on_a_busy_store_is_tried_again_until_it_succeeds(monkeypatch):
    """A selection run that meets 'database is locked' still proposes the session later,
    without anything else happening in it."""
    monkeypatch.setattr(KeyedCoalescer, "RETRY_SECONDS", 0.05)
    attempts: list[str] = []

    async def select_keepers(session_id: str) -> None:
        attempts.append(session_id)
        if len(attempts) < 3:
            raise sqlite3.OperationalError("database is locked")

    coalescer = KeyedCoalescer("Selection", 0.01, select_keepers)
    coalescer.schedule("s_1")
    await wait_for(until(lambda: len(attempts) == 3 and not coalescer.busy), timeout=10)
    assert attempts == ["s_1"] * 3
    assert not coalescer.retrying("s_1")


async def test_a_run_that_always_fails_gives_up_and_a_stop_runs_what_was_waiting(monkeypatch):
    monkeypatch.setattr(KeyedCoalescer, "RETRY_SECONDS", 0.01)
    attempts: list[str] = []

    async def broken(key: str) -> None:
        attempts.append(key)
        raise RuntimeError("a bug, not a busy store")

    coalescer = KeyedCoalescer("Selection", 0.01, broken)
    coalescer.schedule("s_1")
    await wait_for(until(lambda: not coalescer.busy and len(attempts) > 1), timeout=10)
    assert len(attempts) == 1 + KeyedCoalescer.RETRIES  # the first run and every retry, no more

    done: list[str] = []

    async def slow_then_ok(key: str) -> None:
        done.append(key)
        if len(done) == 1:
            raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(KeyedCoalescer, "RETRY_SECONDS", 60.0)
    waiting = KeyedCoalescer("Metadata", 0.01, slow_then_ok)
    waiting.schedule("p_1")
    await wait_for(until(lambda: waiting.retrying("p_1")), timeout=10)  # in a minute
    await waiting.stop()  # a stop does not wait a minute, and does not drop it
    assert done == ["p_1", "p_1"] and not waiting.busy
