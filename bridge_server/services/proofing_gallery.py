"""What proofing guests see: the photos of their session at their link's visibility.

A photo's proofing level is `pick` (approved), `proposal` (analysed, proposed as a keeper and
not decided yet) or None (rejected, or not proposed). Rejects are never shown. When a decision
or a selection run changes a photo's level, `announce_level` publishes
`proofing_photo_changed`; the broker's audience check then sends it only to guests who can see
the photo now or could see it before (the withdrawal of a pick taken back).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..audience import ProofingScope
from ..context import BridgeContext
from ..store.enums import Approval, PhotoStatus, Selection
from ..store.models import ClientComment, ClientFavorite, Photo, Session
from ..timeutil import iso
from .errors import Conflict, NotFound

PICK: Final = "pick"
PROPOSAL: Final = "proposal"
MAX_GALLERY: Final = 2_000


def photo_level(status: PhotoStatus, selection: Selection, approval: Approval) -> str | None:
    """The proofing level of a photo in these states."""
    if status != PhotoStatus.ANALYZED:
        return None
    if approval == Approval.APPROVED:
        return PICK
    if approval == Approval.PENDING and selection == Selection.KEEPER:
        return PROPOSAL
    return None


def level_of(photo: Photo) -> str | None:
    """The proofing level of a loaded photo."""
    return photo_level(photo.status, photo.selection, photo.approval)


async def current_level(s: AsyncSession, photo_id: str) -> str | None:
    """The level of a photo as stored now (None for an unknown photo)."""
    row = (
        await s.execute(
            select(Photo.status, Photo.selection, Photo.approval).where(Photo.id == photo_id)
        )
    ).one_or_none()
    return photo_level(*row) if row is not None else None


def announce_level(
    ctx: BridgeContext, session_id: str, photo_id: str, level: str | None, previous: str | None
) -> None:
    """Publish `proofing_photo_changed` when what guests may see of a photo really changed."""
    if level != previous:
        ctx.broker.publish(events.proofing_photo_changed(session_id, photo_id, level, previous))


def _visible_filter(scope: ProofingScope) -> Any:
    picked = and_(Photo.status == PhotoStatus.ANALYZED, Photo.approval == Approval.APPROVED)
    if not scope.sees(PROPOSAL):
        return picked
    proposed = and_(
        Photo.status == PhotoStatus.ANALYZED,
        Photo.approval == Approval.PENDING,
        Photo.selection == Selection.KEEPER,
    )
    return or_(picked, proposed)


def guest_photo(photo: Photo, mine: bool) -> dict[str, Any]:
    """A photo as a guest sees it: no scores, no analysis, no paths, no reasons."""
    return {
        "photo_id": photo.id,
        "file_name": photo.file_name,
        "width": photo.width,
        "height": photo.height,
        "captured_at": iso(photo.captured_at),
        "level": level_of(photo),
        "favorite": mine,
        "favorites": photo.client_favorites,
        "comments": photo.client_comments,
        "preview_url": f"/api/proofing/photos/{photo.id}/preview?size=large",
        "thumbnail_url": f"/api/proofing/photos/{photo.id}/preview?size=small",
    }


async def _mine(s: AsyncSession, scope: ProofingScope, photo_ids: list[str]) -> set[str]:
    if not photo_ids:
        return set()
    rows = await s.execute(
        select(ClientFavorite.photo_id).where(
            ClientFavorite.device_id == scope.device_id, ClientFavorite.photo_id.in_(photo_ids)
        )
    )
    return set(rows.scalars())


async def gallery(ctx: BridgeContext, scope: ProofingScope) -> dict[str, Any]:
    """Everything the guest's page shows on load: studio, shoot, and the visible photos."""
    async with ctx.db.session() as s:
        session = await s.get(Session, scope.session_id)
        if session is None:
            raise NotFound("This shoot no longer exists")
        photos = list(
            (
                await s.execute(
                    select(Photo)
                    .where(Photo.session_id == scope.session_id, _visible_filter(scope))
                    .order_by(Photo.captured_at, Photo.file_name, Photo.id)
                    .limit(MAX_GALLERY)
                )
            ).scalars()
        )
        mine = await _mine(s, scope, [p.id for p in photos])
    return {
        "studio_name": ctx.settings.studio_name or "Your photographer",
        "session_name": session.name,
        "client_name": scope.client_name,
        "visibility": scope.visibility,
        "photos": [guest_photo(p, p.id in mine) for p in photos],
    }


async def visible_photo(s: AsyncSession, scope: ProofingScope, photo_id: str) -> Photo:
    """The photo if this guest may see it; otherwise NotFound (never saying it exists)."""
    photo = await s.get(Photo, photo_id, populate_existing=True)
    if photo is None or photo.session_id != scope.session_id or not scope.sees(level_of(photo)):
        raise NotFound(f"No photo {photo_id!r} in this gallery")
    return photo


async def guest_photo_detail(
    ctx: BridgeContext, scope: ProofingScope, photo_id: str
) -> dict[str, Any]:
    """One visible photo with every guest's comments on it, oldest first."""
    async with ctx.db.session() as s:
        photo = await visible_photo(s, scope, photo_id)
        mine = await _mine(s, scope, [photo_id])
        comments = (
            await s.execute(
                select(ClientComment)
                .where(ClientComment.photo_id == photo_id)
                .order_by(ClientComment.created_at, ClientComment.id)
            )
        ).scalars()
        data = guest_photo(photo, photo_id in mine)
        data["comment_list"] = [comment_dict(c) for c in comments]
        return data


async def guest_preview(ctx: BridgeContext, scope: ProofingScope, photo_id: str, size: str) -> Path:
    """The cached preview of a photo this guest may see."""
    async with ctx.db.session() as s:
        await visible_photo(s, scope, photo_id)
    if ctx.thumbnails is None:
        raise Conflict("Previews are not available right now")
    return await ctx.thumbnails.path(photo_id, size)


def comment_dict(comment: ClientComment) -> dict[str, Any]:
    """A guest's comment."""
    return {
        "comment_id": comment.id,
        "photo_id": comment.photo_id,
        "device_id": comment.device_id,
        "client_name": comment.client_name,
        "text": comment.text,
        "created_at": iso(comment.created_at),
    }
