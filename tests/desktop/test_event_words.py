"""Activity reads as sentences for people, including the jobs that belong to no photo."""

from __future__ import annotations

from desktop.event_words import describe_event


def _names(value: object) -> str:
    return {"p_1": "IMG_0001.jpg"}.get(str(value), "")


def test_jobs_of_no_photo_say_what_they_do() -> None:
    created = {"job_id": "j_1", "photo_id": None, "priority": 3, "kind": "train_profile"}
    assert describe_event("job_created", created, _names, _names) == (
        "Learning from your decisions queued"
    )
    progress = {
        "job_id": "j_1",
        "stage": "training",
        "progress": 30.0,
        "message": "Learning from 12 decisions",
    }
    assert describe_event("job_progress", progress, _names, _names) == (
        "Learning from 12 decisions (30 %)"
    )
    reselect = {"job_id": "j_2", "photo_id": None, "priority": 2, "kind": "reselect"}
    assert describe_event("job_started", reselect, _names, _names) == (
        "Re-checking the proposals started"
    )


def test_a_photo_job_names_the_photo() -> None:
    progress = {"job_id": "j_3", "photo_id": "p_1", "kind": "export", "progress": 30.0}
    assert describe_event("job_progress", progress, _names, _names) == (
        "Export of IMG_0001.jpg: 30 %"
    )
    created = {"job_id": "j_3", "photo_id": "p_1", "priority": 2, "kind": "export"}
    assert describe_event("job_created", created, _names, _names) == "Export of IMG_0001.jpg queued"
