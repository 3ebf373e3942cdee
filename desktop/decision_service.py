"""The desk's door to the decision service and the whole-shoot query (services own both)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from bridge_server.context import BridgeContext
from bridge_server.services import decisions, library
from bridge_server.store.enums import ColorLabel, Flag, Verdict

from .models.library import LibraryQuery, Page


async def set_decision(ctx: BridgeContext, photo_id: str, change: dict[str, Any]) -> dict[str, Any]:
    """Change a photo's flag, stars or colour label (checked as every other door's)."""
    return await decisions.set_decision(
        ctx, photo_id, decisions.parse_decision(change, ctx.settings)
    )


_LIBRARY_FIELDS = {f.name for f in fields(library.LibraryQuery)}


async def library_page(
    ctx: BridgeContext, query: LibraryQuery, cursor: str | None, limit: int
) -> Page:
    """One keyset page of the whole shoot as the grid's filters ask."""
    # Client hearts come with proofing: asked for only where the query knows them.
    hearts: dict[str, Any] = (
        {"favorite": True} if query.favorite and "favorite" in _LIBRARY_FIELDS else {}
    )
    page = await library.query_library(
        ctx,
        library.LibraryQuery(
            **hearts,
            session_id=query.session_id,
            sort=library.SortOrder(query.sort),
            verdict=None if query.verdict is None else Verdict(query.verdict),
            flag=None if query.flag is None else Flag(query.flag),
            min_stars=query.min_stars,
            color_label=None if query.color_label is None else ColorLabel(query.color_label),
            problem=query.problem,
            collapse_stacks=query.collapse_stacks,
            group_id=query.group_id,
            cursor=cursor,
            limit=limit,
            count=cursor is None,  # the first page's total is shown; events keep it
        ),
    )
    return Page(page.photos, page.next_cursor, page.total)
