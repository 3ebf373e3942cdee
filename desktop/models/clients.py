"""Connected WebSocket clients and paired devices."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from ..formatting import local_time
from .table import KeyedTableModel

DOING: Final = (  # what a client does, from the channels it follows, most telling first
    ("approval", "approving"),
    ("photos", "following the photos"),
    ("jobs", "watching the work"),
    ("sessions", "following the sessions"),
    ("system", "watching the bridge"),
)
DETAILS_COLUMNS: Final = range(1, 9)  # the jargon, behind the view's "Details" toggle


def connected_for(connected_at: Any, now: datetime | None = None) -> str:
    """'connected just now', 'connected 5 min', 'connected 2 h 10 min'."""
    try:
        since = datetime.fromisoformat(str(connected_at).replace("Z", "+00:00"))
    except ValueError:
        return "connected"
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    minutes = int(((now or datetime.now(UTC)) - since).total_seconds() // 60)
    if minutes < 1:
        return "connected just now"
    if minutes < 60:
        return f"connected {minutes} min"
    return f"connected {minutes // 60} h {minutes % 60} min"


def client_sentence(row: dict[str, Any]) -> str:
    """ "Anna's Pixel 8, connected 5 min, approving"."""
    name = row.get("device_name") or row.get("client_name") or "An unnamed client"
    if not row.get("registered", True):
        return f"{name}, {connected_for(row.get('connected_at'))}, not introduced yet"
    channels = set(row.get("subscriptions") or [])
    doing = next((words for channel, words in DOING if channel in channels), "idle")
    return f"{name}, {connected_for(row.get('connected_at'))}, {doing}"


class ClientsModel(KeyedTableModel):
    """Every live client connection, from ClientRegistry.info()."""

    key = "client_id"
    columns = (
        ("Client", client_sentence),
        ("Type", lambda r: r.get("client_type") or ""),
        ("Name", lambda r: r.get("client_name") or "(not registered)"),
        ("Address", lambda r: r.get("address") or ""),
        ("Connected", lambda r: local_time(r.get("connected_at"))),
        ("Subscriptions", lambda r: ", ".join(r.get("subscriptions") or []) or "none"),
        ("Queue", lambda r: int(r.get("queue_depth") or 0)),
        ("Sent", lambda r: int(r.get("messages_sent") or 0)),
        (
            "Device",
            lambda r: (
                r.get("device_name")
                or ("trusted (this machine)" if not r.get("device_id") else r.get("device_id"))
            ),
        ),
    )

    def sort_key(self, row: dict[str, Any], column: int) -> Any:
        """Connected sorts by timestamp."""
        if column == 4:
            return row.get("connected_at") or ""
        return super().sort_key(row, column)


class StudioModel(KeyedTableModel):
    """Studio mode: every live bridge and worker sharing this library, with its load."""

    key = "name"
    columns = (
        ("Name", lambda r: r.get("name") or ""),
        ("Role", lambda r: str(r.get("role") or "").capitalize()),
        ("Host", lambda r: r.get("host") or ""),
        ("Jobs", lambda r: f"{int(r.get('running_jobs') or 0)} of {int(r.get('capacity') or 0)}"),
        ("Clients", lambda r: int(r.get("clients") or 0) if r.get("role") == "bridge" else ""),
        ("Since", lambda r: local_time(r.get("started_at"), seconds=False)),
    )


class DevicesModel(KeyedTableModel):
    """Paired devices (phones) that hold a token."""

    key = "device_id"
    columns = (
        ("Device", lambda r: r.get("device_name") or ""),
        ("Paired", lambda r: local_time(r.get("created_at"), seconds=False)),
        ("Last seen", lambda r: local_time(r.get("last_seen_at"), seconds=False) or "never"),
    )
