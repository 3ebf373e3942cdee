"""Selection: group scenes (bursts and near-duplicates), rank each, propose keepers.

Runs per session after analyses land (coalesced), over the session's analysed photos in
capture order. Decisions already made by the photographer are never changed here: a decided
photo keeps the proposal it was decided on, and a rejected one is never a scene's best.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import JSON, Table, bindparam, func, select, update

from .. import events
from ..config import Settings
from ..context import BridgeContext
from ..imaging import profile as prof
from ..imaging.hashing import hash_distance
from ..services.profiles import active_profiles
from ..services.proofing_gallery import PROPOSAL, announce_level
from ..services.queries import approval_queue_count
from ..services.sessions import refresh_session
from ..store.enums import Approval, PhotoStatus, Selection
from ..store.models import Photo
from .coalesce import KeyedCoalescer
from .profile_features import FEATURE_COLUMNS, feature_input, parse_object
from .scheduler import JobRun

log = logging.getLogger(__name__)

COALESCE_SECONDS: Final = 0.3
LOW_LIGHT_LEVEL: Final = 0.22
LOW_LIGHT_ISO: Final = 3200
PORTRAIT_FACE_FRACTION: Final = 0.015
GROUP_FACES: Final = 3
WIDE_FOCAL_MM: Final = 35.0
# Frames this alike (phash bits) are one scene even minutes apart: the same pose re-shot.
NEAR_DUPLICATE_DISTANCE: Final = 6
SCENE_WINDOW_SECONDS: Final = 900.0  # how far apart in time near-duplicates still join
SCENE_RECENT_MEMBERS: Final = 3  # a new frame is compared with each scene's latest frames


@dataclass(frozen=True)
class Candidate:
    """The facts selection needs about one analysed photo."""

    photo_id: str
    captured_at: datetime | None
    file_name: str
    ai_score: float
    phash: str | None
    sharpness: float
    hints: dict[str, Any]
    focus_blur: float | None = None  # edge blur (px) where focus was judged: lower is sharper
    approval: Approval = Approval.PENDING  # the photographer's decision, if any
    current: Selection = Selection.NONE  # the proposal stored now (kept once decided)


@dataclass(frozen=True)
class Proposal:
    """Selection's verdict for one photo."""

    group_id: str | None
    is_group_best: bool
    selection: Selection
    context_tag: str
    selected_preset: str
    group_rank: int | None = None  # 1 = best of its scene; None for a photo alone
    group_size: int | None = None


def group_bursts(
    photos: list[Candidate], gap_seconds: float, max_distance: int
) -> list[list[Candidate]]:
    """Scenes: frames alike in look, judged together with how far apart in time they are.

    Within `gap_seconds` of each other, frames up to `max_distance` phash bits apart are one
    burst; up to SCENE_WINDOW_SECONDS apart, near-identical frames (NEAR_DUPLICATE_DISTANCE bits)
    still join, so a pose re-shot minutes later is one scene. Each group is in capture order.
    """
    ordered = sorted(
        photos, key=lambda c: (c.captured_at is None, c.captured_at or datetime.min, c.file_name)
    )
    near = min(NEAR_DUPLICATE_DISTANCE, max_distance)
    groups: list[list[Candidate]] = []
    for photo in ordered:
        joined: list[int] = []
        for index, group in enumerate(groups):
            recent = group[-SCENE_RECENT_MEMBERS:]
            if any(_alike(other, photo, gap_seconds, max_distance, near) for other in recent):
                joined.append(index)
        if not joined:
            groups.append([photo])
            continue
        # A frame that matches two scenes joins them (the scene came back into view).
        target = groups[joined[0]]
        for index in reversed(joined[1:]):
            target.extend(groups.pop(index))
        target.append(photo)
        target.sort(key=lambda c: (c.captured_at is None, c.captured_at or datetime.min))
    return groups


def _alike(a: Candidate, b: Candidate, gap_seconds: float, max_distance: int, near: int) -> bool:
    if a.phash is None or b.phash is None:
        return False
    distance = hash_distance(a.phash, b.phash)
    if a.captured_at is None or b.captured_at is None:
        # Without two capture times only near-identical frames are one scene.
        return a.captured_at is None and b.captured_at is None and distance <= near
    apart = abs((b.captured_at - a.captured_at).total_seconds())
    if apart <= gap_seconds:
        return distance <= max_distance
    return apart <= SCENE_WINDOW_SECONDS and distance <= near


def context_tag(hints: dict[str, Any]) -> str:
    """portrait, group, low light, landscape or general, from faces, EXIF and levels."""
    faces = int(hints.get("face_count") or 0)
    iso = hints.get("iso") or 0
    level = hints.get("mean_level")
    if faces >= GROUP_FACES:
        return "group"
    if faces >= 1 and float(hints.get("largest_face_fraction") or 0) >= PORTRAIT_FACE_FRACTION:
        return "portrait"
    if (level is not None and level < LOW_LIGHT_LEVEL) or iso >= LOW_LIGHT_ISO:
        return "low light"
    focal = hints.get("focal_length")
    # Wide and horizontal with nobody in it: scenery. A long lens on a horizontal frame is more
    # often a close-up (a pet, a detail) than a landscape.
    wide = focal is None or float(focal) <= WIDE_FOCAL_MM
    if faces == 0 and hints.get("orientation") == "landscape" and wide:
        return "landscape"
    return "general"


def propose(groups: list[list[Candidate]], settings: Settings) -> dict[str, Proposal]:
    """Rank each scene; its best is a keeper at or above the threshold, the rest alternates.

    A photo the photographer has decided on keeps its stored proposal, and one they rejected
    is never the scene's best; ranks still cover every frame ("best of 7 in this scene").
    """
    result: dict[str, Proposal] = {}
    default_preset = settings.export_presets[0]["name"] if settings.export_presets else ""
    for group in groups:
        ranked = sorted(group, key=_rank_key, reverse=True)
        eligible = [c for c in ranked if c.approval != Approval.REJECTED]
        best = eligible[0] if eligible else None
        group_id = f"g_{group[0].photo_id[2:]}" if len(group) > 1 else None
        for rank, photo in enumerate(ranked, 1):
            is_best = photo is best
            if photo.approval != Approval.PENDING:
                kind = photo.current  # the photographer decided: the proposal stays as it was
            elif is_best:
                kind = (
                    Selection.KEEPER
                    if photo.ai_score >= settings.selection_threshold
                    else Selection.BELOW_THRESHOLD
                )
            else:
                kind = Selection.ALTERNATE
            tag = context_tag(photo.hints)
            preset = settings.preset_mapping.get(tag) or settings.preset_mapping.get(
                "general", default_preset
            )
            alone = len(group) == 1
            result[photo.photo_id] = Proposal(
                group_id, is_best, kind, tag, preset,
                None if alone else rank, None if alone else len(group),
            )  # fmt: skip
    return result


def _rank_key(c: Candidate) -> tuple[float, float, float, str]:
    """Best first: score, then the sharper focus (where it was judged), then detail."""
    blur = c.focus_blur if c.focus_blur is not None else float("inf")
    return (c.ai_score, -blur, c.sharpness, c.photo_id)


def apply_profile(
    groups: list[list[Candidate]],
    inputs: dict[str, dict[str, Any]],
    profiles: dict[str, dict[str, Any]],
) -> dict[str, dict[str, Any] | None]:
    """Score every frame with the learned profile of its genre, in place in `groups`.

    Each candidate's ai_score becomes the adjusted score (ranking and the threshold use it);
    returns, per photo, what the profile did (None where no profile applies).
    """
    learned: dict[str, dict[str, Any] | None] = {}
    for group in groups:
        analyses = [inputs[c.photo_id] for c in group]
        genres: list[str | None] = [context_tag(c.hints) for c in group]
        scored = prof.score_scene(analyses, genres, profiles)
        for index, (c, result) in enumerate(zip(group, scored, strict=True)):
            if result["learned"] is None:
                learned[c.photo_id] = None
                continue
            learned[c.photo_id] = result
            group[index] = replace(c, ai_score=float(result["score"]))
    return learned


# Built once: a selection run executes them for every photo of a session, and building and
# keying a statement each time cost more than SQLite's own work (a burst's every frame is
# rewritten whenever the burst grows, as its size changes).
_SESSION_CANDIDATES = select(
    Photo.id,
    Photo.captured_at,
    Photo.file_name,
    Photo.ai_score,
    Photo.phash,
    # JSON paths SQLAlchemy renders for SQLite and PostgreSQL alike (studio mode).
    Photo.analysis[("metrics", "laplacian_var")].as_float(),
    Photo.analysis["context_hints"],
    Photo.group_id,
    Photo.is_group_best,
    Photo.selection,
    Photo.context_tag,
    Photo.selected_preset,
    Photo.approval,
    Photo.analysis[("metrics", "focus_blur")].as_float(),
    Photo.group_rank,
    Photo.group_size,
    Photo.learned,
    *FEATURE_COLUMNS,
).where(Photo.session_id == bindparam("session_id"), Photo.status == PhotoStatus.ANALYZED)

_PHOTOS: Table = Photo.__table__  # type: ignore[assignment]  # a mapped class is on a Table
_PROPOSAL_COLUMNS = (
    "group_id", "is_group_best", "selection", "context_tag", "selected_preset",
    "group_rank", "group_size", "ai_score",
)  # fmt: skip
# Compare-and-set on what was read: a decision or another selection run that changed the row
# meanwhile wins, and nothing is announced for it. On the table (Core), not the mapped class:
# the ORM's per-statement bookkeeping is not needed for a write that returns an id.
_WRITE_PROPOSAL_QUIETLY = (
    update(_PHOTOS)
    .where(
        _PHOTOS.c.id == bindparam("photo_id"),
        _PHOTOS.c.status == PhotoStatus.ANALYZED,
        _PHOTOS.c.selection == bindparam("read_selection", type_=_PHOTOS.c.selection.type),
        _PHOTOS.c.approval == bindparam("read_approval", type_=_PHOTOS.c.approval.type),
    )
    .values(
        {
            **{name: bindparam(name, type_=_PHOTOS.c[name].type) for name in _PROPOSAL_COLUMNS},
            # None is SQL NULL, as `.values(learned=None)` wrote it (not the JSON text 'null').
            "learned": bindparam("learned", type_=JSON(none_as_null=True)),
        }
    )
)
_WRITE_PROPOSAL = _WRITE_PROPOSAL_QUIETLY.returning(_PHOTOS.c.id)


def selection_coordinator(ctx: BridgeContext) -> KeyedCoalescer:
    """Selection per session, once for a burst of analyses."""
    return KeyedCoalescer(
        "Selection", COALESCE_SECONDS, lambda session_id: select_session(ctx, session_id)
    )


async def select_session(ctx: BridgeContext, session_id: str) -> list[str]:
    """Apply selection to a session; returns the ids that entered the approval queue.

    Reads only the columns selection needs (the analysis JSON stays in SQLite) and writes only
    the rows whose proposal changed, so a run over a large session stays cheap for the loop.
    """
    entered: list[tuple[str, str, str]] = []
    proposals_changed: list[tuple[str, bool]] = []  # (photo, now proposed) for proofing guests
    queue_changed = False
    quiet: list[dict[str, Any]] = []  # proposals to write that change nothing in the queue
    async with ctx.db.session() as s, s.begin():
        rows = (await s.execute(_SESSION_CANDIDATES, {"session_id": session_id})).all()
        inputs = {r[0]: feature_input(r[17:]) for r in rows}
        candidates = [
            Candidate(
                r[0], r[1], r[2], inputs[r[0]]["ai_score"], r[4], float(r[5] or 0.0),
                parse_object(r[6]), float(r[13]) if r[13] is not None else None, r[12], r[9],
            )
            for r in rows
        ]  # fmt: skip
        settings = ctx.settings
        groups = group_bursts(candidates, settings.burst_gap_seconds, settings.burst_hash_distance)
        # The score is the analysis', moved by the photographer's profile where one is learned.
        learned = apply_profile(groups, inputs, await active_profiles(s, settings.photographer))
        scores = {c.photo_id: c.ai_score for group in groups for c in group}
        proposals = propose(groups, settings)
        for r in rows:
            photo_id = r[0]
            current = (r[7], bool(r[8]), r[9], r[10], r[11], r[14], r[15], r[3], r[16])
            proposal = proposals[photo_id]
            wanted = (
                proposal.group_id,
                proposal.is_group_best,
                proposal.selection,
                proposal.context_tag,
                proposal.selected_preset,
                proposal.group_rank,
                proposal.group_size,
                scores[photo_id],
                learned[photo_id],
            )
            if wanted == current:
                continue
            params = {
                "photo_id": photo_id,
                "read_selection": r[9],
                "read_approval": r[12],
                **dict(zip(_PROPOSAL_COLUMNS, wanted[:8], strict=True)),
                "learned": learned[photo_id],
            }
            pending = r[12] == Approval.PENDING
            was_queued = pending and r[9] == Selection.KEEPER
            now_queued = pending and proposal.selection == Selection.KEEPER
            # A queued photo rescored by the learned profile changes the queue's order too.
            rescored = now_queued and was_queued and scores[photo_id] != r[3]
            if was_queued == now_queued and not rescored:
                quiet.append(params)  # nothing to announce: written together below
                continue
            # Compare-and-set on what was read (see _WRITE_PROPOSAL).
            if (await s.execute(_WRITE_PROPOSAL, params)).scalar() is None:
                continue
            if now_queued and not was_queued:
                entered.append((photo_id, proposal.context_tag, proposal.selected_preset))
            queue_changed = True
            if now_queued != was_queued:
                proposals_changed.append((photo_id, now_queued))
        if quiet:
            # A frame's place in its burst (rank, size, best) changes as the burst grows; such
            # rows are announced by no event, so one executemany writes them all.
            await s.execute(_WRITE_PROPOSAL_QUIETLY, quiet)
    for photo_id, tag, preset in entered:
        ctx.broker.publish(events.photo_selected(photo_id, tag, preset))
    for photo_id, proposed in proposals_changed:
        level = PROPOSAL if proposed else None
        announce_level(ctx, session_id, photo_id, level, None if proposed else PROPOSAL)
    if queue_changed:
        async with ctx.db.session() as s:
            count = await approval_queue_count(s)
        ctx.broker.publish(events.approval_queue_updated(count, session_id))
    return [e[0] for e in entered]


async def reselect_handler(run: JobRun) -> dict[str, Any]:
    """Handler for JobKind.RESELECT: selection again over every session with analysed photos,
    after its settings changed. Decided photos keep their decision and their proposal."""
    ctx = run.ctx
    async with ctx.db.session() as s:
        sessions = list(
            (
                await s.execute(
                    select(Photo.session_id)
                    .where(Photo.status == PhotoStatus.ANALYZED)
                    .group_by(Photo.session_id)
                    .order_by(func.min(Photo.imported_at))
                )
            )
            .scalars()
            .all()
        )
        before = await approval_queue_count(s)
    entered = 0
    for done, session_id in enumerate(sessions):
        await run.progress(
            "selecting",
            100.0 * done / len(sessions),
            f"Selecting again with the new settings: session {done + 1} of {len(sessions)}",
            force=True,
        )
        entered += len(await select_session(ctx, session_id))
        await refresh_session(ctx, session_id)  # proposals moved: the session may (re)open
    async with ctx.db.session() as s:
        after = await approval_queue_count(s)
    return {
        "sessions": len(sessions),
        "proposed_before": before,
        "proposed_after": after,
        "newly_proposed": entered,
    }
