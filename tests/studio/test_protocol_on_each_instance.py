"""The project's own protocol tests, run against each bridge of a two-bridge studio (PostgreSQL
and Redis on loopback): a phone cannot tell a studio instance from the embedded bridge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bridge_server.app import BridgeServer
from bridge_server.services import sessions
from tests.helpers import events_shown, make_settings, wait_for
from tests.server import test_resume
from tests.server.test_resume import (  # noqa: F401 (collected here, on the studio bridges)
    test_resume_after_drop_replays_exactly_the_missed_events,
    test_resume_from_the_future_is_not_recovered,
    test_resume_only_replays_requested_channels,
)

# Not here: test_events_only_reach_subscribed_channels subscribes to every channel and expects
# the next event to be its own; two bridges' periodic system_status make that a race.
from tests.server.test_ws_protocol import (  # noqa: F401
    test_command_result_and_errors,
    test_error_codes,
    test_handshake_register_subscribe_and_receive,
    test_ping_pong,
    test_string_channels_is_not_a_list_of_letters,
    test_unsubscribe_stops_events,
)


@pytest.fixture(params=["instance_a", "instance_b"])
async def bridge(
    request: pytest.FixtureRequest, tmp_path: Path, studio: dict[str, Any]
) -> AsyncIterator[BridgeServer]:
    """One of two running bridges sharing a store and an event stream (the other runs too)."""
    servers = [BridgeServer(make_settings(tmp_path / name, **studio)) for name in ("a", "b")]
    started: list[BridgeServer] = []
    try:
        for server in servers:
            await server.start()
            started.append(server)

        async def quiet() -> bool:
            # Both have shown every start-up event of both: the test starts from a quiet stream.
            last = {s.context.broker.last_seq for s in servers}
            return all(events_shown(s) for s in servers) and len(last) == 1

        await wait_for(quiet, timeout=10, interval=0.01)
        yield servers[0] if request.param == "instance_a" else servers[1]
    finally:
        for server in reversed(started):
            await server.stop()


@pytest.fixture(autouse=True)
def sessions_shown_before_resume(monkeypatch: pytest.MonkeyPatch) -> None:
    """A resume replays what its instance has read back from the stream: the resume test makes
    its sessions, then waits for the round trip before the phone comes back."""

    async def make_and_wait(server: BridgeServer, names: list[str]) -> None:
        for name in names:
            await sessions.create_session(server.context, name)

        async def shown() -> bool:
            return events_shown(server)

        await wait_for(shown, timeout=10, interval=0.01)

    monkeypatch.setattr(test_resume, "_make_sessions", make_and_wait)
