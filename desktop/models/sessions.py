"""Sessions (shoots) with their progress."""

from __future__ import annotations

from typing import Any, Final

from ..formatting import local_time
from .table import KeyedTableModel

PROGRESS_COLUMN: Final = 2


def _progress(row: dict[str, Any]) -> float:
    return float(row.get("progress_percent") or 0.0)


class SessionsModel(KeyedTableModel):
    """One row per session, newest first."""

    key = "session_id"
    columns = (
        ("Session", lambda r: r.get("session_name") or ""),
        ("Status", lambda r: "Complete" if r.get("status") == "completed" else "In progress"),
        ("Progress", _progress),
        ("Photos", lambda r: int(r.get("total_photos") or 0)),
        ("Analysed", lambda r: int(r.get("processed_photos") or 0)),
        ("Waiting", lambda r: int(r.get("queued_photos") or 0)),
        ("Approved", lambda r: int(r.get("approved_photos") or 0)),
        ("Rejected", lambda r: int(r.get("rejected_photos") or 0)),
        ("Created", lambda r: local_time(r.get("created_at"), seconds=False)),
        ("Folder", lambda r: r.get("import_folder") or ""),
    )

    def sort_key(self, row: dict[str, Any], column: int) -> Any:
        """Created sorts by timestamp."""
        if column == 8:
            return row.get("created_at") or ""
        return super().sort_key(row, column)

    def in_progress(self) -> int:
        """Sessions not yet complete."""
        return sum(1 for r in self.rows() if r.get("status") != "completed")
