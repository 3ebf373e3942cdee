"""REST: sessions, photos and the approval queue."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from ..pipeline.importer import MAX_PATHS, import_paths
from ..pipeline.thumbnails import SIZES
from ..roles import OPERATOR_ONLY, STAFF
from ..services import approvals, decisions, photos, sessions
from ..services.decisions import MAX_REASON
from ..services.errors import Conflict, InvalidArguments
from ..services.import_roots import confine_import_paths, import_roots
from ..services.library import LibraryQuery, SortOrder, query_library
from ..store.enums import (
    Approval,
    ColorLabel,
    Flag,
    PhotoStatus,
    Selection,
    SessionStatus,
    Verdict,
)
from ..validation import get_str, get_str_list, parse_enum
from .context_keys import CTX
from .http_util import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_OFFSET,
    json_response,
    page,
    page_params,
    query_bool,
    query_int,
    read_json_object,
)
from .openapi_schemas import (
    CURSOR,
    DECISION,
    IMPORT,
    LIBRARY_PAGE,
    LIBRARY_QUERY,
    NAME_MAX,
    PAGE,
    PATH_MAX,
    PHOTO,
    QUERY_ENUMS,
    QUEUE_PAGE,
    REJECT,
    SESSION,
    SESSION_CREATE,
    SESSION_DELETE,
    SESSION_PATCH,
    page_response,
    wrapped,
)
from .routes import route


@route(
    "GET",
    "/api/sessions",
    "List sessions, newest first",
    query=(QUERY_ENUMS["session_status"], *PAGE),
    response=page_response(SESSION),
    roles=STAFF,
)
async def list_sessions(request: web.Request) -> web.Response:
    """Sessions with counts."""
    limit, offset = page_params(request)
    status = parse_enum(request.query.get("status"), SessionStatus, "status")
    items, total = await sessions.list_sessions(request.app[CTX], status, limit, offset)
    return page(items, total, limit, offset)


@route(
    "POST",
    "/api/sessions",
    "Create a session",
    status=201,
    body=SESSION_CREATE,
    response=SESSION,
    roles=OPERATOR_ONLY,
)
async def create_session(request: web.Request) -> web.Response:
    """A new, empty session (`name` is the original bridge's key for `session_name`)."""
    body = await read_json_object(request)
    name = _session_name(body)
    if name is None:
        raise InvalidArguments("'session_name' (or 'name') is required")
    folder = get_str(body, "import_folder", max_len=PATH_MAX, required=False)
    return json_response(await sessions.create_session(request.app[CTX], name, folder), 201)


def _session_name(body: dict[str, Any]) -> str | None:
    """`session_name`, or the original's `name`; each must be valid when given."""
    ours = get_str(body, "session_name", max_len=NAME_MAX, required=False)
    original = get_str(body, "name", max_len=NAME_MAX, required=False)
    return ours if ours is not None else original


@route(
    "PATCH",
    "/api/sessions/{session_id}",
    "Rename a session or set its status",
    roles=OPERATOR_ONLY,
    body=SESSION_PATCH,
    response=wrapped("session", SESSION),
)
async def update_session(request: web.Request) -> web.Response:
    """Change name and/or status; `session_updated` is published when something changed."""
    body = await read_json_object(request)
    name = _session_name(body)
    status = parse_enum(
        get_str(body, "status", max_len=16, required=False), SessionStatus, "status"
    )
    if status == SessionStatus.EMPTY:
        raise InvalidArguments("'status' must be active or completed (empty is the app's call)")
    session = await sessions.update_session(
        request.app[CTX], request.match_info["session_id"], name=name, status=status
    )
    return json_response({"success": True, "session": session})


@route(
    "DELETE",
    "/api/sessions/{session_id}",
    "Delete a session from the app (its files stay on disk)",
    roles=OPERATOR_ONLY,
    response=SESSION_DELETE,
)
async def delete_session(request: web.Request) -> web.Response:
    """The session's rows go; originals, library copies and exports are never touched."""
    return json_response(
        await sessions.delete_session(request.app[CTX], request.match_info["session_id"])
    )


@route("GET", "/api/sessions/{session_id}", "One session", response=SESSION, roles=STAFF)
async def get_session(request: web.Request) -> web.Response:
    """A session with counts."""
    return json_response(
        await sessions.get_session(request.app[CTX], request.match_info["session_id"])
    )


@route(
    "GET",
    "/api/photos",
    "The whole shoot: filter, sort, page by cursor (or offset), collapse stacks",
    query=(
        ("session_id", {"type": "string"}),
        QUERY_ENUMS["photo_status"],
        QUERY_ENUMS["approval"],
        QUERY_ENUMS["selection"],
        ("group_id", {"type": "string"}),
        ("favorite", {"type": "boolean"}),
        *LIBRARY_QUERY,
        *PAGE,
    ),
    response=LIBRARY_PAGE,
    roles=STAFF,
)
async def list_photos(request: web.Request) -> web.Response:
    """Photos of the shoot; the answer carries the original's `items`/`offset` and `photos`,
    `next_cursor` for keyset paging."""
    q = request.query
    limit = query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = query_int(request, "offset", 0, 0, MAX_OFFSET) if "offset" in q else None
    collapse = q.get("collapse_stacks", "false")
    if collapse not in ("true", "false"):
        raise InvalidArguments("'collapse_stacks' must be true or false")
    result = await query_library(
        request.app[CTX],
        LibraryQuery(
            session_id=q.get("session_id"),
            sort=parse_enum(q.get("sort", "captured"), SortOrder, "sort"),
            verdict=parse_enum(q.get("verdict"), Verdict, "verdict"),
            flag=parse_enum(q.get("flag"), Flag, "flag"),
            min_stars=query_int(request, "min_stars", 0, 0, 5) if "min_stars" in q else None,
            color_label=parse_enum(q.get("color_label"), ColorLabel, "color_label"),
            problem=q.get("problem"),
            collapse_stacks=collapse == "true",
            status=parse_enum(q.get("status"), PhotoStatus, "status"),
            approval=parse_enum(q.get("approval"), Approval, "approval"),
            selection=parse_enum(q.get("selection"), Selection, "selection"),
            group_id=q.get("group_id"),
            favorite=query_bool(q.get("favorite"), "favorite"),
            cursor=q.get("cursor"),
            limit=limit,
            offset=offset,
        ),
    )
    return json_response(
        {
            "photos": result.photos,
            "next_cursor": result.next_cursor,
            "total": result.total,
            "items": result.photos,
            "limit": limit,
            "offset": offset or 0,
        }
    )


@route(
    "PATCH",
    "/api/photos/{photo_id}/decision",
    "Set a photo's flag, stars, colour label, keywords or export preset",
    body=DECISION,
    response=wrapped("photo", PHOTO),
    roles=STAFF,
)
async def set_decision(request: web.Request) -> web.Response:
    """Any part of the decision; events follow only what really changed."""
    ctx = request.app[CTX]
    body = await read_json_object(request)
    decision = decisions.parse_decision(body, ctx.settings)
    photo = await decisions.set_decision(ctx, request.match_info["photo_id"], decision)
    return json_response({"photo": photo})


@route("GET", "/api/photos/{photo_id}", "One photo", response=PHOTO, roles=STAFF)
async def get_photo(request: web.Request) -> web.Response:
    """A photo with its analysis."""
    return json_response(await photos.get_photo(request.app[CTX], request.match_info["photo_id"]))


@route(
    "GET",
    "/api/approval/queue",
    "Photos waiting for a decision, best first",
    query=(("session_id", {"type": "string"}), *PAGE, CURSOR),
    response=QUEUE_PAGE,
    roles=STAFF,
)
async def approval_queue(request: web.Request) -> web.Response:
    """The approval queue: the original's `items`/`offset`, and `next_cursor` for keyset
    paging (pass it as `cursor`; an `offset` then skips rows after it)."""
    limit, offset = page_params(request)
    result = await approvals.approval_queue_page(
        request.app[CTX],
        request.query.get("session_id"),
        limit,
        cursor=request.query.get("cursor"),
        offset=offset,
    )
    return json_response(
        {
            "items": result.photos,
            "total": result.total,
            "limit": limit,
            "offset": offset,
            "next_cursor": result.next_cursor,
        }
    )


@route(
    "POST",
    "/api/approval/{photo_id}/approve",
    "Approve a photo and queue its export",
    response=wrapped("photo", PHOTO),
    roles=STAFF,
)
async def approve(request: web.Request) -> web.Response:
    """Approve."""
    photo = await decisions.approve_photo(request.app[CTX], request.match_info["photo_id"])
    return json_response({"photo": photo})


@route(
    "POST",
    "/api/approval/{photo_id}/reject",
    "Reject a photo",
    body=REJECT,
    body_optional=True,
    response=wrapped("photo", PHOTO),
    roles=STAFF,
)
async def reject(request: web.Request) -> web.Response:
    """Reject, with an optional reason."""
    body = await read_json_object(request, optional=True)
    reason = get_str(body, "reason", max_len=MAX_REASON, required=False, allow_empty=True)
    photo = await decisions.reject_photo(request.app[CTX], request.match_info["photo_id"], reason)
    return json_response({"photo": photo})


@route(
    "POST",
    "/api/approval/{photo_id}/undo",
    "Put a decided photo back to pending",
    response=wrapped("photo", PHOTO),
    roles=STAFF,
)
async def undo(request: web.Request) -> web.Response:
    """Undo a decision."""
    photo = await decisions.undo_decision(request.app[CTX], request.match_info["photo_id"])
    return json_response({"photo": photo})


@route(
    "POST",
    "/api/import",
    "Import files and folders below the import folders (hot folders, import_roots)",
    status=202,
    body=IMPORT,
    roles=OPERATOR_ONLY,
)
async def import_files(request: web.Request) -> web.Response:
    """Import now; analysis continues in the background as jobs."""
    body = await read_json_object(request)
    paths = get_str_list(body, "paths", max_items=MAX_PATHS, max_len=PATH_MAX)
    name = get_str(body, "session_name", max_len=NAME_MAX, required=False)
    ctx = request.app[CTX]
    roots = import_roots(ctx.settings)
    # Only below the folders the operator configured: never "/etc" because a caller asked.
    confined = await asyncio.to_thread(confine_import_paths, paths, roots)
    report = await import_paths(ctx, confined, name, within=roots)
    return json_response(report, 202)


@route(
    "GET",
    "/api/photos/{photo_id}/thumbnail",
    "A cached preview (small or large)",
    query=(("size", {"type": "string", "enum": list(SIZES)}),),
    produces="image/jpeg",
    roles=STAFF,
)
async def thumbnail(request: web.Request) -> web.StreamResponse:
    """JPEG preview with caching headers; made once, then served from the cache."""
    ctx = request.app[CTX]
    if ctx.thumbnails is None:
        raise Conflict("Previews are not available: the pipeline is not running")
    size = request.query.get("size", "small")
    path = await ctx.thumbnails.path(request.match_info["photo_id"], size)
    return web.FileResponse(path, headers={"Cache-Control": "private, max-age=86400"})
