"""Jobs as a table: one row per job, updated cell by cell from job events."""

from __future__ import annotations

from typing import Any, Final

from PyQt6.QtCore import QModelIndex, QObject, QSortFilterProxyModel, Qt

from bridge_server.broker import PublishedEvent

from ..formatting import duration, elapsed, literal_tooltip, local_time
from ..timers import make_timer
from .table import HeaderedTableModel, Index, PagedRows

COLUMNS: Final = (
    "Photo",
    "Kind",
    "Priority",
    "Status",
    "Progress",
    "Stage",
    "Started",
    "Duration",
    "Worker",
    "Error",
)
(PHOTO, KIND, PRIORITY, STATUS, PROGRESS, STAGE, STARTED, DURATION, WORKER, ERROR) = range(
    len(COLUMNS)
)
PRIORITY_NAMES: Final = {1: "High", 2: "Normal", 3: "Low"}
STATUSES: Final = ("pending", "running", "completed", "failed", "cancelled")
FLUSH_MS: Final = 250
JobIdRole: Final = Qt.ItemDataRole.UserRole + 1
SortRole: Final = Qt.ItemDataRole.UserRole + 2
StatusRole: Final = Qt.ItemDataRole.UserRole + 3
JobRole: Final = Qt.ItemDataRole.UserRole + 4


class JobsModel(HeaderedTableModel, PagedRows):
    """Every job, a page at a time as the view scrolls; events change only the affected cells."""

    column_titles = COLUMNS

    def __init__(self, parent: QObject | None = None) -> None:
        HeaderedTableModel.__init__(self, parent)
        PagedRows.__init__(self)
        self._jobs: list[dict[str, Any]] = []
        self._row_of: dict[str, int] = {}
        self.photo_names: dict[str, str] = {}
        self._dirty: dict[int, tuple[int, int]] = {}
        self._incoming: dict[str, dict[str, Any]] = {}
        self._flush_timer = make_timer(self, FLUSH_MS, single_shot=True)
        self._flush_timer.timeout.connect(self.flush)

    # --- Qt model -------------------------------------------------------------------------

    def row_total(self) -> int:
        """Rows held."""
        return len(self._jobs)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, sort keys, and the raw job."""
        if not index.isValid():
            return None
        job = self._jobs[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(job, col)
        if role == SortRole:
            return self._sort_key(job, col)
        if role == JobIdRole:
            return job["job_id"]
        if role == StatusRole:
            return job["status"]
        if role == JobRole:
            return job
        if role == Qt.ItemDataRole.ToolTipRole and col in (ERROR, PHOTO):
            return literal_tooltip(job.get("error") if col == ERROR else job.get("photo_id"))
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (PRIORITY, DURATION):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, job: dict[str, Any], col: int) -> Any:
        if col == PHOTO:
            photo_id = job.get("photo_id")
            return self.photo_names.get(photo_id or "", photo_id or "—")
        if col == KIND:
            return str(job.get("kind", "")).capitalize()
        if col == PRIORITY:
            return PRIORITY_NAMES.get(job.get("priority", 2), str(job.get("priority")))
        if col == STATUS:
            return str(job.get("status", "")).capitalize()
        if col == PROGRESS:
            return float(job.get("progress") or 0.0)
        if col == STAGE:
            return job.get("stage") or ""
        if col == STARTED:
            return local_time(job.get("started_at"))
        if col == DURATION:
            if not job.get("started_at"):
                return ""
            return duration(elapsed(job.get("started_at"), job.get("finished_at")))
        if col == WORKER:
            return job.get("worker") or ""
        if col == ERROR:
            return job.get("error") or ""
        return None

    def _sort_key(self, job: dict[str, Any], col: int) -> Any:
        if col == PRIORITY:
            return int(job.get("priority") or 2)
        if col == PROGRESS:
            return float(job.get("progress") or 0.0)
        if col == STATUS:
            return STATUSES.index(job["status"]) if job.get("status") in STATUSES else 9
        if col == STARTED:
            return job.get("started_at") or ""
        if col == DURATION:
            return elapsed(job.get("started_at"), job.get("finished_at")) or 0.0
        return str(self._display(job, col) or "").lower()

    # --- feeding --------------------------------------------------------------------------

    def row_of(self, job_id: str) -> int | None:
        """The row of a job, if known."""
        return self._row_of.get(job_id)

    def job(self, job_id: str) -> dict[str, Any] | None:
        """A job's current state, if known."""
        row = self._row_of.get(job_id)
        return self._incoming.get(job_id) if row is None else self._jobs[row]

    def has_active_job(self, photo_id: str, kind: str) -> bool:
        """Whether a photo has a pending or running job of this kind."""
        return any(
            j.get("photo_id") == photo_id
            and j.get("kind") == kind
            and j.get("status") in ("pending", "running")
            for j in (*self._jobs, *self._incoming.values())
        )

    def set_jobs(self, jobs: list[dict[str, Any]]) -> None:
        """Replace everything (initial load)."""
        self.beginResetModel()
        self._dirty.clear()
        self._incoming.clear()
        self._jobs = [dict(j) for j in jobs]
        self._row_of = {j["job_id"]: i for i, j in enumerate(self._jobs)}
        self.endResetModel()

    def canFetchMore(self, parent: Index) -> bool:
        """More jobs wait in the store."""
        return not parent.isValid() and self.has_more()

    def fetchMore(self, parent: Index) -> None:
        """The view scrolled to the end: fetch the next page."""
        if not parent.isValid():
            self.request_more()

    def add_page(self, rows: list[dict[str, Any]]) -> None:
        """Append a page of jobs (those already shown, from events, are skipped)."""
        new = [
            dict(j)
            for j in rows
            if j["job_id"] not in self._row_of and j["job_id"] not in self._incoming
        ]
        if not new:
            return
        first = len(self._jobs)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        for offset, job in enumerate(new):
            self._jobs.append(job)
            self._row_of[job["job_id"]] = first + offset
        self.endInsertRows()

    def upsert(self, job: dict[str, Any]) -> None:
        """Insert or update a job from a full resource (e.g. after a service call)."""
        row = self._row_of.get(job["job_id"])
        if job["job_id"] in self._incoming:
            self._incoming[job["job_id"]].update(job)
        elif row is None:
            self._insert(dict(job))
        else:
            self._update(row, dict(job))

    def set_photo_name(self, photo_id: str, name: str) -> None:
        """Show `name` for a photo's jobs."""
        if self.photo_names.get(photo_id) == name:
            return
        self.photo_names[photo_id] = name
        for row, job in enumerate(self._jobs):
            if job.get("photo_id") == photo_id:
                self._changed(row, (PHOTO,))

    def refresh_running_durations(self) -> None:
        """Running jobs' durations grow; repaint only that column of those rows."""
        for row, job in enumerate(self._jobs):
            if job.get("status") == "running":
                self._changed(row, (DURATION,))

    def apply_event(self, event: PublishedEvent) -> None:
        """Apply a jobs or queue channel event."""
        p = event.payload
        job_id = p.get("job_id")
        if not job_id:
            return
        if event.type == "job_created":
            if job_id not in self._row_of and job_id not in self._incoming:
                self._queue_insert(
                    {
                        "job_id": job_id,
                        "photo_id": p.get("photo_id"),
                        "priority": p.get("priority", 2),
                        "kind": p.get("kind", ""),
                        "status": "pending",
                        "progress": 0.0,
                        "stage": "queued",
                        "created_at": event.timestamp,
                        "started_at": None,
                        "finished_at": None,
                        "error": None,
                    }
                )
            return
        row = self._row_of.get(job_id)
        if row is None and job_id not in self._incoming:
            return  # a job older than what was loaded
        changes: dict[str, Any] = {}
        if event.type == "job_started":
            changes = {
                "status": "running",
                "started_at": event.timestamp,
                "finished_at": None,
                "stage": "starting",
                "error": None,
                "worker": p.get("worker"),
            }
        elif event.type == "job_progress":
            changes = {"stage": p.get("stage", ""), "progress": float(p.get("progress", 0))}
            if p.get("stage") == "queued" and float(p.get("progress", 0)) == 0.0:
                changes.update(status="pending", error=None, started_at=None, finished_at=None)
        elif event.type == "job_completed":
            changes = {
                "status": "completed",
                "progress": 100.0,
                "stage": "done",
                "finished_at": event.timestamp,
                "error": None,
            }
        elif event.type == "job_failed":
            details = p.get("error_details") or {}
            if details.get("will_retry"):
                changes = {
                    "status": "pending",
                    "stage": "retrying",
                    "error": p.get("error_message"),
                }
            else:
                cancelled = bool(details.get("cancelled"))
                changes = {
                    "status": "cancelled" if cancelled else "failed",
                    "stage": "cancelled" if cancelled else "failed",
                    "error": p.get("error_message"),
                    "finished_at": event.timestamp,
                }
        elif event.type == "priority_changed":
            changes = {"priority": p.get("new_priority", 2)}
        if not changes:
            return
        if row is None:
            self._incoming[job_id].update(changes)  # not shown yet: shown with these values
        else:
            self._update(row, {**self._jobs[row], **changes})

    # --- internals ------------------------------------------------------------------------

    def _insert(self, job: dict[str, Any]) -> None:
        row = len(self._jobs)
        self.beginInsertRows(QModelIndex(), row, row)
        self._jobs.append(job)
        self._row_of[job["job_id"]] = row
        self.endInsertRows()

    def _queue_insert(self, job: dict[str, Any]) -> None:
        # New jobs arrive in bursts (an import makes one per photo): insert them together.
        self._incoming[job["job_id"]] = job
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _update(self, row: int, new: dict[str, Any]) -> None:
        old = self._jobs[row]
        self._jobs[row] = new
        cols = [c for c in range(len(COLUMNS)) if self._display(old, c) != self._display(new, c)]
        if old.get("status") != new.get("status") and STATUS not in cols:
            cols.append(STATUS)
        if cols:
            self._changed(row, cols)

    def _changed(self, row: int, cols: tuple[int, ...] | list[int]) -> None:
        # The data is current at once; views hear about it at most every FLUSH_MS, so a
        # stream of progress events costs a few repaints a second, not one per event.
        first, last = min(cols), max(cols)
        was = self._dirty.get(row)
        self._dirty[row] = (first, last) if was is None else (min(was[0], first), max(was[1], last))
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        """Insert new jobs and report changed cells now (one dataChanged per changed row)."""
        incoming, self._incoming = self._incoming, {}
        if incoming:
            first = len(self._jobs)
            self.beginInsertRows(QModelIndex(), first, first + len(incoming) - 1)
            for offset, job in enumerate(incoming.values()):
                self._jobs.append(job)
                self._row_of[job["job_id"]] = first + offset
            self.endInsertRows()
        dirty, self._dirty = self._dirty, {}
        for row, (first, last) in sorted(dirty.items()):
            if row < len(self._jobs):
                self.dataChanged.emit(self.index(row, first), self.index(row, last))


class JobsFilterProxy(QSortFilterProxyModel):
    """Jobs filtered by status, sorted by the source's sort keys."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._status: str | None = None
        self.setSortRole(SortRole)
        self.setDynamicSortFilter(True)

    def set_status(self, status: str | None) -> None:
        """Show only jobs with this status (None: all)."""
        self.beginFilterChange()
        self._status = status
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        """Keep rows whose status matches."""
        if self._status is None:
            return True
        model = self.sourceModel()
        assert model is not None
        # A flat table: rows have no parent.
        return bool(model.index(source_row, STATUS).data(StatusRole) == self._status)
