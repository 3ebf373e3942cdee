"""Helpers for driving the phone page: pairing, touch swipes, waiting, a second protocol client."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Page

from bridge_server.app import BridgeServer
from bridge_server.services import pairing
from tests.helpers import ProtocolClient, base_url, connect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


async def eventually(
    check: Callable[[], Awaitable[Any]], timeout: float = 10.0, interval: float = 0.1
) -> Any:
    """Poll `check` until it returns something truthy; fail with its last value on timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    value: Any = None
    while asyncio.get_running_loop().time() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")


def pairing_url(server: BridgeServer) -> str:
    """The URL the desktop's QR code encodes, for this loopback server."""
    started = pairing.start_pairing(server.context, [base_url(server)])
    return str(started["urls"][0])


async def open_paired(page: Page, server: BridgeServer, url: str | None = None) -> str:
    """Open the page through a (fresh) pairing URL; wait until it is live; return its token."""
    await page.goto(url or pairing_url(server))
    await page.wait_for_selector("#conn[data-state=connected]", timeout=15_000)
    token = await page.evaluate("JSON.parse(localStorage.getItem('adb.token'))")
    assert isinstance(token, str) and token
    return token


async def paired_client(
    http: aiohttp.ClientSession, server: BridgeServer, channels: list[str]
) -> ProtocolClient:
    """A second device (paired through the service), registered and subscribed."""
    code = pairing.start_pairing(server.context, [base_url(server)])["code"]
    device = await pairing.complete_pairing(server.context, code, "Observer")
    client = await connect(http, server, token=device["token"], client_type="test")
    await client.subscribe(channels)
    return client


async def drain_events(client: ProtocolClient, quiet: float = 0.5) -> list[dict[str, Any]]:
    """Every message that arrives until the socket stays quiet for `quiet` seconds."""
    received: list[dict[str, Any]] = []
    while True:
        try:
            msg = await asyncio.wait_for(client.ws.receive(), quiet)
        except TimeoutError:
            return received
        if msg.type != aiohttp.WSMsgType.TEXT:
            return received
        received.append(dict(json.loads(msg.data)))


async def touch_swipe(page: Page, selector: str, dx: float, steps: int = 12) -> None:
    """A real touch drag (touchstart, moves, touchend) across the element, via DevTools."""
    box = await page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not visible"
    x = box["x"] + box["width"] / 2
    y = box["y"] + box["height"] / 3
    cdp = await page.context.new_cdp_session(page)
    try:
        await cdp.send(
            "Input.dispatchTouchEvent",
            {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]},
        )
        for i in range(1, steps + 1):
            point = {"x": x + dx * i / steps, "y": y + 6 * i / steps}
            move = {"type": "touchMove", "touchPoints": [point]}
            await cdp.send("Input.dispatchTouchEvent", move)
            await asyncio.sleep(0.016)
        await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        await cdp.detach()


def phone_clients(server: BridgeServer) -> list[Any]:
    """The server's connections that registered as a phone."""
    return [c for c in server.context.clients.all() if getattr(c, "client_type", "") == "phone"]


async def screenshot(page: Page, name: str) -> None:
    """Save docs/screenshots/phone-<name>.png at the phone viewport (AUTODEV_SCREENSHOTS=1).

    Off by default so a test run leaves the committed screenshots alone.
    """
    if os.environ.get("AUTODEV_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.wait_for_timeout(350)  # let transitions finish
    await page.screenshot(path=str(SCREENSHOTS / f"phone-{name}.png"))
