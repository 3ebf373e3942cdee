"""Real photographs waiting in the approval queue, for the phone page to decide on."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from bridge_server import events
from bridge_server.app import BridgeServer
from bridge_server.services import jobs, photos, sessions
from bridge_server.store.enums import Approval, JobKind, JobStatus, PhotoStatus, Selection
from bridge_server.store.models import Photo
from tests.fixtures.photos import write_photo_set

SESSION_NAME = "Wedding Anna & Ben"

# fixture name -> (score, selection, group, reasons)
_QUEUE: dict[str, tuple[float, Selection, str | None, list[str]]] = {
    "burst_2": (4.8, Selection.KEEPER, "g_burst", ["Sharpest frame of the burst", "Eyes open"]),
    "burst_1": (3.9, Selection.ALTERNATE, "g_burst", ["Slight motion blur"]),
    "burst_3": (3.6, Selection.ALTERNATE, "g_burst", ["Soft focus"]),
    "astronaut": (4.5, Selection.KEEPER, None, ["Sharp eyes", "Good exposure", "Face found"]),
    "chelsea": (4.2, Selection.KEEPER, None, ["Sharp", "Subject centred"]),
    "coffee": (3.8, Selection.KEEPER, None, ["Good exposure"]),
    "rocket": (3.5, Selection.KEEPER, None, ["Sharp", "Level horizon"]),
}


async def queue_real_photos(server: BridgeServer, folder: Path) -> dict[str, dict[str, Any]]:
    """Write real photos and put analysed keepers (and one burst) in the approval queue.

    The import pipeline has not landed yet, so the photos are added through the store the
    core provides, as the analysis would leave them. Returns file name -> photo resource.
    """
    ctx = server.context
    paths = write_photo_set(folder)
    session = await sessions.create_session(ctx, SESSION_NAME, str(folder))
    start = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    created: dict[str, str] = {}
    async with ctx.db.session() as s, s.begin():
        for index, (name, (score, selection, group, reasons)) in enumerate(_QUEUE.items()):
            path = paths[name]
            data = path.read_bytes()
            with Image.open(path) as im:
                width, height = im.size
            photo_id = f"p_{hashlib.sha1(name.encode()).hexdigest()[:12]}"
            s.add(
                Photo(
                    id=photo_id,
                    session_id=session["session_id"],
                    file_name=path.name,
                    file_path=str(path),
                    original_path=str(path),
                    content_hash=hashlib.sha256(data).hexdigest(),
                    file_size=len(data),
                    width=width,
                    height=height,
                    exif={"focal_length": 85.0, "aperture": 2.0, "shutter": "1/500", "iso": 400},
                    captured_at=start + timedelta(seconds=index * 10),
                    status=PhotoStatus.ANALYZED,
                    ai_score=score,
                    analysis={"reasons": reasons},
                    group_id=group or f"g_{name}",
                    is_group_best=selection == Selection.KEEPER,
                    selection=selection,
                    context_tag="portrait",
                    selected_preset="SNS 2048 px q85",
                    approval=Approval.PENDING,
                )
            )
            created[path.name] = photo_id
    return {name: await photos.get_photo(ctx, pid) for name, pid in created.items()}


async def running_export_job(server: BridgeServer, photo_id: str) -> str:
    """A job that is already running (so no scheduler picks it up) for `photo_id`."""
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
