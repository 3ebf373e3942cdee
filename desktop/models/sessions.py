"""Sessions (shoots) with their progress."""

from __future__ import annotations

from typing import Any, Final

from PyQt6.QtCore import QObject, QSortFilterProxyModel

from ..formatting import local_time
from .table import Index, KeyedTableModel

PROGRESS_COLUMN: Final = 2
RECENT_SESSIONS: Final = 10  # the overview's list; the Sessions page lists every session


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


class RecentSessionsProxy(QSortFilterProxyModel):
    """The newest RECENT_SESSIONS sessions: the first rows of the model, which holds them newest
    first (a new session arrives at the top, older ones page in at the bottom); sortable.

    The overview's list stays short, and does not grow or repaint as the Sessions page brings
    in older sessions a page at a time (that repaint cost each page about 10 ms).
    """

    def __init__(self, sessions: SessionsModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSourceModel(sessions)
        sessions.rowsInserted.connect(self._shifted)
        sessions.rowsRemoved.connect(self._shifted)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        """Only the first rows."""
        return source_row < RECENT_SESSIONS

    def canFetchMore(self, parent: Index) -> bool:
        """Never: older sessions would not show here, so the view must not page them in."""
        return False

    def _shifted(self, _parent: Index, first: int, _last: int) -> None:
        if first < RECENT_SESSIONS:  # rows moved into or out of the first few: filter again
            self.beginFilterChange()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
