"""Connected WebSocket clients and paired devices."""

from __future__ import annotations

from typing import Any

from ..formatting import local_time
from .table import KeyedTableModel


class ClientsModel(KeyedTableModel):
    """Every live client connection, from ClientRegistry.info()."""

    key = "client_id"
    columns = (
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
        if column == 3:
            return row.get("connected_at") or ""
        return super().sort_key(row, column)


class DevicesModel(KeyedTableModel):
    """Paired devices (phones) that hold a token."""

    key = "device_id"
    columns = (
        ("Device", lambda r: r.get("device_name") or ""),
        ("Paired", lambda r: local_time(r.get("created_at"), seconds=False)),
        ("Last seen", lambda r: local_time(r.get("last_seen_at"), seconds=False) or "never"),
    )
