"""The route table: one declaration per REST route (and per WebSocket message type) says who
may call it, and feeds the router, the door and the OpenAPI document. Undeclared means denied."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

from ..roles import Role
from ..services.errors import Forbidden
from .context_keys import ROLE

RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# A query parameter: its name (any string), or its name and JSON Schema.
QueryParam = str | tuple[str, dict[str, Any]]

# WebSocket message types and the roles that may send them once registered (`ping` and
# `register` are open to every connection: they are how a caller proves who it is). Each
# command then declares its own roles in services.commands.COMMANDS.
WS_MESSAGE_ROLES: Final[dict[str, frozenset[Role]]] = {
    # A client may subscribe only to the proofing channel (checked in ws.on_subscribe), and
    # the broker's audience check filters what it receives there.
    "subscribe": frozenset(Role),
    "unsubscribe": frozenset(Role),
    "command": frozenset(Role),
}
WS_OPEN_MESSAGES: Final = frozenset({"ping", "register"})


@dataclass(frozen=True)
class Route:
    """A REST route, who may call it, and what OpenAPI needs to describe it."""

    method: str
    path: str
    handler: RouteHandler
    summary: str
    roles: frozenset[Role]
    public: bool = False
    query: tuple[QueryParam, ...] = ()
    body: dict[str, Any] | None = None
    status: int = 200
    tags: tuple[str, ...] = field(default_factory=tuple)
    produces: str = "application/json"
    body_optional: bool = False
    response: dict[str, Any] | None = None

    def allows(self, role: Role | None) -> bool:
        """Whether a caller of `role` (None: not authenticated) may call this route."""
        return self.public or (role is not None and role in self.roles)


ROUTES: list[Route] = []
_BY_KEY: dict[tuple[str, str], Route] = {}


def route(
    method: str,
    path: str,
    summary: str,
    *,
    roles: Iterable[Role] = (),
    public: bool = False,
    query: tuple[QueryParam, ...] = (),
    body: dict[str, Any] | None = None,
    status: int = 200,
    produces: str = "application/json",
    body_optional: bool = False,
    response: dict[str, Any] | None = None,
) -> Callable[[RouteHandler], RouteHandler]:
    """Declare a REST route and the roles that may call it (none declared: nobody may).

    `public` routes answer callers that have not authenticated (pairing itself, this table).
    """

    def register(handler: RouteHandler) -> RouteHandler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            # The door already refused; checked again here so no path can reach a handler
            # without its declaration being honoured.
            if not declared.allows(request.get(ROLE)):
                raise Forbidden(forbidden_message(declared, request.get(ROLE)))
            return await handler(request)

        declared = Route(
            method=method.upper(),
            path=path,
            handler=guarded,
            summary=summary,
            roles=frozenset(roles),
            public=public,
            query=query,
            body=body,
            status=status,
            tags=(path.split("/")[2] if path.count("/") >= 2 else "misc",),
            produces=produces,
            body_optional=body_optional,
            response=response,
        )
        key = (declared.method, path)
        if key in _BY_KEY:
            raise ValueError(f"Route declared twice: {method} {path}")
        ROUTES.append(declared)
        _BY_KEY[key] = declared
        return handler

    return register


def forbidden_message(declared: Route, role: Role | None) -> str:
    """Why a caller of `role` may not call `declared`."""
    allowed = ", ".join(sorted(declared.roles)) or "nobody"
    return f"{declared.method} {declared.path} is for: {allowed} (you are: {role or 'nobody'})"


def declared_route(request: web.Request) -> Route | None:
    """The declaration of the route this request matched, if the table has one."""
    info = request.match_info
    if info.http_exception is not None:
        return None
    resource = info.route.resource
    if resource is None:
        return None
    return _BY_KEY.get((request.method.upper(), resource.canonical))


def ws_message_allowed(kind: str, role: Role | None) -> bool:
    """Whether a WebSocket caller of `role` may send a message of type `kind`."""
    if kind in WS_OPEN_MESSAGES:
        return True
    return role is not None and role in WS_MESSAGE_ROLES.get(kind, frozenset())


def all_routes() -> list[Route]:
    """Every declared REST route."""
    # Importing the route modules fills ROUTES.
    from . import (  # noqa: F401
        rest_clients,
        rest_jobs,
        rest_photos,
        rest_profile,
        rest_proofing,
        rest_settings,
    )

    return list(ROUTES)


def add_routes(app: web.Application) -> None:
    """Register every declared route on the application."""
    for r in all_routes():
        app.router.add_route(r.method, r.path, r.handler)
