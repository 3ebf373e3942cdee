"""Guests' hearts into the photographer's decisions: keywords Lightroom reads, stars, a label.

Every change goes through the decisions service (so through its conditional updates, its events
and the XMP it keeps in step): each hearted photo gets the keyword `Client favourite: <name>` for
every guest who hearted it, and, when asked, at least `stars` stars and a colour label.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select

from ..context import BridgeContext
from ..store.enums import ColorLabel
from ..store.models import Photo
from . import decisions
from .client_feedback import favorite_names
from .errors import InvalidArguments
from .queries import session_exists

KEYWORD_PREFIX: Final = "Client favourite: "


def favourite_keyword(client_name: str) -> str:
    """The keyword for one guest's heart, within the decisions service's keyword rules."""
    name = "".join(c for c in client_name if c.isprintable()).strip() or "guest"
    return (KEYWORD_PREFIX + name)[: decisions.MAX_KEYWORD_LEN]


async def apply_favorites(
    ctx: BridgeContext,
    session_id: str,
    stars: int | None = None,
    color_label: ColorLabel | None = None,
) -> dict[str, Any]:
    """Turn the session's hearts into keywords (and stars, a label); returns what changed."""
    if stars is not None and not 1 <= stars <= decisions.MAX_STARS:
        raise InvalidArguments(f"'stars' must be between 1 and {decisions.MAX_STARS}")
    async with ctx.db.session() as s:
        await session_exists(s, session_id)
        rows = (
            await s.execute(
                select(Photo.id, Photo.stars, Photo.keywords).where(
                    Photo.session_id == session_id, Photo.client_favorites > 0
                )
            )
        ).all()
    names = await favorite_names(ctx, [row[0] for row in rows])
    photos: list[dict[str, Any]] = []
    for photo_id, current_stars, keywords in rows:
        words = list(keywords or [])
        known = {w.casefold() for w in words}
        for name in names.get(photo_id, []):
            word = favourite_keyword(name)
            if word.casefold() not in known:
                words.append(word)
                known.add(word.casefold())
        decision = decisions.Decision(
            keywords=tuple(words[: decisions.MAX_KEYWORDS]),
            stars=max(current_stars or 0, stars) if stars is not None else None,
            color_label=color_label if color_label is not None else decisions.KEEP,
        )
        photos.append(await decisions.set_decision(ctx, photo_id, decision))
    return {"session_id": session_id, "photos": photos, "count": len(photos)}
