"""Hypothesis over the WebSocket message validation, through a real socket on loopback.

Any JSON value at any nesting, any string (lone surrogates and NUL included), raw non-JSON text:
every reply is a protocol frame (an `error` with a documented code, or an ordinary reply), or the
server closes with a documented close code; the server never logs a traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
websockets = pytest.importorskip("websockets")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402
from websockets.sync.client import ClientConnection, connect  # noqa: E402

from bridge_server.events import ALL_CHANNELS  # noqa: E402
from bridge_server.services.commands import COMMANDS  # noqa: E402
from tests.helpers import ThreadedBridge, make_settings  # noqa: E402

ERROR_CODES = {
    "invalid_json",
    "missing_type",
    "unknown_type",
    "invalid_message",
    "unknown_channel",
    "not_registered",
    "forbidden",
    "auth_failed",
    "rate_limited",
}
REPLIES = {
    "error",
    "pong",
    "registration_confirmed",
    "subscription_confirmed",
    "unsubscription_confirmed",
    "result",
}
CLEAN_CLOSES = {1000, 1001, 1009, 4001, 4008, 4029}
EXAMPLES = 200

# Every code point, lone surrogates (U+D800-U+DFFF) and NUL included.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=12)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | ANY_TEXT
)
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=16,
)
CHANNEL_LISTS = st.lists(st.sampled_from([*sorted(ALL_CHANNELS), "*"]) | ANY_TEXT, max_size=4)
MESSAGES = st.fixed_dictionaries(
    {"type": st.sampled_from(["ping", "register", "subscribe", "unsubscribe", "command"])},
    optional={
        "channels": CHANNEL_LISTS | JSON,
        "since": st.integers(-5, 10**12) | JSON,
        "client_type": ANY_TEXT | JSON,
        "client_name": ANY_TEXT | JSON,
        "token": ANY_TEXT,
        "id": st.integers() | ANY_TEXT | JSON,
        "command": st.sampled_from(sorted(COMMANDS)) | ANY_TEXT,
        "photo_id": ANY_TEXT | JSON,
        "job_id": ANY_TEXT | JSON,
        "priority": st.integers(-1, 5) | JSON,
        "reason": ANY_TEXT | JSON,
    },
)
# Deep nesting, kept under the 64 KiB frame limit (oversized frames have their own test).
NESTED = st.integers(1, 9_000).flatmap(
    lambda n: st.sampled_from(["[" * n + "]" * n, '{"a":' * n + "1" + "}" * n, "[" * n])
)
FRAMES = (
    JSON.map(json.dumps)
    | MESSAGES.map(json.dumps)
    | st.text(max_size=40)  # raw text, mostly not JSON
    | NESTED
)


def _strict_json(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"server sent {constant}, which browsers cannot parse")

    return json.loads(text, parse_constant=refuse)


class Session:
    """One registered socket, reopened whenever the server closes it (with a checked code)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ws: ClientConnection | None = None
        self._stack = contextlib.ExitStack()

    def socket(self) -> ClientConnection:
        """The open socket, registered as a trusted local script."""
        if self.ws is None:
            self._stack.close()
            self.ws = self._stack.enter_context(connect(self.url, open_timeout=10))
            assert _strict_json(self.ws.recv(timeout=10))["type"] == "connection_established"
            self.ws.send(json.dumps({"type": "register", "client_type": "fuzz"}))
            assert _strict_json(self.ws.recv(timeout=10))["type"] == "registration_confirmed"
        return self.ws

    def exchange(self, frame: str) -> list[dict[str, Any]]:
        """Send `frame`, then a ping; the replies before the pong (or [] after a clean close)."""
        ws = self.socket()
        replies: list[dict[str, Any]] = []
        try:
            ws.send(frame)
            ws.send('{"type": "ping"}')
            while True:
                reply = _strict_json(ws.recv(timeout=10))
                assert isinstance(reply, dict) and isinstance(reply.get("type"), str), reply
                if reply["type"] == "pong":
                    return replies
                replies.append(reply)
        except ConnectionClosed as closed:
            self.ws = None
            code = closed.rcvd.code if closed.rcvd is not None else None
            assert code in CLEAN_CLOSES, (code, frame[:200])
            return replies

    def close(self) -> None:
        """Close the socket if open."""
        self._stack.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedBridge]:
    """A bridge in a thread (the `websockets` sync client blocks)."""
    data: Path = tmp_path_factory.mktemp("fuzz-ws")
    with ThreadedBridge(make_settings(data / "data")) as bridge:
        yield bridge


def test_any_frame_gets_a_protocol_answer_or_a_clean_close(live, caplog) -> None:
    session = Session(live.url.replace("http://", "ws://") + "/ws")
    caplog.set_level(logging.ERROR)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(frame=FRAMES)
    def check(frame: str) -> None:
        for reply in session.exchange(frame):
            if reply["type"] == "error":
                assert reply["code"] in ERROR_CODES, reply
                assert isinstance(reply["error"], str) and reply["error"]
            else:
                assert reply["type"] in REPLIES or isinstance(reply.get("seq"), int), reply

    try:
        check()
    finally:
        session.close()
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert not tracebacks, tracebacks[0].getMessage()


def test_lone_surrogates_nul_and_deep_nesting_are_refused_with_an_error_frame(live) -> None:
    session = Session(live.url.replace("http://", "ws://") + "/ws")
    try:
        frames = [
            '{"type": "register", "client_name": "\\ud800"}',
            '{"type": "subscribe", "channels": ["jobs\\u0000"]}',
            "[" * 20_000 + "]" * 20_000,
            '{"type": "ping", "x": ' + "[" * 20_000 + "]" * 20_000 + "}",
            '{"type": "command", "id": NaN, "command": "pause_processing"}',
        ]
        for frame in frames:
            (reply,) = session.exchange(frame)
            assert reply["type"] == "error" and reply["code"] in ERROR_CODES, (frame[:60], reply)
        # The socket is still registered and usable.
        assert session.exchange('{"type": "subscribe", "channels": ["jobs"]}')[0]["channels"] == [
            "jobs"
        ]
    finally:
        session.close()
