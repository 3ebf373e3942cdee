"""Jobs view: rows appear as jobs are created, and events change only the affected rows."""

from __future__ import annotations

from PyQt6.QtCore import QModelIndex
from PyQt6.QtGui import QColor, QImage, QPainter, QPalette
from PyQt6.QtWidgets import QStyleOptionViewItem

from bridge_server import events
from bridge_server.services import jobs as job_service
from desktop.models.jobs import PRIORITY, PROGRESS, STATUS, JobIdRole
from desktop.paths import sample_photos
from tests.desktop.conftest import Desk


def _bar_fill(desk: Desk, index: QModelIndex) -> int:
    """How many pixels of the highlight colour the progress delegate paints in a 200 px cell."""
    table = desk.window.jobs.table
    delegate = table.itemDelegateForColumn(PROGRESS)
    image = QImage(200, 24, QImage.Format.Format_ARGB32)
    image.fill(QColor("black"))
    option = QStyleOptionViewItem()
    option.rect = image.rect()
    option.palette = table.palette()
    painter = QPainter(image)
    delegate.paint(painter, option, index)
    painter.end()
    highlight = table.palette().color(QPalette.ColorRole.Highlight)
    return sum(
        1 for x in range(image.width()) if QColor(image.pixel(x, 12)).name() == highlight.name()
    )


def test_progress_events_move_only_the_right_rows_bar(desk: Desk) -> None:
    async def scenario() -> None:
        desk.models.set_paused(True)  # jobs stay pending until we say so
        await desk.until(lambda: desk.models.paused, what="paused")
        await desk.models.import_paths(sample_photos()[:3], "Progress")
        model = desk.models.jobs
        await desk.until(lambda: model.rowCount() == 3, what="three job rows")
        ids = [model.index(r, 0).data(JobIdRole) for r in range(3)]
        target = ids[1]

        changed: list[tuple[int, int, int]] = []
        model.dataChanged.connect(
            lambda a, b, _r=None: changed.append((a.row(), a.column(), b.column()))
        )
        # What the scheduler publishes when a worker moves on.
        desk.ctx.broker.publish(events.job_progress(target, "analyzing", 40.0, "metrics"))
        view = desk.window.jobs
        assert view.progress_index(target).data() == 40.0
        await desk.until(lambda: changed, what="dataChanged")  # views hear within FLUSH_MS
        assert {row for row, _a, _b in changed} == {model.row_of(target)}
        assert all(a <= PROGRESS <= b for _row, a, b in changed)
        others = [i for i in ids if i != target]
        assert all(view.progress_index(i).data() == 0.0 for i in others)
        full = _bar_fill(desk, view.progress_index(target))
        assert full > 40  # 40% of a ~150 px track
        assert all(_bar_fill(desk, view.progress_index(i)) == 0 for i in others)

        # Real work: resume, and every row reaches 100% and Completed through events alone.
        desk.models.set_paused(False)
        await desk.until(
            lambda: all(view.progress_index(i).data() == 100.0 for i in ids),
            timeout=60,
            what="all jobs complete",
        )
        for job_id in ids:
            row = model.row_of(job_id)
            assert model.index(row, STATUS).data() == "Completed"
        listed, _ = await job_service.list_jobs(desk.ctx)
        assert {j["job_id"] for j in listed} >= set(ids)

    desk.run(scenario(), timeout=90)


def test_cancel_retry_and_priority_from_the_view(desk: Desk) -> None:
    async def scenario() -> None:
        desk.models.set_paused(True)
        await desk.until(lambda: desk.models.paused)
        await desk.models.import_paths(sample_photos()[:2], "Controls")
        model, view = desk.models.jobs, desk.window.jobs
        await desk.until(lambda: model.rowCount() == 2)
        job_id = model.index(0, 0).data(JobIdRole)
        row = model.row_of(job_id)

        view.select_job(job_id)
        view.priority.setCurrentIndex(view.priority.findData(1))
        view.set_priority.click()
        await desk.until(lambda: model.index(row, PRIORITY).data() == "High", what="High")

        view.select_job(job_id)
        view.cancel.click()
        await desk.until(lambda: model.index(row, STATUS).data() == "Cancelled", what="cancel")
        stored = await job_service.get_job(desk.ctx, job_id)
        assert stored["status"] == "cancelled"

        view.select_job(job_id)
        await desk.until(view.retry.isEnabled, what="retry enabled")
        view.retry.click()
        await desk.until(lambda: model.index(row, STATUS).data() == "Pending", what="retry")

        view.status_filter.setCurrentIndex(view.status_filter.findData("pending"))
        assert view.proxy.rowCount() == 2
        view.status_filter.setCurrentIndex(view.status_filter.findData("completed"))
        assert view.proxy.rowCount() == 0
        desk.models.set_paused(False)
        await desk.until(lambda: view.proxy.rowCount() == 2, timeout=60, what="completed")

    desk.run(scenario(), timeout=90)
