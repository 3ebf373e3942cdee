"""Middlewares: JSON errors, the door (Host, Origin, tokens, bans) and security headers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..services import pairing
from ..services.errors import ServiceError
from .context_keys import CTX, FAILURES, HOSTS
from .http_util import error_response
from .security import bearer_token, is_loopback

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Routes anyone who reached the door may call (pairing itself, the machine-readable API).
PUBLIC_API = frozenset({"/api/pairing/complete", "/api/openapi.json"})
TRUSTED = web.RequestKey("trusted", bool)
DEVICE_ID = web.RequestKey("device_id", str)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; "
        "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
}


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure of an API call becomes `{"error": {code, message}}`."""
    try:
        response = await handler(request)
        if (
            response.status == 404
            and request.path.startswith("/api/")
            and (response.content_type != "application/json")
        ):
            return error_response(404, "not_found", f"No such endpoint: {request.path}")
        return response
    except ServiceError as exc:
        return error_response(exc.status, exc.code, exc.message)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status, "invalid_request"
        )
        return error_response(exc.status, code, exc.reason)
    except Exception:
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Internal error; see the server log")


@web.middleware
async def door_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Host and Origin checks for everything; tokens for remote API callers."""
    ctx = request.app[CTX]
    hosts = request.app[HOSTS]
    host = request.headers.get("Host")
    if request.path == "/ws":
        return await handler(request)  # the WebSocket checks the door itself, closing with 4003
    if not hosts.host_allowed(host):
        return error_response(403, "host_not_allowed", "Host not allowed")
    address = request.remote or ""
    loopback = is_loopback(address)
    if not loopback and not ctx.settings.allow_remote:
        return error_response(403, "forbidden", "Remote access is switched off in the settings")
    origin = request.headers.get("Origin")
    if request.method not in ("GET", "HEAD", "OPTIONS") and not hosts.origin_allowed(origin, host):
        return error_response(403, "origin_not_allowed", "Origin not allowed")
    trusted = loopback and not ctx.settings.require_token_on_loopback
    request[TRUSTED] = trusted
    if not request.path.startswith("/api/") or request.path in PUBLIC_API or trusted:
        return await handler(request)
    failures = request.app[FAILURES]
    if failures.banned(address):
        return error_response(429, "rate_limited", "Too many failed attempts; try again later")
    token = bearer_token(request.headers.get("Authorization"))
    device = await pairing.authenticate(ctx, token) if token else None
    if device is None:
        failures.failed(address)
        return error_response(401, "unauthorized", "Send 'Authorization: Bearer <device token>'")
    failures.succeeded(address)
    request[DEVICE_ID] = device.id
    return await handler(request)


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on every HTTP response."""
    response = await handler(request)
    if not response.prepared:
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
    return response


def is_trusted(request: web.Request) -> bool:
    """Whether the caller passed the door as a trusted (local) caller."""
    return bool(request.get(TRUSTED, False))
