"""The door: Host and Origin checks, remote-path auth with device tokens, bans, revocation."""

from __future__ import annotations

import logging

from bridge_server.app import BridgeServer
from tests.helpers import base_url, connect, make_settings


async def _pair(http, server: BridgeServer, name: str = "Pixel") -> dict:
    from bridge_server.services import pairing

    code = pairing.start_pairing(server.context, ["http://127.0.0.1"])["code"]
    resp = await http.post(
        f"{base_url(server)}/api/pairing/complete", json={"code": code, "device_name": name}
    )
    assert resp.status == 201
    return await resp.json()


async def test_bad_host_is_refused(bridge, http):
    resp = await http.get(f"{base_url(bridge)}/api/sessions", headers={"Host": "evil.example"})
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "host_not_allowed"
    ws = await http.ws_connect(f"{base_url(bridge)}/ws", headers={"Host": "evil.example"})
    msg = await ws.receive()
    assert ws.close_code in (4003, None) or msg.data == 4003
    assert (
        await http.get(
            f"{base_url(bridge)}/api/sessions", headers={"Host": f"localhost:{bridge.port}"}
        )
    ).status == 200


async def test_foreign_origin_is_refused(bridge, http):
    ws = await http.ws_connect(f"{base_url(bridge)}/ws", headers={"Origin": "http://evil.example"})
    await ws.receive()
    assert ws.close_code == 4003
    resp = await http.post(
        f"{base_url(bridge)}/api/sessions",
        json={"session_name": "x"},
        headers={"Origin": "http://evil.example"},
    )
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "origin_not_allowed"
    same = await http.ws_connect(
        f"{base_url(bridge)}/ws", headers={"Origin": f"http://127.0.0.1:{bridge.port}"}
    )
    assert (await same.receive_json())["type"] == "connection_established"


async def test_remote_path_requires_token(strict_bridge, http):
    url = base_url(strict_bridge)
    resp = await http.get(f"{url}/api/sessions")
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "unauthorized"
    resp = await http.post(f"{url}/api/pairing/start")
    assert resp.status == 401

    client = await connect(http, strict_bridge, register=False)
    assert client.hello["auth_required"] is True
    await client.send({"type": "subscribe", "channels": ["jobs"]})
    assert (await client.recv())["code"] == "not_registered"
    await client.send(
        {"type": "register", "client_type": "phone", "client_name": "x", "token": "wrong"}
    )
    assert (await client.recv())["code"] == "auth_failed"
    assert await client.expect_close() == 4001

    device = await _pair(http, strict_bridge)
    headers = {"Authorization": f"Bearer {device['token']}"}
    assert (await http.get(f"{url}/api/sessions", headers=headers)).status == 200
    # A paired phone is still not the desktop: operator routes stay closed.
    resp = await http.post(f"{url}/api/pairing/start", headers=headers)
    assert resp.status == 403
    ok = await connect(http, strict_bridge, token=device["token"], client_type="phone")
    assert (await ok.subscribe(["jobs"]))["channels"] == ["jobs"]


async def test_pairing_code_is_one_time(strict_bridge, http):
    from bridge_server.services import pairing

    code = pairing.start_pairing(strict_bridge.context, ["http://x"])["code"]
    url = f"{base_url(strict_bridge)}/api/pairing/complete"
    first = await http.post(url, json={"code": code.lower(), "device_name": "A"})
    assert first.status == 201
    token = (await first.json())["token"]
    assert len(token) >= 32
    second = await http.post(url, json={"code": code, "device_name": "B"})
    assert second.status == 401


async def test_revocation_closes_connections_with_4001(strict_bridge, bridge, http):
    device = await _pair(http, strict_bridge)
    client = await connect(http, strict_bridge, token=device["token"])
    devices = await strict_bridge.context.db.session().__aenter__()
    await devices.close()
    from bridge_server.services import pairing

    await pairing.revoke_device(strict_bridge.context, device["device_id"])
    assert await client.expect_close() == 4001
    resp = await http.get(
        f"{base_url(strict_bridge)}/api/sessions",
        headers={"Authorization": f"Bearer {device['token']}"},
    )
    assert resp.status == 401


async def test_devices_listed_and_revoked_over_rest(bridge, http):
    device = await _pair(http, bridge, "Tablet")
    listing = await (await http.get(f"{base_url(bridge)}/api/devices")).json()
    assert [d["device_name"] for d in listing["items"]] == ["Tablet"]
    assert "token" not in listing["items"][0] and "token_hash" not in listing["items"][0]
    resp = await http.delete(f"{base_url(bridge)}/api/devices/{device['device_id']}")
    assert resp.status == 200
    assert (await (await http.get(f"{base_url(bridge)}/api/devices")).json())["total"] == 0


async def test_repeated_failures_ban_the_address(strict_bridge, http):
    url = f"{base_url(strict_bridge)}/api/sessions"
    statuses = []
    for _ in range(7):
        resp = await http.get(url, headers={"Authorization": "Bearer nope"})
        statuses.append(resp.status)
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]


async def test_no_token_in_logs(strict_bridge, http, caplog):
    caplog.set_level(logging.DEBUG)
    device = await _pair(http, strict_bridge)
    await http.get(
        f"{base_url(strict_bridge)}/api/sessions",
        headers={"Authorization": f"Bearer {device['token']}"},
    )
    client = await connect(http, strict_bridge, token=device["token"])
    await client.ws.close()
    assert device["token"] not in caplog.text


async def test_remote_access_switch_off(tmp_path, http):
    server = BridgeServer(make_settings(tmp_path / "d", allow_remote=False))
    await server.start()
    try:
        # Loopback is still allowed when phones are switched off.
        assert (await http.get(f"{base_url(server)}/api/sessions")).status == 200
    finally:
        await server.stop()


async def test_phone_page_files_only_nothing_outside(bridge, http):
    url = base_url(bridge)
    index = await http.get(f"{url}/")
    assert index.status == 200 and "text/html" in index.headers["Content-Type"]
    for path in [
        "/../pyproject.toml",
        "/%2e%2e/pyproject.toml",
        "/..%2fpyproject.toml",
        "/icons/../../../main.py",
        "/nothing.js",
    ]:
        resp = await http.get(url + path)
        assert resp.status == 404, path
        assert b"[project]" not in await resp.read()
