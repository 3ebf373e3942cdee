"""Limits and builders of the WebSocket messages the server sends itself."""

from __future__ import annotations

from typing import Any, Final

from ..timeutil import now_iso

PROTOCOL_VERSION: Final = 1
MAX_FRAME_BYTES: Final = 64 * 1024
MAX_INVALID_IN_A_ROW: Final = 20
HEARTBEAT_SECONDS: Final = 20.0
# Waiting for a client to take the close frame (and answer it) ends here; then the socket is cut.
CLOSE_TIMEOUT: Final = 10.0

# Every frame a client can make the server queue counts (events, replays, replies, pongs,
# errors). A client above the peak for the peak time, or at the hard cap at any moment, is too
# slow and is closed with 4008 (Home Assistant's PENDING_MSG_PEAK / MAX_PENDING_MSG idea).
MAX_PENDING_FRAMES: Final = 2048
MAX_PENDING_BYTES: Final = 8 * 1024 * 1024
PENDING_PEAK_FRAMES: Final = 512
PENDING_PEAK_SECONDS: Final = 5.0
CLIENT_TYPE_MAX: Final = 32
CLIENT_NAME_MAX: Final = 64
TOKEN_MAX: Final = 256

CLOSE_GOING_AWAY: Final = 1001
CLOSE_TOO_BIG: Final = 1009
CLOSE_AUTH: Final = 4001
CLOSE_REGISTER_TIMEOUT: Final = 4002
CLOSE_FORBIDDEN: Final = 4003
CLOSE_TOO_SLOW: Final = 4008
CLOSE_BY_OPERATOR: Final = 4009
CLOSE_TOO_MANY_INVALID: Final = 4029


def error_message(code: str, message: str) -> dict[str, Any]:
    """A protocol error frame."""
    return {"type": "error", "code": code, "error": message, "timestamp": now_iso()}


def result_ok(command_id: Any, data: dict[str, Any]) -> dict[str, Any]:
    """A successful command result."""
    return {"type": "result", "id": command_id, "success": True, "data": data}


def result_error(command_id: Any, code: str, message: str) -> dict[str, Any]:
    """A failed command result."""
    return {
        "type": "result",
        "id": command_id,
        "success": False,
        "error": {"code": code, "message": message},
    }
