"""Reading photos: one, or a filtered page of them (the page comes from services.library)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..context import BridgeContext
from ..store.enums import Approval, PhotoStatus, Selection
from ..store.models import Photo
from .library import LibraryQuery, query_library
from .queries import get_or_404
from .serializers import photo_dict


async def get_photo(ctx: BridgeContext, photo_id: str) -> dict[str, Any]:
    """One photo."""
    async with ctx.db.session() as s:
        return photo_dict(await get_or_404(s, Photo, photo_id, "photo"))


async def list_photos(
    ctx: BridgeContext,
    *,
    session_id: str | None = None,
    status: PhotoStatus | None = None,
    approval: Approval | None = None,
    selection: Selection | None = None,
    group_id: str | None = None,
    favorite: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Photos in capture order, filtered, by offset: the library's query with the original's
    filters."""
    page = await query_library(
        ctx,
        LibraryQuery(
            session_id=session_id,
            status=status,
            approval=approval,
            selection=selection,
            group_id=group_id,
            favorite=favorite,
            limit=limit,
            offset=offset,
        ),
    )
    return page.photos, page.total or 0


async def photo_names(ctx: BridgeContext, photo_ids: list[str]) -> dict[str, str]:
    """File names of these photos (those that exist), by id."""
    if not photo_ids:
        return {}
    async with ctx.db.session() as s:
        rows = await s.execute(select(Photo.id, Photo.file_name).where(Photo.id.in_(photo_ids)))
        return {photo_id: name for photo_id, name in rows.all()}
