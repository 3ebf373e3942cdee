"""Roles, deny by default: every route and WebSocket command refuses each role it should.

The expected matrix below is written by hand, independently of the route table, so a mistake
in the table cannot confirm itself; every request goes over real HTTP or WebSocket on loopback
with real device tokens from pairing.
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from bridge_server.app import BridgeServer
from bridge_server.roles import Role
from bridge_server.services import pairing, proofing_links, sessions
from bridge_server.web.routes import all_routes
from tests.helpers import base_url, connect

OPERATOR, APPROVER, CLIENT = "operator", "approver", "client"
PUBLIC = "public"  # no token needed at all
STAFF = frozenset({OPERATOR, APPROVER})
DESK = frozenset({OPERATOR})
GUEST = frozenset({CLIENT})
EVERYONE = frozenset({OPERATOR, APPROVER, CLIENT})

# (method, path) -> who may call it. A route added to the table without a row here fails
# test_matrix_covers_the_route_table: deciding who may call it is part of adding it.
EXPECTED: dict[tuple[str, str], frozenset[str] | str] = {
    ("GET", "/api/openapi.json"): PUBLIC,
    ("POST", "/api/pairing/complete"): PUBLIC,
    ("POST", "/api/pairing/start"): DESK,
    ("GET", "/api/devices"): DESK,
    ("DELETE", "/api/devices/{device_id}"): DESK,
    ("GET", "/api/websocket/clients"): STAFF,
    ("GET", "/api/websocket/stats"): DESK,
    ("GET", "/api/studio"): DESK,
    ("POST", "/api/websocket/broadcast"): DESK,
    ("POST", "/api/websocket/disconnect/{client_id}"): DESK,
    ("GET", "/api/sessions"): STAFF,
    ("POST", "/api/sessions"): DESK,
    ("GET", "/api/sessions/{session_id}"): STAFF,
    ("PATCH", "/api/sessions/{session_id}"): DESK,
    ("DELETE", "/api/sessions/{session_id}"): DESK,
    ("GET", "/api/photos"): STAFF,
    ("GET", "/api/photos/{photo_id}"): STAFF,
    ("GET", "/api/photos/{photo_id}/thumbnail"): STAFF,
    ("PATCH", "/api/photos/{photo_id}/decision"): STAFF,
    ("GET", "/api/approval/queue"): STAFF,
    ("POST", "/api/approval/{photo_id}/approve"): STAFF,
    ("POST", "/api/approval/{photo_id}/reject"): STAFF,
    ("POST", "/api/approval/{photo_id}/undo"): STAFF,
    ("POST", "/api/import"): DESK,
    ("GET", "/api/jobs"): STAFF,
    ("POST", "/api/jobs"): DESK,
    ("GET", "/api/jobs/{job_id}"): STAFF,
    ("POST", "/api/jobs/{job_id}/cancel"): STAFF,
    ("POST", "/api/jobs/{job_id}/retry"): STAFF,
    ("POST", "/api/jobs/{job_id}/priority"): STAFF,
    ("POST", "/api/processing/pause"): STAFF,
    ("POST", "/api/processing/resume"): STAFF,
    ("GET", "/api/system/status"): STAFF,
    ("GET", "/api/profile"): DESK,
    ("POST", "/api/profile/reset"): DESK,
    ("GET", "/api/profile/export"): DESK,
    ("POST", "/api/profile/import"): DESK,
    ("GET", "/api/settings"): DESK,
    ("PATCH", "/api/settings"): DESK,
    ("GET", "/api/photos/{photo_id}/full"): STAFF,
    ("GET", "/api/photos/{photo_id}/feedback"): STAFF,
    ("GET", "/api/activity"): EVERYONE,
    ("POST", "/api/sessions/{session_id}/proofing-links"): DESK,
    ("GET", "/api/sessions/{session_id}/proofing-links"): DESK,
    ("DELETE", "/api/proofing-links/{link_id}"): DESK,
    ("POST", "/api/proofing/join"): PUBLIC,
    ("POST", "/api/sessions/{session_id}/client-favorites/apply"): STAFF,
    ("GET", "/api/proofing/gallery"): GUEST,
    ("GET", "/api/proofing/photos/{photo_id}"): GUEST,
    ("GET", "/api/proofing/photos/{photo_id}/preview"): GUEST,
    ("PUT", "/api/proofing/photos/{photo_id}/favorite"): GUEST,
    ("POST", "/api/proofing/photos/{photo_id}/comments"): GUEST,
}

EXPECTED_COMMANDS: dict[str, frozenset[str]] = {
    "approve_photo": STAFF,
    "reject_photo": STAFF,
    "undo_decision": STAFF,
    "set_decision": STAFF,
    "set_job_priority": STAFF,
    "cancel_job": STAFF,
    "retry_job": STAFF,
    "pause_processing": STAFF,
    "resume_processing": STAFF,
}


async def pair(http: aiohttp.ClientSession, server: BridgeServer, role: str) -> str:
    """A real device token of `role`: pairing for a phone, a proofing link for a guest."""
    if role == CLIENT:
        return await join_as_guest(http, server)
    code = pairing.start_pairing(server.context, ["http://127.0.0.1"], Role(role))["code"]
    resp = await http.post(
        f"{base_url(server)}/api/pairing/complete", json={"code": code, "device_name": role}
    )
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["role"] == role
    return str(body["token"])


async def join_as_guest(http: aiohttp.ClientSession, server: BridgeServer) -> str:
    """A guest token through a real proofing link of a real session."""
    ctx = server.context
    session = await sessions.create_session(ctx, "Roles shoot", None)
    link = await proofing_links.create_link(ctx, session["session_id"], "picks", 1, [""])
    secret = link["urls"][0].split("#link=", 1)[1]
    resp = await http.post(
        f"{base_url(server)}/api/proofing/join", json={"link": secret, "client_name": "Guest"}
    )
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["role"] == CLIENT
    return str(body["token"])


def concrete(path: str) -> str:
    """A path with its parameters filled by ids that exist nowhere."""
    return re.sub(r"{(\w+)}", lambda m: f"{m.group(1)[0]}_nope", path)


async def call(
    http: aiohttp.ClientSession, url: str, method: str, path: str, headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """One request with an empty JSON object as body where a body is possible."""
    data = None if method in ("GET", "DELETE") else "{}"
    resp = await http.request(method, url + concrete(path), data=data, headers=headers)
    body = await resp.json() if resp.content_type == "application/json" else {}
    return resp.status, body


def may(role: str, route: tuple[str, str]) -> bool:
    """What the hand-written matrix says."""
    allowed = EXPECTED[route]
    return allowed == PUBLIC or role in allowed


def test_matrix_covers_the_route_table():
    declared = {(r.method, r.path) for r in all_routes()}
    assert declared == set(EXPECTED), (
        f"not in the matrix: {sorted(declared - set(EXPECTED))}; "
        f"not in the table: {sorted(set(EXPECTED) - declared)}"
    )


async def test_every_route_refuses_every_role_it_should(strict_bridge, http):
    url = base_url(strict_bridge)
    tokens = {APPROVER: await pair(http, strict_bridge, APPROVER)}
    tokens[CLIENT] = await pair(http, strict_bridge, CLIENT)
    outcomes: dict[tuple[str, str, str], int] = {}

    for role, token in tokens.items():
        for route in EXPECTED:
            status, body = await call(
                http, url, *route, headers={"Authorization": f"Bearer {token}"}
            )
            outcomes[(role, *route)] = status
            if may(role, route):
                assert status not in (401, 403, 429), (role, route, status, body)
            else:
                assert status == 403, (role, route, status, body)
                assert body["error"]["code"] == "forbidden"

    # Nobody: a phone on the LAN without a token (each request from its own address, through a
    # proxy this bridge trusts, so no ban builds up and every route answers for itself).
    strict_bridge.settings.trusted_proxies = ["127.0.0.1"]
    for i, route in enumerate(EXPECTED):
        headers = {"X-Forwarded-For": f"203.0.113.{i + 1}"}
        status, body = await call(http, url, *route, headers=headers)
        if EXPECTED[route] == PUBLIC:
            assert status not in (401, 403, 429), ("nobody", route, status, body)
        else:
            assert status == 401, ("nobody", route, status, body)
    strict_bridge.settings.trusted_proxies = []

    # The operator: this machine's own loopback caller, no token.
    strict_bridge.settings.require_token_on_loopback = False
    for route in EXPECTED:
        status, body = await call(http, url, *route, headers={})
        if may(OPERATOR, route):
            assert status not in (401, 403, 429), (OPERATOR, route, status, body)
        else:  # a guest's own routes: the desk is no guest of its own shoot
            assert status == 403, (OPERATOR, route, status, body)
    # Refusals above really were the door's: an allowed call of each role got through.
    assert outcomes[(APPROVER, "GET", "/api/sessions")] == 200
    assert outcomes[(CLIENT, "GET", "/api/openapi.json")] == 200


async def test_every_command_refuses_every_role_it_should(strict_bridge, http):
    args = {"photo_id": "p_nope", "job_id": "j_nope", "priority": 2}
    clients = {
        role: await connect(http, strict_bridge, token=await pair(http, strict_bridge, role))
        for role in (APPROVER, CLIENT)
    }
    strict_bridge.settings.require_token_on_loopback = False
    clients[OPERATOR] = await connect(http, strict_bridge)
    for role, client in clients.items():
        for n, (command, allowed) in enumerate(EXPECTED_COMMANDS.items()):
            result = await client.command(command, command_id=n, **args)
            if role in allowed:
                assert result.get("error", {}).get("code") != "forbidden", (role, command)
            else:
                assert result["success"] is False, (role, command)
                assert result["error"]["code"] == "forbidden", (role, command, result)
        await client.send({"type": "subscribe", "channels": ["photos"]})
        reply = await client.recv()
        if role in STAFF:
            assert reply["type"] == "subscription_confirmed", (role, reply)
        else:
            assert (reply["type"], reply["code"]) == ("error", "forbidden"), (role, reply)
        await client.ws.close()


async def test_openapi_shows_who_may_call_each_route(bridge, http):
    doc = await (await http.get(f"{base_url(bridge)}/api/openapi.json")).json()
    for (method, path), allowed in EXPECTED.items():
        operation = doc["paths"][path][method.lower()]
        if allowed == PUBLIC:
            assert operation["security"] == [], path
        else:
            assert set(operation["x-roles"]) == allowed, (method, path)
    commands = doc["x-websocket"]["commands"]
    assert {name: set(roles) for name, roles in commands.items()} == EXPECTED_COMMANDS


async def test_device_role_survives_in_the_store_and_listing(bridge, http):
    token = await pair(http, bridge, CLIENT)
    listing = await (await http.get(f"{base_url(bridge)}/api/devices")).json()
    assert [d["role"] for d in listing["items"]] == [CLIENT]
    resp = await http.get(
        f"{base_url(bridge)}/api/sessions", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 403
    # Only device roles can be handed out by pairing: never an operator token.
    resp = await http.post(f"{base_url(bridge)}/api/pairing/start", json={"role": "operator"})
    assert resp.status == 400
    assert "approver" in (await resp.json())["error"]["message"]
    # And a guest is bound to a session: it joins through a proofing link, never by pairing.
    resp = await http.post(f"{base_url(bridge)}/api/pairing/start", json={"role": "client"})
    assert resp.status == 400
    assert "proofing link" in (await resp.json())["error"]["message"]


async def test_devices_paired_before_roles_become_approvers(tmp_path):
    import sqlalchemy as sa
    from alembic import command

    from bridge_server.store.db import Database, alembic_config

    path = tmp_path / "old.sqlite3"
    # A library as the previous release left it: schema 0001 and one paired phone.
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            sa.text(
                "INSERT INTO devices (id, name, token_hash, created_at) "
                "VALUES ('d_old', 'Old phone', :h, '2026-11-01 10:00:00')"
            ),
            {"h": pairing.hash_token("old-token")},
        )
    engine.dispose()
    db = Database(path)
    try:
        await db.migrate()
        async with db.session() as s:
            role = (await s.execute(sa.text("SELECT role FROM devices"))).scalar_one()
        assert role == APPROVER
    finally:
        await db.close()
