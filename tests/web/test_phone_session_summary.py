"""The phone's Activity line for a completed session reads the approval rate as a percentage."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page

from bridge_server.app import BridgeServer
from bridge_server.services import approvals
from tests.web.phone_helpers import open_paired
from tests.web.photo_queue import SESSION_NAME, queue_real_photos

NAMES = ["astronaut", "coffee", "rocket"]


async def test_completed_session_shows_approved_count_and_percentage(
    phone: Page, phone_bridge: BridgeServer, photo_set: dict[str, Path], tmp_path: Path
) -> None:
    ctx = phone_bridge.context
    await open_paired(phone, phone_bridge)
    await phone.click(".tab[data-tab=activity]")
    queue = await queue_real_photos(phone_bridge, photo_set, tmp_path / "Wedding", NAMES)
    keeper, *others = queue
    await approvals.approve_photo(ctx, keeper["photo_id"])
    for photo in others:
        await approvals.reject_photo(ctx, photo["photo_id"], "not the one")
    # 1 of 3 approved: the server sends 33.33 (percent), the phone rounds it for a person.
    line = f"Session {SESSION_NAME} completed: 1 of {len(NAMES)} approved (33%)"
    await phone.wait_for_selector(f"#activity li:has-text('{line}')", timeout=60_000)
    assert await phone.locator(f"#activity li:has-text('{line}')").count() == 1
