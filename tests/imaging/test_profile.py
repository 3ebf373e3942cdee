"""The learned culling profile: it learns a preference, explains it, and travels as plain JSON."""

from __future__ import annotations

import json
import random

import pytest

from bridge_server.imaging import profile as prof

FACE = prof.FEATURES.index("largest_face_fraction")


def _photo(rng: random.Random) -> tuple[float, list[float]]:
    """A plausible well-made photo's (ai_score, features), face size varying."""
    analysis = {
        "ai_score": round(rng.uniform(3.5, 5.0), 1),
        "factors": {"sharpness": rng.uniform(4, 5), "exposure": rng.uniform(4, 5), "noise": 5.0},
        "metrics": {"focus_blur": rng.uniform(1.2, 2.0), "mean_level": rng.uniform(0.3, 0.6)},
        "context_hints": {"face_count": 1, "largest_face_fraction": rng.uniform(0.005, 0.2)},
    }
    return analysis["ai_score"], prof.features(analysis)


def _decisions(n: int, seed: int = 1) -> list[tuple[list[float], int]]:
    """A photographer who rejects every frame whose face is under 5 % of the frame."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        _, x = _photo(rng)
        out.append((x, int(x[FACE] >= 0.05)))
    return out


def test_no_profile_until_there_are_enough_decisions():
    assert prof.train(_decisions(prof.MIN_DECISIONS - 1)) is None
    assert prof.train([(x, 1) for x, _ in _decisions(100)]) is None  # nothing was ever rejected
    assert prof.apply(None, 4.2, _decisions(1)[0][0]) == {
        "score": 4.2,
        "learned": None,
        "reasons": [],
    }


def test_learns_a_preference_and_says_so():
    profile = prof.train(_decisions(100))
    assert profile is not None and profile["decisions"] == 100
    rng = random.Random(99)
    agree_before = agree_after = 0
    trials = 200
    for _ in range(trials):
        score, x = _photo(rng)
        wanted = x[FACE] >= 0.05
        agree_before += (score >= 3.0) == wanted
        adjusted = prof.apply(profile, score, x)
        agree_after += (adjusted["score"] >= 3.0) == wanted
    assert agree_after - agree_before >= 0.15 * trials
    assert prof.apply(profile, 4.0, x)["learned"] == "learned from 100 of your decisions"


def test_explains_which_feature_moved_the_score():
    profile = prof.train(_decisions(150))
    assert profile is not None
    _, x = _photo(random.Random(3))
    x[FACE] = 0.01
    result = prof.apply(profile, 4.8, x)
    assert result["score"] < 3.0
    assert "face size lowered it" in result["reasons"]


def test_profile_round_trips_as_json_and_refuses_anything_else():
    profile = prof.train(_decisions(80))
    doc = json.loads(json.dumps(profile))
    assert prof.validate(doc) == profile
    for broken in (
        [],
        {**doc, "format": 99},
        {**doc, "features": ["ai_score"]},
        {**doc, "weights": doc["weights"][:-1]},
        {**doc, "weights": [*doc["weights"][:-1], float("nan")]},
        {**doc, "scale": [0.0] * len(doc["scale"])},
        {**doc, "intercept": "os.system('rm -rf ~')"},
        {**doc, "decisions": 3},
        {**doc, "weights": [True] * len(doc["weights"])},
        {**doc, "mean": [1e300] * len(doc["mean"])},
        {**doc, "held_out_accuracy": "high"},
    ):
        with pytest.raises(prof.ProfileError):
            prof.validate(broken)


def test_decisions_without_a_pattern_leave_the_scores_alone():
    decisions = _decisions(200)
    labels = [y for _, y in decisions]
    random.Random(4).shuffle(labels)
    shuffled = [(x, y) for (x, _), y in zip(decisions, labels, strict=True)]
    assert prof.train(shuffled) is None


def test_an_export_carries_every_genre_and_an_import_files_each_under_its_name():
    profile = prof.train(_decisions(80), "portrait")
    doc = json.loads(json.dumps(prof.document("ana", {"portrait": profile, "all": profile})))
    doc["profiles"]["portrait"]["extra"] = {"__reduce__": "os.system"}
    profiles = prof.validate_document(doc)
    assert set(profiles) == {"portrait", "all"}
    assert profiles["all"]["genre"] == "all"  # filed under "all", whatever it said inside
    assert "extra" not in profiles["portrait"]  # only the known fields are kept
    for broken in (
        {**doc, "kind": "pickle"},
        {**doc, "profiles": {"": profile}},
        {**doc, "photographer": -5.6e183},  # what the schema says is text (a fuzzer's find)
    ):
        with pytest.raises(prof.ProfileError):
            prof.validate_document(broken)


def test_each_decision_becomes_an_example_or_says_nothing():
    assert prof.decision_label("pick") == 1 and prof.decision_label("reject", stars=5) == 0
    assert prof.decision_label("none", stars=4) == 1
    assert prof.decision_label("none", color_label="green") == 1
    assert prof.decision_label("none", stars=1) == 0
    assert prof.decision_label("none") is None
