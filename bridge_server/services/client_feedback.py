"""Guests' hearts and comments: each change is one conditional statement, its counter moves in
the same transaction, and its event is published only when a row really changed."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import delete, select, update

from .. import events
from ..audience import ProofingScope
from ..context import BridgeContext
from ..ids import new_id
from ..store.models import ClientComment, ClientFavorite, Photo
from ..store.portable import dialect_insert
from ..timeutil import utcnow
from .errors import InvalidArguments
from .proofing_gallery import comment_dict, level_of, visible_photo
from .queries import get_or_404

COMMENT_MAX: Final = 1_000


async def set_favorite(
    ctx: BridgeContext, scope: ProofingScope, photo_id: str, favorite: bool
) -> dict[str, Any]:
    """Heart a photo (or take the heart back); repeating the same wish changes nothing."""
    async with ctx.db.session() as s, s.begin():
        photo = await visible_photo(s, scope, photo_id)
        level = level_of(photo)
        if favorite:
            changed = (
                await s.execute(
                    dialect_insert(s, ClientFavorite)
                    .values(
                        photo_id=photo_id,
                        device_id=scope.device_id,
                        client_name=scope.client_name,
                        created_at=utcnow(),
                    )
                    .on_conflict_do_nothing()
                    .returning(ClientFavorite.photo_id)
                )
            ).scalar()
        else:
            changed = (
                await s.execute(
                    delete(ClientFavorite)
                    .where(
                        ClientFavorite.photo_id == photo_id,
                        ClientFavorite.device_id == scope.device_id,
                    )
                    .returning(ClientFavorite.photo_id)
                )
            ).scalar()
        count = photo.client_favorites
        if changed is not None:
            step = 1 if favorite else -1
            count = (
                await s.execute(
                    update(Photo)
                    .where(Photo.id == photo_id)
                    .values(client_favorites=Photo.client_favorites + step)
                    .returning(Photo.client_favorites)
                )
            ).scalar_one()
    if changed is not None:
        ctx.broker.publish(
            events.client_favorite_changed(
                scope.session_id,
                photo_id,
                scope.device_id,
                scope.client_name,
                favorite,
                count,
                level,
            )
        )
    return {"photo_id": photo_id, "favorite": favorite, "favorites": count}


async def add_comment(
    ctx: BridgeContext, scope: ProofingScope, photo_id: str, text: str
) -> dict[str, Any]:
    """A guest's comment on a photo it can see."""
    text = text.strip()
    if not text:
        raise InvalidArguments("A comment cannot be empty")
    if len(text) > COMMENT_MAX:
        raise InvalidArguments(f"A comment must be at most {COMMENT_MAX} characters")
    comment = ClientComment(
        id=new_id("m"),
        photo_id=photo_id,
        device_id=scope.device_id,
        client_name=scope.client_name,
        text=text,
        created_at=utcnow(),
    )
    async with ctx.db.session() as s, s.begin():
        photo = await visible_photo(s, scope, photo_id)
        level = level_of(photo)
        s.add(comment)
        await s.flush()
        count = (
            await s.execute(
                update(Photo)
                .where(Photo.id == photo_id)
                .values(client_comments=Photo.client_comments + 1)
                .returning(Photo.client_comments)
            )
        ).scalar_one()
    data = comment_dict(comment)
    ctx.broker.publish(
        events.client_comment_added(
            scope.session_id,
            photo_id,
            data["comment_id"],
            scope.device_id,
            scope.client_name,
            text,
            str(data["created_at"]),
            count,
            level,
        )
    )
    return {**data, "comments": count}


async def photo_feedback(ctx: BridgeContext, photo_id: str) -> dict[str, Any]:
    """For the photographer: who hearted a photo and every comment on it."""
    async with ctx.db.session() as s:
        await get_or_404(s, Photo, photo_id, "photo")
        hearts = (
            await s.execute(
                select(ClientFavorite)
                .where(ClientFavorite.photo_id == photo_id)
                .order_by(ClientFavorite.created_at)
            )
        ).scalars()
        comments = (
            await s.execute(
                select(ClientComment)
                .where(ClientComment.photo_id == photo_id)
                .order_by(ClientComment.created_at, ClientComment.id)
            )
        ).scalars()
        return {
            "photo_id": photo_id,
            "favorites": [{"device_id": h.device_id, "client_name": h.client_name} for h in hearts],
            "comments": [comment_dict(c) for c in comments],
        }


async def favorite_names(ctx: BridgeContext, photo_ids: list[str]) -> dict[str, list[str]]:
    """Guests' names per hearted photo (for keywords such as `Client favourite: Anna`)."""
    if not photo_ids:
        return {}
    async with ctx.db.session() as s:
        rows = await s.execute(
            select(ClientFavorite.photo_id, ClientFavorite.client_name)
            .where(ClientFavorite.photo_id.in_(photo_ids))
            .order_by(ClientFavorite.created_at)
        )
        names: dict[str, list[str]] = {}
        for photo_id, name in rows:
            names.setdefault(photo_id, []).append(name)
        return names
