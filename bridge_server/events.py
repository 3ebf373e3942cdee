"""Event types, channels and one typed payload builder per event of the protocol."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final


class Channel(StrEnum):
    """The channels a client can subscribe to (the original's seven, and proofing)."""

    JOBS = "jobs"
    PHOTOS = "photos"
    SESSIONS = "sessions"
    SYSTEM = "system"
    QUEUE = "queue"
    APPROVAL = "approval"
    EXPORT = "export"
    PROOFING = "proofing"  # what proofing guests see, and their hearts and comments


ALL_CHANNELS: Final = frozenset(c.value for c in Channel)
RESERVED_KEYS: Final = frozenset({"type", "timestamp", "seq", "channel"})

EVENT_CHANNELS: Final[dict[str, Channel]] = {
    "job_created": Channel.JOBS,
    "job_started": Channel.JOBS,
    "job_progress": Channel.JOBS,
    "job_completed": Channel.JOBS,
    "job_failed": Channel.JOBS,
    "photo_imported": Channel.PHOTOS,
    "photo_analyzed": Channel.PHOTOS,
    "photo_selected": Channel.PHOTOS,
    "photo_approved": Channel.PHOTOS,
    "photo_rejected": Channel.PHOTOS,
    "photo_unflagged": Channel.PHOTOS,
    "photo_rating_changed": Channel.PHOTOS,
    "photo_preset_changed": Channel.PHOTOS,
    "session_created": Channel.SESSIONS,
    "session_updated": Channel.SESSIONS,
    "session_completed": Channel.SESSIONS,
    "session_deleted": Channel.SESSIONS,
    "system_status": Channel.SYSTEM,
    "resource_warning": Channel.SYSTEM,
    "error_occurred": Channel.SYSTEM,
    "queue_status": Channel.QUEUE,
    "priority_changed": Channel.QUEUE,
    "approval_queue_updated": Channel.APPROVAL,
    "export_started": Channel.EXPORT,
    "export_completed": Channel.EXPORT,
    "export_failed": Channel.EXPORT,
    "proofing_photo_changed": Channel.PROOFING,
    "client_favorite_changed": Channel.PROOFING,
    "client_comment_added": Channel.PROOFING,
    "export_withdrawn": Channel.EXPORT,
}


# Names an integration may use for its own events (never one of the typed events above).
CUSTOM_EVENT_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")


# Channels only the server itself publishes on: what proofing guests receive must come from
# real decisions and real guests, never from a broadcast.
SERVER_ONLY_CHANNELS: Final = frozenset({Channel.PROOFING.value})


def is_typed_event(event_type: str) -> bool:
    """Whether `event_type` is one of the protocol's typed events (with a validated payload)."""
    return event_type in EVENT_CHANNELS


@dataclass(frozen=True, slots=True)
class Event:
    """An event before publication: its type, channel and payload (no seq yet)."""

    type: str
    channel: str
    payload: dict[str, Any]


def make_event(event_type: str, payload: dict[str, Any]) -> Event:
    """Build an event of a known type; reserved envelope keys in the payload are refused."""
    channel = EVENT_CHANNELS.get(event_type)
    if channel is None:
        raise ValueError(f"Unknown event type: {event_type!r}")
    clash = RESERVED_KEYS.intersection(payload)
    if clash:
        raise ValueError(f"Payload may not set reserved keys: {sorted(clash)}")
    return Event(event_type, channel.value, payload)


def make_custom_event(event_type: str, channel: str, payload: dict[str, Any]) -> Event:
    """An integration's own event: a free name on any channel, never a typed event's name."""
    if is_typed_event(event_type):
        raise ValueError(f"{event_type!r} is a typed event; it cannot be sent as a custom one")
    if not CUSTOM_EVENT_NAME.fullmatch(event_type):
        raise ValueError("A custom event type must match ^[a-z][a-z0-9_]{0,63}$")
    if channel not in ALL_CHANNELS:
        raise ValueError(f"Unknown channel: {channel!r}")
    clash = RESERVED_KEYS.intersection(payload)
    if clash:
        raise ValueError(f"Payload may not set reserved keys: {sorted(clash)}")
    return Event(event_type, channel, payload)


def _drop_none(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v is not None}


# --- jobs -----------------------------------------------------------------------------------


def job_created(job_id: str, photo_id: str | None, priority: int, kind: str) -> Event:
    """A job entered the queue."""
    return make_event(
        "job_created", {"job_id": job_id, "photo_id": photo_id, "priority": priority, "kind": kind}
    )


def job_started(job_id: str, photo_id: str | None, kind: str, worker: str | None = None) -> Event:
    """A worker began a job (`worker`: which bridge or studio worker runs it)."""
    payload: dict[str, Any] = {"job_id": job_id, "photo_id": photo_id, "kind": kind}
    if worker is not None:
        payload["worker"] = worker
    return make_event("job_started", payload)


def job_progress(job_id: str, stage: str, progress: float, message: str) -> Event:
    """A running job moved on."""
    return make_event(
        "job_progress",
        {
            "job_id": job_id,
            "stage": stage,
            "progress": round(float(progress), 1),
            "message": message,
        },
    )


def job_completed(job_id: str, photo_id: str | None, result: dict[str, Any]) -> Event:
    """A job finished successfully."""
    return make_event("job_completed", {"job_id": job_id, "photo_id": photo_id, "result": result})


def job_failed(
    job_id: str, photo_id: str | None, error_message: str, error_details: dict[str, Any]
) -> Event:
    """A job failed for good (or for this attempt; details say whether it will retry)."""
    return make_event(
        "job_failed",
        {
            "job_id": job_id,
            "photo_id": photo_id,
            "error_message": error_message,
            "error_details": error_details,
        },
    )


# --- photos ---------------------------------------------------------------------------------


def photo_imported(photo_id: str, session_id: str, file_name: str, file_path: str) -> Event:
    """A photo is in the library."""
    return make_event(
        "photo_imported",
        {
            "photo_id": photo_id,
            "session_id": session_id,
            "file_name": file_name,
            "file_path": file_path,
        },
    )


def photo_analyzed(photo_id: str, ai_score: float, analysis_results: dict[str, Any]) -> Event:
    """Analysis of a photo finished."""
    return make_event(
        "photo_analyzed",
        {"photo_id": photo_id, "ai_score": ai_score, "analysis_results": analysis_results},
    )


def photo_selected(photo_id: str, context_tag: str, selected_preset: str) -> Event:
    """A photo was proposed as a keeper and entered the approval queue."""
    return make_event(
        "photo_selected",
        {"photo_id": photo_id, "context_tag": context_tag, "selected_preset": selected_preset},
    )


def photo_approved(photo_id: str, session_id: str) -> Event:
    """The photographer approved a photo."""
    return make_event("photo_approved", {"photo_id": photo_id, "session_id": session_id})


def photo_rejected(photo_id: str, session_id: str, reason: str | None) -> Event:
    """The photographer rejected a photo."""
    return make_event(
        "photo_rejected", {"photo_id": photo_id, "session_id": session_id, "reason": reason}
    )


def photo_unflagged(photo_id: str, session_id: str) -> Event:
    """A pick or reject was taken back: the photo is undecided again."""
    return make_event("photo_unflagged", {"photo_id": photo_id, "session_id": session_id})


def photo_rating_changed(
    photo_id: str, session_id: str, stars: int, color_label: str | None, keywords: list[str]
) -> Event:
    """The photographer changed a photo's stars, colour label or keywords (all three sent)."""
    return make_event(
        "photo_rating_changed",
        {
            "photo_id": photo_id,
            "session_id": session_id,
            "stars": stars,
            "color_label": color_label,
            "keywords": list(keywords),
        },
    )


def photo_preset_changed(photo_id: str, session_id: str, export_preset: str | None) -> Event:
    """The photographer chose a photo's export preset (None: back to selection's proposal)."""
    return make_event(
        "photo_preset_changed",
        {"photo_id": photo_id, "session_id": session_id, "export_preset": export_preset},
    )


# --- sessions -------------------------------------------------------------------------------


def session_created(session_id: str, session_name: str, import_folder: str | None) -> Event:
    """A shoot got its session."""
    return make_event(
        "session_created",
        {"session_id": session_id, "session_name": session_name, "import_folder": import_folder},
    )


def session_updated(
    session_id: str,
    total_photos: int,
    processed_photos: int,
    progress_percent: float,
    status: str,
    session_name: str | None = None,
) -> Event:
    """A session's counts, status or name changed (the name only when it was renamed)."""
    return make_event(
        "session_updated",
        _drop_none(
            {
                "session_id": session_id,
                "total_photos": total_photos,
                "processed_photos": processed_photos,
                "progress_percent": round(float(progress_percent), 2),
                "status": status,
                "session_name": session_name,
            }
        ),
    )


def session_completed(
    session_id: str,
    session_name: str,
    total_photos: int,
    approved_photos: int,
    approval_rate: float,
) -> Event:
    """Every photo of a session is decided and exported; `approval_rate` is a percentage."""
    return make_event(
        "session_completed",
        {
            "session_id": session_id,
            "session_name": session_name,
            "total_photos": total_photos,
            "approved_photos": approved_photos,
            "approval_rate": round(float(approval_rate), 2),
        },
    )


def session_deleted(session_id: str, session_name: str, total_photos: int) -> Event:
    """The operator deleted a session: its photos are gone from the app (never from disk)."""
    return make_event(
        "session_deleted",
        {"session_id": session_id, "session_name": session_name, "total_photos": total_photos},
    )


# --- system ---------------------------------------------------------------------------------


def system_status(status: str, details: dict[str, Any]) -> Event:
    """Periodic and on-change health of the machine and the bridge."""
    return make_event("system_status", {"status": status, "details": details})


def resource_warning(
    resource_type: str, current_value: float, threshold: float, message: str
) -> Event:
    """Free disk or memory crossed its threshold."""
    return make_event(
        "resource_warning",
        {
            "resource_type": resource_type,
            "current_value": current_value,
            "threshold": threshold,
            "message": message,
        },
    )


def error_occurred(
    error_type: str,
    error_message: str,
    error_details: dict[str, Any] | None = None,
    job_id: str | None = None,
    photo_id: str | None = None,
) -> Event:
    """Something unexpected failed."""
    return make_event(
        "error_occurred",
        _drop_none(
            {
                "error_type": error_type,
                "error_message": error_message,
                "error_details": error_details or {},
                "job_id": job_id,
                "photo_id": photo_id,
            }
        ),
    )


# --- queue ----------------------------------------------------------------------------------


def queue_status(pending: int, processing: int, completed: int, failed: int, total: int) -> Event:
    """Job counts by state."""
    return make_event(
        "queue_status",
        {
            "pending": pending,
            "processing": processing,
            "completed": completed,
            "failed": failed,
            "total": total,
        },
    )


def priority_changed(job_id: str, old_priority: int, new_priority: int, reason: str) -> Event:
    """A job was re-prioritised."""
    return make_event(
        "priority_changed",
        {
            "job_id": job_id,
            "old_priority": old_priority,
            "new_priority": new_priority,
            "reason": reason,
        },
    )


# --- approval and export --------------------------------------------------------------------


def approval_queue_updated(queue_count: int, session_id: str | None = None) -> Event:
    """The number of photos waiting for a decision changed."""
    return make_event(
        "approval_queue_updated", _drop_none({"queue_count": queue_count, "session_id": session_id})
    )


def export_started(photo_id: str, preset_name: str, destination: str) -> Event:
    """An export began writing."""
    return make_event(
        "export_started",
        {"photo_id": photo_id, "preset_name": preset_name, "destination": destination},
    )


def export_completed(photo_id: str, preset_name: str, output_path: str, file_size: int) -> Event:
    """An export file is complete on disk."""
    return make_event(
        "export_completed",
        {
            "photo_id": photo_id,
            "preset_name": preset_name,
            "output_path": output_path,
            "file_size": file_size,
        },
    )


def export_failed(photo_id: str, preset_name: str, error_message: str) -> Event:
    """An export could not be written; nothing half-written was left."""
    return make_event(
        "export_failed",
        {"photo_id": photo_id, "preset_name": preset_name, "error_message": error_message},
    )


# --- client proofing ------------------------------------------------------------------------


def proofing_photo_changed(
    session_id: str, photo_id: str, level: str | None, previous: str | None
) -> Event:
    """What proofing guests may see of a photo changed (`level`: pick, proposal or null)."""
    return make_event(
        "proofing_photo_changed",
        {"session_id": session_id, "photo_id": photo_id, "level": level, "previous": previous},
    )


def client_favorite_changed(
    session_id: str,
    photo_id: str,
    device_id: str,
    client_name: str,
    favorite: bool,
    favorites: int,
    level: str | None,
) -> Event:
    """A proofing guest hearted a photo, or took the heart back."""
    return make_event(
        "client_favorite_changed",
        {
            "session_id": session_id,
            "photo_id": photo_id,
            "device_id": device_id,
            "client_name": client_name,
            "favorite": favorite,
            "favorites": favorites,
            "level": level,
        },
    )


def client_comment_added(
    session_id: str,
    photo_id: str,
    comment_id: str,
    device_id: str,
    client_name: str,
    text: str,
    created_at: str,
    comments: int,
    level: str | None,
) -> Event:
    """A proofing guest commented on a photo (`comments`: how many the photo has now)."""
    return make_event(
        "client_comment_added",
        {
            "session_id": session_id,
            "photo_id": photo_id,
            "comment_id": comment_id,
            "device_id": device_id,
            "client_name": client_name,
            "text": text,
            "created_at": created_at,
            "comments": comments,
            "level": level,
        },
    )


def export_withdrawn(
    photo_id: str, preset_name: str, output_path: str, outcome: str, message: str
) -> Event:
    """A pick was taken back and its export dealt with: `outcome` "removed" (the file is gone),
    "changed" (left alone: it was changed since the export) or "missing" (moved or deleted)."""
    return make_event(
        "export_withdrawn",
        {
            "photo_id": photo_id,
            "preset_name": preset_name,
            "output_path": output_path,
            "outcome": outcome,
            "message": message,
        },
    )
