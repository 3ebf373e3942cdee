"""REST over a real socket: JSON errors for every bad input, pagination, OpenAPI."""

from __future__ import annotations

import re

from aiohttp import web

from bridge_server.web.app import make_app
from tests.helpers import base_url


async def test_bad_input_gets_json_4xx(bridge, http):
    url = base_url(bridge)
    cases = [
        ("POST", "/api/sessions", "{oops", 400, "invalid_json"),
        ("POST", "/api/sessions", "[1, 2]", 400, "invalid_arguments"),
        ("POST", "/api/sessions", '{"session_name": 42}', 400, "invalid_arguments"),
        ("POST", "/api/sessions", '{"session_name": ""}', 400, "invalid_arguments"),
        ("GET", "/api/sessions?limit=0", None, 400, "invalid_arguments"),
        ("GET", "/api/sessions?limit=abc", None, 400, "invalid_arguments"),
        ("GET", "/api/sessions?offset=-1", None, 400, "invalid_arguments"),
        ("GET", "/api/sessions?status=sleeping", None, 400, "invalid_arguments"),
        ("GET", "/api/sessions/s_nope", None, 404, "not_found"),
        ("GET", "/api/photos/p_nope", None, 404, "not_found"),
        ("GET", "/api/photos?approval=maybe", None, 400, "invalid_arguments"),
        ("GET", "/api/jobs/j_nope", None, 404, "not_found"),
        ("GET", "/api/jobs?status=done", None, 400, "invalid_arguments"),
        ("POST", "/api/jobs/j_nope/priority", '{"priority": 2}', 404, "not_found"),
        ("POST", "/api/jobs/j_nope/priority", '{"priority": "high"}', 400, "invalid_arguments"),
        ("POST", "/api/jobs/j_nope/cancel", None, 404, "not_found"),
        ("POST", "/api/approval/p_nope/approve", None, 404, "not_found"),
        ("POST", "/api/approval/p_nope/reject", '{"reason": 5}', 400, "invalid_arguments"),
        ("GET", "/api/nothing/here", None, 404, "not_found"),
        ("DELETE", "/api/sessions", None, 405, "method_not_allowed"),
        (
            "POST",
            "/api/websocket/broadcast",
            '{"type": "Not-A-Name", "channel": "jobs", "data": {}}',
            400,
            "invalid_arguments",
        ),
        (
            "POST",
            "/api/websocket/broadcast",
            '{"type": "job_created", "channel": "photos", "data": {}}',
            400,
            "invalid_arguments",
        ),
        (
            "POST",
            "/api/websocket/broadcast",
            '{"type": "job_created", "channel": "jobs", "data": {"seq": 1}}',
            400,
            "invalid_arguments",
        ),
        (
            "POST",
            "/api/pairing/complete",
            '{"code": "AAAA-BBBB", "device_name": "x"}',
            401,
            "unauthorized",
        ),
        ("DELETE", "/api/devices/d_nope", None, 404, "not_found"),
    ]
    for method, path, body, status, code in cases:
        resp = await http.request(method, url + path, data=body)
        assert resp.status == status, (method, path, await resp.text())
        payload = await resp.json()
        assert payload["error"]["code"] == code, (method, path, payload)
        assert payload["error"]["message"]


async def test_oversized_body_is_413(bridge, http):
    resp = await http.post(f"{base_url(bridge)}/api/sessions", data="x" * (2 * 1024 * 1024))
    assert resp.status == 413
    assert (await resp.json())["error"]["code"] == "payload_too_large"


async def test_sessions_create_list_paginate(bridge, http):
    url = base_url(bridge)
    for i in range(5):
        resp = await http.post(f"{url}/api/sessions", json={"session_name": f"Shoot {i}"})
        assert resp.status == 201
    page = await (await http.get(f"{url}/api/sessions?limit=2&offset=1")).json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
    assert len(page["items"]) == 2
    one = page["items"][0]
    again = await (await http.get(f"{url}/api/sessions/{one['session_id']}")).json()
    assert again["session_name"] == one["session_name"]
    assert again["total_photos"] == 0


async def test_broadcast_reaches_subscribers(bridge, http):
    from tests.helpers import connect

    client = await connect(http, bridge)
    await client.subscribe(["system"])
    resp = await http.post(
        f"{base_url(bridge)}/api/websocket/broadcast",
        json={
            "type": "resource_warning",
            "channel": "system",
            "data": {"resource_type": "disk", "current_value": 1, "threshold": 2, "message": "low"},
        },
    )
    assert resp.status == 200
    event = await client.recv()
    assert event["type"] == "resource_warning" and event["message"] == "low"


async def test_openapi_lists_every_route(bridge, http):
    doc = await (await http.get(f"{base_url(bridge)}/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    app = make_app(bridge.context)
    served = set()
    for resource in app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter")
        if not path or not path.startswith("/api/"):
            continue
        for r in resource:
            if r.method != "HEAD":
                served.add((r.method, path))
    assert served == documented
    for path in [
        "/api/sessions",
        "/api/photos",
        "/api/jobs",
        "/api/approval/queue",
        "/api/approval/{photo_id}/approve",
        "/api/approval/{photo_id}/reject",
        "/api/websocket/clients",
        "/api/websocket/broadcast",
        "/api/websocket/disconnect/{client_id}",
        "/api/system/status",
    ]:
        assert path in doc["paths"], path
    assert all(
        re.match(r"^[a-z0-9_]+$", op["operationId"])
        for ops in doc["paths"].values()
        for op in ops.values()
    )


async def test_security_headers_on_responses(bridge, http):
    resp = await http.get(f"{base_url(bridge)}/api/system/status")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert isinstance(web.Response, type)
