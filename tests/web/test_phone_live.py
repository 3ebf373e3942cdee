"""The phone page in Chromium: pairing, live progress, resume after a drop, revocation."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Locator, Page, WebSocket

from bridge_server import events
from bridge_server.app import BridgeServer
from bridge_server.broker import PublishedEvent
from bridge_server.services import approvals, pairing
from tests.helpers import base_url
from tests.web.phone_helpers import (
    eventually,
    open_paired,
    pairing_url,
    phone_clients,
    screenshot,
)
from tests.web.photo_queue import SESSION_NAME, SHOOT, queue_real_photos, running_export_job


async def test_pairing_link_gives_a_working_token_and_a_clean_address_bar(
    phone: Page, phone_bridge: BridgeServer
) -> None:
    await phone.goto(base_url(phone_bridge) + "/")
    await phone.wait_for_selector("#pair-screen:visible")
    assert "Pair a phone" in await phone.locator("#pair-screen").inner_text()
    await screenshot(phone, "pair")

    url = pairing_url(phone_bridge)
    token = await open_paired(phone, phone_bridge, url)

    assert phone.url == base_url(phone_bridge) + "/", "the code must leave the address bar"
    assert "pair=" not in await phone.evaluate("location.href")
    devices = await pairing.list_devices(phone_bridge.context)
    assert [d["device_name"] for d in devices] == ["Android phone"]
    async with aiohttp.ClientSession() as http:
        auth = {"Authorization": f"Bearer {token}"}
        async with http.get(base_url(phone_bridge) + "/api/system/status", headers=auth) as r:
            assert r.status == 200
        async with http.get(base_url(phone_bridge) + "/api/system/status") as r:
            assert r.status == 401, "the test bridge must really demand tokens on loopback"
    (phone_client,) = phone_clients(phone_bridge)
    assert phone_client.device_id == devices[0]["device_id"]

    # A used code does not pair again; the page says so instead of failing silently.
    await phone.evaluate("localStorage.clear()")
    await phone.goto(url)
    await phone.wait_for_selector("#pair-message:visible")
    assert "not accepted" in await phone.locator("#pair-message").inner_text()
    assert "pair=" not in phone.url


async def test_job_progress_moves_the_bar(
    phone: Page, phone_bridge: BridgeServer, photo_set: dict[str, Path], tmp_path: Path
) -> None:
    queued = await queue_real_photos(phone_bridge, photo_set, tmp_path / "Wedding")
    photo = queued[0]
    job_id = await running_export_job(phone_bridge, photo["photo_id"])
    await open_paired(phone, phone_bridge)
    broker = phone_bridge.context.broker

    # The two steps a real export job announces (pipeline/export_job.py).
    preset = photo["selected_preset"]
    broker.publish(
        events.job_progress(job_id, "exporting", 30.0, f"Exporting {photo['file_name']} ({preset})")
    )
    row = phone.locator(f"[data-job-id={job_id}]")
    bar = row.locator("[role=progressbar]")
    await eventually(lambda: _has_value(bar, "30"))
    width_before = await _fill_width(row)

    saving = f"Saving export of {photo['file_name']}"
    broker.publish(events.job_progress(job_id, "saving", 90.0, saving))
    await eventually(lambda: _has_value(bar, "90"))
    await phone.wait_for_timeout(400)  # the width animates
    assert await _fill_width(row) > width_before * 2.5
    text = await row.inner_text()
    assert f"Exporting {photo['file_name']}" in text and saving in text
    await screenshot(phone, "now")
    await phone.emulate_media(color_scheme="light")  # bright sun
    await screenshot(phone, "now-light")


async def _has_value(bar, value: str) -> bool:
    return await bar.get_attribute("aria-valuenow") == value


async def _fill_width(row: Locator) -> float:
    box = await row.locator(".bar > span").bounding_box()
    return box["width"] if box else 0.0


async def test_reconnect_after_the_server_closes_shows_what_was_missed(
    phone: Page, phone_bridge: BridgeServer, photo_set: dict[str, Path], tmp_path: Path
) -> None:
    ctx = phone_bridge.context
    await open_paired(phone, phone_bridge)
    await phone.click(".tab[data-tab=activity]")
    queued = await queue_real_photos(phone_bridge, photo_set, tmp_path / "Wedding")
    imported = f"Imported {len(SHOOT)} photos into {SESSION_NAME}"
    await phone.wait_for_selector(f"#activity li:has-text('{imported}')")
    keeper, reject = queued[0], queued[-1]
    dropped: list[str] = []

    def drop_phone(event: PublishedEvent) -> None:
        # The server closes the phone's socket in the very step that publishes the approval:
        # the phone can only learn of it, and of what follows, through the resume.
        if event.type == "photo_approved" and not dropped:
            for client in phone_clients(phone_bridge):
                dropped.append(client.client_id)
                client.close_soon(1001, "Server going away")

    ctx.broker.add_listener(drop_phone)
    try:
        await approvals.approve_photo(ctx, keeper["photo_id"])
        await approvals.reject_photo(ctx, reject["photo_id"], "closed eyes")
    finally:
        ctx.broker.remove_listener(drop_phone)
    assert dropped

    await phone.wait_for_selector("#conn[data-state=connected]", timeout=15_000)
    await phone.wait_for_selector(f"#activity li:has-text('Approved {keeper['file_name']}')")
    await phone.wait_for_selector(f"#activity li:has-text('Rejected {reject['file_name']}')")
    exported = f"Exported {keeper['file_name']} ({keeper['selected_preset']}"
    await phone.wait_for_selector(f"#activity li:has-text('{exported}')", timeout=60_000)
    texts = await phone.locator("#activity li .text").all_inner_texts()
    assert texts.count(f"Approved {keeper['file_name']}") == 1, "no duplicate after the resume"
    assert texts.count(imported) == 1
    (again,) = phone_clients(phone_bridge)
    assert again.client_id not in dropped
    await screenshot(phone, "activity")


async def test_a_revoked_phone_lands_on_the_pairing_screen(
    phone: Page, phone_bridge: BridgeServer
) -> None:
    await open_paired(phone, phone_bridge)
    (device,) = await pairing.list_devices(phone_bridge.context)

    await pairing.revoke_device(phone_bridge.context, device["device_id"])

    await phone.wait_for_selector("#pair-screen:visible", timeout=10_000)
    message = await phone.locator("#pair-message").inner_text()
    assert "no longer paired" in message
    assert await phone.evaluate("localStorage.getItem('adb.token')") is None
    await screenshot(phone, "revoked")

    # Reloading stays on the pairing screen and still explains why.
    await phone.reload()
    await phone.wait_for_selector("#pair-message:visible")
    assert not phone_clients(phone_bridge)


async def test_a_token_the_server_refuses_over_rest_also_returns_to_pairing(
    phone: Page, phone_bridge: BridgeServer
) -> None:
    await phone.goto(base_url(phone_bridge) + "/")
    await phone.evaluate("localStorage.setItem('adb.token', JSON.stringify('not-a-real-token'))")
    await phone.reload()
    await phone.wait_for_selector("#pair-screen:visible", timeout=10_000)
    assert "no longer paired" in await phone.locator("#pair-message").inner_text()


async def test_a_ban_of_the_address_does_not_lock_out_the_paired_phone(
    phone: Page, phone_bridge: BridgeServer
) -> None:
    token = await open_paired(phone, phone_bridge)
    async with aiohttp.ClientSession() as http:
        # Someone behind the same address (a venue's NAT) guesses tokens until it is banned.
        bad = {"Authorization": "Bearer wrong"}
        statuses: list[int] = []
        while 429 not in statuses:
            assert len(statuses) < 30, statuses
            async with http.get(base_url(phone_bridge) + "/api/sessions", headers=bad) as r:
                statuses.append(r.status)
        assert set(statuses) == {401, 429}
    (client,) = phone_clients(phone_bridge)
    client.close_soon(1001, "Server going away")

    # The phone's valid token is not the guesser's: it reconnects at once and keeps working.
    deadline = asyncio.get_running_loop().time() + 15
    while not any(c is not client and c.registered for c in phone_clients(phone_bridge)):
        assert asyncio.get_running_loop().time() < deadline, "the phone did not come back"
        await asyncio.sleep(0.05)
    await phone.wait_for_selector("#conn[data-state=connected]", timeout=15_000)
    assert await phone.locator("#app").is_visible()
    assert await phone.evaluate("JSON.parse(localStorage.getItem('adb.token'))") == token


async def test_a_position_from_another_history_reloads_instead_of_resuming(
    phone: Page, phone_bridge: BridgeServer
) -> None:
    """Same address, other database (a reinstall, a restored backup): the epoch differs, so the
    page reloads over REST instead of resuming from a number that means nothing here."""
    await open_paired(phone, phone_bridge)
    epoch = phone_bridge.context.broker.epoch
    assert await phone.evaluate("JSON.parse(localStorage.getItem('adb.epoch'))") == epoch
    seen = phone_bridge.context.broker.publish(events.approval_queue_updated(0)).seq

    async def caught_up() -> bool:
        stored = await phone.evaluate("JSON.parse(localStorage.getItem('adb.lastSeq'))")
        return isinstance(stored, int) and stored >= seen

    # Polled from here: a string predicate would be evaluated in the page, which CSP forbids.
    await eventually(caught_up)
    subscribes: list[dict[str, Any]] = []

    def record(ws: WebSocket) -> None:
        def sent(payload: str | bytes) -> None:
            message = json.loads(payload)
            if message.get("type") == "subscribe":
                subscribes.append(message)

        ws.on("framesent", sent)

    phone.on("websocket", record)

    # Same history: the page resumes from its position, naming the epoch it counts in.
    await phone.reload()
    await phone.wait_for_selector("#conn[data-state=connected]", timeout=15_000)
    await eventually(lambda: _answer(len(subscribes) == 1))
    assert subscribes[0]["epoch"] == epoch and isinstance(subscribes[0]["since"], int)

    # Another history under the same address: no `since`, a reload instead.
    await phone.evaluate("localStorage.setItem('adb.epoch', JSON.stringify('e_elsewhere'))")
    await phone.reload()
    await phone.wait_for_selector("#conn[data-state=connected]", timeout=15_000)
    await eventually(lambda: _answer(len(subscribes) == 2))
    assert "since" not in subscribes[1], subscribes[1]
    assert await phone.evaluate("JSON.parse(localStorage.getItem('adb.epoch'))") == epoch


async def _answer(value: bool) -> bool:
    return value
