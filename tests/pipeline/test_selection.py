"""Selection rules on their own: burst grouping, best of group, keepers, context tags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bridge_server.config import Settings
from bridge_server.pipeline.selection import Candidate, context_tag, group_bursts, propose
from bridge_server.store.enums import Selection

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


def _c(
    pid: str, seconds: float | None, score: float, phash: str = "ffff0000ffff0000", **hints: object
) -> Candidate:
    when = None if seconds is None else T0 + timedelta(seconds=seconds)
    return Candidate(pid, when, f"{pid}.jpg", score, phash, 10.0, dict(hints))


def test_frames_close_in_time_and_look_form_one_burst():
    photos = [
        _c("p_a", 0, 3),
        _c("p_b", 0.2, 4),
        _c("p_c", 0.4, 2),
        _c("p_d", 30, 4),
        _c("p_e", 30.2, 4, phash="0000ffff0000ffff"),
    ]
    groups = group_bursts(photos, gap_seconds=2.0, max_distance=12)
    assert [[c.photo_id for c in g] for g in groups] == [["p_a", "p_b", "p_c"], ["p_d"], ["p_e"]]


def test_best_of_group_is_the_keeper_and_the_rest_alternates(tmp_path):
    settings = Settings(data_dir=str(tmp_path), selection_threshold=3.0)
    groups = [[_c("p_a", 0, 3), _c("p_b", 0.2, 4.5), _c("p_c", 0.4, 2)], [_c("p_d", 9, 2.5)]]
    result = propose(groups, settings)
    assert result["p_b"].selection == Selection.KEEPER and result["p_b"].is_group_best
    assert result["p_a"].selection == result["p_c"].selection == Selection.ALTERNATE
    assert result["p_a"].group_id == result["p_b"].group_id is not None
    assert result["p_d"].selection == Selection.BELOW_THRESHOLD and result["p_d"].group_id is None
    assert result["p_b"].selected_preset == settings.preset_mapping["general"]


def test_context_tags():
    assert context_tag({"face_count": 4}) == "group"
    assert context_tag({"face_count": 1, "largest_face_fraction": 0.05}) == "portrait"
    assert context_tag({"face_count": 0, "iso": 6400}) == "low light"
    assert context_tag({"face_count": 0, "mean_level": 0.1}) == "low light"
    assert context_tag({"face_count": 0, "orientation": "landscape", "focal_length": 24}) == (
        "landscape"
    )
    assert context_tag({"face_count": 0, "orientation": "landscape", "focal_length": 85}) == (
        "general"
    )
