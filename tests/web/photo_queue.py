"""Real photographs through the real import pipeline, waiting in the approval queue."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bridge_server import events
from bridge_server.app import BridgeServer
from bridge_server.pipeline.importer import import_paths
from bridge_server.services import approvals, jobs
from bridge_server.store.enums import JobKind, JobStatus
from tests.helpers import copy_photos, jobs_settled, wait_for

SESSION_NAME = "Wedding Anna & Ben"
SHOOT = ["astronaut", "coffee", "chelsea", "rocket", "burst_1", "burst_2", "burst_3"]
BURST = ["burst_1", "burst_2", "burst_3"]


async def queue_real_photos(
    server: BridgeServer, photo_set: dict[str, Path], folder: Path, names: list[str] = SHOOT
) -> list[dict[str, Any]]:
    """Import `names` from the fixture set; after analysis and selection, the queue, best first."""
    copy_photos(photo_set, names, folder)
    report = await import_paths(server.context, [str(folder)], SESSION_NAME)
    assert len(report["imported"]) == len(names), report
    await wait_for(lambda: jobs_settled(server), timeout=180)
    queue, total = await approvals.approval_queue(server.context, None, 100, 0)
    assert total > 0, "the analysis proposed no keeper"
    return queue


async def running_export_job(server: BridgeServer, photo_id: str) -> str:
    """A job that is already running (so the scheduler leaves it alone) for `photo_id`."""
    ctx = server.context
    async with ctx.db.session() as s, s.begin():
        job = jobs.add_job(
            s, JobKind.EXPORT, photo_id, jobs.PRIORITY_NORMAL, {"preset": "SNS 2048 px q85"}
        )
        job.status = JobStatus.RUNNING
        job.stage = "rendering"
        job.started_at = datetime.now(UTC)
    jobs.announce_jobs(ctx, [job])
    ctx.broker.publish(events.job_started(job.id, photo_id, JobKind.EXPORT.value))
    return job.id
