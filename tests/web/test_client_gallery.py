"""The client gallery in Chromium at phone size: a guest joins by the proofing link, sees picks
arrive live, hearts them for the photographer, and never sees a reject (page or socket)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from bridge_server.app import BridgeServer
from bridge_server.services import approvals, photos, proofing_links
from tests.helpers import base_url
from tests.web.conftest import PHONE_CONTEXT
from tests.web.phone_helpers import eventually, screenshot
from tests.web.photo_queue import queue_real_photos


@pytest.fixture
async def queued(
    phone_bridge: BridgeServer, photo_set: dict[str, Path], tmp_path: Path
) -> list[dict[str, Any]]:
    """A real shoot imported and analysed: the approval queue, best first."""
    return await queue_real_photos(phone_bridge, photo_set, tmp_path / "Wedding")


async def share(server: BridgeServer, session_id: str, visibility: str = "picks") -> dict[str, Any]:
    """What the desk's "Share for proofing" does: a link for the session."""
    return await proofing_links.create_link(
        server.context, session_id, visibility, 24, [base_url(server)]
    )


def watch_socket(page: Page) -> list[str]:
    """Every WebSocket frame the page receives, as text."""
    frames: list[str] = []

    def on_socket(ws: Any) -> None:
        ws.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", on_socket)
    return frames


async def join_gallery(page: Page, url: str, name: str) -> None:
    """Open the link, give a name, wait for the live gallery."""
    await page.goto(url)
    await page.fill("#join-name", name)
    await screenshot(page, "client-join")
    await page.click("#join-button")
    await page.wait_for_selector("#live[data-state=live]", timeout=15_000)


async def tile_ids(page: Page) -> list[str]:
    """The photos the gallery shows, in order."""
    return list(
        await page.eval_on_selector_all("#grid .tile", "n => n.map(t => t.dataset.photoId)")
    )


async def test_a_guest_sees_picks_arrive_hearts_one_and_never_sees_a_reject(
    phone_bridge: BridgeServer, queued: list[dict[str, Any]], browser: Browser
) -> None:
    ctx = phone_bridge.context
    phone_bridge.settings.studio_name = "Lumen Studio"
    session_id = queued[0]["session_id"]
    first, second, rejected, third = (p["photo_id"] for p in queued[:4])
    await approvals.approve_photo(ctx, first)
    link = await share(phone_bridge, session_id)

    context = await browser.new_context(**PHONE_CONTEXT)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    frames = watch_socket(page)
    try:
        await join_gallery(page, link["urls"][0], "Anna")
        assert await tile_ids(page) == [first]
        # The secret leaves the address bar; the studio and the shoot are named, no scores.
        assert "#link=" not in page.url
        assert await page.text_content("#shoot") == "Wedding Anna & Ben"
        assert await page.text_content("#studio") == "Lumen Studio"
        assert "score" not in (await page.text_content("body") or "").lower()

        # Photos approved at the desk arrive without a reload; a reject never does.
        await approvals.approve_photo(ctx, second)
        await approvals.reject_photo(ctx, rejected, "eyes closed")
        await approvals.approve_photo(ctx, third)
        await page.wait_for_selector(f'#grid .tile[data-photo-id="{third}"]', timeout=10_000)
        await page.wait_for_selector(f'#grid .tile[data-photo-id="{second}"]')
        assert rejected not in await tile_ids(page)
        await page.wait_for_function(
            "() => [...document.querySelectorAll('#grid .tile img')].every(i => i.naturalWidth > 0)"
        )
        await screenshot(page, "client-gallery")

        # A heart from the gallery lands in the store the desk reads.
        await page.click(f'#grid .tile[data-photo-id="{second}"] .heart')

        async def hearted() -> bool:
            return (await photos.get_photo(ctx, second))["favorites"] == 1

        await eventually(hearted)
        pressed = f'#grid .tile[data-photo-id="{second}"] .heart[aria-pressed="true"]'
        await page.wait_for_selector(pressed)

        # A note on a photo, from the viewer.
        await page.click(f'#grid .tile[data-photo-id="{second}"] .open')
        await page.wait_for_function("() => document.getElementById('viewer-img').naturalWidth > 0")
        await page.fill("#note-text", "Love this one, can we have it in black and white?")
        await page.click("#note-form button[type=submit]")
        await page.wait_for_selector("#notes li")
        await screenshot(page, "client-photo")

        async def noted() -> bool:
            return (await photos.get_photo(ctx, second))["comments"] == 1

        await eventually(noted)
        await page.click("#viewer-close")

        # A pick taken back leaves the gallery at once.
        await approvals.reject_photo(ctx, third)
        await page.wait_for_selector(f'#grid .tile[data-photo-id="{third}"]', state="detached")

        # Nothing about the rejected photo ever reached this page's socket.
        assert frames, "the page's socket received nothing"
        assert not [f for f in frames if rejected in f]
        types = {json.loads(f).get("type") for f in frames}
        assert types <= {
            "connection_established",
            "registration_confirmed",
            "subscription_confirmed",
            "proofing_photo_changed",
            "client_favorite_changed",
            "client_comment_added",
            "pong",
        }, types
    finally:
        await context.close()
    assert not errors, errors


async def test_a_revoked_or_expired_link_is_refused_in_the_page(
    phone_bridge: BridgeServer, queued: list[dict[str, Any]], browser: Browser
) -> None:
    ctx = phone_bridge.context
    session_id = queued[0]["session_id"]
    await approvals.approve_photo(ctx, queued[0]["photo_id"])
    link = await share(phone_bridge, session_id)
    context = await browser.new_context(**PHONE_CONTEXT)
    page = await context.new_page()
    try:
        await join_gallery(page, link["urls"][0], "Planner")
        await proofing_links.revoke_link(ctx, link["link_id"])
        # The open gallery closes itself (its socket is closed with 4001)...
        await page.wait_for_selector("#closed:not([hidden])", timeout=10_000)
        await screenshot(page, "client-closed")
        # ...and the link no longer lets anyone in.
        late = await context.new_page()
        await late.goto(link["urls"][0])
        await late.fill("#join-name", "Late guest")
        await late.click("#join-button")
        await late.wait_for_selector("#join-error:not([hidden])")
        assert "withdrawn" in (await late.text_content("#join-error") or "")

        expired = await share(phone_bridge, session_id)
        from datetime import timedelta

        from sqlalchemy import update

        from bridge_server.store.models import ProofingLink
        from bridge_server.timeutil import utcnow

        async with ctx.db.session() as s, s.begin():
            await s.execute(
                update(ProofingLink)
                .where(ProofingLink.id == expired["link_id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        await late.goto(expired["urls"][0])
        await late.reload()
        await late.fill("#join-name", "Late guest")
        await late.click("#join-button")
        await late.wait_for_selector("#join-error:not([hidden])")
        assert "expired" in (await late.text_content("#join-error") or "")
    finally:
        await context.close()
