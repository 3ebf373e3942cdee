"""Settings a running bridge applies at once: selection's rules and the sidecar switches.

A change of the keeper threshold or the burst rules queues one reselection job (selection again
over the existing, undecided photos, with progress); the desktop's settings dialog and
`PATCH /api/settings` both end in `apply_settings_change`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any, Final

from sqlalchemy import insert, literal, select

from ..config import save_settings
from ..context import BridgeContext
from ..store.enums import JobKind, JobStatus
from ..store.models import Job
from .errors import InvalidArguments
from .jobs import PRIORITY_NORMAL, announce_jobs, new_job
from .serializers import job_dict

SELECTION_SETTINGS: Final = frozenset(
    {"selection_threshold", "burst_gap_seconds", "burst_hash_distance"}
)
# Name -> (kind, minimum, maximum) of what PATCH /api/settings may change.
LIVE_SETTINGS: Final[dict[str, tuple[type, float, float]]] = {
    "selection_threshold": (float, 1.0, 5.0),
    "burst_gap_seconds": (float, 0.0, 60.0),
    "burst_hash_distance": (int, 0, 64),
    "write_raw_sidecars": (bool, 0, 1),
    "write_jpeg_sidecars": (bool, 0, 1),
}


def live_settings(ctx: BridgeContext) -> dict[str, Any]:
    """The settings `PATCH /api/settings` may change, as they are now."""
    return {name: getattr(ctx.settings, name) for name in LIVE_SETTINGS}


def _checked(name: str, value: Any) -> Any:
    kind, low, high = LIVE_SETTINGS[name]
    if kind is bool:
        if not isinstance(value, bool):
            raise InvalidArguments(f"'{name}' must be true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArguments(f"'{name}' must be a number")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise InvalidArguments(f"'{name}' must be an integer")
        value = int(value)
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidArguments(f"'{name}' must be between {low:g} and {high:g}")
    return float(value) if kind is float else value


async def update_settings(ctx: BridgeContext, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change live settings, save them, apply them; answers what changed and the job, if any."""
    unknown = sorted(set(changes) - set(LIVE_SETTINGS))
    if unknown:
        raise InvalidArguments(f"Not a setting that can be changed here: {', '.join(unknown)}")
    wanted = {name: _checked(name, value) for name, value in changes.items()}
    changed = sorted(n for n, v in wanted.items() if getattr(ctx.settings, n) != v)
    if changed:
        updated = dataclasses.replace(ctx.settings, **{n: wanted[n] for n in changed})
        await asyncio.to_thread(save_settings, updated)
        for name in changed:
            setattr(ctx.settings, name, wanted[name])
    job = await apply_settings_change(ctx, changed)
    return {"settings": live_settings(ctx), "changed": changed, "job": job}


async def apply_settings_change(ctx: BridgeContext, names: Iterable[str]) -> dict[str, Any] | None:
    """After settings changed: reselect if selection's rules did; returns the job queued."""
    if SELECTION_SETTINGS.isdisjoint(names):
        return None
    return await queue_reselection(ctx)


async def queue_reselection(ctx: BridgeContext) -> dict[str, Any] | None:
    """Queue selection over every session, unless one is already waiting (it will read the
    settings when it starts); one conditional insert decides. Returns the new job, or None."""
    job = new_job(JobKind.RESELECT, None, PRIORITY_NORMAL, {})
    columns = ["id", "kind", "photo_id", "priority", "status", "progress", "stage", "params"]
    columns += ["retry_count", "created_at"]
    table = Job.__table__.c
    waiting = select(Job.id).where(Job.kind == JobKind.RESELECT, Job.status == JobStatus.PENDING)
    source = select(*(literal(getattr(job, c), table[c].type) for c in columns)).where(
        ~waiting.exists()
    )
    async with ctx.db.session() as s, s.begin():
        inserted = (
            await s.execute(insert(Job).from_select(columns, source).returning(Job.id))
        ).scalar_one_or_none()
    if inserted is None:
        return None
    announce_jobs(ctx, [job])
    return job_dict(job)
