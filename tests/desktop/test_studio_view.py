"""Studio mode at the desk: the Clients view lists the studio's bridges and workers with their
load, and the Jobs view shows which worker ran each job (PostgreSQL, Redis and a real worker
process on loopback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import qasync
from PyQt6.QtWidgets import QApplication

from desktop.models.jobs import WORKER, JobIdRole
from tests.app_process import start_worker
from tests.desktop.conftest import start_desk
from tests.helpers import copy_photos


def test_the_clients_view_lists_the_studio_and_jobs_name_their_worker(
    qloop: qasync.QEventLoop, tmp_path: Path, studio: dict[str, Any], photo_set
) -> None:
    worker_dir = tmp_path / "worker"
    worker_dir.mkdir()
    (worker_dir / "settings.json").write_text(json.dumps({"selection_threshold": 1.0}))
    args = ["--database-url", studio["database_url"], "--redis-url", studio["redis_url"]]
    worker = start_worker(worker_dir, "w-nas", *args, "--studio-key", studio["studio_key"])
    desk = start_desk(qloop, tmp_path / "data", local_jobs=False, **studio)
    try:

        async def scenario() -> None:
            desk.window.show_page("clients")
            members = desk.models.studio
            await desk.until(
                lambda: members.get("w-nas") and members.get(desk.ctx.instance_name),
                what="the desk and the worker listed",
            )
            assert members.get("w-nas")["role"] == "worker"
            assert members.get("w-nas")["capacity"] == 1
            assert members.get(desk.ctx.instance_name)["role"] == "bridge"
            assert desk.window.clients.studio_status.text().startswith("Studio: 1 bridge, 1 worker")

            copy_photos(photo_set, ["coffee"], tmp_path / "shoot")
            await desk.models.import_paths([str(tmp_path / "shoot")], "Studio shoot")
            jobs = desk.models.jobs

            def analysed_job() -> dict[str, Any] | None:
                for row in range(jobs.rowCount()):
                    job = jobs.job(str(jobs.index(row, 0).data(JobIdRole)))
                    if job and job.get("status") == "completed":
                        return job
                return None

            job = await desk.until(analysed_job, timeout=60, what="the analysis completed")
            row = jobs.row_of(job["job_id"])
            assert row is not None
            assert jobs.index(row, WORKER).data() == "w-nas"

        desk.run(scenario(), timeout=120)
    finally:
        desk.run(desk.app.stop())
        desk.window.deleteLater()
        QApplication.processEvents()
        worker.stop()
