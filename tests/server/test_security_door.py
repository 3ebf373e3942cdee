"""The door under attack: bans that a success does not reset, venue NAT, Host and Origin with
scheme and port, reverse proxies, what a phone may see, and import only below chosen folders."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict
from PIL import Image

from bridge_server.app import BridgeServer
from bridge_server.roles import Role
from bridge_server.services import pairing
from tests.helpers import base_url, connect, make_settings
from tests.server.test_roles import join_as_guest


async def pair(http, server: BridgeServer, name: str = "Pixel", role: Role = Role.APPROVER) -> dict:
    """A real device through the pairing endpoint (its token, id and role)."""
    code = pairing.start_pairing(server.context, ["http://127.0.0.1"], role)["code"]
    resp = await http.post(
        f"{base_url(server)}/api/pairing/complete", json={"code": code, "device_name": name}
    )
    assert resp.status == 201
    return await resp.json()


def bearer(device: dict) -> dict[str, str]:
    """The Authorization header of a device."""
    return {"Authorization": f"Bearer {device['token']}"}


# --- rate limiting ------------------------------------------------------------------------


async def test_a_good_request_between_guesses_does_not_reset_the_count(strict_bridge, http):
    url = base_url(strict_bridge)
    device = await pair(http, strict_bridge)
    guesses: list[int] = []
    for i in range(60):
        resp = await http.post(
            f"{url}/api/pairing/complete", json={"code": f"ZZZZ-{i:04d}", "device_name": "x"}
        )
        guesses.append(resp.status)
        if i % 4 == 3:
            # The attacker's own valid token, slipped in every fourth request: still served.
            assert (await http.get(f"{url}/api/sessions", headers=bearer(device))).status == 200
    assert guesses[:5] == [401] * 5
    assert set(guesses[5:]) == {429}


async def test_a_ban_does_not_lock_out_valid_tokens_behind_the_same_address(strict_bridge, http):
    url = base_url(strict_bridge)
    phone = await pair(http, strict_bridge, "Photographer")
    for _ in range(5):
        await http.get(f"{url}/api/sessions", headers={"Authorization": "Bearer guess"})
    banned = await http.get(f"{url}/api/sessions", headers={"Authorization": "Bearer guess"})
    assert banned.status == 429
    assert (await http.get(f"{url}/api/sessions")).status == 429  # no token: still banned
    assert (await http.get(f"{url}/api/sessions", headers=bearer(phone))).status == 200
    client = await connect(http, strict_bridge, token=phone["token"], client_type="phone")
    assert (await client.subscribe(["jobs"]))["channels"] == ["jobs"]
    intruder = await connect(http, strict_bridge, register=False)
    await intruder.send({"type": "register", "client_type": "x", "client_name": "x", "token": "g"})
    assert (await intruder.recv())["code"] == "rate_limited"
    assert await intruder.expect_close() == 4001


# --- what a phone may see -----------------------------------------------------------------


async def test_a_phone_sees_only_its_own_connection(strict_bridge, http):
    url = base_url(strict_bridge)
    mine = await pair(http, strict_bridge, "Mine")
    other = await pair(http, strict_bridge, "Other")
    sockets = [  # kept referenced: a dropped client socket closes
        await connect(http, strict_bridge, token=mine["token"], client_type="phone"),
        await connect(http, strict_bridge, token=other["token"], client_type="tablet"),
    ]
    listing = await (await http.get(f"{url}/api/websocket/clients", headers=bearer(mine))).json()
    assert listing["total"] == 1
    assert [c["device_id"] for c in listing["clients"]] == [mine["device_id"]]
    assert "tablet" not in str(listing) and other["device_id"] not in str(listing)
    guest = {"token": await join_as_guest(http, strict_bridge)}  # a proofing guest's token
    resp = await http.get(f"{url}/api/websocket/clients", headers=bearer(guest))
    assert resp.status == 403
    strict_bridge.settings.require_token_on_loopback = False  # now the desktop asks
    everyone = await (await http.get(f"{url}/api/websocket/clients")).json()
    assert {c["device_id"] for c in everyone["clients"]} == {mine["device_id"], other["device_id"]}
    assert all(not s.ws.closed for s in sockets)


# --- headers, Host and Origin -------------------------------------------------------------


async def test_security_headers_on_every_response(bridge, http):
    url = base_url(bridge)
    for method, path, status in [
        ("GET", "/", 200),
        ("GET", "/app.js", 200),
        ("GET", "/nothing.js", 404),
        ("POST", "/index.html", 405),
        ("GET", "/api/nothing", 404),
        ("DELETE", "/api/sessions", 405),
        ("GET", "/api/sessions", 200),
    ]:
        resp = await http.request(method, url + path)
        assert resp.status == status, path
        assert resp.headers.get("X-Content-Type-Options") == "nosniff", (method, path)
        assert "frame-ancestors 'none'" in resp.headers.get("Content-Security-Policy", ""), path
        assert resp.headers.get("X-Frame-Options") == "DENY", path


async def test_host_must_carry_the_servers_port(bridge, http):
    url = f"{base_url(bridge)}/api/sessions"
    assert (await http.get(url, headers={"Host": f"localhost:{bridge.port}"})).status == 200
    for host in ("localhost:1", "127.0.0.1:8080", "localhost", f"localhost:{bridge.port}x"):
        resp = await http.get(url, headers={"Host": host})
        assert resp.status == 403, host
        assert (await resp.json())["error"]["code"] == "host_not_allowed"
    bridge.settings.extra_host_names = ["photos.example"]  # a reverse proxy's public name
    assert (await http.get(url, headers={"Host": "photos.example"})).status == 200


async def test_origin_is_compared_with_scheme_host_and_port(bridge, http):
    url = f"{base_url(bridge)}/api/sessions"
    same = f"http://127.0.0.1:{bridge.port}"
    for origin in (
        f"https://127.0.0.1:{bridge.port}",
        "http://127.0.0.1:1",
        "http://127.0.0.1",
        f"ftp://127.0.0.1:{bridge.port}",
        "null",
    ):
        resp = await http.post(url, json={"session_name": "x"}, headers={"Origin": origin})
        assert resp.status == 403, origin
        assert (await resp.json())["error"]["code"] == "origin_not_allowed"
        ws = await http.ws_connect(f"{base_url(bridge)}/ws", headers={"Origin": origin})
        await ws.receive()
        assert ws.close_code == 4003, origin
    resp = await http.post(url, json={"session_name": "x"}, headers={"Origin": same})
    assert resp.status == 201


# --- reverse proxies ----------------------------------------------------------------------


async def test_a_local_proxy_does_not_make_its_clients_operators(bridge, http):
    url = base_url(bridge)
    assert (await http.get(f"{url}/api/devices")).status == 200  # the desktop itself
    for header in (
        {"X-Forwarded-For": "203.0.113.7"},
        {"Forwarded": "for=203.0.113.7;proto=http"},
        {"X-Forwarded-For": "127.0.0.1"},  # whatever it claims: nobody said to believe it
    ):
        resp = await http.get(f"{url}/api/devices", headers=header)
        assert resp.status == 401, header
    header = {"X-Forwarded-For": "127.0.0.1"}
    assert (await http.post(f"{url}/api/pairing/start", headers=header)).status == 401
    client = await connect(http, bridge, register=False, headers={"X-Forwarded-For": "10.0.0.9"})
    assert client.hello["auth_required"] is True


async def test_trusted_proxies_forwarded_address_is_what_counts(bridge, http):
    url = f"{base_url(bridge)}/api/sessions"
    bridge.settings.trusted_proxies = ["127.0.0.1/32"]
    # The proxy says the caller is this machine: the desktop behind a local proxy.
    assert (await http.get(url, headers={"X-Forwarded-For": "127.0.0.1"})).status == 200
    attacker = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}  # left part is the client's
    statuses = [(await http.get(url, headers=attacker)).status for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    # A client's own header line comes first, the proxy's last: the proxy's is what counts.
    spoofed = CIMultiDict([("X-Forwarded-For", "127.0.0.1"), ("X-Forwarded-For", "203.0.113.8")])
    assert (await http.get(url, headers=spoofed)).status == 401
    # The ban is the attacker's forwarded address, not the proxy's: others still get in.
    neighbour = {"Forwarded": 'for="203.0.113.10"'}
    assert (await http.get(url, headers=neighbour)).status == 401
    bridge.settings.allow_remote = False
    resp = await http.get(url, headers={"X-Forwarded-For": "203.0.113.11"})
    assert resp.status == 403
    assert "Remote access" in (await resp.json())["error"]["message"]


# --- import only below the chosen folders -------------------------------------------------


@pytest.fixture
async def rooted_bridge(tmp_path):
    """A bridge with one import root holding a shoot, and a secret outside it."""
    root = tmp_path / "shoots"
    (root / "shoot").mkdir(parents=True)
    outside = tmp_path / "private"
    outside.mkdir()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(outside / "secret.jpg", "JPEG")
    Image.new("RGB", (64, 48), (10, 200, 10)).save(root / "shoot" / "ok.jpg", "JPEG")
    server = BridgeServer(make_settings(tmp_path / "d", import_roots=[str(root)]))
    await server.start()
    try:
        yield server, root, outside
    finally:
        await server.stop()


async def test_a_paired_phone_cannot_import_anything(rooted_bridge, http):
    server, root, _outside = rooted_bridge
    phone = await pair(http, server)
    for paths in (["/etc"], [str(root / "shoot")]):
        resp = await http.post(
            f"{base_url(server)}/api/import", json={"paths": paths}, headers=bearer(phone)
        )
        assert resp.status == 403
        body = await resp.text()
        assert "passwd" not in body and "ok.jpg" not in body
    sessions = await (await http.get(f"{base_url(server)}/api/sessions")).json()
    assert sessions["total"] == 0


async def test_import_is_confined_to_the_configured_folders(rooted_bridge, http):
    server, root, outside = rooted_bridge
    url = f"{base_url(server)}/api/import"
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "shoot" / "planted.jpg").symlink_to(outside / "secret.jpg")
    for paths, status, words in [
        (["/etc"], 403, "import_roots"),
        ([str(outside)], 403, "outside the import folders"),
        ([str(root / "escape")], 403, "outside the import folders"),
        ([f"{root}/shoot/../../private"], 400, "'..'"),
        (["shoots/shoot"], 400, "absolute"),
    ]:
        resp = await http.post(url, json={"paths": paths})
        assert resp.status == status, paths
        body = await resp.json()
        assert words in body["error"]["message"], body
        assert "secret" not in str(body.get("imported", ""))
    resp = await http.post(url, json={"paths": [str(root / "shoot")]})
    assert resp.status == 202
    report = await resp.json()
    assert len(report["imported"]) == 1
    assert [f["path"] for f in report["failed"]] == [str(root / "shoot" / "planted.jpg")]
    assert "symlink" in report["failed"][0]["error"]
    photos = await (await http.get(f"{base_url(server)}/api/photos")).json()
    assert [p["file_name"] for p in photos["items"]] == ["ok.jpg"]


async def test_without_import_folders_nothing_can_be_imported_by_path(tmp_path, http):
    folder = tmp_path / "anywhere"
    folder.mkdir()
    Image.new("RGB", (64, 48), (10, 10, 200)).save(folder / "a.jpg", "JPEG")
    server = BridgeServer(make_settings(tmp_path / "d", import_roots=[]))
    await server.start()
    try:
        resp = await http.post(f"{base_url(server)}/api/import", json={"paths": [str(folder)]})
        assert resp.status == 403
        assert "No import folders" in (await resp.json())["error"]["message"]
        sessions = await (await http.get(f"{base_url(server)}/api/sessions")).json()
        assert sessions["total"] == 0
    finally:
        await server.stop()
