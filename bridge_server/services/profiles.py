"""The photographer's learned culling profile: status, reset, export, import, retraining.

The profile itself is numbers in JSON (`imaging/profile.py`); training runs as a job in the
pool (`pipeline/profile_job.py`). Every change to the stored profile is a compare-and-set on
its `revision`, so a training run that started before a reset or an import never undoes it.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..context import BridgeContext
from ..imaging import profile as prof
from ..store.enums import ACTIVE_JOB_STATUSES, Approval, JobKind, JobStatus, PhotoStatus
from ..store.models import CullingProfile, Job, Photo
from ..store.portable import dialect_insert
from ..timeutil import iso, utcnow
from .errors import Conflict, InvalidArguments
from .jobs import PRIORITY_LOW, add_job, announce_jobs

RACE_MESSAGE = "The profile changed meanwhile; try again"


class Rescorer(Protocol):
    """What recomputes scores from stored features when the profile changes (the pipeline)."""

    async def rescore(self) -> int:
        """Recompute every session's scores; returns how many sessions were scheduled."""


def decided(since: Any) -> Any:
    """SQL: analysed photos the photographer has an opinion of, given after `since` (the last
    reset or import): a flag (pick or reject), or, unflagged, stars or a colour label."""
    flagged = Photo.approval != Approval.PENDING
    rated = (Photo.approval == Approval.PENDING) & (
        (Photo.stars > 0) | Photo.color_label.is_not(None)
    )
    if since is not None:
        flagged = flagged & (Photo.decided_at > since)
        rated = rated & (Photo.rated_at > since)
    return (Photo.status == PhotoStatus.ANALYZED) & (flagged | rated)


async def load(s: AsyncSession, photographer: str) -> CullingProfile:
    """The photographer's profile row, created empty the first time."""
    await s.execute(
        dialect_insert(s, CullingProfile)
        .values(photographer=photographer, profiles={}, revision=0, examples=0, note="")
        .on_conflict_do_nothing(index_elements=["photographer"])
    )
    row = await s.get(CullingProfile, photographer, populate_existing=True)
    assert row is not None
    return row


async def active_profiles(s: AsyncSession, photographer: str) -> dict[str, dict[str, Any]]:
    """The trained profiles by genre that scores are adjusted with (empty: analysis alone)."""
    row = await s.get(CullingProfile, photographer)
    return dict(row.profiles or {}) if row is not None else {}


async def store_trained(
    s: AsyncSession,
    photographer: str,
    read_revision: int,
    profiles: dict[str, dict[str, Any]],
    examples: int,
    note: str,
) -> bool:
    """Save a training result unless the profile changed since it was read; True if saved."""
    saved = (
        await s.execute(
            update(CullingProfile)
            .where(
                CullingProfile.photographer == photographer,
                CullingProfile.revision == read_revision,
            )
            .values(
                profiles=profiles,
                examples=examples,
                note=note,
                revision=read_revision + 1,
                trained_at=utcnow(),
            )
            .returning(CullingProfile.photographer)
        )
    ).scalar()
    return saved is not None


def status_line(row: CullingProfile, decisions_now: int) -> str:
    """One line for the photographer: what the profile does to their scores now."""
    profiles = row.profiles or {}
    if profiles:
        overall = prof.for_genre(profiles, prof.ALL_GENRES) or next(iter(profiles.values()))
        genres = ", ".join(sorted(g for g in profiles if g != prof.ALL_GENRES))
        scope = f" (own profiles for {genres})" if genres else ""
        return f"Learned from {overall['decisions']} of your decisions{scope}"
    if decisions_now < prof.MIN_DECISIONS:
        return (
            f"Learning: {decisions_now} of the {prof.MIN_DECISIONS} decisions needed; "
            "scores are the analysis alone"
        )
    return row.note or f"{decisions_now} decisions, not trained yet; scores are the analysis alone"


async def profile_status(ctx: BridgeContext) -> dict[str, Any]:
    """The photographer's profile: whether it adjusts scores, from how many decisions, per genre."""
    photographer = ctx.settings.photographer
    async with ctx.db.session() as s:  # read only: status is polled, it must not take locks
        row = await s.get(CullingProfile, photographer) or CullingProfile(
            photographer=photographer, profiles={}, revision=0, examples=0, note=""
        )
        decisions_now = int(
            (await s.execute(select(func.count()).where(decided(row.since)))).scalar() or 0
        )
        training = (
            await s.execute(
                select(func.count()).where(
                    Job.kind == JobKind.TRAIN_PROFILE, Job.status.in_(ACTIVE_JOB_STATUSES)
                )
            )
        ).scalar()
        return {
            "photographer": photographer,
            "active": bool(row.profiles),
            "status": status_line(row, decisions_now),
            "decisions": decisions_now,
            "trained_on": row.examples,
            "min_decisions": prof.MIN_DECISIONS,
            "genres": {
                genre: {"decisions": p["decisions"], "held_out": p.get("held_out_accuracy")}
                for genre, p in sorted((row.profiles or {}).items())
            },
            "revision": row.revision,
            "training": bool(training),
            "trained_at": iso(row.trained_at),
            "since": iso(row.since),
        }


async def _replace(
    ctx: BridgeContext, profiles: dict[str, dict[str, Any]], note: str
) -> dict[str, Any]:
    """Replace the profiles (a reset or an import) and learn only from later decisions."""
    photographer = ctx.settings.photographer
    async with ctx.db.session() as s, s.begin():
        row = await load(s, photographer)
        changed = (
            await s.execute(
                update(CullingProfile)
                .where(
                    CullingProfile.photographer == photographer,
                    CullingProfile.revision == row.revision,
                )
                .values(
                    profiles=profiles,
                    examples=0,
                    note=note,
                    revision=row.revision + 1,
                    since=utcnow(),
                    trained_at=None,
                )
                .returning(CullingProfile.photographer)
            )
        ).scalar()
    if changed is None:
        raise Conflict(RACE_MESSAGE)
    if ctx.rescorer is not None:
        await ctx.rescorer.rescore()
    return await profile_status(ctx)


async def reset_profile(ctx: BridgeContext) -> dict[str, Any]:
    """Forget what was learned: scores are the analysis alone until new decisions teach it."""
    return await _replace(ctx, {}, "Reset; learning again from your next decisions")


async def export_profile(ctx: BridgeContext) -> dict[str, Any]:
    """The profile as a JSON document of numbers (importable on another machine)."""
    photographer = ctx.settings.photographer
    async with ctx.db.session() as s, s.begin():
        row = await load(s, photographer)
        return prof.document(photographer, dict(row.profiles or {}))


async def import_profile(ctx: BridgeContext, doc: Any) -> dict[str, Any]:
    """Adopt an exported profile (validated: numbers only); later decisions retrain from it."""
    try:
        profiles = prof.validate_document(doc)
    except prof.ProfileError as exc:
        raise InvalidArguments(f"Not a usable culling profile: {exc}") from exc
    source = doc.get("photographer")
    origin = f" from {source}'s export" if isinstance(source, str) and source else ""
    return await _replace(ctx, profiles, f"Imported{origin}")


async def request_training(ctx: BridgeContext) -> str | None:
    """Queue a training job unless one is already waiting (it will read every decision).

    A running one may have read the decisions before the latest: a new one is queued behind it.
    """
    async with ctx.db.session() as s, s.begin():
        waiting = (
            await s.execute(
                select(Job.id)
                .where(Job.kind == JobKind.TRAIN_PROFILE, Job.status == JobStatus.PENDING)
                .limit(1)
            )
        ).scalar()
        if waiting is not None:
            return None
        job = add_job(s, JobKind.TRAIN_PROFILE, None, PRIORITY_LOW, {})
    announce_jobs(ctx, [job])
    return job.id
