"""The window's models start from a snapshot and follow live events without losing any that
were published while the snapshot was being read."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from sqlalchemy import select

from bridge_server.app import BridgeServer
from bridge_server.pipeline.importer import import_paths
from bridge_server.services import pairing
from bridge_server.store.models import Job
from desktop.bridge import BridgeLink
from desktop.controller import BridgeModels
from desktop.paths import sample_photos
from tests.helpers import jobs_settled, make_settings


@pytest.fixture
def server(qloop: qasync.QEventLoop, tmp_path: Path) -> Iterator[BridgeServer]:
    bridge = BridgeServer(make_settings(tmp_path / "data"), serve_http=False)
    qloop.run_until_complete(bridge.start())
    try:
        yield bridge
    finally:
        qloop.run_until_complete(bridge.stop())


def test_work_done_while_the_window_loads_is_neither_lost_nor_listed_twice(
    qloop: qasync.QEventLoop, server: BridgeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = server.context
    list_devices = pairing.list_devices

    async def devices_after_an_import(context: Any) -> Any:
        # Real work lands after the jobs were read and before they are shown: an import
        # creates a session, photos and their analysis jobs.
        await import_paths(context, [str(p) for p in sample_photos()[:3]], "Arrived mid-load")
        return await list_devices(context)

    monkeypatch.setattr(pairing, "list_devices", devices_after_an_import)
    models = BridgeModels(ctx, BridgeLink(ctx))

    async def scenario() -> None:
        await models.load()
        while not await jobs_settled(server):
            await asyncio.sleep(0.05)
        async with ctx.db.session() as s:
            stored = {j.id: j.status.value for j in (await s.execute(select(Job))).scalars()}
        assert len(stored) == 3
        for _ in range(200):  # the jobs table applies changes in batches
            models.jobs.flush()
            shown = {job_id: (models.jobs.job(job_id) or {}).get("status") for job_id in stored}
            if shown == stored:
                break
            await asyncio.sleep(0.05)
        assert shown == stored
        models.activity.flush()
        seqs = [models.activity.index(r, 1).data() for r in range(models.activity.rowCount())]
        assert len(seqs) == len(set(seqs)), "an event is listed twice in Activity"
        while models.photo_total != 3:
            await asyncio.sleep(0.05)

    qloop.run_until_complete(asyncio.wait_for(scenario(), 120))
