"""The REST route table: one declaration per route feeds both the router and OpenAPI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ..services.errors import Forbidden
from .middleware import is_trusted

RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """A REST route with what OpenAPI needs to describe it."""

    method: str
    path: str
    handler: RouteHandler
    summary: str
    query: tuple[str, ...] = ()
    body: dict[str, Any] | None = None
    trusted_only: bool = False
    status: int = 200
    tags: tuple[str, ...] = field(default_factory=tuple)
    produces: str = "application/json"


ROUTES: list[Route] = []


def route(
    method: str,
    path: str,
    summary: str,
    *,
    query: tuple[str, ...] = (),
    body: dict[str, Any] | None = None,
    trusted_only: bool = False,
    status: int = 200,
    produces: str = "application/json",
) -> Callable[[RouteHandler], RouteHandler]:
    """Declare a REST route (trusted-only routes refuse remote devices with 403)."""

    def register(handler: RouteHandler) -> RouteHandler:
        wrapped = handler
        if trusted_only:

            async def wrapped(request: web.Request) -> web.StreamResponse:
                if not is_trusted(request):
                    raise Forbidden("Only the desktop (a local caller) may do this")
                return await handler(request)

        tag = path.split("/")[2] if path.count("/") >= 2 else "misc"
        ROUTES.append(
            Route(
                method, path, wrapped, summary, query, body, trusted_only, status, (tag,), produces
            )
        )
        return handler

    return register


def add_routes(app: web.Application) -> None:
    """Register every declared route on the application."""
    # Importing the route modules fills ROUTES.
    from . import rest_clients, rest_jobs, rest_photos  # noqa: F401

    for r in ROUTES:
        app.router.add_route(r.method, r.path, r.handler)
