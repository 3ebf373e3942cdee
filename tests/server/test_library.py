"""GET /api/photos: the whole shoot, filtered, sorted, paged by cursor, stacks collapsible.

A real bridge on loopback imports and analyses a real shoot (a 4-frame burst, degraded frames,
a corrupt file); every answer is read over HTTP and checked against the photos themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from bridge_server.app import BridgeServer
from tests.helpers import base_url, copy_photos, jobs_settled, make_settings, wait_for

SHOOT = [
    "burst_1",
    "burst_2",
    "burst_3",
    "burst_4",
    "astronaut",
    "astronaut_eyes_closed",
    "coffee",
    "chelsea_noisy",
    "rocket_blurred",
    "truncated",
]


async def _shoot(
    tmp_path: Path, http: aiohttp.ClientSession, photo_set: dict[str, Path]
) -> BridgeServer:
    server = BridgeServer(make_settings(tmp_path / "data"))
    await server.start()
    copy_photos(photo_set, SHOOT, tmp_path / "shoot")
    resp = await http.post(
        f"{base_url(server)}/api/import", json={"paths": [str(tmp_path / "shoot")]}
    )
    assert resp.status == 202, await resp.text()
    await wait_for(lambda: jobs_settled(server))
    return server


async def _get(http: aiohttp.ClientSession, server: BridgeServer, **query: Any) -> dict[str, Any]:
    params = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in query.items()}
    async with http.get(f"{base_url(server)}/api/photos", params=params) as resp:
        body = await resp.json()
        assert resp.status == 200, body
        return dict(body)


async def _all_pages(
    http: aiohttp.ClientSession, server: BridgeServer, **query: Any
) -> list[dict[str, Any]]:
    """Every photo, page by page through next_cursor."""
    photos: list[dict[str, Any]] = []
    page = await _get(http, server, **query)
    photos += page["photos"]
    while page["next_cursor"] is not None:
        page = await _get(http, server, cursor=page["next_cursor"], **query)
        photos += page["photos"]
    return photos


def _capture_key(p: dict[str, Any]) -> tuple[bool, str, str]:
    return (p["captured_at"] is None, p["captured_at"] or "", p["file_name"])


async def test_the_whole_shoot_pages_by_cursor_in_capture_or_score_order(tmp_path, http, photo_set):
    server = await _shoot(tmp_path, http, photo_set)
    try:
        paged = await _all_pages(http, server, limit=3)
        assert len(paged) == len(SHOOT)
        assert len({p["photo_id"] for p in paged}) == len(SHOOT)  # none twice, none lost
        assert paged == sorted(paged, key=_capture_key)
        first = await _get(http, server, limit=3)
        assert first["total"] == len(SHOOT) and len(first["photos"]) == 3

        by_score = await _all_pages(http, server, sort="score", limit=4)
        scores = [p["ai_score"] for p in by_score]
        scored = [s for s in scores if s is not None]
        assert scored == sorted(scored, reverse=True) and scores[: len(scored)] == scored
        assert {p["photo_id"] for p in by_score} == {p["photo_id"] for p in paged}

        # Every verdict of the shoot shows up, the failed file and the burst alternates too.
        verdicts = {Path(p["file_name"]).stem: p["verdict"] for p in paged}
        assert verdicts["truncated"] == "failed"
        assert sorted(verdicts[f"burst_{k}"] for k in range(1, 5)).count("alternate") == 3

        # The original bridge's answer and parameters still work.
        original = await _get(http, server, limit=2, offset=2)
        assert (original["limit"], original["offset"], original["total"]) == (2, 2, len(SHOOT))
        assert [p["photo_id"] for p in original["items"]] == [p["photo_id"] for p in paged[2:4]]
        failed = await _get(http, server, status="failed")
        assert [p["file_name"] for p in failed["items"]] == ["truncated.jpg"]

        for bad in (
            {"cursor": "not-a-cursor"},
            {"cursor": first["next_cursor"], "sort": "score"},
            {"sort": "name"},
            {"min_stars": 6},
            {"problem": "ugly"},
            {"collapse_stacks": "yes"},
        ):
            async with http.get(f"{base_url(server)}/api/photos", params=bad) as resp:
                body = await resp.json()
                assert resp.status == 400, (bad, body)
                assert body["error"]["message"], bad
    finally:
        await server.stop()


async def test_filters_and_collapsed_stacks_show_what_the_photographer_asks_for(
    tmp_path, http, photo_set
):
    server = await _shoot(tmp_path, http, photo_set)
    url = base_url(server)
    try:
        everything = (await _get(http, server))["photos"]
        by_stem = {Path(p["file_name"]).stem: p for p in everything}
        for verdict in ("proposed", "alternate", "below_threshold", "failed"):
            got = {p["photo_id"] for p in (await _get(http, server, verdict=verdict))["photos"]}
            assert got == {p["photo_id"] for p in everything if p["verdict"] == verdict}, verdict

        noisy = {p["photo_id"] for p in (await _get(http, server, problem="noisy"))["photos"]}
        expected = {
            p["photo_id"] for p in everything if "noisy" in p["analysis_results"].get("flags", [])
        }
        assert noisy == expected and by_stem["chelsea_noisy"]["photo_id"] in noisy

        alternate = next(p for p in everything if p["verdict"] == "alternate")
        decisions = {
            alternate["photo_id"]: {"flag": "pick", "stars": 4, "color_label": "blue"},
            by_stem["coffee"]["photo_id"]: {"flag": "reject", "stars": 2},
            by_stem["astronaut"]["photo_id"]: {"stars": 5, "color_label": "blue"},
        }
        for photo_id, body in decisions.items():
            async with http.patch(f"{url}/api/photos/{photo_id}/decision", json=body) as resp:
                assert resp.status == 200, await resp.text()

        def ids(page: dict[str, Any]) -> set[str]:
            return {p["photo_id"] for p in page["photos"]}

        assert ids(await _get(http, server, flag="pick")) == {alternate["photo_id"]}
        assert ids(await _get(http, server, flag="reject")) == {by_stem["coffee"]["photo_id"]}
        assert ids(await _get(http, server, min_stars=4)) == {
            alternate["photo_id"],
            by_stem["astronaut"]["photo_id"],
        }
        blue_and_picked = await _get(http, server, color_label="blue", flag="pick")
        assert ids(blue_and_picked) == {alternate["photo_id"]}
        assert len((await _get(http, server, flag="none"))["photos"]) == len(SHOOT) - 2

        # Stacks: the burst is one entry, its best frame, with the burst's size.
        stacked = await _all_pages(http, server, collapse_stacks=True, limit=2)
        burst = [p for p in stacked if p["group_id"] == alternate["group_id"]]
        assert len(burst) == 1 and burst[0]["group_rank"] == 1
        assert burst[0]["stack_size"] == burst[0]["group_size"] == 4
        assert len(stacked) == len(SHOOT) - 3
        assert all(p["stack_size"] == 1 for p in stacked if p["group_id"] is None)
        assert (await _get(http, server, collapse_stacks=True))["total"] == len(SHOOT) - 3
    finally:
        await server.stop()
