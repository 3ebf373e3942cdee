"""Reading photos: one, or a filtered page of them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..context import BridgeContext
from ..store.enums import Approval, PhotoStatus, Selection
from ..store.models import Photo
from .queries import get_or_404, paginate
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
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Photos in capture order, filtered."""
    query = select(Photo).order_by(Photo.captured_at, Photo.file_name, Photo.id)
    if session_id is not None:
        query = query.where(Photo.session_id == session_id)
    if status is not None:
        query = query.where(Photo.status == status)
    if approval is not None:
        query = query.where(Photo.approval == approval)
    if selection is not None:
        query = query.where(Photo.selection == selection)
    if group_id is not None:
        query = query.where(Photo.group_id == group_id)
    async with ctx.db.session() as s:
        rows, total = await paginate(s, query, limit, offset)
        return [photo_dict(p) for p in rows], total
