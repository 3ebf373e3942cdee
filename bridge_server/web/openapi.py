"""The OpenAPI document, generated from the route table so it always matches the routes."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ..roles import Role
from ..services.commands import COMMANDS
from .http_util import json_response
from .routes import ROUTES, WS_MESSAGE_ROLES, WS_OPEN_MESSAGES, QueryParam

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            "required": ["code", "message"],
        }
    },
}


def _query_parameter(param: QueryParam) -> dict[str, Any]:
    name, schema = (param, {"type": "string"}) if isinstance(param, str) else param
    return {"name": name, "in": "query", "required": False, "schema": schema}


def build_document(version: str) -> dict[str, Any]:
    """OpenAPI 3.1 for every REST route, with the roles each one (and each WS command) allows."""
    paths: dict[str, dict[str, Any]] = {}
    for r in ROUTES:
        operation: dict[str, Any] = {
            "summary": r.summary,
            "operationId": f"{r.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', r.path.lower())}".strip(
                "_"
            ),
            "tags": list(r.tags),
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in re.findall(r"{(\w+)}", r.path)
            ]
            + [_query_parameter(q) for q in r.query],
            "responses": {
                str(r.status): {
                    "description": "OK",
                    "content": {r.produces: {"schema": r.response} if r.response else {}},
                },
                "4XX": {
                    "description": "Bad input or not allowed",
                    "content": {"application/json": {"schema": ERROR_SCHEMA}},
                },
            },
        }
        if r.body is not None:
            operation["requestBody"] = {
                "required": not r.body_optional,
                "content": {"application/json": {"schema": r.body}},
            }
        # Who may call it, from the same declaration the door enforces.
        operation["x-roles"] = sorted(r.roles)
        if r.public:
            operation["security"] = []
            operation["description"] = "Public: no token needed."
        else:
            operation["description"] = f"Roles: {', '.join(sorted(r.roles)) or 'nobody'}."
        paths.setdefault(r.path, {})[r.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AutoDev Bridge",
            "version": version,
            "description": "REST API of AutoDev Bridge. See docs/protocol.md.",
        },
        "components": {"securitySchemes": {"device": {"type": "http", "scheme": "bearer"}}},
        # Remote callers send a device token; trusted local callers (the desktop) need none.
        "security": [{"device": []}, {}],
        "paths": paths,
        "x-websocket": websocket_roles(),
    }


def websocket_roles() -> dict[str, Any]:
    """Which roles may send each WebSocket message type and command."""
    everyone = sorted(Role)
    return {
        "messages": {
            **{kind: everyone for kind in sorted(WS_OPEN_MESSAGES)},
            **{kind: sorted(roles) for kind, roles in WS_MESSAGE_ROLES.items()},
        },
        "commands": {name: sorted(c.roles) for name, c in COMMANDS.items()},
    }


async def openapi_handler(request: web.Request) -> web.Response:
    """Serve the document."""
    return json_response(build_document("1"))
