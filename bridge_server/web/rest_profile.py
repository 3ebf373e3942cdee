"""REST: the photographer's learned culling profile (status, reset, export, import)."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from ..imaging import profile as prof
from ..roles import OPERATOR_ONLY
from ..services import profiles
from .context_keys import CTX
from .http_util import json_response, read_json_object
from .routes import route

_STATUS: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["photographer", "active", "status", "decisions", "genres"],
    "properties": {
        "photographer": {"type": "string"},
        "active": {"type": "boolean"},
        "status": {"type": "string"},
        "decisions": {"type": "integer"},
        "trained_on": {"type": "integer"},
        "min_decisions": {"type": "integer"},
        "genres": {"type": "object"},
        "training": {"type": "boolean"},
    },
}
_NUMBER: Final[dict[str, Any]] = {
    "type": "number",
    "minimum": -prof.VALUE_BOUND,
    "maximum": prof.VALUE_BOUND,
}
_NUMBERS: Final[dict[str, Any]] = {
    "type": "array",
    "items": _NUMBER,
    "minItems": len(prof.FEATURES),
    "maxItems": len(prof.FEATURES),
}
_PROFILE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["format", "features", "mean", "scale", "weights", "intercept", "decisions"],
    "properties": {
        "format": {"const": prof.PROFILE_FORMAT},
        "genre": {"type": "string"},
        "features": {"const": list(prof.FEATURES)},
        "mean": _NUMBERS,
        "scale": {**_NUMBERS, "items": {**_NUMBER, "minimum": prof.MIN_SCALE}},
        "weights": _NUMBERS,
        "intercept": _NUMBER,
        "decisions": {
            "type": "integer",
            "minimum": prof.MIN_DECISIONS,
            "maximum": prof.MAX_DECISIONS,
        },
        "held_out_accuracy": {"type": "number", "minimum": 0, "maximum": 1},
    },
}
_DOCUMENT: Final[dict[str, Any]] = {
    "type": "object",
    "description": "An exported culling profile: JSON numbers by genre, never code",
    "required": ["kind", "format", "profiles"],
    "properties": {
        "kind": {"const": prof.DOCUMENT_KIND},
        "format": {"const": prof.PROFILE_FORMAT},
        "photographer": {"type": "string"},
        "profiles": {
            "type": "object",
            "maxProperties": prof.MAX_GENRES,
            "propertyNames": {"minLength": 1, "maxLength": prof.MAX_GENRE_NAME},
            "additionalProperties": _PROFILE,
        },
    },
}


@route(
    "GET", "/api/profile", "The learned culling profile's status", roles=OPERATOR_ONLY,
    response=_STATUS,
)  # fmt: skip
async def get_profile(request: web.Request) -> web.Response:
    """Whether the profile adjusts scores, from how many decisions, per genre."""
    return json_response(await profiles.profile_status(request.app[CTX]))


@route(
    "POST", "/api/profile/reset", "Forget the learned profile (scores: analysis alone)",
    roles=OPERATOR_ONLY, response=_STATUS,
)  # fmt: skip
async def reset_profile(request: web.Request) -> web.Response:
    """Reset the profile; scores are recomputed."""
    return json_response(await profiles.reset_profile(request.app[CTX]))


@route(
    "GET", "/api/profile/export", "The learned profile as a JSON document",
    roles=OPERATOR_ONLY, response=_DOCUMENT,
)  # fmt: skip
async def export_profile(request: web.Request) -> web.Response:
    """The profile document, offered as a file download."""
    response = json_response(await profiles.export_profile(request.app[CTX]))
    response.headers["Content-Disposition"] = 'attachment; filename="culling-profile.json"'
    return response


@route(
    "POST", "/api/profile/import", "Adopt an exported culling profile",
    roles=OPERATOR_ONLY, body=_DOCUMENT, response=_STATUS,
)  # fmt: skip
async def import_profile(request: web.Request) -> web.Response:
    """Import a profile document (validated: numbers only); scores are recomputed."""
    body = await read_json_object(request)
    return json_response(await profiles.import_profile(request.app[CTX], body))
