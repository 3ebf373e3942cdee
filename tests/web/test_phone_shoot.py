"""The Shoot screen on the phone: the whole shoot with the desk's filters, rescuing a rejected
frame, stars and colour labels that round-trip with the store (and so the desk), the scene side
by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from bridge_server.app import BridgeServer
from bridge_server.services import approvals, decisions, photos
from bridge_server.store.enums import ColorLabel
from tests.web.phone_helpers import eventually, open_paired, screenshot
from tests.web.photo_queue import BURST, queue_real_photos


@pytest.fixture
async def queued(
    phone_bridge: BridgeServer, photo_set: dict[str, Path], tmp_path: Path
) -> list[dict[str, Any]]:
    """A real shoot imported and analysed: the approval queue, best first."""
    return await queue_real_photos(phone_bridge, photo_set, tmp_path / "Wedding")


async def open_shoot(page: Page, server: BridgeServer) -> None:
    """Pair and open the Shoot screen."""
    await open_paired(page, server)
    await page.click(".tab[data-tab=shoot]")
    await page.wait_for_selector("#shoot-grid .shoot-tile")


async def stored(server: BridgeServer, photo_id: str) -> dict[str, Any]:
    """The photo as the store (and the desk's models) have it."""
    return await photos.get_photo(server.context, photo_id)


async def test_a_rejected_frame_is_found_with_the_filter_and_rescued(
    phone: Page, phone_bridge: BridgeServer, queued: list[dict[str, Any]]
) -> None:
    rejected = queued[0]
    await approvals.reject_photo(phone_bridge.context, rejected["photo_id"], "eyes closed")
    await open_shoot(phone, phone_bridge)
    total = await phone.locator("#shoot-grid .shoot-tile").count()
    assert total >= len(queued), "the whole shoot, not only the queue"

    await phone.select_option("#shoot-flag", "reject")
    tile = f'#shoot-grid .shoot-tile[data-photo-id="{rejected["photo_id"]}"]'
    one_tile = "() => document.querySelectorAll('#shoot-grid .shoot-tile').length === 1"
    await phone.wait_for_function(one_tile)
    await phone.wait_for_selector(tile)
    await screenshot(phone, "shoot")
    await phone.click(f"{tile} .shoot-open")
    await phone.wait_for_selector("#photo-sheet[open] #sheet-img[src^='blob:']")
    await screenshot(phone, "photo-sheet")
    await phone.click("#sheet-flags [data-flag=pick]")

    async def rescued() -> bool:
        return (await stored(phone_bridge, rejected["photo_id"]))["flag"] == "pick"

    await eventually(rescued)
    assert await phone.get_attribute("#sheet-flags [data-flag=pick]", "aria-pressed") == "true"


async def test_stars_and_labels_round_trip_between_phone_and_store(
    phone: Page, phone_bridge: BridgeServer, queued: list[dict[str, Any]]
) -> None:
    photo_id = queued[1]["photo_id"]
    await open_shoot(phone, phone_bridge)
    await phone.click(f'#shoot-grid .shoot-tile[data-photo-id="{photo_id}"] .shoot-open')
    await phone.wait_for_selector("#photo-sheet[open]")

    await phone.click("#sheet-stars [data-stars='4']")
    await phone.click("#sheet-labels [data-label=green]")

    async def rated() -> bool:
        photo = await stored(phone_bridge, photo_id)
        return bool(photo["stars"] == 4 and photo["color_label"] == "green")

    await eventually(rated)

    # Undo on the phone takes the last change back (the label), in the store too.
    await phone.click("#sheet-undo")

    async def label_undone() -> bool:
        photo = await stored(phone_bridge, photo_id)
        return bool(photo["color_label"] is None and photo["stars"] == 4)

    await eventually(label_undone)

    # A change at the desk shows on the phone live.
    await decisions.set_decision(
        phone_bridge.context,
        photo_id,
        decisions.Decision(stars=2, color_label=ColorLabel.PURPLE),
    )
    await phone.wait_for_selector("#sheet-stars [data-stars='3'][aria-pressed=false]")
    await phone.wait_for_selector("#sheet-stars [data-stars='2'][aria-pressed=true]")
    await phone.wait_for_selector("#sheet-labels [data-label=purple][aria-pressed=true]")
    await phone.click("#sheet-close")
    badge = f'#shoot-grid .shoot-tile[data-photo-id="{photo_id}"] .badge-stars'
    assert await phone.locator(badge).inner_text() == "★★"

    # The filters the desk has: two stars or more finds it; a red label does not.
    await phone.select_option("#shoot-stars", "2")
    await phone.wait_for_selector(f'#shoot-grid .shoot-tile[data-photo-id="{photo_id}"]')
    await phone.select_option("#shoot-label", "red")
    await phone.wait_for_selector(
        f'#shoot-grid .shoot-tile[data-photo-id="{photo_id}"]', state="detached"
    )


async def test_the_burst_shows_side_by_side_in_the_photo_sheet(
    phone: Page, phone_bridge: BridgeServer, queued: list[dict[str, Any]]
) -> None:
    everything, _ = await photos.list_photos(phone_bridge.context, limit=100)
    burst = [p for p in everything if Path(p["file_name"]).stem.startswith("burst")]
    assert len(burst) == len(BURST) and burst[0]["group_id"], "the burst is one scene"
    await open_shoot(phone, phone_bridge)
    await phone.click(
        f'#shoot-grid .shoot-tile[data-photo-id="{burst[0]["photo_id"]}"] .shoot-open'
    )
    frames = phone.locator("#sheet-scene .scene-frame")
    await frames.first.wait_for()
    assert await frames.count() == len(BURST)
    boxes = [await frames.nth(i).bounding_box() for i in range(2)]
    assert boxes[0] and boxes[1]
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 2, "side by side, not stacked"
    await phone.wait_for_function(
        "() => [...document.querySelectorAll('#sheet-scene img')].every(i => i.naturalWidth > 0)"
    )
    await phone.locator("#sheet-scene").scroll_into_view_if_needed()
    await screenshot(phone, "scene")
