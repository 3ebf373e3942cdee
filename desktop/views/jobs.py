"""Jobs: every analysis and export job with live progress; cancel, retry, re-prioritise."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QModelIndex, Qt
from PyQt6.QtWidgets import QComboBox, QLabel, QPushButton, QWidget

from ..controller import BridgeModels
from ..delegates import ProgressBarDelegate
from ..models.jobs import COLUMNS, PROGRESS, STATUSES, JobIdRole, JobsFilterProxy, StatusRole
from ..theme import icon
from ..timers import make_timer
from .common import data_table, page_layout, plain_label, row_layout

WIDTHS = {"Photo": 200, "Kind": 80, "Priority": 80, "Status": 100, "Progress": 170,
          "Stage": 120, "Started": 90, "Duration": 90, "Worker": 140}  # fmt: skip


class JobsView(QWidget):
    """A filtered, sortable table of jobs over JobsModel."""

    def __init__(self, models: BridgeModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        layout = page_layout(
            self, "Jobs", "Analysis and export work, most urgent first. Updates live."
        )
        self.status_filter = QComboBox()
        self.status_filter.addItem("All statuses", None)
        for status in STATUSES:
            self.status_filter.addItem(status.capitalize(), status)
        self.status_filter.currentIndexChanged.connect(self._filter)
        self.cancel = QPushButton(icon("reject"), " Cancel")
        self.retry = QPushButton(icon("undo"), " Retry")
        self.priority = QComboBox()
        for value, name in ((1, "High priority"), (2, "Normal priority"), (3, "Low priority")):
            self.priority.addItem(name, value)
        self.set_priority = QPushButton("Set priority")
        self.count = plain_label()
        self.count.setObjectName("muted")
        layout.addLayout(
            row_layout(
                QLabel("Show"), self.status_filter, self.count,
                self.priority, self.set_priority, self.retry, self.cancel,
                stretch_at=3,
            )
        )  # fmt: skip

        self.proxy = JobsFilterProxy(self)
        self.proxy.setSourceModel(models.jobs)
        self.table = data_table()
        self.table.setModel(self.proxy)
        self.table.setItemDelegateForColumn(PROGRESS, ProgressBarDelegate(self.table))
        for col, title in enumerate(COLUMNS):
            if title in WIDTHS:
                self.table.setColumnWidth(col, WIDTHS[title])
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # model order until clicked
        layout.addWidget(self.table, 1)

        self.cancel.clicked.connect(lambda: self._each(models.cancel_job))
        self.retry.clicked.connect(lambda: self._each(models.retry_job))
        self.set_priority.clicked.connect(
            lambda: self._each(lambda jid: models.set_priority(jid, self.priority.currentData()))
        )
        selection = self.table.selectionModel()
        assert selection is not None
        selection.selectionChanged.connect(self._update_buttons)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.dataChanged.connect(self._update_buttons)
        self._ticker = make_timer(self, 1000)
        self._ticker.timeout.connect(models.jobs.refresh_running_durations)
        self._ticker.start()
        self._update_buttons()
        self._update_count()

    def selected_job_ids(self) -> list[str]:
        """Ids of the selected rows."""
        selection = self.table.selectionModel()
        rows = selection.selectedRows() if selection is not None else []
        return [str(i.data(JobIdRole)) for i in rows]

    def _selected_statuses(self) -> set[str]:
        selection = self.table.selectionModel()
        rows = selection.selectedRows() if selection is not None else []
        return {str(i.data(StatusRole)) for i in rows}

    def _each(self, action: Callable[[str], None]) -> None:
        for job_id in self.selected_job_ids():
            action(job_id)

    def _filter(self) -> None:
        self.proxy.set_status(self.status_filter.currentData())
        self._update_count()

    def _update_count(self, *_args: object) -> None:
        shown, total = self.proxy.rowCount(), self.models.jobs.rowCount()
        self.count.setText(f"{shown} of {total} jobs" if shown != total else f"{total} jobs")

    def _update_buttons(self, *_args: object) -> None:
        statuses = self._selected_statuses()
        active = bool(statuses & {"pending", "running"})
        self.cancel.setEnabled(active)
        self.retry.setEnabled(bool(statuses & {"failed", "cancelled"}))
        self.set_priority.setEnabled(active)
        self.priority.setEnabled(active)

    def select_job(self, job_id: str) -> None:
        """Select a job's row (tests, notifications)."""
        row = self.models.jobs.row_of(job_id)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.models.jobs.index(row, 0))
        if index.isValid():
            self.table.selectRow(index.row())

    def progress_index(self, job_id: str) -> QModelIndex:
        """The proxy index of a job's progress cell."""
        row = self.models.jobs.row_of(job_id)
        if row is None:
            return QModelIndex()
        return self.proxy.mapFromSource(self.models.jobs.index(row, PROGRESS))
