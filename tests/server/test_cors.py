"""CORS: a dashboard on another local port may use the REST API, with a device token only."""

from __future__ import annotations

import pytest

from bridge_server.app import BridgeServer
from bridge_server.services import pairing
from tests.helpers import base_url, connect, make_settings

DASHBOARD = "http://localhost:8080"


@pytest.fixture
async def cors_bridge(tmp_path):
    """A bridge whose operator allowed one dashboard origin."""
    server = BridgeServer(make_settings(tmp_path / "d", allowed_origins=[DASHBOARD + "/"]))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def _token(http, server: BridgeServer) -> str:
    code = pairing.start_pairing(server.context, ["http://127.0.0.1"])["code"]
    resp = await http.post(
        f"{base_url(server)}/api/pairing/complete", json={"code": code, "device_name": "Dash"}
    )
    return str((await resp.json())["token"])


def _preflight(origin: str, method: str = "PATCH") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_preflight_is_answered_for_listed_origins_only(cors_bridge, http):
    url = f"{base_url(cors_bridge)}/api/sessions/s_1"
    resp = await http.options(url, headers=_preflight(DASHBOARD))
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == DASHBOARD
    assert "PATCH" in resp.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in resp.headers["Access-Control-Allow-Headers"]
    for origin in ("http://localhost:9999", "https://localhost:8080", "null"):
        resp = await http.options(url, headers=_preflight(origin))
        assert resp.status == 403, origin
        assert "Access-Control-Allow-Origin" not in resp.headers


async def test_cross_origin_calls_need_a_device_token_even_from_loopback(cors_bridge, http):
    url = f"{base_url(cors_bridge)}/api/sessions"
    resp = await http.get(url, headers={"Origin": DASHBOARD})
    assert resp.status == 401
    # The dashboard can read why (the browser sees the CORS header on the error too).
    assert resp.headers["Access-Control-Allow-Origin"] == DASHBOARD
    auth = {"Origin": DASHBOARD, "Authorization": f"Bearer {await _token(http, cors_bridge)}"}
    resp = await http.get(url, headers=auth)
    assert resp.status == 200
    assert resp.headers["Access-Control-Allow-Origin"] == DASHBOARD
    assert "Origin" in resp.headers.getall("Vary")
    # Same request without an Origin: the local desktop caller, trusted as before.
    plain = await http.get(url)
    assert plain.status == 200 and "Access-Control-Allow-Origin" not in plain.headers


async def test_unlisted_origins_get_no_cors_headers_and_no_writes(cors_bridge, http):
    url = f"{base_url(cors_bridge)}/api/sessions"
    resp = await http.post(url, json={"name": "x"}, headers={"Origin": "http://localhost:9999"})
    assert resp.status == 403
    assert "Access-Control-Allow-Origin" not in resp.headers


async def test_no_origin_is_allowed_by_default(bridge, http):
    resp = await http.options(f"{base_url(bridge)}/api/sessions", headers=_preflight(DASHBOARD))
    assert resp.status == 403
    assert "Access-Control-Allow-Origin" not in resp.headers


async def test_cross_origin_websocket_must_register_with_a_token(cors_bridge, http):
    client = await connect(http, cors_bridge, headers={"Origin": DASHBOARD}, register=False)
    assert client.hello["auth_required"] is True
    await client.send({"type": "subscribe", "channels": ["jobs"]})
    assert (await client.recv())["code"] == "not_registered"
    token = await _token(http, cors_bridge)
    await client.send({"type": "register", "client_type": "dashboard", "token": token})
    assert (await client.recv())["type"] == "registration_confirmed"
