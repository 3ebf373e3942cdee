"""The approval queue: photos waiting for the photographer's decision, best first.

Decisions themselves (approve = pick, reject, undo, stars, labels, keywords) live in
`services.decisions`; the three original operations are re-exported here for their callers.
"""

from __future__ import annotations

from typing import Any

from ..context import BridgeContext
from ..store.enums import Approval, Verdict
from .decisions import MAX_REASON, approve_photo, reject_photo, undo_decision
from .library import LibraryPage, LibraryQuery, SortOrder, query_library

__all__ = [
    "MAX_REASON",
    "approval_queue",
    "approval_queue_page",
    "approve_photo",
    "reject_photo",
    "undo_decision",
]


async def approval_queue_page(
    ctx: BridgeContext,
    session_id: str | None,
    limit: int,
    *,
    cursor: str | None = None,
    offset: int | None = None,
    count: bool = True,
) -> LibraryPage:
    """Photos waiting for a decision, best first: the whole-shoot query in score order, paged
    by its keyset cursor (or the original's offset); `queries.queue_filter` is the same set."""
    return await query_library(
        ctx,
        LibraryQuery(
            session_id=session_id,
            sort=SortOrder.SCORE,
            verdict=Verdict.PROPOSED,
            approval=Approval.PENDING,
            cursor=cursor,
            limit=limit,
            offset=offset,
            count=count,
        ),
    )


async def approval_queue(
    ctx: BridgeContext, session_id: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Photos waiting for a decision, best first, by offset: (photos, total)."""
    page = await approval_queue_page(ctx, session_id, limit, offset=offset)
    return page.photos, page.total or 0
