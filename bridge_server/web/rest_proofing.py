"""REST: proofing links (the photographer), joining and the gallery (guests), feedback, history."""

from __future__ import annotations

from aiohttp import web

from ..audience import ProofingScope
from ..pipeline.thumbnails import SIZES
from ..roles import OPERATOR_ONLY, STAFF, Role
from ..services import (
    activity,
    client_favourites,
    client_feedback,
    proofing_gallery,
    proofing_links,
)
from ..services.errors import Conflict, InvalidArguments, Unauthorized
from ..store.enums import ColorLabel
from ..validation import get_int, get_str, parse_enum, require_str
from .context_keys import CTX, DEVICE_ID, FAILURES
from .http_util import error_response, json_response, query_int, read_json_object
from .middleware import caller_role, client_address
from .openapi_schemas import name_schema
from .rest_clients import pairing_base_urls
from .routes import route

GUESTS = frozenset({Role.CLIENT})
EVERYONE = frozenset(Role)
LINK_SECRET_MAX = 64
MAX_SEQ_QUERY = 10**12 - 1  # query integers are at most 12 digits (http_util.query_int)
FAVORITE_BODY = {
    "type": "object",
    "required": ["favorite"],
    "properties": {"favorite": {"type": "boolean"}},
}
COMMENT_BODY = {
    "type": "object",
    "required": ["text"],
    "properties": {"text": name_schema(client_feedback.COMMENT_MAX)},
}
JOIN_BODY = {
    "type": "object",
    "required": ["link", "client_name"],
    "properties": {
        "link": name_schema(LINK_SECRET_MAX),
        "client_name": name_schema(proofing_links.CLIENT_NAME_MAX),
    },
}
LINK_BODY = {
    "type": "object",
    "properties": {
        "visibility": {"type": "string", "enum": list(proofing_links.VISIBILITIES)},
        "expires_in_hours": {
            "type": "integer",
            "minimum": 1,
            "maximum": proofing_links.MAX_HOURS,
        },
    },
}


async def guest_scope(request: web.Request) -> ProofingScope:
    """The proofing scope of the calling guest (its link must still be usable)."""
    device_id = request.get(DEVICE_ID)
    if device_id is None:
        raise Unauthorized("Open the proofing link again")
    return await proofing_links.scope_of(request.app[CTX], device_id)


@route(
    "POST",
    "/api/sessions/{session_id}/proofing-links",
    "Share a session for proofing: a link (its URLs hold the secret, shown once)",
    roles=OPERATOR_ONLY,
    status=201,
    body=LINK_BODY,
    body_optional=True,
)
async def create_link(request: web.Request) -> web.Response:
    """A new proofing link for the session."""
    body = await read_json_object(request, optional=True)
    visibility = get_str(body, "visibility", max_len=24, required=False) or "picks"
    hours = get_int(
        body, "expires_in_hours", minimum=1, maximum=proofing_links.MAX_HOURS, required=False
    )
    link = await proofing_links.create_link(
        request.app[CTX],
        request.match_info["session_id"],
        visibility,
        hours or proofing_links.DEFAULT_HOURS,
        pairing_base_urls(request),
    )
    return json_response(link, 201)


@route(
    "GET",
    "/api/sessions/{session_id}/proofing-links",
    "A session's proofing links and their guests",
    roles=OPERATOR_ONLY,
)
async def list_links(request: web.Request) -> web.Response:
    """Links, newest first."""
    items = await proofing_links.list_links(request.app[CTX], request.match_info["session_id"])
    return json_response({"items": items, "total": len(items)})


@route(
    "DELETE",
    "/api/proofing-links/{link_id}",
    "Withdraw a proofing link: nobody can join, and its guests are removed",
    roles=OPERATOR_ONLY,
)
async def revoke_link(request: web.Request) -> web.Response:
    """Revoke."""
    link = await proofing_links.revoke_link(request.app[CTX], request.match_info["link_id"])
    return json_response({"link": link, "revoked": True})


@route(
    "POST",
    "/api/proofing/join",
    "Join a proofing link with a name: a guest token of one's own",
    public=True,
    status=201,
    body=JOIN_BODY,
)
async def join(request: web.Request) -> web.Response:
    """The guest's token, shown once."""
    failures = request.app[FAILURES]
    address = client_address(request)
    if failures.banned(address):
        return error_response(429, "rate_limited", "Too many failed attempts; wait a minute")
    body = await read_json_object(request)
    secret = require_str(body, "link", max_len=LINK_SECRET_MAX)
    name = require_str(body, "client_name", max_len=proofing_links.CLIENT_NAME_MAX)
    try:
        guest = await proofing_links.join(request.app[CTX], secret, name)
    except Unauthorized:
        failures.failed(address)  # guessing link secrets is refused like guessing codes
        raise
    return json_response(guest, 201)


@route("GET", "/api/proofing/gallery", "The guest's gallery: studio, shoot, photos", roles=GUESTS)
async def gallery(request: web.Request) -> web.Response:
    """Visible photos, in capture order."""
    return json_response(
        await proofing_gallery.gallery(request.app[CTX], await guest_scope(request))
    )


@route(
    "GET",
    "/api/proofing/photos/{photo_id}",
    "One photo of the guest's gallery, with comments",
    roles=GUESTS,
)
async def gallery_photo(request: web.Request) -> web.Response:
    """A visible photo; 404 for any other."""
    return json_response(
        await proofing_gallery.guest_photo_detail(
            request.app[CTX], await guest_scope(request), request.match_info["photo_id"]
        )
    )


@route(
    "GET",
    "/api/proofing/photos/{photo_id}/preview",
    "The preview of a photo of the guest's gallery",
    roles=GUESTS,
    query=(("size", {"type": "string", "enum": list(SIZES)}),),
    produces="image/jpeg",
)
async def gallery_preview(request: web.Request) -> web.StreamResponse:
    """JPEG preview of a visible photo."""
    size = request.query.get("size", "large")
    if size not in SIZES:
        raise InvalidArguments(f"'size' must be one of: {', '.join(SIZES)}")
    path = await proofing_gallery.guest_preview(
        request.app[CTX], await guest_scope(request), request.match_info["photo_id"], size
    )
    # Not cached by the browser: a photo withdrawn later must not stay reachable from a cache.
    return web.FileResponse(path, headers={"Cache-Control": "no-store"})


@route(
    "PUT",
    "/api/proofing/photos/{photo_id}/favorite",
    "Heart a photo, or take the heart back",
    roles=GUESTS,
    body=FAVORITE_BODY,
)
async def set_favorite(request: web.Request) -> web.Response:
    """`{favorite: true|false}`."""
    body = await read_json_object(request)
    favorite = body.get("favorite")
    if not isinstance(favorite, bool):
        raise InvalidArguments("'favorite' must be true or false")
    result = await client_feedback.set_favorite(
        request.app[CTX], await guest_scope(request), request.match_info["photo_id"], favorite
    )
    return json_response(result)


@route(
    "POST",
    "/api/proofing/photos/{photo_id}/comments",
    "Comment on a photo",
    roles=GUESTS,
    status=201,
    body=COMMENT_BODY,
)
async def add_comment(request: web.Request) -> web.Response:
    """`{text}`."""
    body = await read_json_object(request)
    text = require_str(body, "text", max_len=client_feedback.COMMENT_MAX)
    comment = await client_feedback.add_comment(
        request.app[CTX], await guest_scope(request), request.match_info["photo_id"], text
    )
    return json_response(comment, 201)


@route(
    "GET",
    "/api/photos/{photo_id}/feedback",
    "Guests' hearts and comments on a photo",
    roles=STAFF,
)
async def photo_feedback(request: web.Request) -> web.Response:
    """Who hearted it, and every comment."""
    return json_response(
        await client_feedback.photo_feedback(request.app[CTX], request.match_info["photo_id"])
    )


@route(
    "GET",
    "/api/activity",
    "History from the event log, newest first, as much as the caller's role may see",
    roles=EVERYONE,
    query=(
        ("before", {"type": "integer", "minimum": 1, "maximum": MAX_SEQ_QUERY}),
        ("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
        ("types", {"type": "string", "pattern": activity.types_pattern()}),
    ),
)
async def activity_history(request: web.Request) -> web.Response:
    """`{items, next_before, seq}`; pass `before=next_before` for the next page."""
    limit = query_int(request, "limit", 100, 1, 500)
    before = (
        query_int(request, "before", 0, 1, MAX_SEQ_QUERY) if "before" in request.query else None
    )
    types = activity.parse_types(request.query.get("types"))
    scope = await guest_scope(request) if caller_role(request) == Role.CLIENT else None
    await request.app[CTX].broker.history_loaded()  # a start restores the oldest events last
    return json_response(activity.activity_page(request.app[CTX], scope, before, limit, types))


@route(
    "GET",
    "/api/photos/{photo_id}/full",
    "The photo at full resolution (the JPEG original, or a full-size JPEG rendition)",
    roles=STAFF,
    produces="image/jpeg",
)
async def full_size(request: web.Request) -> web.StreamResponse:
    """For 100 % zoom; the file is chosen by the store, never by the caller."""
    ctx = request.app[CTX]
    if ctx.thumbnails is None:
        raise Conflict("Full-size images are not available: the pipeline is not running")
    path = await ctx.thumbnails.full_size(request.match_info["photo_id"])
    return web.FileResponse(path, headers={"Cache-Control": "private, max-age=3600"})


@route(
    "POST",
    "/api/sessions/{session_id}/client-favorites/apply",
    "Turn guests' hearts into keywords (Client favourite: <name>), and optionally stars, a label",
    roles=STAFF,
    body={
        "type": "object",
        "properties": {
            "stars": {"type": "integer", "minimum": 1, "maximum": 5},
            "color_label": {"type": "string", "enum": [c.value for c in ColorLabel]},
        },
    },
    body_optional=True,
)
async def apply_favorites(request: web.Request) -> web.Response:
    """Through the decisions service: events and XMP follow as for any decision."""
    body = await read_json_object(request, optional=True)
    stars = get_int(body, "stars", minimum=1, maximum=5, required=False)
    label = parse_enum(
        get_str(body, "color_label", max_len=16, required=False), ColorLabel, "color_label"
    )
    result = await client_favourites.apply_favorites(
        request.app[CTX], request.match_info["session_id"], stars, label
    )
    return json_response(result)
