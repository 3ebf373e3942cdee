"""Verdicts a photographer relies on: eyes, face-first focus, exposure with intent.

Each case of the evaluation set (tests/fixtures/culling.py) is a real photograph or a variant
whose truth follows from how it was made; each test fails when that verdict regresses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import skimage.data
from PIL import Image

from bridge_server.imaging import eyes
from bridge_server.imaging.analysis import analyze_file
from bridge_server.pipeline.selection import Candidate, group_bursts, propose
from tests.fixtures.culling import Case

Results = dict[str, dict[str, Any]]
KEEPER = 3.0  # the default selection threshold


def _candidate(name: str, result: dict[str, Any], seconds: float) -> Candidate:
    when = datetime(2026, 11, 25, 14, tzinfo=UTC) + timedelta(seconds=seconds)
    return Candidate(
        f"p_{name}", when, f"{name}.jpg", result["ai_score"], result["phash"],
        float(result["metrics"]["laplacian_var"]), result["context_hints"],
        result["metrics"]["focus_blur"],
    )  # fmt: skip


# --- eyes -------------------------------------------------------------------------------


def test_real_portrait_has_open_eyes(culling: Results) -> None:
    face = culling["portrait"]["faces"][0]
    assert face["eye_state"] == "open" and face["ear"] >= eyes.EAR_OPEN
    assert "eyes_closed" not in culling["portrait"]["flags"]
    assert culling["portrait"]["factors"]["eyes"] == 5.0


def test_a_blink_is_said_and_is_not_a_keeper(culling: Results) -> None:
    result = culling["burst_blink"]
    assert result["faces"][0]["eye_state"] == "closed"
    assert "eyes closed" in result["reasons"]
    assert result["ai_score"] < KEEPER
    assert result["moved_by"][0] == {"factor": "eyes", "value": 1.0, "effect": "caps the score"}


def test_an_open_eyed_sibling_wins_the_burst_over_a_blink(culling: Results, tmp_path: Path) -> None:
    from bridge_server.config import Settings

    names = ["burst_blink", "burst_soft", "burst_open_best", "burst_open_shaken"]
    candidates = [_candidate(n, culling[n], k * 0.3) for k, n in enumerate(names)]
    groups = group_bursts(candidates, gap_seconds=2.0, max_distance=12)
    assert len(groups) == 1
    proposals = propose(groups, Settings(data_dir=str(tmp_path)))
    best = [n for n in names if proposals[f"p_{n}"].is_group_best]
    assert best == ["burst_open_best"]


def test_the_soft_frame_of_a_burst_ranks_last_and_is_never_proposed(
    culling: Results, tmp_path: Path
) -> None:
    from bridge_server.config import Settings

    names = ["burst_soft", "burst_open_best", "burst_open_shaken"]
    candidates = [_candidate(n, culling[n], k * 0.3) for k, n in enumerate(names)]
    groups = group_bursts(candidates, gap_seconds=2.0, max_distance=12)
    assert len(groups) == 1
    proposals = propose(groups, Settings(data_dir=str(tmp_path)))
    soft = proposals["p_burst_soft"]
    assert (soft.group_rank, soft.group_size) == (3, 3)
    assert soft.selection == "alternate" and not soft.is_group_best
    assert proposals["p_burst_open_best"].selection == "keeper"
    assert any(r.startswith("out of focus") for r in culling["burst_soft"]["reasons"])


def test_the_same_pose_reshot_minutes_later_is_one_scene(culling: Results, tmp_path: Path) -> None:
    from bridge_server.config import Settings

    shoot = [
        _candidate("redo_first", culling["redo_first"], 0),
        _candidate("coffee_sharp", culling["coffee_sharp"], 120),  # something else in between
        _candidate("redo_later", culling["redo_later"], 240),
    ]
    groups = group_bursts(shoot, gap_seconds=2.0, max_distance=12)
    assert sorted(sorted(c.photo_id for c in g) for g in groups) == [
        ["p_coffee_sharp"], ["p_redo_first", "p_redo_later"],
    ]  # fmt: skip
    proposals = propose(groups, Settings(data_dir=str(tmp_path)))
    later, first = proposals["p_redo_later"], proposals["p_redo_first"]
    assert later.is_group_best and (later.group_rank, later.group_size) == (1, 2)
    assert first.selection == "alternate" and first.group_rank == 2


def test_group_photo_counts_the_blinking_faces(culling: Results) -> None:
    blinking, all_open = culling["group_2_blinking"], culling["group_all_open"]
    assert len(blinking["faces"]) == 9
    assert "2 of 9 faces blinking" in blinking["reasons"]
    assert blinking["context_hints"]["faces_closed_eyes"] == 2
    assert all_open["context_hints"]["faces_closed_eyes"] == 0
    assert blinking["ai_score"] < all_open["ai_score"]


def test_small_faces_are_read_from_a_full_resolution_crop(culling: Results) -> None:
    # The group frame is 2112 px wide: its faces are smaller than FACE_PX at working size.
    face = culling["group_all_open"]["faces"][0]
    assert face["full_width_px"] > face["width_px"] * 1.5
    assert face["eye_state"] == "open"


def test_eyes_that_cannot_be_read_are_unknown_not_open_or_closed() -> None:
    cat = np.asarray(Image.fromarray(skimage.data.chelsea()).convert("L"))
    not_a_face = eyes.eye_state(np.ascontiguousarray(cat[:200, 100:300]), 150, 300.0)
    assert not_a_face["state"] == eyes.UNKNOWN and "frontal" in not_a_face["why"]
    tiny = eyes.eye_state(np.zeros((60, 60), np.uint8), 30, 30.0)
    assert tiny["state"] == eyes.UNKNOWN and "too small" in tiny["why"]


# --- focus ------------------------------------------------------------------------------


def test_focus_on_the_background_is_missed_focus(culling: Results) -> None:
    result = culling["missed_focus"]
    assert "missed_focus" in result["flags"]
    assert "missed focus: the background is sharper than the face" in result["reasons"]
    assert result["ai_score"] < KEEPER


def test_sharp_face_on_a_blurred_background_is_sharp(culling: Results) -> None:
    result = culling["shallow_depth"]
    assert result["metrics"]["focus_on"] == "eyes"
    assert result["factors"]["sharpness"] >= 4.5
    assert not {"soft", "out_of_focus", "missed_focus"} & set(result["flags"])
    assert result["ai_score"] >= 4.0


def test_dim_sharp_frame_is_still_sharp(culling: Results) -> None:
    dim, bright = culling["dim_room"], culling["portrait"]
    assert dim["metrics"]["mean_level"] < 0.25
    assert dim["factors"]["sharpness"] >= 4.5
    assert abs(dim["metrics"]["focus_blur"] - bright["metrics"]["focus_blur"]) < 0.3
    assert not {"soft", "out_of_focus"} & set(dim["flags"])


def test_noise_does_not_read_as_detail(tmp_path: Path, culling_set: dict[str, Case]) -> None:
    with Image.open(culling_set["blurred"].path) as im:
        arr = np.asarray(im.convert("RGB"), dtype=np.float32)
    noisy = arr + np.random.default_rng(7).normal(0, 10, arr.shape)
    path = tmp_path / "blurred_noisy.jpg"
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(path, quality=92)
    result = analyze_file(str(path))
    assert "out_of_focus" in result["flags"], result["reasons"]


def test_blurred_frames_are_out_of_focus(culling: Results) -> None:
    for name in ("blurred", "coffee_soft", "rocket_soft", "burst_soft"):
        assert "out_of_focus" in culling[name]["flags"], name
        assert culling[name]["ai_score"] < KEEPER, name
    for name in ("coffee_sharp", "rocket_sharp", "portrait"):
        assert culling[name]["factors"]["sharpness"] >= 4.5, name


# --- exposure ---------------------------------------------------------------------------


def test_low_key_is_not_an_exposure_error(culling: Results) -> None:
    result = culling["low_key"]
    assert result["metrics"]["mean_level"] < culling["portrait"]["metrics"]["mean_level"] / 2
    assert result["factors"]["exposure"] >= 4.5
    assert not {"underexposed", "shadows_clipped"} & set(result["flags"])


def test_clipped_subject_weighs_more_than_clipped_sky(culling: Results) -> None:
    subject, sky = culling["clipped_subject"], culling["clipped_sky"]
    assert sky["metrics"]["highlights_clipped"] > subject["metrics"]["highlights_clipped"]
    assert "highlights_clipped" in subject["flags"]
    assert any(r.endswith("highlights clipped on the subject") for r in subject["reasons"])
    assert "background_clipped" in sky["flags"] and "highlights_clipped" not in sky["flags"]
    assert subject["factors"]["exposure"] <= 2.5 < 4.0 <= sky["factors"]["exposure"]
    assert sky["ai_score"] >= 4.0 and subject["ai_score"] < KEEPER


def test_every_verdict_says_why(culling: Results, culling_set: dict[str, Case]) -> None:
    for name in culling_set:
        result = culling[name]
        below = {k for k, v in result["factors"].items() if v < 4.0}
        moved = {m["factor"] for m in result["moved_by"]}
        assert below <= moved, name
        if below:
            assert result["reasons"], name


def test_the_landmark_model_ships_in_an_installed_package() -> None:
    path = Path(eyes.model_path())
    assert path.is_file() and path.stat().st_size > 50_000_000
