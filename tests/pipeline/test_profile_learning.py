"""The learned culling profile in the running app: decisions teach it, it moves scores and says
why, and it can be exported, reset and imported over REST (the operator's routes)."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bridge_server.app import BridgeServer
from bridge_server.imaging.analysis import ANALYSIS_VERSION
from bridge_server.pipeline.selection import select_session
from bridge_server.store.enums import PhotoStatus
from bridge_server.store.models import Photo, Session
from bridge_server.timeutil import utcnow
from tests.helpers import base_url, connect, make_settings, wait_for

DECIDED, HELD_OUT = 60, 24
THRESHOLD = 3.0  # the default keeper threshold
SMALL_FACE = 0.05  # the photographer rejects every frame whose face is under 5 % of it


def _analysis(rng: random.Random, face: float) -> dict[str, Any]:
    """A stored analysis of a well-made portrait whose face covers `face` of the frame."""
    score = round(rng.uniform(3.6, 4.8), 1)
    return {
        "version": ANALYSIS_VERSION,
        "ai_score": score,
        "factors": {"sharpness": rng.uniform(4, 5), "exposure": rng.uniform(4, 5), "noise": 5.0},
        "metrics": {
            "focus_blur": rng.uniform(1.2, 2.0),
            "mean_level": rng.uniform(0.3, 0.6),
            "background_detail": rng.uniform(0.2, 0.6),
        },
        "context_hints": {"face_count": 1, "largest_face_fraction": face},
        "reasons": [],
        "flags": [],
    }


@pytest.fixture
async def learning_bridge(tmp_path: Path):
    """A bridge that retrains a fraction of a second after the last decision."""
    server = BridgeServer(make_settings(tmp_path / "data", profile_retrain_seconds=0.2))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def _shoot(server: BridgeServer) -> dict[str, float]:
    """An analysed shoot of distinct frames (an hour apart); photo id -> face fraction."""
    rng = random.Random(3)
    faces: dict[str, float] = {}
    start = utcnow() - timedelta(days=10)
    async with server.context.db.session() as s, s.begin():
        s.add(Session(id="s_profile", name="Portraits"))
        await s.flush()
        for i in range(DECIDED + HELD_OUT):
            # Clear cases either side of the photographer's 5 % line.
            face = rng.uniform(0.01, 0.035) if i % 2 else rng.uniform(0.07, 0.2)
            analysis = _analysis(rng, face)
            photo_id = f"p_{i:04d}"
            faces[photo_id] = face
            s.add(
                Photo(
                    id=photo_id, session_id="s_profile", file_name=f"{i}.jpg",
                    file_path=f"/nowhere/{i}.jpg", original_path=f"/nowhere/{i}.jpg",
                    content_hash=f"{i:064x}", file_size=1, status=PhotoStatus.ANALYZED,
                    ai_score=analysis["ai_score"], analysis=analysis,
                    phash=f"{rng.getrandbits(64):016x}", captured_at=start + timedelta(hours=i),
                )
            )  # fmt: skip
    await select_session(server.context, "s_profile")
    return faces


async def _photos(http: Any, server: BridgeServer) -> dict[str, dict[str, Any]]:
    resp = await http.get(f"{base_url(server)}/api/photos", params={"limit": "200"})
    assert resp.status == 200
    body = await resp.json()
    items = body.get("photos") or body.get("items") or []
    return {p["photo_id"]: p for p in items}


async def _profile(http: Any, server: BridgeServer) -> dict[str, Any]:
    resp = await http.get(f"{base_url(server)}/api/profile")
    assert resp.status == 200
    return dict(await resp.json())


async def test_decisions_teach_the_profile_which_moves_scores_and_says_why(learning_bridge, http):
    server, url = learning_bridge, base_url(learning_bridge)
    faces = await _shoot(server)
    ids = sorted(faces)
    status = await _profile(http, server)
    assert status["active"] is False and status["status"].startswith("Learning: 0 of the 30")

    # Every kind of opinion teaches it: picks and rejects, stars, colour labels.
    for k, photo_id in enumerate(ids[:DECIDED]):
        keep = faces[photo_id] >= SMALL_FACE
        body = [
            {"flag": "pick" if keep else "reject"},
            {"stars": 4 if keep else 1},
            {"color_label": "green"} if keep else {"stars": 2},
        ][k % 3]
        resp = await http.patch(f"{url}/api/photos/{photo_id}/decision", json=body)
        assert resp.status == 200, await resp.text()

    async def learned() -> dict[str, Any] | None:
        s = await _profile(http, server)
        return s if s["active"] and not s["training"] else None

    status = await wait_for(learned, timeout=120)
    assert status["status"].startswith(f"Learned from {DECIDED} of your decisions")
    # Training was a job with progress, in the open like any other.
    resp = await http.get(f"{url}/api/jobs", params={"kind": "train_profile", "limit": "50"})
    body = await resp.json()
    trained = [j for j in body.get("jobs") or body["items"] if j["status"] == "completed"]
    assert any(j["result"].get("decisions") == DECIDED for j in trained), trained
    assert all(j["progress"] == 100 and j["photo_id"] is None for j in trained)
    # Nobody queues a training by hand for a photo: it follows decisions.
    resp = await http.post(f"{url}/api/jobs", json={"photo_id": ids[0], "kind": "train_profile"})
    assert resp.status == 400

    async def rescored() -> dict[str, dict[str, Any]] | None:
        photos = await _photos(http, server)
        held = [photos[i] for i in ids[DECIDED:]]
        return photos if all(p["learned"] for p in held) and not server.pipeline.busy else None

    photos = await wait_for(rescored, timeout=60)
    push: dict[bool, list[float]] = {True: [], False: []}
    said = 0
    for photo_id in ids[DECIDED:]:
        p = photos[photo_id]
        # The photographer's rule, learned: small faces fall below the keeper threshold (all
        # of these frames were above it), large ones stay above it.
        if faces[photo_id] < SMALL_FACE:
            assert p["ai_score"] < THRESHOLD <= p["analysis_score"], p["learned"]
        else:
            assert p["ai_score"] >= THRESHOLD, p["learned"]
        reasons = p["analysis_results"]["reasons"]
        # The portrait profile (54 decisions) or the one over every genre (60) judged it.
        assert any(re.match(r"learned from (54|60) of your decisions: ", r) for r in reasons)
        # Explainable: what the face size did to each score (against the average decision).
        push[faces[photo_id] < SMALL_FACE].append(
            p["learned"]["contributions"]["largest_face_fraction"]
        )
        said += any(r.startswith("face size ") for r in reasons)
    assert max(push[True]) < min(push[False])  # every small face pushed down more
    assert said >= 0.75 * HELD_OUT  # among the three biggest movers nearly everywhere
    # The proposals follow the learned score: no small-face frame is proposed as a keeper.
    assert all(photos[i]["selection"] != "keeper" for i in ids[DECIDED:] if faces[i] < SMALL_FACE)


async def test_profile_exports_resets_and_imports_as_json(learning_bridge, http):
    server, url = learning_bridge, base_url(learning_bridge)
    faces = await _shoot(server)
    ids = sorted(faces)
    for photo_id in ids[:DECIDED]:  # stars alone, this time
        stars = 5 if faces[photo_id] >= SMALL_FACE else 1
        resp = await http.patch(f"{url}/api/photos/{photo_id}/decision", json={"stars": stars})
        assert resp.status == 200, await resp.text()
    await wait_for(lambda: _active(http, server, True), timeout=120)

    resp = await http.get(f"{url}/api/profile/export")
    assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
    document = await resp.json()
    assert document["kind"] == "autodev-bridge culling profile"
    assert document["profiles"]["all"]["decisions"] == DECIDED
    held = ids[-1]

    # Reset: the analysis alone again, and old decisions (stars too) are not learned from.
    resp = await http.post(f"{url}/api/profile/reset")
    assert resp.status == 200
    status = await resp.json()
    assert status["active"] is False and status["decisions"] == 0
    await wait_for(lambda: _scored_by_analysis(http, server, held), timeout=60)
    # Stored as SQL NULL, not the JSON text 'null': "no profile" is alike in every query.
    async with server.context.db.session() as s:
        held_learned = select(Photo.id).where(Photo.id == held, Photo.learned.is_(None))
        assert (await s.execute(held_learned)).scalar_one_or_none() == held

    # Anything that is not a profile of numbers is refused and changes nothing.
    for bad in (
        {"kind": "something else"},
        {**document, "profiles": {"all": {**document["profiles"]["all"], "weights": ["x"]}}},
        {**document, "profiles": {"all": "cos\nsystem\n(S'echo pwned'\ntR."}},
    ):
        resp = await http.post(f"{url}/api/profile/import", json=bad)
        assert resp.status == 400, await resp.text()
        assert (await resp.json())["error"]["code"] == "invalid_arguments"
    assert (await _profile(http, server))["active"] is False

    phone = await connect(http, server)
    await phone.subscribe(["approval"])
    resp = await http.post(f"{url}/api/profile/import", json=document)
    assert resp.status == 200
    # Clients learn that the queue changed (scores and proposals), and reload it.
    update = await phone.recv_type("approval_queue_updated", timeout=30)
    assert update["session_id"] == "s_profile"
    assert (await resp.json())["status"].startswith(f"Learned from {DECIDED} of your decisions")

    async def learned_again() -> bool:
        p = (await _photos(http, server))[held]
        return bool(p["learned"]) and p["ai_score"] != p["analysis_score"]

    await wait_for(learned_again, timeout=60)


async def _active(http: Any, server: BridgeServer, active: bool) -> bool:
    s = await _profile(http, server)
    return bool(s["active"] is active and not s["training"] and not server.pipeline.busy)


async def _scored_by_analysis(http: Any, server: BridgeServer, photo_id: str) -> bool:
    p = (await _photos(http, server))[photo_id]
    return p["learned"] is None and p["ai_score"] == p["analysis_score"]
