"""The desk's door to the decision service and the whole-shoot query (services own both)."""

from __future__ import annotations

from typing import Any

from bridge_server.context import BridgeContext
from bridge_server.services import approvals, photos
from bridge_server.services.errors import InvalidArguments

from .models.library import LibraryQuery, Page


async def set_decision(ctx: BridgeContext, photo_id: str, change: dict[str, Any]) -> dict[str, Any]:
    """Change a photo's flag (stars and labels need the decisions service)."""
    if set(change) - {"flag"}:
        raise InvalidArguments("Stars and colour labels are not available in this version")
    flag = change["flag"]
    if flag == "pick":
        return await approvals.approve_photo(ctx, photo_id)
    if flag == "reject":
        return await approvals.reject_photo(ctx, photo_id)
    return await approvals.undo_decision(ctx, photo_id)


async def library_page(
    ctx: BridgeContext, query: LibraryQuery, cursor: str | None, limit: int
) -> Page:
    """One page of the whole shoot in capture order (offset paging until the library query)."""
    offset = int(cursor or 0)
    rows, total = await photos.list_photos(
        ctx, session_id=query.session_id, limit=limit, offset=offset
    )
    following = offset + len(rows)
    return Page(rows, str(following) if following < total else None, total)
