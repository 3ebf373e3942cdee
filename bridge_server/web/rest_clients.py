"""REST: connected WebSocket clients, broadcast, pairing and devices."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import events
from ..clients import ClientHandle
from ..roles import DEFAULT_DEVICE_ROLE, OPERATOR_ONLY, STAFF, Role
from ..services import pairing
from ..services.errors import NotFound, Unauthorized
from ..studio.members import list_members
from ..validation import get_str, parse_enum, require_str
from .broadcast import build_event, parse_body
from .context_keys import CTX, DEVICE_ID, FAILURES
from .http_util import error_response, json_response, read_json_object
from .middleware import caller_role, client_address
from .openapi import openapi_handler
from .openapi_schemas import (
    BROADCAST_REPLY,
    BROADCAST_SCHEMA,
    CLIENTS,
    PAIRING_COMPLETE,
    STATS,
    STUDIO,
)
from .routes import route
from .security import lan_addresses
from .ws_messages import CLOSE_BY_OPERATOR

route("GET", "/api/openapi.json", "This document", public=True)(openapi_handler)


@route(
    "GET",
    "/api/websocket/clients",
    "Connected WebSocket clients (an operator sees all; a device only its own connections)",
    response=CLIENTS,
    roles=STAFF,
)
async def list_clients(request: web.Request) -> web.Response:
    """Connected clients this caller may see (with the original bridge's `success`, `count`,
    `id`, `last_ping`)."""
    clients = [c.info() for c in visible_clients(request)]
    return json_response(
        {"success": True, "count": len(clients), "clients": clients, "total": len(clients)}
    )


@route(
    "GET",
    "/api/websocket/stats",
    "WebSocket connection statistics",
    response=STATS,
    roles=OPERATOR_ONLY,
)
async def websocket_stats(request: web.Request) -> web.Response:
    """Connections by type, frames sent, queue depths and uptime, from the live connections."""
    ctx = request.app[CTX]
    stats = ctx.clients.stats()
    stats["subscribers_by_channel"] = {
        channel: ctx.broker.subscriber_count(channel) for channel in sorted(events.ALL_CHANNELS)
    }
    stats["last_seq"] = ctx.broker.last_seq
    return json_response({"success": True, **stats})


def visible_clients(request: web.Request) -> list[ClientHandle]:
    """Every client for an operator; for a device, only connections made with its own token
    (other people's addresses, device ids and names are not a phone's business)."""
    clients = request.app[CTX].clients.all()
    if caller_role(request) == Role.OPERATOR:
        return clients
    device_id = request.get(DEVICE_ID)
    return [c for c in clients if device_id is not None and c.device_id == device_id]


@route(
    "GET",
    "/api/studio",
    "Studio mode: the bridges and workers sharing this library, with their load",
    response=STUDIO,
    roles=OPERATOR_ONLY,
)
async def studio_members(request: web.Request) -> web.Response:
    """Live members (empty outside studio mode) and whether the event stream is reachable."""
    ctx = request.app[CTX]
    backplane = ctx.backplane
    if backplane is None:
        return json_response({"studio": False, "stream": None, "members": []})
    try:
        members = await list_members(ctx)
    except Exception as exc:  # Redis away: say so, as the desktop does
        return json_response(
            {"studio": True, "stream": {"ok": False, "error": str(exc)}, "members": []}
        )
    return json_response({"studio": True, "stream": backplane.status(), "members": members})


@route(
    "POST",
    "/api/websocket/broadcast",
    "Publish a typed event, or a custom event of an integration",
    roles=OPERATOR_ONLY,
    body=BROADCAST_SCHEMA,
    response=BROADCAST_REPLY,
)
async def broadcast(request: web.Request) -> web.Response:
    """Publish `{type, channel, data}` or the original's `{message: {type, ...}, channel}`."""
    body = await read_json_object(request)
    event = build_event(parse_body(body))
    broker = request.app[CTX].broker
    published = await broker.publish_confirmed(event)
    return json_response(
        {
            "success": True,
            "seq": published.seq,
            "type": published.type,
            "channel": published.channel,
            "delivered_to": broker.subscriber_count(published.channel),
        }
    )


@route(
    "POST",
    "/api/websocket/disconnect/{client_id}",
    "Disconnect a client (close 4009)",
    roles=OPERATOR_ONLY,
)
async def disconnect(request: web.Request) -> web.Response:
    """Close a client with 4009."""
    client_id = request.match_info["client_id"]
    client = request.app[CTX].clients.get(client_id)
    if client is None:
        raise NotFound(f"Unknown client: {client_id!r}")
    client.close_soon(CLOSE_BY_OPERATOR, "Disconnected by the operator")
    return json_response(
        {
            "success": True,
            "message": f"Client {client_id} disconnected",  # the original bridge's reply
            "client_id": client_id,
            "disconnected": True,
        }
    )


def pairing_base_urls(request: web.Request) -> list[str]:
    """Addresses a phone can open, LAN first; loopback last for a browser on this machine."""
    port = request.url.port or 80
    urls = [f"http://{ip}:{port}" for ip in lan_addresses()]
    urls.append(f"http://{request.host}")
    return list(dict.fromkeys(urls))


@route(
    "POST",
    "/api/pairing/start",
    "Issue a one-time pairing code for a device of a role (default approver)",
    roles=OPERATOR_ONLY,
    body={
        "type": "object",
        # Guests are no paired devices: they join through a proofing link.
        "properties": {"role": {"type": "string", "enum": [Role.APPROVER.value]}},
    },
)
async def pairing_start(request: web.Request) -> web.Response:
    """A code valid once for five minutes, and the URLs to open."""
    body = await read_json_object(request, optional=True)
    role_name = get_str(body, "role", max_len=16, required=False) or DEFAULT_DEVICE_ROLE
    role = parse_enum(role_name, Role, "role")
    return json_response(pairing.start_pairing(request.app[CTX], pairing_base_urls(request), role))


@route(
    "POST",
    "/api/pairing/complete",
    "Exchange a pairing code for a device token",
    public=True,
    status=201,
    body=PAIRING_COMPLETE,
)
async def pairing_complete(request: web.Request) -> web.Response:
    """The device token, shown once."""
    failures = request.app[FAILURES]
    address = client_address(request)
    if failures.banned(address):
        return error_response(429, "rate_limited", "Too many failed attempts; wait a minute")
    body = await read_json_object(request)
    code = require_str(body, "code", max_len=32)
    name = require_str(body, "device_name", max_len=64)
    try:
        device: dict[str, Any] = await pairing.complete_pairing(request.app[CTX], code, name)
    except Unauthorized:
        failures.failed(address)  # a wrong code; a later success does not clear the count
        raise
    return json_response(device, 201)


@route("GET", "/api/devices", "Paired devices", roles=OPERATOR_ONLY)
async def list_devices(request: web.Request) -> web.Response:
    """Devices, without secrets."""
    items = await pairing.list_devices(request.app[CTX])
    return json_response({"items": items, "total": len(items)})


@route(
    "DELETE",
    "/api/devices/{device_id}",
    "Revoke a device (its connections close)",
    roles=OPERATOR_ONLY,
)
async def revoke_device(request: web.Request) -> web.Response:
    """Revoke."""
    device = await pairing.revoke_device(request.app[CTX], request.match_info["device_id"])
    return json_response({"device": device, "revoked": True})
