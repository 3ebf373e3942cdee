"""The photographer's decisions, for every door (desk, phone, REST, WebSocket commands).

A decision is a flag (pick / reject / none, stored as `Photo.approval`), 0–5 stars, a colour
label, keywords and an export preset. Each part changes through one conditional statement in
one transaction, and its event is published only when a row really changed. A pick queues the
photo's export in the same transaction; taking a pick back removes its exported files (see
pipeline/export_withdrawal.py); a rejected photo keeps its stars.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..config import Settings
from ..context import BridgeContext
from ..pipeline.export_withdrawal import begin_withdrawal, withdraw
from ..pipeline.library_files import finish_even_if_cancelled
from ..store.enums import Approval, ColorLabel, Flag, JobKind, JobStatus, PhotoStatus
from ..store.models import FileIntent, Job, Photo
from ..store.portable import json_canonical, json_value
from ..timeutil import utcnow
from ..validation import get_int, get_str, parse_enum, text_problem
from . import transitions
from .errors import InvalidArguments, NotFound
from .jobs import PRIORITY_NORMAL, add_job, announce_jobs, jobs_changed
from .proofing_gallery import current_level, level_of
from .queries import approval_queue_count
from .serializers import photo_dict, photo_in_queue
from .sessions import refresh_session

MAX_REASON: Final = 200
MAX_STARS: Final = 5
MAX_KEYWORDS: Final = 50
MAX_KEYWORD_LEN: Final = 64
MAX_PRESET_LEN: Final = 100
EXPORT_CANCELLED: Final = "Decision changed before export"


class _Keep:
    """The value of a field the caller did not send (None means "clear it")."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


@dataclass(frozen=True)
class Decision:
    """What one caller asks to change; fields left as None (or KEEP) stay as they are."""

    flag: Flag | None = None
    stars: int | None = None
    color_label: ColorLabel | _Keep | None = KEEP
    keywords: tuple[str, ...] | None = None
    preset: str | _Keep | None = KEEP  # None: back to selection's proposal
    reason: str | None = None  # why it was rejected (only with flag = reject)

    @property
    def rates(self) -> bool:
        """Whether stars, label or keywords are to be set."""
        return (
            self.stars is not None
            or not isinstance(self.color_label, _Keep)
            or self.keywords is not None
        )


@dataclass
class _Outcome:
    """What one transaction changed, to be announced after it commits."""

    session_id: str = ""
    events: list[events.Event] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    withdrawals: list[FileIntent] = field(default_factory=list)
    flag_changed: bool = False
    metadata_changed: bool = False  # the rating, label or keywords the files carry


# --- validation (the same for every door) ----------------------------------------------------


def clean_reason(reason: Any) -> str | None:
    """A rejection reason: stripped and shortened, None when blank."""
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise InvalidArguments("'reason' must be a string")
    problem = text_problem(reason)
    if problem is not None:
        raise InvalidArguments(f"'reason' {problem}")
    return reason.strip()[:MAX_REASON] or None


def keyword_problem(word: str) -> str | None:
    """Why `word` cannot be a keyword (XMP and Lightroom must read it back), or None."""
    problem = text_problem(word)
    if problem is not None:
        return problem
    if any(unicodedata.category(c) == "Cc" or c in "\ufffe\uffff" for c in word):
        return "must not contain control characters"
    if not word.strip():
        return "must not be blank"
    if len(word) > MAX_KEYWORD_LEN:
        return f"must be at most {MAX_KEYWORD_LEN} characters"
    return None


def clean_keywords(value: Any) -> tuple[str, ...]:
    """Keywords: a list of non-blank strings, stripped, duplicates (ignoring case) dropped."""
    if not isinstance(value, list):
        raise InvalidArguments("'keywords' must be a list of strings")
    if len(value) > MAX_KEYWORDS:
        raise InvalidArguments(f"'keywords' may hold at most {MAX_KEYWORDS} items")
    seen: dict[str, str] = {}
    for word in value:
        if not isinstance(word, str):
            raise InvalidArguments("'keywords' must be a list of strings")
        problem = keyword_problem(word)
        if problem is not None:
            raise InvalidArguments(f"Each keyword {problem}")
        seen.setdefault(word.strip().casefold(), word.strip())
    return tuple(seen.values())


def parse_decision(body: Mapping[str, Any], settings: Settings) -> Decision:
    """A decision from a request body or command: every field checked, a clear message if not."""
    flag = parse_enum(get_str(body, "flag", max_len=16, required=False), Flag, "flag")
    stars = get_int(body, "stars", minimum=0, maximum=MAX_STARS, required=False)
    color_label: ColorLabel | _Keep | None = KEEP
    if "color_label" in body:
        color_label = parse_enum(
            get_str(body, "color_label", max_len=16, required=False), ColorLabel, "color_label"
        )
    keywords = None if body.get("keywords") is None else clean_keywords(body["keywords"])
    preset: str | _Keep | None = KEEP
    if "preset" in body:
        preset = get_str(body, "preset", max_len=MAX_PRESET_LEN, required=False)
        if preset is not None and settings.preset(preset) is None:
            raise NotFound(f"Unknown export preset: {preset!r}")
    reason = clean_reason(body.get("reason"))
    if reason is not None and flag != Flag.REJECT:
        raise InvalidArguments("'reason' goes only with flag 'reject'")
    return Decision(flag, stars, color_label, keywords, preset, reason)


# --- the one entry point -----------------------------------------------------------------------


async def set_decision(ctx: BridgeContext, photo_id: str, decision: Decision) -> dict[str, Any]:
    """Apply a decision to a photo; returns the photo as it now is. Repeats change nothing."""
    outcome = _Outcome()
    async with ctx.db.session() as s, s.begin():
        # Read only to address the proofing event (which guests saw the photo before); the
        # flag itself changes through the conditional UPDATE of its step.
        seen_before = await current_level(s, photo_id) if decision.flag is not None else None
        # The preset first: a pick in the same request exports with the chosen preset.
        if not isinstance(decision.preset, _Keep):
            await _set_preset(ctx, s, photo_id, decision.preset, outcome)
        if decision.flag is not None:
            await _FLAG_STEPS[decision.flag](ctx, s, photo_id, decision, outcome)
        if decision.rates:
            await _set_rating(s, photo_id, decision, outcome)
        photo = await s.get(Photo, photo_id, populate_existing=True)
        if photo is None:
            raise NotFound(f"Unknown photo: {photo_id!r}")
        data = photo_dict(photo)
        outcome.session_id = photo.session_id
        if outcome.flag_changed and level_of(photo) != seen_before:
            outcome.events.append(
                events.proofing_photo_changed(
                    photo.session_id, photo_id, level_of(photo), seen_before
                )
            )
    await _announce(ctx, photo_id, outcome)
    return data


async def approve_photo(ctx: BridgeContext, photo_id: str) -> dict[str, Any]:
    """Pick a photo and queue its export; picking twice changes nothing."""
    return await set_decision(ctx, photo_id, Decision(flag=Flag.PICK))


async def reject_photo(
    ctx: BridgeContext, photo_id: str, reason: str | None = None
) -> dict[str, Any]:
    """Reject a photo (with an optional reason); cancels its export if not yet started."""
    return await set_decision(
        ctx, photo_id, Decision(flag=Flag.REJECT, reason=clean_reason(reason))
    )


async def undo_decision(ctx: BridgeContext, photo_id: str) -> dict[str, Any]:
    """Take back a pick or reject (a keeper re-enters the queue); stars and label stay."""
    return await set_decision(ctx, photo_id, Decision(flag=Flag.NONE))


# --- the steps, each inside the caller's transaction -------------------------------------------


def _undecidable(verb: str) -> Callable[[Photo], str]:
    def message(photo: Photo) -> str:
        return f"Photo {photo.id} is {photo.status.value}; only analysed photos can be {verb}"

    return message


def _default_preset(ctx: BridgeContext) -> str:
    presets = ctx.settings.export_presets
    return str(presets[0]["name"]) if presets else "Archive"


async def _pick(
    ctx: BridgeContext, s: AsyncSession, photo_id: str, decision: Decision, out: _Outcome
) -> None:
    result = await transitions.change(
        s,
        transitions.APPROVE,
        photo_id,
        Photo.status == PhotoStatus.ANALYZED,
        values={"rejection_reason": None, "decided_at": utcnow(), **_NEW_METADATA},
        conflict=_undecidable("approved"),
    )
    if not result.changed:
        return
    photo = result.row
    preset = photo.export_preset or photo.selected_preset or _default_preset(ctx)
    # The export job is written in the same transaction as the one winning pick.
    out.jobs.append(add_job(s, JobKind.EXPORT, photo.id, PRIORITY_NORMAL, {"preset": preset}))
    out.events.append(events.photo_approved(photo_id, photo.session_id))
    out.flag_changed = True


async def _reject(
    ctx: BridgeContext, s: AsyncSession, photo_id: str, decision: Decision, out: _Outcome
) -> None:
    same = (Photo.approval == Approval.REJECTED) & Photo.rejection_reason.is_not_distinct_from(
        decision.reason
    )
    result = await transitions.change(
        s,
        transitions.REJECT,
        photo_id,
        Photo.status == PhotoStatus.ANALYZED,
        ~same,
        values={"rejection_reason": decision.reason, "decided_at": utcnow(), **_NEW_METADATA},
        conflict=_undecidable("rejected"),
    )
    if not result.changed:
        return
    out.cancelled += await _cancel_pending_exports(s, photo_id)
    out.withdrawals += await begin_withdrawal(s, photo_id, result.row.session_id)
    out.events.append(events.photo_rejected(photo_id, result.row.session_id, decision.reason))
    out.flag_changed = True


async def _unflag(
    ctx: BridgeContext, s: AsyncSession, photo_id: str, decision: Decision, out: _Outcome
) -> None:
    result = await transitions.change(
        s,
        transitions.UNDO_DECISION,
        photo_id,
        values={"rejection_reason": None, "decided_at": None, **_NEW_METADATA},
    )
    if not result.changed:
        return
    photo = result.row
    out.cancelled += await _cancel_pending_exports(s, photo_id)
    out.withdrawals += await begin_withdrawal(s, photo_id, photo.session_id)
    out.events.append(events.photo_unflagged(photo_id, photo.session_id))
    if photo_in_queue(photo):
        out.events.append(
            events.photo_selected(
                photo_id, photo.context_tag or "general", photo.selected_preset or ""
            )
        )
    out.flag_changed = True


# A decision the files must follow: counted so that sidecars and exports catch up (metadata_sync).
_NEW_METADATA: Final = {"metadata_rev": Photo.metadata_rev + 1}

_FLAG_STEPS: Final = {Flag.PICK: _pick, Flag.REJECT: _reject, Flag.NONE: _unflag}


def _json(value: Any) -> Any:
    """A JSON value in canonical form (SQLite and PostgreSQL), to compare with stored JSON."""
    return json_value(value)


async def _set_rating(s: AsyncSession, photo_id: str, decision: Decision, out: _Outcome) -> None:
    values: dict[str, Any] = {}
    differs: list[Any] = []
    if decision.stars is not None:
        values["stars"] = decision.stars
        differs.append(Photo.stars != decision.stars)
    if not isinstance(decision.color_label, _Keep):
        label = decision.color_label.value if decision.color_label is not None else None
        values["color_label"] = label
        differs.append(Photo.color_label.is_distinct_from(label))
    if decision.keywords is not None:
        words = list(decision.keywords)
        values["keywords"] = words
        differs.append(json_canonical(Photo.keywords) != _json(words))
    if decision.stars is not None or not isinstance(decision.color_label, _Keep):
        values["rated_at"] = utcnow()  # a new opinion for the learned profile (keywords: none)
    values.update(_NEW_METADATA)
    photo = await transitions.set_values(s, Photo, photo_id, values, _any(differs))
    if photo is None:
        return
    out.metadata_changed = True
    out.events.append(
        events.photo_rating_changed(
            photo_id, photo.session_id, photo.stars, photo.color_label, list(photo.keywords or [])
        )
    )


async def _set_preset(
    ctx: BridgeContext, s: AsyncSession, photo_id: str, preset: str | None, out: _Outcome
) -> None:
    photo = await transitions.set_values(
        s, Photo, photo_id, {"export_preset": preset}, Photo.export_preset.is_distinct_from(preset)
    )
    if photo is None:
        return
    out.events.append(events.photo_preset_changed(photo_id, photo.session_id, preset))
    if photo.approval == Approval.APPROVED:
        # A pick already exported (or queued) with the old preset is exported again with the
        # new one; an export not started yet is replaced. Files already written stay.
        out.cancelled += await _cancel_pending_exports(s, photo_id)
        chosen = preset or photo.selected_preset or _default_preset(ctx)
        out.jobs.append(add_job(s, JobKind.EXPORT, photo_id, PRIORITY_NORMAL, {"preset": chosen}))


def _any(conditions: list[Any]) -> Any:
    result = conditions[0]
    for condition in conditions[1:]:
        result = result | condition
    return result


async def _cancel_pending_exports(s: AsyncSession, photo_id: str) -> list[str]:
    """In the decision's transaction: cancel exports not yet started; returns their ids."""
    rows = await transitions.apply(
        s,
        transitions.JOB_CANCELLED,
        Job.photo_id == photo_id,
        Job.kind == JobKind.EXPORT,
        Job.status == JobStatus.PENDING,
        values={"stage": "cancelled", "error": EXPORT_CANCELLED, "finished_at": utcnow()},
    )
    return [job.id for job in rows]


# --- after the commit ------------------------------------------------------------------------


async def _announce(ctx: BridgeContext, photo_id: str, out: _Outcome) -> None:
    for job_id in out.cancelled:
        ctx.broker.publish(
            events.job_failed(
                job_id, photo_id, EXPORT_CANCELLED, {"cancelled": True, "will_retry": False}
            )
        )
    if out.cancelled:
        jobs_changed(ctx)
    for event in out.events:
        ctx.broker.publish(event)
    if out.withdrawals:
        # The intents are recorded: carry them out even if the caller goes away meanwhile.
        await finish_even_if_cancelled(withdraw(ctx, out.withdrawals))
    if out.jobs:
        announce_jobs(ctx, out.jobs)
    if (out.flag_changed or out.metadata_changed) and ctx.metadata is not None:
        ctx.metadata.schedule(photo_id)  # sidecar and exports' XMP, off the loop
    if out.flag_changed:
        async with ctx.db.session() as s:
            count = await approval_queue_count(s)
        ctx.broker.publish(events.approval_queue_updated(count, out.session_id))
        await refresh_session(ctx, out.session_id)
