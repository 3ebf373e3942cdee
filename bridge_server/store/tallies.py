"""Maintained counts: sums of the delta rows migration 0012's triggers write, and their folding.

A count is a SUM over a session's (or every) tally row, read in the caller's transaction, so it
agrees with the photos and jobs that transaction sees. Rows only accumulate between folds:
`fold` replaces the oldest rows by one row per session (and one for the jobs) in a single
transaction, so a sum is the same before and after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any, Final

from sqlalchemy import bindparam, delete, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from .db import Database
from .models import JobTally, PhotoTally

log = logging.getLogger(__name__)

PHOTO_COUNTS: Final = ("total", "processed", "waiting", "approved", "rejected")
JOB_COUNTS: Final = ("pending", "running", "completed", "failed", "cancelled")
FOLD_AFTER: Final = 2_000  # delta rows beyond the folded ones before a fold is worth it
FOLD_CHUNK: Final = 50_000  # rows folded per transaction (a short write lock)
FOLD_INTERVAL: Final = 30.0  # seconds between checks


# Built once: counts are read after nearly every change (the statements are constant).
_PHOTO_TALLIES = (
    select(PhotoTally.session_id, *(func.sum(getattr(PhotoTally, c)) for c in PHOTO_COUNTS))
    .where(PhotoTally.session_id.in_(bindparam("session_ids", expanding=True)))
    .group_by(PhotoTally.session_id)
)
_JOB_TALLIES = select(*(func.coalesce(func.sum(getattr(JobTally, c)), 0) for c in JOB_COUNTS))


async def photo_tallies(s: AsyncSession, session_ids: list[str]) -> dict[str, dict[str, int]]:
    """The photo counts of each session (zeros for a session without photos)."""
    rows = (await s.execute(_PHOTO_TALLIES, {"session_ids": session_ids})).all()
    found = {
        row[0]: dict(zip(PHOTO_COUNTS, (int(v or 0) for v in row[1:]), strict=True)) for row in rows
    }
    return {sid: found.get(sid, dict.fromkeys(PHOTO_COUNTS, 0)) for sid in session_ids}


async def library_tally(s: AsyncSession, name: str, session_id: str | None = None) -> int:
    """One photo count (`PHOTO_COUNTS`) of a session, or of the whole library."""
    query = select(func.coalesce(func.sum(getattr(PhotoTally, name)), 0))
    if session_id is not None:
        query = query.where(PhotoTally.session_id == session_id)
    return int((await s.execute(query)).scalar_one())


async def job_tallies(s: AsyncSession) -> dict[str, int]:
    """How many jobs are in each status."""
    row = (await s.execute(_JOB_TALLIES)).one()
    return dict(zip(JOB_COUNTS, (int(v) for v in row), strict=True))


async def fold(db: Database, min_saving: int = FOLD_AFTER) -> int:
    """Fold the delta rows written so far into one row per session and one for the jobs (in
    chunks of FOLD_CHUNK) once that saves `min_saving` rows; returns how many it saved."""
    saved = 0
    for table in (PhotoTally, JobTally):
        while True:
            async with db.session() as s, s.begin():
                rows, keys, first = (await s.execute(_size(table))).one()
                if rows - keys < min_saving:
                    break
                removed, kept = await _fold_rows(s, table, first + FOLD_CHUNK)
            saved += removed - kept
            if removed - kept < min_saving:
                break
    return saved


def _size(table: type[PhotoTally] | type[JobTally]) -> Any:
    """SELECT (rows, rows a fold would leave at most, lowest id)."""
    keys = func.count(func.distinct(PhotoTally.session_id)) if table is PhotoTally else literal(1)
    return select(func.count(), keys, func.coalesce(func.min(table.id), 0)).select_from(table)


async def _fold_rows(
    s: AsyncSession, table: type[PhotoTally] | type[JobTally], upto: int
) -> tuple[int, int]:
    """Replace the rows up to `upto` by their sums: (rows removed, rows added). Rows written
    meanwhile are not touched: a DELETE ... RETURNING removes exactly the rows it adds up."""
    keyed = table is PhotoTally
    names = PHOTO_COUNTS if keyed else JOB_COUNTS
    key = [PhotoTally.session_id] if keyed else []
    counted = [getattr(table, n) for n in names]
    removed = (
        await s.execute(delete(table).where(table.id <= upto).returning(*key, *counted))
    ).all()
    sums: dict[str, list[int]] = defaultdict(lambda: [0] * len(names))
    for row in removed:
        group, values = (row[0], row[1:]) if keyed else ("", row)
        total = sums[group]
        for i, v in enumerate(values):
            total[i] += int(v)
    rows = [
        {**({"session_id": group} if keyed else {}), **dict(zip(names, values, strict=True))}
        for group, values in sums.items()
        if any(values)
    ]
    if rows:
        await s.execute(insert(table), rows)
    return len(removed), len(rows)


class TallyFolder:
    """Folds the tallies in the background now and then (a bridge runs one; folds on several
    machines at once are safe)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        """Fold every FOLD_INTERVAL seconds until stopped."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="tally-folder")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await fold(self._db)
            except Exception:  # a locked or full disk: the sums stay right, try again later
                log.exception("Folding the count tallies failed; will retry")
            try:
                await asyncio.wait_for(self._stopping.wait(), FOLD_INTERVAL)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        """Stop after the fold in flight (never cancelled halfway: it is one transaction)."""
        self._stopping.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
