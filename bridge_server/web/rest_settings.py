"""REST: the settings a running bridge applies at once (selection's rules, sidecars)."""

from __future__ import annotations

from aiohttp import web

from ..roles import OPERATOR_ONLY
from ..services import settings
from .context_keys import CTX
from .http_util import json_response, read_json_object
from .openapi_schemas import LIVE_SETTINGS, SETTINGS_CHANGE
from .routes import route


@route(
    "GET",
    "/api/settings",
    "The settings that apply at once",
    response=LIVE_SETTINGS,
    roles=OPERATOR_ONLY,
)
async def get_settings(request: web.Request) -> web.Response:
    """Keeper threshold, burst rules, sidecar switches."""
    return json_response(settings.live_settings(request.app[CTX]))


@route(
    "PATCH",
    "/api/settings",
    "Change the keeper threshold, burst rules or sidecar switches (selection runs again)",
    body=LIVE_SETTINGS,
    response=SETTINGS_CHANGE,
    roles=OPERATOR_ONLY,
)
async def update_settings(request: web.Request) -> web.Response:
    """Saved and applied; a change of selection's rules queues a reselection job."""
    body = await read_json_object(request)
    return json_response(await settings.update_settings(request.app[CTX], body))
