"""The phone page as delivered: small, self-contained, installable, no HTML from server data."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
from playwright.async_api import Page

from bridge_server.app import BridgeServer
from tests.helpers import base_url

WEB_ROOT = Path(__file__).resolve().parents[2] / "resources" / "web"
CODE_SUFFIXES = {".html", ".js", ".css", ".webmanifest"}
SIZE_BUDGET = 200_000


def _code_files() -> list[Path]:
    return [p for p in WEB_ROOT.rglob("*") if p.is_file() and p.suffix in CODE_SUFFIXES]


def test_the_page_is_small_and_loads_nothing_from_outside() -> None:
    files = _code_files()
    assert {p.name for p in files} >= {"index.html", "app.js", "style.css", "manifest.webmanifest"}
    assert sum(p.stat().st_size for p in files) < SIZE_BUDGET
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href|url)\s*[=(]\s*[\"']?(https?:)?//", text), path.name
        assert "@import" not in text and "@font-face" not in text, path.name
        if path.suffix == ".js":
            # Server data (file names!) is untrusted: text only, never parsed as HTML.
            assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", text)


async def test_the_manifest_makes_it_installable(phone: Page, phone_bridge: BridgeServer) -> None:
    await phone.goto(base_url(phone_bridge) + "/")
    cdp = await phone.context.new_cdp_session(phone)
    manifest = await cdp.send("Page.getAppManifest")
    assert manifest["errors"] == []
    parsed = manifest["manifest"]  # Chromium's own reading of it
    assert parsed["display"] == "kStandalone"
    assert parsed["name"] == "AutoDev Bridge"
    sizes = {icon["sizes"] for icon in parsed["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    async with aiohttp.ClientSession() as http:
        for icon in ("icon-192.png", "icon-512.png", "maskable-512.png", "icon.svg"):
            async with http.get(f"{base_url(phone_bridge)}/icons/{icon}") as response:
                assert response.status == 200, icon
                assert len(await response.read()) < 20_000, f"{icon} should stay small"
