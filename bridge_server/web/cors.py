"""CORS for the REST API: only origins the operator listed in `allowed_origins` (none by default).

A dashboard served from another local port may then call `/api/...` from the browser. Being
cross-origin, such a request is never trusted for coming from loopback: it needs a device token
(the door decides that: `middleware.inspect_door`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web

from .context_keys import CTX
from .middleware import inspect_door
from .security import normalise_origin

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ALLOW_METHODS: Final = "GET, POST, PATCH, DELETE"
ALLOW_HEADERS: Final = "Authorization, Content-Type"
PREFLIGHT_MAX_AGE: Final = "600"


def allowed_origin(request: web.Request) -> str | None:
    """The request's Origin if the operator listed it, else None."""
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    wanted = normalise_origin(origin)
    if wanted == "null" or urlsplit(wanted).scheme not in ("http", "https"):
        return None
    listed = {normalise_origin(o) for o in request.app[CTX].settings.allowed_origins}
    return origin if wanted in listed else None


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer preflights and label API responses for the operator's listed origins."""
    if not request.path.startswith("/api/") or "Origin" not in request.headers:
        return await handler(request)
    door = inspect_door(request)
    if not door.cross_origin:
        return await handler(request)
    origin = allowed_origin(request)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        # The browser asks before sending: no token comes with a preflight.
        if origin is None or door.refusal is not None:
            return web.Response(status=403, text="CORS origin not allowed")
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
                "Vary": "Origin",
            },
        )
    response = await handler(request)
    if origin is not None and not response.prepared:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers.add("Vary", "Origin")
    return response
