"""Hostile input gets a clear 4xx or protocol error, never a 500, and nothing is lost."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from bridge_server.app import BridgeServer
from bridge_server.broker import serialize
from tests.helpers import base_url, connect, make_settings

DEEP = "[" * 100_000


def small_jpeg(path: Path, shade: int) -> Path:
    """A real, tiny JPEG whose content differs by `shade`."""
    Image.new("RGB", (64, 48), (shade, 255 - shade, 90)).save(path, "JPEG")
    return path


@pytest.fixture
async def rooted_bridge(tmp_path):
    """A bridge whose operator configured one import root."""
    root = tmp_path / "shoots"
    root.mkdir()
    server = BridgeServer(make_settings(tmp_path / "d", import_roots=[str(root)]))
    await server.start()
    try:
        yield server, root
    finally:
        await server.stop()


async def test_deeply_nested_json_is_a_400_not_a_500(bridge, http):
    for path in ("/api/sessions", "/api/import", "/api/websocket/broadcast"):
        resp = await http.post(f"{base_url(bridge)}{path}", data=DEEP)
        assert resp.status == 400, path
        assert (await resp.json())["error"]["code"] == "invalid_json"


async def test_deeply_nested_json_on_the_websocket_keeps_the_connection(bridge, http):
    client = await connect(http, bridge, register=False)
    await client.send("[" * 60_000)  # under the 64 KiB frame limit, far past the stack
    error = await client.recv()
    assert (error["type"], error["code"]) == ("error", "invalid_json")
    await client.send({"type": "register", "client_type": "test", "client_name": "after"})
    assert (await client.recv_type("registration_confirmed"))["client_name"] == "after"
    await client.send({"type": "ping"})
    assert (await client.recv_type("pong"))["type"] == "pong"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/sessions", '{"session_name": "shoot \\ud800"}'),
        ("/api/sessions", '{"session_name": "shoot", "import_folder": "/tmp/\\udce9"}'),
        ("/api/import", '{"paths": ["/tmp/caf\\udce9"]}'),
        ("/api/import", '{"paths": ["/tmp"], "session_name": "\\udfff"}'),
        ("/api/import", '{"paths": ["/tmp/a\\u0000b"]}'),
    ],
)
async def test_lone_surrogates_and_nul_are_refused_with_400(bridge, http, path, body):
    resp = await http.post(f"{base_url(bridge)}{path}", data=body)
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error["code"] == "invalid_arguments"
    assert "surrogate" in error["message"] or "NUL" in error["message"]


async def test_nul_in_a_url_path_is_refused(bridge, http):
    for path in ("/index.html%00.js", "/api/sessions%00", "/%00"):
        resp = await http.get(f"{base_url(bridge)}{path}")
        assert resp.status in (400, 404), path
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_nan_and_infinity_in_a_broadcast_are_refused(bridge, http):
    url = f"{base_url(bridge)}/api/websocket/broadcast"
    seq = bridge.context.broker.last_seq
    for number in ("NaN", "Infinity", "-Infinity", "1e999"):
        body = (
            '{"type": "job_progress", "channel": "jobs", "data": {"job_id": "j_1", '
            f'"stage": "x", "progress": {number}, "message": "m"}}}}'
        )
        resp = await http.post(url, data=body)
        assert resp.status == 400, number
        assert "JSON" in (await resp.json())["error"]["message"]
    assert bridge.context.broker.last_seq == seq  # nothing was published
    with pytest.raises(ValueError):
        serialize({"progress": float("nan")})  # no frame can carry NaN either


async def test_a_non_utf8_file_name_is_reported_not_a_500(rooted_bridge, http):
    server, root = rooted_bridge
    shoot = root / "shoot"
    shoot.mkdir()
    small_jpeg(shoot / "ok.jpg", 10)
    # A name written by another system in Latin-1: bytes that are not UTF-8.
    odd = os.path.join(os.fsencode(shoot), b"caf\xe9.jpg")
    small_jpeg(Path(os.fsdecode(odd)), 200)
    resp = await http.post(f"{base_url(server)}/api/import", json={"paths": [str(shoot)]})
    assert resp.status == 202
    report = await resp.json()
    assert len(report["imported"]) == 1
    [failed] = report["failed"]
    assert failed["path"].endswith("caf\\xe9.jpg")
    assert "UTF-8" in failed["error"]
    # The session and its good photo are really there.
    photos = await (await http.get(f"{base_url(server)}/api/photos")).json()
    assert [p["file_name"] for p in photos["items"]] == ["ok.jpg"]


def test_a_response_holding_text_that_is_not_unicode_is_still_json():
    import json

    from bridge_server.web.http_util import json_response

    response = json_response({"path": "/shoots/caf\udce9.jpg"})  # a name straight from disk
    assert response.body is not None
    assert json.loads(bytes(response.body)) == {"path": "/shoots/caf\udce9.jpg"}
