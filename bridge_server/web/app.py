"""Builds the aiohttp application: middlewares, REST routes, `/ws`, the phone page."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from ..context import BridgeContext
from ..resources import web_root
from .context_keys import CTX, FAILURES, FANOUT, HOSTS, PROXIES
from .cors import cors_middleware
from .fanout import FanoutSender, write_delay_from
from .middleware import door_middleware, errors_middleware, headers_middleware
from .routes import add_routes
from .security import FailureTracker, HostPolicy, ProxyPolicy
from .ws import websocket_handler

MAX_BODY_BYTES = 1024 * 1024


def make_app(ctx: BridgeContext, static_dir: Path | None = None) -> web.Application:
    """The whole HTTP surface of the bridge on one application."""
    app = web.Application(
        middlewares=[headers_middleware, cors_middleware, errors_middleware, door_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    app[CTX] = ctx
    app[HOSTS] = HostPolicy(ctx.settings)
    app[PROXIES] = ProxyPolicy(ctx.settings)
    app[FAILURES] = FailureTracker()
    app[FANOUT] = FanoutSender(write_delay_from(ctx.settings.ws_write_delay))

    async def stop_fanout(app: web.Application) -> None:
        await app[FANOUT].close()

    app.on_cleanup.append(stop_fanout)
    app.router.add_get("/ws", websocket_handler)
    add_routes(app)
    root = (static_dir or web_root()).resolve()

    async def static_file(request: web.Request) -> web.StreamResponse:
        # Files of the phone page only: nothing outside `root`, nothing under /api.
        name = request.match_info["path"] or "index.html"
        if name.startswith("api/"):
            raise web.HTTPNotFound()
        path = (root / name).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    app.router.add_get("/{path:.*}", static_file)
    return app
