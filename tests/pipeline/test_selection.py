"""Selection rules on their own: burst grouping, best of group, keepers, context tags."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bridge_server.config import Settings
from bridge_server.pipeline.selection import Candidate, context_tag, group_bursts, propose
from bridge_server.store.enums import Approval, Selection

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
        _c("p_d", 30, 4, phash="ffff0000ffff03ff"),  # alike (10 bits), but not a near-duplicate
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


def _flip(phash: str, bits: int) -> str:
    """The hash with its lowest `bits` bits flipped: exactly that Hamming distance away."""
    return f"{int(phash, 16) ^ ((1 << bits) - 1):016x}"


BASE = "ffff0000ffff0000"
OTHER = "0000ffff0000ffff"


def _ids(groups):
    return [[c.photo_id for c in g] for g in groups]


def test_near_identical_frames_minutes_apart_are_one_scene():
    photos = [
        _c("p_a", 0, 4, BASE),
        _c("p_b", 95, 4, OTHER),  # something else shot in between
        _c("p_c", 180, 4, _flip(BASE, 4)),  # the same pose, three minutes later
        _c("p_d", 420, 4, _flip(BASE, 2)),  # and again at seven minutes
    ]
    groups = group_bursts(photos, gap_seconds=2.0, max_distance=12)
    assert _ids(groups) == [["p_a", "p_c", "p_d"], ["p_b"]]


def test_similar_but_not_identical_frames_join_only_when_close_in_time():
    loose = _flip(BASE, 10)  # alike enough for a burst, not a near-duplicate
    assert _ids(group_bursts([_c("p_a", 0, 4, BASE), _c("p_b", 1, 4, loose)], 2.0, 12)) == [
        ["p_a", "p_b"]
    ]
    assert _ids(group_bursts([_c("p_a", 0, 4, BASE), _c("p_b", 120, 4, loose)], 2.0, 12)) == [
        ["p_a"],
        ["p_b"],
    ]
    far = [_c("p_a", 0, 4, BASE), _c("p_b", 3600, 4, BASE)]  # an hour later: another scene
    assert _ids(group_bursts(far, 2.0, 12)) == [["p_a"], ["p_b"]]


def test_every_frame_of_a_scene_gets_its_rank(tmp_path):
    settings = Settings(data_dir=str(tmp_path), selection_threshold=3.0)
    scene = [
        _c(f"p_{k}", k * 200, score, _flip(BASE, k)) for k, score in enumerate([3.5, 4.6, 4.1])
    ]
    alone = _c("p_x", 50, 4.0, OTHER)
    result = propose(group_bursts([*scene, alone], 2.0, 12), settings)
    assert [(result[c.photo_id].group_rank, result[c.photo_id].group_size) for c in scene] == [
        (3, 3), (1, 3), (2, 3),
    ]  # fmt: skip
    assert result["p_1"].selection == Selection.KEEPER
    assert result["p_x"].group_rank is None and result["p_x"].group_size is None


def test_a_better_frame_later_takes_over_from_an_undecided_keeper(tmp_path):
    settings = Settings(data_dir=str(tmp_path), selection_threshold=3.0)
    first = [_c("p_a", 0, 4.0), _c("p_b", 0.3, 3.2)]
    assert propose(group_bursts(first, 2.0, 12), settings)["p_a"].selection == Selection.KEEPER
    later = [*first, _c("p_c", 240, 4.8)]
    result = propose(group_bursts(later, 2.0, 12), settings)
    assert result["p_c"].selection == Selection.KEEPER and result["p_c"].is_group_best
    assert result["p_a"].selection == Selection.ALTERNATE


def test_the_photographers_decisions_are_never_changed(tmp_path):
    settings = Settings(data_dir=str(tmp_path), selection_threshold=3.0)
    approved = replace(_c("p_a", 0, 4.0), approval=Approval.APPROVED, current=Selection.KEEPER)
    rejected = replace(_c("p_c", 240, 4.9), approval=Approval.REJECTED, current=Selection.KEEPER)
    undecided = _c("p_b", 0.3, 4.5)
    result = propose(group_bursts([approved, undecided, rejected], 2.0, 12), settings)
    # The approved frame keeps the proposal it was approved on, though p_b now scores higher;
    # the rejected frame, though the best scored, is not the scene's best: p_b is.
    assert result["p_a"].selection == Selection.KEEPER
    assert result["p_c"].selection == Selection.KEEPER and not result["p_c"].is_group_best
    assert result["p_b"].is_group_best and result["p_b"].selection == Selection.KEEPER
    assert result["p_c"].group_rank == 1  # still ranked by what the analysis sees


def test_sharper_focus_breaks_a_tie_in_score(tmp_path):
    settings = Settings(data_dir=str(tmp_path))
    soft = replace(_c("p_a", 0, 5.0), focus_blur=1.9)
    crisp = replace(_c("p_b", 0.2, 5.0), focus_blur=1.3)
    result = propose(group_bursts([soft, crisp], 2.0, 12), settings)
    assert result["p_b"].is_group_best and not result["p_a"].is_group_best
