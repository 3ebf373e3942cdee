"""JSON in and out for REST handlers: bodies, query parameters, pagination, errors."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from aiohttp import web

from ..broker import serialize
from ..services.errors import InvalidArguments, ServiceError
from ..validation import loads_json

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 500
MAX_OFFSET: Final = 10**9
INTEGER: Final = re.compile(r"-?[0-9]{1,12}")


class InvalidJSON(ServiceError):
    """The body is not JSON."""

    code = "invalid_json"


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON response, never cached; NaN is refused, and text that is not valid Unicode (a
    file name from disk) is sent as JSON escapes instead of failing."""
    text = serialize(data)
    try:
        body = text.encode("utf-8")
    except UnicodeEncodeError:
        body = json.dumps(data, separators=(",", ":"), allow_nan=False, default=str).encode()
    return web.Response(
        body=body,
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )


def error_response(status: int, code: str, message: str) -> web.Response:
    """The protocol's error body."""
    return json_response({"error": {"code": code, "message": message}}, status)


async def read_json_object(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    """The request body as a JSON object (an empty body is `{}` when optional)."""
    raw = await request.read()
    if not raw.strip():
        if optional:
            return {}
        raise InvalidJSON("Request body must be a JSON object")
    try:
        data = loads_json(raw)
    except ValueError as exc:  # UnicodeDecodeError, NaN, nesting too deep included
        raise InvalidJSON(f"Request body is not valid JSON: {exc}"[:200]) from None
    if not isinstance(data, dict):
        raise InvalidArguments("Request body must be a JSON object")
    return data


def query_int(request: web.Request, key: str, default: int, minimum: int, maximum: int) -> int:
    """A bounded integer query parameter."""
    raw = request.query.get(key)
    if raw is None:
        return default
    # ASCII digits only: int() would also take " 5", "+5", "5_0" and other scripts' digits.
    if not INTEGER.fullmatch(raw):
        raise InvalidArguments(f"'{key}' must be an integer")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise InvalidArguments(f"'{key}' must be between {minimum} and {maximum}")
    return value


def query_bool(raw: str | None, key: str) -> bool | None:
    """`true` or `false` (None when absent)."""
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise InvalidArguments(f"'{key}' must be true or false")
    return raw == "true"


def page_params(request: web.Request) -> tuple[int, int]:
    """`limit` (1–500) and `offset` (≥ 0)."""
    return (
        query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        query_int(request, "offset", 0, 0, MAX_OFFSET),
    )


def page(items: list[Any], total: int, limit: int, offset: int) -> web.Response:
    """A list response."""
    return json_response({"items": items, "total": total, "limit": limit, "offset": offset})
