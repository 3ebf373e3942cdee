"""The approval queue: photos waiting for the photographer's decision, best first.

Decisions themselves (approve = pick, reject, undo, stars, labels, keywords) live in
`services.decisions`; the three original operations are re-exported here for their callers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..context import BridgeContext
from ..store.models import Photo
from .decisions import MAX_REASON, approve_photo, reject_photo, undo_decision
from .queries import paginate, queue_filter
from .serializers import photo_dict

__all__ = ["MAX_REASON", "approval_queue", "approve_photo", "reject_photo", "undo_decision"]


async def approval_queue(
    ctx: BridgeContext, session_id: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Photos waiting for a decision, best first."""
    query = (
        select(Photo)
        .where(queue_filter())
        .order_by(Photo.ai_score.desc(), Photo.captured_at, Photo.id)
    )
    if session_id is not None:
        query = query.where(Photo.session_id == session_id)
    async with ctx.db.session() as s:
        rows, total = await paginate(s, query, limit, offset)
        return [photo_dict(p) for p in rows], total
