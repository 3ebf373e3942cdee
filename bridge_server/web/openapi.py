"""The OpenAPI document, generated from the route table so it always matches the routes."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from .http_util import json_response
from .routes import ROUTES

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


def build_document(version: str) -> dict[str, Any]:
    """OpenAPI 3.1 for every REST route."""
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
            + [
                {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
                for name in r.query
            ],
            "responses": {
                str(r.status): {"description": "OK", "content": {r.produces: {}}},
                "4XX": {
                    "description": "Bad input or not allowed",
                    "content": {"application/json": {"schema": ERROR_SCHEMA}},
                },
            },
        }
        if r.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": r.body}},
            }
        if r.trusted_only:
            operation["description"] = "Trusted (local) callers only."
        paths.setdefault(r.path, {})[r.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AutoDev Bridge",
            "version": version,
            "description": "REST API of AutoDev Bridge. See docs/protocol.md.",
        },
        "components": {"securitySchemes": {"device": {"type": "http", "scheme": "bearer"}}},
        "security": [{"device": []}],
        "paths": paths,
    }


async def openapi_handler(request: web.Request) -> web.Response:
    """Serve the document."""
    return json_response(build_document("1"))
