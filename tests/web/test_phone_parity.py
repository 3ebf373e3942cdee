"""The photographer's phone beyond swiping: zoom to 100 % on the full-resolution image, faces,
toasts that leave the controls free, landscape, whole file names, Activity filled on pairing."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from bridge_server.app import BridgeServer
from bridge_server.pipeline.importer import import_paths
from bridge_server.services import approvals
from tests.helpers import jobs_settled, wait_for
from tests.web.phone_helpers import open_paired, screenshot
from tests.web.photo_queue import queue_real_photos

LONG_NAME = "IMG_20261129_143215_WEDDING_CEREMONY_FIRST_KISS_BURST_0042.jpg"


@pytest.fixture
async def queued(
    phone_bridge: BridgeServer, photo_set: dict[str, Path], tmp_path: Path
) -> list[dict[str, Any]]:
    """A real shoot imported and analysed: the approval queue, best first."""
    return await queue_real_photos(phone_bridge, photo_set, tmp_path / "Wedding")


async def open_approve(page: Page, server: BridgeServer) -> str:
    """Pair, go to Approve, wait for the top card's preview; the top photo's id."""
    await open_paired(page, server)
    await page.click(".tab[data-tab=approve]")
    await page.wait_for_selector(".card.top img[src^='blob:']", timeout=15_000)
    return str(await page.locator(".card.top").get_attribute("data-photo-id"))


async def cdp_touches(page: Page, steps: list[tuple[str, list[dict[str, float]]]]) -> None:
    """Raw multi-touch through DevTools (touchStart / touchMove / touchEnd with points)."""
    cdp = await page.context.new_cdp_session(page)
    try:
        for kind, points in steps:
            await cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
            await asyncio.sleep(0.016)
    finally:
        await cdp.detach()


async def double_tap(page: Page, selector: str) -> None:
    """Two quick taps in the middle of an element (one DevTools session, no pause between)."""
    box = await page.locator(selector).bounding_box()
    assert box is not None
    point = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}
    cdp = await page.context.new_cdp_session(page)
    try:
        for kind in ("touchStart", "touchEnd", "touchStart", "touchEnd"):
            points = [point] if kind == "touchStart" else []
            await cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
    finally:
        await cdp.detach()


async def one_to_one(page: Page) -> dict[str, float]:
    """The zoom image's natural width and its width on screen in device pixels."""
    return dict(
        await page.evaluate(
            """() => {
                const img = document.getElementById('zoom-img');
                const r = img.getBoundingClientRect();
                return {natural: img.naturalWidth, natural_h: img.naturalHeight,
                        shown: r.width * devicePixelRatio, source: img.dataset.source};
            }"""
        )
    )


async def test_double_tap_and_pinch_zoom_to_100_percent_on_the_full_image(
    phone: Page, phone_bridge: BridgeServer, queued: list[dict[str, Any]]
) -> None:
    top = await open_approve(phone, phone_bridge)
    photo = next(p for p in queued if p["photo_id"] == top)
    long_edge = max(photo["width"], photo["height"])

    await phone.tap(".card.top .img")  # a tap, not a swipe: the photo opens
    await phone.wait_for_selector("#zoom[open] #zoom-img[src^='blob:']")
    fitted = await one_to_one(phone)
    assert fitted["source"] == "preview" and fitted["shown"] < fitted["natural"] * 3
    await screenshot(phone, "zoom-fit")

    await double_tap(phone, "#zoom-stage")
    await phone.wait_for_selector("#zoom-stage[data-zoom='100']")
    await phone.wait_for_function(
        "() => document.getElementById('zoom-img').dataset.source === 'full'"
    )
    shown = await one_to_one(phone)
    # The original itself (its long edge), shown one image pixel per screen pixel.
    assert max(shown["natural"], shown["natural_h"]) == long_edge
    assert abs(shown["shown"] - shown["natural"]) <= 1.5, shown
    await screenshot(phone, "zoom-100")

    await double_tap(phone, "#zoom-stage")  # and back to the whole frame
    await phone.wait_for_selector("#zoom-stage[data-zoom='fit']")

    # Two fingers spreading apart zoom in as far as 100 % and beyond.
    box = await phone.locator("#zoom-stage").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    steps: list[tuple[str, list[dict[str, float]]]] = [
        ("touchStart", [{"x": cx - 20, "y": cy, "id": 1}, {"x": cx + 20, "y": cy, "id": 2}])
    ]
    for i in range(1, 13):
        spread = 20 + i * 14
        points = [{"x": cx - spread, "y": cy, "id": 1}, {"x": cx + spread, "y": cy, "id": 2}]
        steps.append(("touchMove", points))
    steps.append(("touchEnd", []))
    await cdp_touches(phone, steps)
    await phone.wait_for_selector("#zoom-stage[data-zoom='in'], #zoom-stage[data-zoom='100']")
    pinched = await one_to_one(phone)
    assert pinched["source"] == "full"
    assert pinched["shown"] >= pinched["natural"] - 1.5, "at least one image pixel per pixel"

    await phone.click("#zoom-close")
    assert await phone.locator(".card.top").get_attribute("data-photo-id") == top, "no decision"


async def test_the_face_panel_shows_each_face_with_its_eyes(
    phone: Page, phone_bridge: BridgeServer, queued: list[dict[str, Any]]
) -> None:
    await open_approve(phone, phone_bridge)
    with_faces = [p for p in queued if p["analysis_results"].get("faces")]
    assert with_faces, "the shoot has a portrait"
    photo = with_faces[0]
    await phone.evaluate(
        "id => window.autodev.zoom.open(window.autodev.approve.queue.find(p => p.photo_id === id))",
        photo["photo_id"],
    )
    faces = phone.locator("#zoom-faces .face")
    await faces.first.wait_for()
    assert await faces.count() == len(photo["analysis_results"]["faces"])
    eyes = photo["analysis_results"]["faces"][0]["eye_state"]
    label = {"open": "Eyes open", "closed": "Eyes closed"}.get(eyes, "Eyes unclear")
    assert label in await faces.first.inner_text()
    await phone.wait_for_function(
        "() => { const c = document.querySelector('#zoom-faces canvas');"
        " return c && c.getContext('2d').getImageData(48, 48, 1, 1).data[3] > 0; }"
    )
    await phone.locator("#zoom-faces .face-btn").first.click()
    await phone.wait_for_selector("#zoom-stage[data-zoom='100']")
    await screenshot(phone, "faces")


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two boxes intersect."""
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


async def test_the_undo_toast_leaves_approve_reject_and_undo_free(
    phone: Page, phone_bridge: BridgeServer, queued: list[dict[str, Any]]
) -> None:
    await open_approve(phone, phone_bridge)
    await phone.click("#btn-reject")
    await phone.wait_for_selector("#btn-undo:not([disabled])")
    await phone.click("#btn-undo")
    toast = phone.locator("#toast")
    await toast.wait_for()
    assert "is back for a decision" in await toast.inner_text()
    toast_box = await toast.bounding_box()
    assert toast_box is not None
    for control in ("#btn-approve", "#btn-reject", "#btn-undo", ".tabbar"):
        box = await phone.locator(control).bounding_box()
        assert box is not None
        assert not overlaps(toast_box, box), control
    # The buttons still answer while the toast shows.
    await phone.click("#btn-approve", timeout=2_000)
    await screenshot(phone, "toast")


async def test_landscape_keeps_the_controls_on_screen_and_the_photo_large(
    phone: Page, phone_bridge: BridgeServer, queued: list[dict[str, Any]]
) -> None:
    await phone.set_viewport_size({"width": 844, "height": 390})
    await open_approve(phone, phone_bridge)
    for control in ("#btn-approve", "#btn-reject", "#btn-undo", "#session-filter"):
        box = await phone.locator(control).bounding_box()
        assert box is not None, control
        assert box["x"] >= 0 and box["y"] >= 0, control
        assert box["x"] + box["width"] <= 844 and box["y"] + box["height"] <= 390, (control, box)
        assert box["width"] >= 48 and box["height"] >= 48, control
    image = await phone.locator(".card.top .img").bounding_box()
    assert image is not None and image["height"] >= 200 and image["width"] >= 300, image
    tabs = await phone.locator(".tab").all()
    for tab in tabs:
        box = await tab.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 390
    await screenshot(phone, "landscape")


async def test_a_long_file_name_is_shown_whole_on_a_small_phone(
    phone: Page, phone_bridge: BridgeServer, photo_set: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "Portraits"
    folder.mkdir()
    shutil.copy2(photo_set["astronaut"], folder / LONG_NAME)
    await import_paths(phone_bridge.context, [str(folder)], "Portraits")
    await wait_for(lambda: jobs_settled(phone_bridge), timeout=180)
    await phone.set_viewport_size({"width": 320, "height": 640})
    await open_approve(phone, phone_bridge)
    name = phone.locator(".card.top .name")
    assert await name.inner_text() == LONG_NAME
    fits = await name.evaluate("n => n.scrollWidth <= n.clientWidth")
    assert fits, "the name is not cut off"
    box = await name.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 320


async def test_shutter_speeds_read_as_photographers_write_them(
    phone: Page, phone_bridge: BridgeServer
) -> None:
    await open_paired(phone, phone_bridge)
    texts = await phone.evaluate(
        "import('/approve.js').then(m => ['1s', '1/250', '2.5s', '30 s', '']"
        ".map(v => m.shutterText(v)))"
    )
    assert texts == ["1 s", "1/250 s", "2.5 s", "30 s", ""]
    exif = await phone.evaluate(
        "import('/approve.js').then(m => m.exifText({shutter: '1s', aperture: 2.8, iso: 100}))"
    )
    assert exif == "f/2.8 · 1 s · ISO 100"


async def test_a_newly_paired_phone_fills_activity_from_the_history(
    phone: Page, phone_bridge: BridgeServer, queued: list[dict[str, Any]]
) -> None:
    ctx = phone_bridge.context
    keeper, reject = queued[0], queued[-1]
    await approvals.approve_photo(ctx, keeper["photo_id"])
    await approvals.reject_photo(ctx, reject["photo_id"], "closed eyes")
    # This phone pairs only now: it never saw those events, and gets no replay.
    await open_paired(phone, phone_bridge)
    await phone.click(".tab[data-tab=activity]")
    await phone.wait_for_selector(f"#activity li:has-text('Approved {keeper['file_name']}')")
    await phone.wait_for_selector(f"#activity li:has-text('Rejected {reject['file_name']}')")
    texts = await phone.locator("#activity li .text").all_inner_texts()
    assert any(t.startswith("Imported ") for t in texts)
    assert texts.index(f"Rejected {reject['file_name']} (closed eyes)") < texts.index(
        f"Approved {keeper['file_name']}"
    ), "newest first"
    assert await phone.locator("#activity-empty").is_hidden()
