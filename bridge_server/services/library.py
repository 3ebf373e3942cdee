"""The whole shoot: every photo of a session (or of all), filtered, sorted, paged by cursor.

One query serves the library grid, `GET /api/photos` and the desktop: filters by AI verdict,
flag, stars, colour label and problem; sorted by capture time (default) or score; keyset paging
with an opaque cursor (stable while photos arrive), or the original bridge's offset; bursts and
scenes optionally collapsed to each stack's top frame with the stack's size.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Boolean, Select, func, literal, literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ..context import BridgeContext
from ..store import tallies
from ..store.enums import FLAG_APPROVAL, Approval, ColorLabel, Flag, PhotoStatus, Selection, Verdict
from ..store.models import Photo, UTCDateTime
from ..store.portable import array_has_any
from .errors import InvalidArguments
from .queries import verdict_filter
from .serializers import photo_dict

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 500
MAX_CURSOR_LEN: Final = 512
CURSOR_PATTERN: Final = r"^[A-Za-z0-9_-]+$"  # base64url without padding


class SortOrder(StrEnum):
    """How the shoot is ordered."""

    CAPTURED = "captured"  # capture time, oldest first (photos without one last)
    SCORE = "score"  # AI score, best first (unscored last), then capture time


# The problems a photographer filters by, and the analysis flags each one covers.
PROBLEMS: Final[dict[str, tuple[str, ...]]] = {
    "blink": ("eyes_closed",),
    "out_of_focus": ("missed_focus", "out_of_focus"),
    "soft": ("soft",),
    "clipped": ("highlights_clipped", "background_clipped", "shadows_clipped"),
    "underexposed": ("underexposed",),
    "overexposed": ("overexposed",),
    "noisy": ("noisy",),
    "low_jpeg_quality": ("low_jpeg_quality",),
}


@dataclass(frozen=True)
class LibraryQuery:
    """Filters, order and page of one library request; None means "any"."""

    session_id: str | None = None
    sort: SortOrder = SortOrder.CAPTURED
    verdict: Verdict | None = None
    flag: Flag | None = None
    min_stars: int | None = None
    color_label: ColorLabel | None = None
    problem: str | None = None
    favorite: bool | None = None  # hearted by a proofing guest (True) or by none (False)
    collapse_stacks: bool = False
    # The original bridge's filters.
    status: PhotoStatus | None = None
    approval: Approval | None = None
    selection: Selection | None = None
    group_id: str | None = None
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT
    offset: int | None = None  # the original's paging (with a cursor: rows skipped after it)
    count: bool = True  # False: no total (a scrolling view's next page needs none)


@dataclass(frozen=True)
class LibraryPage:
    """One page: the photos, the cursor of the next page (None: this was the last), the total
    (None when the query asked for no count)."""

    photos: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None


async def query_library(ctx: BridgeContext, q: LibraryQuery) -> LibraryPage:
    """One page of the shoot as `q` asks."""
    if q.problem is not None and q.problem not in PROBLEMS:
        raise InvalidArguments(f"'problem' must be one of: {', '.join(PROBLEMS)}")
    if not 1 <= q.limit <= MAX_LIMIT:
        raise InvalidArguments(f"'limit' must be between 1 and {MAX_LIMIT}")
    keys = _sort_keys(q.sort)
    base = select(Photo).where(*_filters(q))
    stack_size: Any = None
    if q.collapse_stacks:
        base, stack_size = _collapsed(q)
    total_query = select(func.count()).select_from(base.subquery())
    page = base.order_by(*keys)
    if q.cursor is not None:
        page = page.where(tuple_(*keys) > tuple_(*_decode_cursor(q.cursor, q.sort)))
    page = page.limit(q.limit + 1).offset(q.offset or 0)
    async with ctx.db.session() as s:
        total = await _total(s, q, total_query) if q.count else None
        rows: list[Any] = list((await s.execute(page)).all())
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    photos = []
    for row in rows:
        item = photo_dict(row[0])
        if stack_size is not None:
            item["stack_size"] = int(row[1])
        photos.append(item)
    cursor = encode_cursor(q.sort, _key_values(rows[-1][0], q.sort)) if more and rows else None
    return LibraryPage(photos, cursor, total)


# The queries whose total is a maintained tally (store.tallies), by their filters alone: every
# photo, and the approval queue (`queries.queue_filter`), of the library or of one session.
_TALLIED: Final[dict[LibraryQuery, str]] = {
    LibraryQuery(): "total",
    LibraryQuery(verdict=Verdict.PROPOSED, approval=Approval.PENDING): "waiting",
}


async def _total(s: AsyncSession, q: LibraryQuery, count: Select[Any]) -> int:
    """How many photos match `q`: a tally where one counts them, else a count."""
    filters_only = replace(
        q, session_id=None, sort=SortOrder.CAPTURED, cursor=None, limit=DEFAULT_LIMIT,
        offset=None, count=True,
    )  # fmt: skip
    tally = _TALLIED.get(filters_only)
    if tally is not None:
        return await tallies.library_tally(s, tally, q.session_id)
    return int((await s.execute(count)).scalar_one())


def _filters(q: LibraryQuery) -> list[Any]:
    where: list[Any] = []
    if q.session_id is not None:
        where.append(Photo.session_id == q.session_id)
    if q.verdict is not None:
        where.append(verdict_filter(q.verdict))
    if q.flag is not None:
        where.append(Photo.approval == FLAG_APPROVAL[q.flag])
    if q.min_stars is not None:
        where.append(Photo.stars >= q.min_stars)
    if q.color_label is not None:
        where.append(Photo.color_label == q.color_label.value)
    if q.problem is not None:
        # Portable JSON (store/portable.py): the same filter on SQLite and PostgreSQL.
        where.append(array_has_any(Photo.analysis, "flags", PROBLEMS[q.problem]))
    if q.favorite is not None:
        where.append((Photo.client_favorites > 0) == q.favorite)
    if q.status is not None:
        where.append(Photo.status == q.status)
    if q.approval is not None:
        where.append(Photo.approval == q.approval)
    if q.selection is not None:
        where.append(Photo.selection == q.selection)
    if q.group_id is not None:
        where.append(Photo.group_id == q.group_id)
    return where


def _collapsed(q: LibraryQuery) -> tuple[Select[Any], Any]:
    """Only each stack's top frame among the matching photos, with how many matched in it."""
    stack = func.coalesce(Photo.group_id, Photo.id)
    ranked = (
        select(
            Photo.id.label("photo_id"),
            func.row_number()
            .over(
                partition_by=stack,
                order_by=(Photo.group_rank.is_(None), Photo.group_rank, Photo.id),
            )
            .label("place"),
            func.count().over(partition_by=stack).label("stack_size"),
        )
        .where(*_filters(q))
        .subquery()
    )
    query = (
        select(Photo, ranked.c.stack_size)
        .join(ranked, ranked.c.photo_id == Photo.id)
        .where(ranked.c.place == 1)
    )
    return query, ranked.c.stack_size


def _sort_keys(sort: SortOrder) -> list[Any]:
    """Columns of a total order (all ascending, no NULLs) for ORDER BY and the keyset."""
    # Written without bound parameters, so SQLite matches them to the expression indexes of
    # migration 0007 and walks the shoot in order instead of sorting every photo.
    when = [
        Photo.captured_at.is_(None),
        func.coalesce(Photo.captured_at, Photo.imported_at),
        Photo.file_name,
        Photo.id,
    ]
    if sort == SortOrder.SCORE:
        score = [Photo.ai_score.is_(None), -func.coalesce(Photo.ai_score, literal_column("0.0"))]
        return score + when
    return when


def _key_values(photo: Photo, sort: SortOrder) -> list[Any]:
    when = photo.captured_at or photo.imported_at
    values: list[Any] = [
        int(photo.captured_at is None),
        when.isoformat(),
        photo.file_name,
        photo.id,
    ]
    if sort == SortOrder.SCORE:
        values = [int(photo.ai_score is None), -float(photo.ai_score or 0.0), *values]
    return values


def encode_cursor(sort: SortOrder, values: list[Any]) -> str:
    """The opaque cursor for "after the photo with these sort-key values" (base64url JSON)."""
    raw = json.dumps([sort.value, values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str, sort: SortOrder) -> list[Any]:
    """The keyset values a cursor carries, as SQL literals; a bad cursor is a clear 400."""
    bad = InvalidArguments("'cursor' is not a cursor of this listing: start again without it")
    if len(cursor) > MAX_CURSOR_LEN or not re.fullmatch(CURSOR_PATTERN, cursor):
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, values = json.loads(raw.decode("utf-8"))
        if kind != sort.value:
            raise bad
        *score, missing, when, name, photo_id = values
        if len(score) != (2 if sort == SortOrder.SCORE else 0):
            raise bad
        row: list[Any] = []
        if score:
            row += [literal(bool(score[0]), Boolean()), literal(float(score[1]))]
        row += [
            literal(bool(missing), Boolean()),  # `x IS NULL` is a boolean on PostgreSQL
            literal(datetime.fromisoformat(when), UTCDateTime()),
            literal(str(name)),
            literal(str(photo_id)),
        ]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    return row
