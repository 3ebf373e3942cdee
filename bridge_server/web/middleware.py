"""Middlewares: JSON errors, the door (Host, Origin, tokens, bans) and security headers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from aiohttp import web

from ..roles import Role
from ..services import pairing
from ..services.errors import ServiceError, store_unavailable
from .context_keys import CLIENT_ADDRESS, CTX, DEVICE_ID, FAILURES, HOSTS, PROXIES, ROLE
from .http_util import error_response
from .routes import declared_route, forbidden_message
from .security import bearer_token, has_forwarding_headers, is_loopback, same_origin

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

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
        return error_response(exc.status, exc.code, exc.message + _integer_id_hint(request, exc))
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status, "invalid_request"
        )
        return error_response(exc.status, code, exc.reason)
    except Exception as exc:
        if (refusal := store_unavailable(exc)) is not None:
            log.warning("%s %s: database unreachable: %s", request.method, request.path, exc)
            return error_response(refusal.status, refusal.code, refusal.message)
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Internal error; see the server log")


def _integer_id_hint(request: web.Request, exc: ServiceError) -> str:
    # The original bridge numbered everything; say why its integer ids name nothing here.
    if exc.status == 404 and any(v.isdigit() for v in request.match_info.values()):
        return " (ids here are strings such as 's_…', 'p_…', 'j_…', not integers)"
    return ""


@dataclass(frozen=True)
class Door:
    """What the door learned about a request before any token: where it comes from, whether it
    is a trusted local operator, and why it must be refused (if it must)."""

    address: str
    trusted: bool
    refusal: tuple[int, str, str] | None = None
    cross_origin: bool = False  # sent by a page of another origin (see cors.py)


def inspect_door(request: web.Request) -> Door:
    """Host, Origin, remote access and proxy checks shared by REST and the WebSocket."""
    ctx = request.app[CTX]
    settings = ctx.settings
    peer = request.remote or ""
    proxies = request.app[PROXIES]
    headers = request.headers
    address = proxies.client_address(peer, headers)
    scheme = proxies.scheme(peer, headers, request.scheme)
    # A local reverse proxy's forwarded request is its client's, not this machine's: only a
    # configured proxy is believed, and then the forwarded address is what counts.
    forwarded_untrusted = has_forwarding_headers(headers) and not proxies.is_trusted_proxy(peer)
    local = is_loopback(address) and not forwarded_untrusted
    hosts = request.app[HOSTS]
    host = headers.get("Host")
    origin = headers.get("Origin")
    # A page of another origin (a dashboard the operator allowed) proves nothing by its peer.
    cross_origin = origin is not None and not same_origin(origin, host, scheme)
    trusted = local and not settings.require_token_on_loopback and not cross_origin
    door = Door(address, trusted, cross_origin=cross_origin)
    if not hosts.host_allowed(host, local_port(request), scheme):
        return replace(door, refusal=(403, "host_not_allowed", "Host not allowed"))
    if not local and not settings.allow_remote:
        return replace(
            door, refusal=(403, "forbidden", "Remote access is switched off in the settings")
        )
    checks_origin = request.method not in ("GET", "HEAD", "OPTIONS") or request.path == "/ws"
    if checks_origin and not hosts.origin_allowed(origin, host, scheme):
        return replace(door, refusal=(403, "origin_not_allowed", "Origin not allowed"))
    return door


def local_port(request: web.Request) -> int | None:
    """The port this request reached the server on."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if isinstance(sockname, tuple) and len(sockname) >= 2 and isinstance(sockname[1], int):
        return sockname[1]
    return None


async def identify(request: web.Request, door: Door) -> tuple[Role | None, str | None, bool]:
    """The caller's role and device id, and whether it offered a token that did not work."""
    token = bearer_token(request.headers.get("Authorization"))
    if token is not None:
        device = await pairing.authenticate(request.app[CTX], token)
        if device is None:
            return None, None, True
        return pairing.device_role(device), device.id, False
    return (Role.OPERATOR if door.trusted else None), None, False


@web.middleware
async def door_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Host and Origin for everything; for the API, who the caller is and whether the route's
    declaration lets that role in (deny by default)."""
    if request.path == "/ws":
        return await handler(request)  # the WebSocket checks the door itself, closing with 4003
    if "\x00" in request.path:
        return error_response(400, "invalid_request", "The path contains a NUL character")
    door = inspect_door(request)
    if door.refusal is not None:
        return error_response(*door.refusal)
    request[CLIENT_ADDRESS] = door.address
    if not request.path.startswith("/api/"):
        return await handler(request)  # the phone page's files: needed before pairing
    declared = declared_route(request)
    if declared is None:
        if request.match_info.http_exception is not None:
            return await handler(request)  # 404 / 405, answered as JSON errors
        # Not in the route table: nothing undeclared runs under /api.
        return error_response(404, "not_found", f"No such endpoint: {request.path}")
    role, device_id, bad_token = await identify(request, door)
    if role is not None:
        request[ROLE] = role
    if device_id is not None:
        request[DEVICE_ID] = device_id
    if declared.public:
        return await handler(request)
    if role is None and device_id is not None:
        # A valid token whose role this version does not know (a newer release paired it).
        return error_response(403, "forbidden", "This device's role is not known here; pair again")
    if role is None:
        failures = request.app[FAILURES]
        # A valid token is never stopped by a ban: others behind the same NAT keep working.
        if failures.banned(door.address):
            return error_response(429, "rate_limited", "Too many failed attempts; try again later")
        failures.failed(door.address)
        message = (
            "The device token is unknown or revoked; pair again"
            if bad_token
            else "Send 'Authorization: Bearer <device token>'"
        )
        return error_response(401, "unauthorized", message)
    if not declared.allows(role):
        return error_response(403, "forbidden", forbidden_message(declared, role))
    return await handler(request)


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on every HTTP response, errors and static files included."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        for key, value in SECURITY_HEADERS.items():
            exc.headers.setdefault(key, value)
        raise
    if not response.prepared:
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
    return response


def caller_role(request: web.Request) -> Role | None:
    """The role the door found for this request (None: not authenticated)."""
    return request.get(ROLE)


def client_address(request: web.Request) -> str:
    """The caller's address as the door saw it (the forwarded one behind a trusted proxy)."""
    return request.get(CLIENT_ADDRESS) or request.remote or ""
