"""Client proofing over real sockets: a guest sees its session's picks live, never a reject,
never anything else; hearts and comments reach the photographer; dead links are refused."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import update

from bridge_server.app import BridgeServer
from bridge_server.services import proofing_links
from bridge_server.store.models import ProofingLink
from bridge_server.timeutil import utcnow
from tests.helpers import base_url, connect, copy_photos, jobs_settled, make_settings, wait_for
from tests.web.phone_helpers import drain_events

SHOOT = ["astronaut", "coffee", "chelsea", "rocket"]


async def start(tmp_path: Path) -> BridgeServer:
    """A bridge that proposes every analysed photo (so each one is a candidate to share)."""
    settings = make_settings(tmp_path / "data", selection_threshold=1.0, burst_hash_distance=0)
    server = BridgeServer(settings)
    await server.start()
    return server


async def import_shoot(
    http: aiohttp.ClientSession, server: BridgeServer, folder: Path, names: list[str], name: str
) -> tuple[str, list[str]]:
    """Import real photos into a new session; its id and its photo ids once analysed."""
    resp = await http.post(
        f"{base_url(server)}/api/import", json={"paths": [str(folder)], "session_name": name}
    )
    assert resp.status == 202, await resp.text()
    report = await resp.json()
    assert len(report["imported"]) == len(names), report
    await wait_for(lambda: jobs_settled(server), timeout=180)
    photos = await (
        await http.get(f"{base_url(server)}/api/photos?session_id={report['session_id']}")
    ).json()
    return report["session_id"], [p["photo_id"] for p in photos["items"]]


async def share(
    http: aiohttp.ClientSession, server: BridgeServer, session_id: str, visibility: str
) -> dict[str, Any]:
    """The photographer shares a session (REST, as an operator); the link's secret included."""
    resp = await http.post(
        f"{base_url(server)}/api/sessions/{session_id}/proofing-links",
        json={"visibility": visibility, "expires_in_hours": 24},
    )
    assert resp.status == 201, await resp.text()
    link = await resp.json()
    link["secret"] = link["urls"][0].split("#link=", 1)[1]
    return link


async def join(
    http: aiohttp.ClientSession, server: BridgeServer, secret: str, name: str
) -> aiohttp.ClientResponse:
    """A guest opens the link and gives a name."""
    return await http.post(
        f"{base_url(server)}/api/proofing/join", json={"link": secret, "client_name": name}
    )


async def guest_token(
    http: aiohttp.ClientSession, server: BridgeServer, secret: str, name: str
) -> str:
    """A guest's own token."""
    resp = await join(http, server, secret, name)
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["token"])


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a guest."""
    return {"Authorization": f"Bearer {token}"}


def mentions(frame: dict[str, Any], photo_id: str) -> bool:
    """Whether a frame names a photo anywhere."""
    return photo_id in json.dumps(frame)


async def test_a_guest_socket_gets_its_picks_live_and_never_a_reject_or_other_events(
    tmp_path, http, photo_set
):
    server = await start(tmp_path)
    try:
        url = base_url(server)
        copy_photos(photo_set, SHOOT, tmp_path / "wedding")
        copy_photos(photo_set, ["burst_1"], tmp_path / "other")
        session_id, (kept, rejected, withdrawn, untouched) = await import_shoot(
            http, server, tmp_path / "wedding", SHOOT, "Wedding"
        )
        _, (elsewhere,) = await import_shoot(http, server, tmp_path / "other", ["burst_1"], "Other")
        link = await share(http, server, session_id, "picks")
        token = await guest_token(http, server, link["secret"], "Anna")

        guest = await connect(http, server, token=token, client_type="proofing")
        # A guest may not listen to the photographer's channels at all.
        await guest.send({"type": "subscribe", "channels": ["photos"]})
        refused = await guest.recv()
        assert (refused["type"], refused["code"]) == ("error", "forbidden")
        await guest.subscribe(["proofing"])
        desk = await connect(http, server)
        await desk.subscribe(["*"])

        for path in (
            f"/api/approval/{kept}/approve",
            f"/api/approval/{rejected}/reject",
            f"/api/approval/{withdrawn}/approve",
            f"/api/approval/{elsewhere}/approve",
        ):
            assert (await http.post(url + path)).status == 200
        # The photographer takes a pick back: the guest must see it go.
        assert (await http.post(f"{url}/api/approval/{withdrawn}/reject")).status == 200
        await wait_for(lambda: jobs_settled(server), timeout=120)

        frames = await drain_events(guest)
        assert {f["type"] for f in frames} == {"proofing_photo_changed"}, frames
        assert [(f["photo_id"], f["level"]) for f in frames] == [
            (kept, "pick"),
            (withdrawn, "pick"),
            (withdrawn, None),
        ]
        assert not any(mentions(f, rejected) for f in frames)
        assert not any(mentions(f, elsewhere) or mentions(f, untouched) for f in frames)
        # The desk did get all the rest (so the guest's silence is the filter, not idleness).
        desk_types = {f["type"] for f in await drain_events(desk, quiet=0.3)}
        assert {"photo_rejected", "photo_approved", "job_completed"} <= desk_types

        # The page's load shows exactly the same: the pick, nothing else.
        resp = await http.get(f"{url}/api/proofing/gallery", headers=bearer(token))
        gallery = await resp.json()
        assert [p["photo_id"] for p in gallery["photos"]] == [kept]
        assert "ai_score" not in gallery["photos"][0]
        for hidden in (rejected, withdrawn, elsewhere, untouched):
            for path in (
                f"/api/proofing/photos/{hidden}",
                f"/api/proofing/photos/{hidden}/preview",
            ):
                resp = await http.get(url + path, headers=bearer(token))
                assert resp.status == 404, (path, resp.status)
        preview = await http.get(
            f"{url}/api/proofing/photos/{kept}/preview?size=small", headers=bearer(token)
        )
        assert preview.status == 200 and preview.content_type == "image/jpeg"
        # And a guest's REST calls stop at the photographer's data.
        resp = await http.get(f"{url}/api/photos/{kept}", headers=bearer(token))
        assert resp.status == 403
    finally:
        await server.stop()


async def test_hearts_and_comments_reach_the_desk_live_and_land_in_the_store(
    tmp_path, http, photo_set
):
    server = await start(tmp_path)
    try:
        url = base_url(server)
        copy_photos(photo_set, SHOOT[:2], tmp_path / "shoot")
        session_id, (pick, reject) = await import_shoot(
            http, server, tmp_path / "shoot", SHOOT[:2], "Product day"
        )
        link = await share(http, server, session_id, "picks_and_proposals")
        anna = await guest_token(http, server, link["secret"], "Anna")
        ben = await guest_token(http, server, link["secret"], "  Ben  ")
        assert (await http.post(f"{url}/api/approval/{pick}/approve")).status == 200
        desk = await connect(http, server)
        await desk.subscribe(["proofing"])

        for token in (anna, ben, anna):  # Anna's second heart repeats hers: no change
            resp = await http.put(
                f"{url}/api/proofing/photos/{pick}/favorite",
                json={"favorite": True},
                headers=bearer(token),
            )
            assert resp.status == 200, await resp.text()
        heart = await desk.recv_type("client_favorite_changed")
        assert (heart["photo_id"], heart["client_name"], heart["favorites"]) == (pick, "Anna", 1)
        heart = await desk.recv_type("client_favorite_changed")
        assert (heart["client_name"], heart["favorites"]) == ("Ben", 2)
        resp = await http.post(
            f"{url}/api/proofing/photos/{pick}/comments",
            json={"text": "Can this one be a bit warmer?"},
            headers=bearer(ben),
        )
        assert resp.status == 201
        comment = await desk.recv_type("client_comment_added")
        assert (comment["client_name"], comment["text"], comment["comments"]) == (
            "Ben",
            "Can this one be a bit warmer?",
            1,
        )
        assert not [f for f in await drain_events(desk, 0.3) if f["type"].startswith("client_")]

        photo = await (await http.get(f"{url}/api/photos/{pick}")).json()
        assert (photo["favorites"], photo["comments"]) == (2, 1)
        favourites = await (await http.get(f"{url}/api/photos?favorite=true")).json()
        assert [p["photo_id"] for p in favourites["items"]] == [pick]
        feedback = await (await http.get(f"{url}/api/photos/{pick}/feedback")).json()
        assert [h["client_name"] for h in feedback["favorites"]] == ["Anna", "Ben"]

        # Taking a heart back counts down; bad input is a clear 400 and changes nothing.
        resp = await http.put(
            f"{url}/api/proofing/photos/{pick}/favorite",
            json={"favorite": False},
            headers=bearer(anna),
        )
        assert (await resp.json())["favorites"] == 1
        for body in ({"favorite": "yes"}, {}, {"favorite": None}):
            resp = await http.put(
                f"{url}/api/proofing/photos/{pick}/favorite", json=body, headers=bearer(anna)
            )
            assert resp.status == 400, body
        resp = await http.post(
            f"{url}/api/proofing/photos/{pick}/comments", json={"text": "  "}, headers=bearer(ben)
        )
        assert resp.status == 400
        # A rejected photo cannot be hearted, even by guessing its id.
        assert (await http.post(f"{url}/api/approval/{reject}/reject")).status == 200
        resp = await http.put(
            f"{url}/api/proofing/photos/{reject}/favorite",
            json={"favorite": True},
            headers=bearer(anna),
        )
        assert resp.status == 404
        photo = await (await http.get(f"{url}/api/photos/{pick}")).json()
        assert (photo["favorites"], photo["comments"]) == (1, 1)
    finally:
        await server.stop()


async def test_a_revoked_or_expired_link_is_refused_and_its_guests_are_cut_off(
    tmp_path, http, photo_set
):
    server = await start(tmp_path)
    try:
        url = base_url(server)
        copy_photos(photo_set, SHOOT[:1], tmp_path / "shoot")
        session_id, _ = await import_shoot(http, server, tmp_path / "shoot", SHOOT[:1], "Shoot")
        revoked = await share(http, server, session_id, "picks")
        expired = await share(http, server, session_id, "picks")
        token = await guest_token(http, server, revoked["secret"], "Anna")
        other = await guest_token(http, server, expired["secret"], "Planner")
        guest = await connect(http, server, token=token, client_type="proofing")
        await guest.subscribe(["proofing"])

        resp = await http.delete(f"{url}/api/proofing-links/{revoked['link_id']}")
        assert resp.status == 200
        assert await guest.expect_close() == 4001
        resp = await join(http, server, revoked["secret"], "Late guest")
        assert resp.status == 401
        assert "withdrawn" in (await resp.json())["error"]["message"]
        resp = await http.get(f"{url}/api/proofing/gallery", headers=bearer(token))
        assert resp.status == 401

        async with server.context.db.session() as s, s.begin():
            await s.execute(
                update(ProofingLink)
                .where(ProofingLink.id == expired["link_id"])
                .values(expires_at=utcnow() - timedelta(minutes=1))
            )
        resp = await join(http, server, expired["secret"], "Late guest")
        assert resp.status == 401
        assert "expired" in (await resp.json())["error"]["message"]
        resp = await http.get(f"{url}/api/proofing/gallery", headers=bearer(other))
        assert resp.status == 401
        refused = await connect(http, server, register=False)
        await refused.send({"type": "register", "client_type": "proofing", "token": other})
        assert (await refused.recv())["code"] == "auth_failed"
        assert await refused.expect_close() == 4001

        links = await proofing_links.list_links(server.context, session_id)
        assert {link["state"] for link in links} == {"revoked", "expired"}
        # An unknown secret is refused the same way (and counts as a failed attempt).
        assert (await join(http, server, "not-a-link", "Mallory")).status == 401
    finally:
        await server.stop()


async def test_a_guest_socket_is_closed_when_its_link_runs_out(tmp_path, http, photo_set):
    """Expiry cuts an open socket as a withdrawal does: an error that says why, then 4001."""
    server = await start(tmp_path)
    try:
        copy_photos(photo_set, SHOOT[:1], tmp_path / "shoot")
        session_id, _ = await import_shoot(http, server, tmp_path / "shoot", SHOOT[:1], "Shoot")
        link = await share(http, server, session_id, "picks")
        async with server.context.db.session() as s, s.begin():
            await s.execute(
                update(ProofingLink)
                .where(ProofingLink.id == link["link_id"])
                .values(expires_at=utcnow() + timedelta(seconds=2))
            )
        token = await guest_token(http, server, link["secret"], "Anna")
        guest = await connect(http, server, token=token, client_type="proofing")
        await guest.subscribe(["proofing"])
        error = await asyncio.wait_for(guest.recv_type("error", timeout=30), timeout=30)
        assert error["code"] == "auth_failed" and "expired" in error["error"]
        assert await guest.expect_close(timeout=30) == 4001
        client_id = guest.hello["client_id"]

        async def gone() -> bool:
            return server.context.clients.get(client_id) is None

        await wait_for(gone, timeout=10)
    finally:
        await server.stop()


async def test_one_guest_can_be_removed_without_the_others(tmp_path, http, photo_set):
    server = await start(tmp_path)
    try:
        url = base_url(server)
        copy_photos(photo_set, SHOOT[:1], tmp_path / "shoot")
        session_id, _ = await import_shoot(http, server, tmp_path / "shoot", SHOOT[:1], "Shoot")
        link = await share(http, server, session_id, "picks")
        anna = await guest_token(http, server, link["secret"], "Anna")
        planner = await guest_token(http, server, link["secret"], "Planner")
        listed = await (await http.get(f"{url}/api/sessions/{session_id}/proofing-links")).json()
        guests = {g["device_name"]: g["device_id"] for g in listed["items"][0]["guests"]}
        assert set(guests) == {"Anna", "Planner"}
        assert (await http.delete(f"{url}/api/devices/{guests['Planner']}")).status == 200
        gallery = f"{url}/api/proofing/gallery"
        assert (await http.get(gallery, headers=bearer(planner))).status == 401
        assert (await http.get(gallery, headers=bearer(anna))).status == 200
    finally:
        await server.stop()


async def test_a_guest_resuming_with_since_is_replayed_only_what_it_may_see(
    tmp_path, http, photo_set
):
    server = await start(tmp_path)
    try:
        url = base_url(server)
        copy_photos(photo_set, SHOOT[:2], tmp_path / "shoot")
        session_id, (pick, reject) = await import_shoot(
            http, server, tmp_path / "shoot", SHOOT[:2], "Shoot"
        )
        link = await share(http, server, session_id, "picks")
        token = await guest_token(http, server, link["secret"], "Anna")
        since = server.context.broker.last_seq
        assert (await http.post(f"{url}/api/approval/{pick}/approve")).status == 200
        assert (await http.post(f"{url}/api/approval/{reject}/reject")).status == 200
        await wait_for(lambda: jobs_settled(server), timeout=120)
        guest = await connect(http, server, token=token, client_type="proofing")
        await guest.send({"type": "subscribe", "channels": ["proofing"], "since": since})
        frames = await drain_events(guest)
        replayed = [f for f in frames if f["type"] != "subscription_confirmed"]
        assert [(f["type"], f["photo_id"]) for f in replayed] == [("proofing_photo_changed", pick)]
        confirmed = frames[-1]
        assert confirmed["type"] == "subscription_confirmed" and confirmed["replayed"] == 1
        assert not any(mentions(f, reject) for f in frames)
    finally:
        await server.stop()


async def test_activity_history_is_paged_newest_first_and_filtered_by_role(
    tmp_path, http, photo_set
):
    server = await start(tmp_path)
    try:
        url = base_url(server)
        copy_photos(photo_set, SHOOT[:2], tmp_path / "shoot")
        session_id, (pick, reject) = await import_shoot(
            http, server, tmp_path / "shoot", SHOOT[:2], "Shoot"
        )
        link = await share(http, server, session_id, "picks")
        token = await guest_token(http, server, link["secret"], "Anna")
        assert (await http.post(f"{url}/api/approval/{pick}/approve")).status == 200
        assert (await http.post(f"{url}/api/approval/{reject}/reject")).status == 200

        first = await (await http.get(f"{url}/api/activity?limit=2")).json()
        assert [e["type"] for e in first["items"]] == ["photo_rejected", "photo_approved"]
        assert first["items"][0]["seq"] > first["items"][1]["seq"]
        rest = await (
            await http.get(f"{url}/api/activity?limit=100&before={first['next_before']}")
        ).json()
        assert [e["type"] for e in rest["items"]].count("photo_imported") == 2
        assert all(e["seq"] < first["next_before"] for e in rest["items"])

        mine = await (await http.get(f"{url}/api/activity", headers=bearer(token))).json()
        everything = await (
            await http.get(
                f"{url}/api/activity?types=proofing_photo_changed,photo_rejected",
                headers=bearer(token),
            )
        ).json()
        assert mine["items"] == []  # nothing of the photographer's Activity is a guest's
        assert [(e["type"], e["photo_id"]) for e in everything["items"]] == [
            ("proofing_photo_changed", pick)
        ]
        for bad in ("limit=0", "before=abc", "types=nope"):
            assert (await http.get(f"{url}/api/activity?{bad}")).status == 400, bad
    finally:
        await server.stop()


def exiftool_path() -> str:
    """The real exiftool (Debian's libimage-exiftool-perl); under CI its absence fails."""
    import os
    import shutil

    import pytest

    path = shutil.which("exiftool")
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("exiftool is required under CI")
    pytest.skip("exiftool not installed")


async def test_hearts_become_keywords_stars_and_a_label_that_lightroom_reads(
    tmp_path, http, photo_set
):
    import subprocess

    exiftool = exiftool_path()
    server = await start(tmp_path)
    try:
        url = base_url(server)
        copy_photos(photo_set, ["coffee", "rocket"], tmp_path / "shoot")
        session_id, (loved, other) = await import_shoot(
            http, server, tmp_path / "shoot", ["coffee", "rocket"], "Product day"
        )
        for photo_id in (loved, other):
            assert (await http.post(f"{url}/api/approval/{photo_id}/approve")).status == 200
        await wait_for(lambda: jobs_settled(server), timeout=120)
        link = await share(http, server, session_id, "picks")
        for name in ("Anna", "Ben"):
            token = await guest_token(http, server, link["secret"], name)
            resp = await http.put(
                f"{url}/api/proofing/photos/{loved}/favorite",
                json={"favorite": True},
                headers=bearer(token),
            )
            assert resp.status == 200
        desk = await connect(http, server)
        await desk.subscribe(["photos"])

        apply = f"{url}/api/sessions/{session_id}/client-favorites/apply"
        resp = await http.post(apply, json={"stars": 3, "color_label": "green"})
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["count"] == 1
        rating = await desk.recv_type("photo_rating_changed")
        assert rating["photo_id"] == loved and rating["stars"] == 3
        assert "Client favourite: Anna" in rating["keywords"]
        await wait_for(lambda: jobs_settled(server), timeout=120)
        photo = await (await http.get(f"{url}/api/photos/{loved}")).json()
        assert (photo["stars"], photo["color_label"]) == (3, "green")
        assert photo["keywords"] == ["Client favourite: Anna", "Client favourite: Ben"]
        untouched = await (await http.get(f"{url}/api/photos/{other}")).json()
        assert (untouched["stars"], untouched["keywords"]) == (0, [])

        # The exported file's XMP says so, as Lightroom reads it.
        exports = await (await http.get(f"{url}/api/jobs?photo_id={loved}&kind=export")).json()
        output = next(j["result"]["output_path"] for j in exports["items"] if j["result"])

        def xmp_says() -> dict[str, Any]:
            out = subprocess.run(
                [exiftool, "-j", "-XMP:Rating", "-XMP:Label", "-XMP:Subject", output],
                check=True,
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
            return dict(json.loads(out)[0])

        async def written() -> bool:
            return bool(xmp_says().get("Rating") == 3)

        await wait_for(written, timeout=60)
        meta = xmp_says()
        assert meta["Label"] == "Green"
        assert sorted(meta["Subject"]) == ["Client favourite: Anna", "Client favourite: Ben"]

        # Applying again changes nothing (the keywords are there, the stars are enough).
        resp = await http.post(apply, json={"stars": 3})
        assert resp.status == 200
        assert not [f for f in await drain_events(desk, 0.5) if f["type"] == "photo_rating_changed"]
        assert (await http.post(apply, json={"stars": 9})).status == 400
    finally:
        await server.stop()


def test_an_expired_guest_stops_receiving_even_on_an_open_socket():
    import time

    from bridge_server.audience import ProofingScope, may_receive
    from bridge_server.broker import PublishedEvent

    payload = {"session_id": "s_1", "photo_id": "p_1", "level": "pick", "previous": None}
    event = PublishedEvent(7, "proofing_photo_changed", "proofing", "now", payload, "{}")
    live = ProofingScope("s_1", "picks", "d_1", "Anna", "l_1", time.time() + 60)
    expired = ProofingScope("s_1", "picks", "d_1", "Anna", "l_1", time.time() - 1)
    other_session = ProofingScope("s_2", "picks", "d_2", "Ben", "l_2", time.time() + 60)
    assert may_receive(live, event)
    assert not may_receive(expired, event)
    assert not may_receive(other_session, event)
    assert may_receive(None, event), "staff receive everything of their channels"
