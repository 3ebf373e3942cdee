"""Deciding on real photos from the phone: swipes, undo, bursts, offline and lost results."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page

from bridge_server.app import BridgeServer
from bridge_server.broker import PublishedEvent
from bridge_server.services import jobs, photos
from bridge_server.store.enums import JobKind, PhotoStatus, Selection
from bridge_server.store.models import Photo
from tests.helpers import ProtocolClient
from tests.web.phone_helpers import (
    drain_events,
    eventually,
    open_paired,
    paired_client,
    phone_clients,
    screenshot,
    touch_swipe,
)
from tests.web.photo_queue import BURST, queue_real_photos


@pytest.fixture
async def queued(
    phone_bridge: BridgeServer, photo_set: dict[str, Path], tmp_path: Path
) -> list[dict[str, Any]]:
    """A real shoot imported and analysed: the approval queue, best first."""
    return await queue_real_photos(phone_bridge, photo_set, tmp_path / "Wedding")


@pytest.fixture
async def observer(phone_bridge: BridgeServer) -> AsyncIterator[ProtocolClient]:
    """A second paired device subscribed to photo events, to see what the phone caused."""
    async with aiohttp.ClientSession() as http:
        client = await paired_client(http, phone_bridge, ["photos"])
        yield client
        await client.ws.close()


async def _approval(server: BridgeServer, photo_id: str) -> str:
    return str((await photos.get_photo(server.context, photo_id))["approval"])


async def _top_card(page: Page) -> str:
    card = page.locator(".card.top")
    await card.wait_for()
    return str(await card.get_attribute("data-photo-id"))


async def _open_approve(page: Page, server: BridgeServer) -> str:
    await open_paired(page, server)
    await page.click(".tab[data-tab=approve]")
    top = await _top_card(page)
    await page.wait_for_selector(".card.top img[src^='blob:']", timeout=15_000)
    return top


async def _outbox(page: Page) -> list[dict[str, Any]]:
    return list(await page.evaluate("JSON.parse(localStorage.getItem('adb.outbox') || '[]')"))


async def _outbox_empty(page: Page) -> bool:
    return not await _outbox(page)


def _decisions(received: list[dict[str, Any]], photo_id: str) -> list[str]:
    return [
        m["type"]
        for m in received
        if m.get("photo_id") == photo_id and m.get("type") in ("photo_approved", "photo_rejected")
    ]


async def test_swiping_right_approves_a_real_photo(
    phone: Page, phone_bridge: BridgeServer, queued, observer: ProtocolClient
) -> None:
    top = await _open_approve(phone, phone_bridge)
    best = queued[0]
    assert top == best["photo_id"], "best score first"
    card_text = await phone.locator(".card.top").inner_text()
    assert best["file_name"] in card_text and f"Score {best['ai_score']:.1f}" in card_text
    for reason in best["analysis_results"]["reasons"][:2]:  # what the analysis doubted
        assert str(reason).lower() in card_text.lower()
    preview = await phone.locator(".card.top img").evaluate("img => img.naturalWidth")
    assert preview >= 600, "a large preview, not a thumbnail"
    await screenshot(phone, "approve")

    await touch_swipe(phone, ".card.top", 260)

    event = await observer.recv_type("photo_approved")
    assert event["photo_id"] == top
    assert await eventually(lambda: _approval(phone_bridge, top)) == "approved"
    assert await _top_card(phone) != top, "the next photo comes up"
    await eventually(lambda: _outbox_empty(phone))


async def test_swipe_left_rejects_and_undo_brings_the_photo_back(
    phone: Page, phone_bridge: BridgeServer, queued, observer: ProtocolClient
) -> None:
    top = await _open_approve(phone, phone_bridge)

    await touch_swipe(phone, ".card.top", -260)
    event = await observer.recv_type("photo_rejected")
    assert event["photo_id"] == top
    await eventually(lambda: _outbox_empty(phone))

    # A short drag is not a decision: the card springs back.
    second = await _top_card(phone)
    await touch_swipe(phone, ".card.top", 40)
    await phone.wait_for_timeout(400)
    assert await _top_card(phone) == second
    assert await _approval(phone_bridge, second) == "pending"

    await phone.click("#btn-undo")
    assert await _top_card(phone) == top
    assert await eventually(lambda: _is(phone_bridge, top, "pending"))
    await eventually(lambda: _outbox_empty(phone))


async def _is(server: BridgeServer, photo_id: str, approval: str) -> bool:
    return await _approval(server, photo_id) == approval


async def test_a_burst_alternate_can_be_approved_from_the_card(
    phone: Page,
    phone_bridge: BridgeServer,
    photo_set: dict[str, Path],
    tmp_path: Path,
    observer: ProtocolClient,
) -> None:
    (keeper,) = await queue_real_photos(phone_bridge, photo_set, tmp_path / "Burst", BURST)
    alternates, _ = await photos.list_photos(
        phone_bridge.context, group_id=keeper["group_id"], selection=Selection.ALTERNATE
    )
    assert keeper["group_id"] and len(alternates) == 2
    assert await _open_approve(phone, phone_bridge) == keeper["photo_id"]
    burst_button = phone.locator(".card.top .burst-btn")
    await burst_button.wait_for()
    assert await burst_button.inner_text() == "2 more in this burst"

    await burst_button.click()
    items = phone.locator("#burst-list .burst-item")
    await items.first.wait_for()
    names = await items.locator(".name").all_inner_texts()
    assert sorted(names) == sorted(p["file_name"] for p in alternates)
    await phone.wait_for_selector("#burst-list img[src^='blob:']")
    await screenshot(phone, "burst")

    alternate = alternates[0]["photo_id"]
    await phone.locator(f"#burst-list [data-photo-id={alternate}] button").click()
    event = await observer.recv_type("photo_approved")
    assert event["photo_id"] == alternate
    assert await _approval(phone_bridge, alternate) == "approved"
    assert await phone.locator(f"#burst-list [data-photo-id={alternate}] button").inner_text() == (
        "Approved"
    )


async def test_a_decision_made_offline_is_applied_once_after_reconnect(
    phone: Page, phone_bridge: BridgeServer, queued, observer: ProtocolClient
) -> None:
    top = await _open_approve(phone, phone_bridge)

    await phone.context.set_offline(True)
    await phone.wait_for_selector("#conn[data-state=offline]", timeout=10_000)
    await phone.click("#btn-approve")

    assert await _top_card(phone) != top, "the card moves at once, even offline"
    queued_decisions = await _outbox(phone)
    assert [(d["command"], d["photo_id"]) for d in queued_decisions] == [("approve_photo", top)]
    note = await phone.locator("#outbox-note").inner_text()
    assert "1 decision saved on this phone" in note
    await screenshot(phone, "offline")
    assert await _approval(phone_bridge, top) == "pending"

    await phone.context.set_offline(False)
    await phone.wait_for_selector("#conn[data-state=connected]", timeout=15_000)
    await eventually(lambda: _outbox_empty(phone))
    assert await _approval(phone_bridge, top) == "approved"
    await phone.wait_for_selector("#outbox-note", state="hidden")

    received = await drain_events(observer, quiet=1.0)
    assert _decisions(received, top) == ["photo_approved"]
    assert await _export_jobs(phone_bridge, top) == 1


async def _export_jobs(server: BridgeServer, photo_id: str) -> int:
    _items, total = await jobs.list_jobs(
        server.context, status=None, kind=JobKind.EXPORT, photo_id=photo_id, limit=100, offset=0
    )
    return total


async def test_a_decision_whose_result_was_lost_is_resent_but_applied_once(
    phone: Page, phone_bridge: BridgeServer, queued, observer: ProtocolClient
) -> None:
    top = await _open_approve(phone, phone_bridge)
    ctx = phone_bridge.context
    dropped: list[str] = []

    def drop_phone_after_apply(event: PublishedEvent) -> None:
        # The server applied the decision; cut the phone off before the result reaches it.
        if event.type == "photo_approved" and not dropped:
            for client in phone_clients(phone_bridge):
                dropped.append(client.client_id)
                client.close_soon(1001, "Dropped by the test")

    ctx.broker.add_listener(drop_phone_after_apply)
    try:
        await phone.click("#btn-approve")
        await eventually(lambda: _dropped(dropped))
        await phone.wait_for_selector("#conn[data-state=connected]", timeout=15_000)
        await eventually(lambda: _outbox_empty(phone))
    finally:
        ctx.broker.remove_listener(drop_phone_after_apply)

    (again,) = phone_clients(phone_bridge)
    assert again.client_id not in dropped, "the phone reconnected and re-sent the decision"
    received = await drain_events(observer, quiet=1.0)
    assert _decisions(received, top) == ["photo_approved"]
    assert await _export_jobs(phone_bridge, top) == 1
    assert await _top_card(phone) != top


async def _dropped(dropped: list[str]) -> bool:
    return bool(dropped)


async def test_a_refused_decision_is_explained(
    phone: Page, phone_bridge: BridgeServer, queued
) -> None:
    top = await _open_approve(phone, phone_bridge)
    # The desktop starts re-analysing the photo: it can no longer be decided.
    async with phone_bridge.context.db.session() as s, s.begin():
        (await s.get(Photo, top)).status = PhotoStatus.ANALYZING

    await phone.click("#btn-approve")
    toast = phone.locator("#toast")
    await toast.wait_for()
    assert f"Could not approve {queued[0]['file_name']}" in await toast.inner_text()
    await eventually(lambda: _outbox_empty(phone))
    assert await _approval(phone_bridge, top) == "pending"
