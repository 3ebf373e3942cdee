"""Events in words a photographer reads: "Approved IMG_4136.jpg (Smith wedding)"."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Final

Names = Callable[[str | None], str]  # photo id -> file name ("a photo" when unknown)

JOB_NOUNS: Final = {
    "analyze": "Analysis",
    "export": "Export",
    "train_profile": "Learning from your decisions",
    "reselect": "Re-checking the proposals",
}
SYSTEM_WORDS: Final = {"paused": "Processing paused", "running": "Processing resumed"}


def _count(n: Any, word: str) -> str:
    number = int(n or 0)
    return f"{number} {word}{'' if number == 1 else 's'}"


def describe_event(kind: str, p: Mapping[str, Any], photo_name: Names, session_name: Names) -> str:
    """One sentence for an event; ids and raw values stay in the details."""
    name = photo_name(p.get("photo_id"))
    where = session_name(p.get("session_id"))
    shoot = f" ({where})" if where else ""
    if kind == "photo_imported":
        return f"Imported {p.get('file_name') or name}{shoot}"
    if kind == "photo_analyzed":
        score = p.get("ai_score")
        return f"Analysed {name}: score {float(score):.1f}" if score else f"Analysed {name}"
    if kind == "photo_selected":
        return f"Proposed {name} as a keeper"
    if kind == "photo_approved":
        return f"Approved {name}{shoot}"
    if kind == "photo_rejected":
        why = p.get("rejection_reason") or p.get("reason")
        return f"Rejected {name}{shoot}" + (f": {why}" if why else "")
    if kind == "photo_unflagged":
        return f"Took back the decision on {name}{shoot}"
    if kind == "photo_rating_changed":
        parts = [f"{'★' * int(p.get('stars') or 0) or 'No stars'}"]
        if p.get("color_label"):
            parts.append(f"{str(p['color_label']).capitalize()} label")
        if p.get("keywords"):
            parts.append(", ".join(map(str, p["keywords"])))
        return f"{' · '.join(parts)} on {name}"
    if kind.startswith("job_"):
        return _job_words(kind, p, name)
    if kind == "export_started":
        return f"Exporting {name} ({p.get('preset_name')})"
    if kind == "export_completed":
        return f"Exported {name} as {os.path.basename(str(p.get('output_path') or ''))}"
    if kind == "export_failed":
        return f"Export of {name} failed: {p.get('error_message')}"
    if kind == "export_withdrawn":
        return str(p.get("message") or f"Export of {name} taken back ({p.get('outcome')})")
    if kind == "approval_queue_updated":
        return f"{_count(p.get('queue_count'), 'photo')} waiting for a decision"
    if kind == "queue_status":
        return f"Work queue: {p.get('processing', 0)} running, {p.get('pending', 0)} waiting"
    if kind == "session_created":
        return f"New session {p.get('session_name') or ''}".strip()
    if kind in ("session_updated", "session_completed"):
        title = p.get("session_name") or where or "A session"
        done = "complete" if kind == "session_completed" else "updated"
        counts = f"{p.get('processed_photos', 0)} of {_count(p.get('total_photos'), 'photo')}"
        return f"{title} {done}: {counts} analysed"
    if kind == "system_status":
        return SYSTEM_WORDS.get(str(p.get("status")), f"Bridge {p.get('status') or 'status'}")
    if kind in ("resource_warning", "error_occurred"):
        return str(p.get("message") or p.get("error_message") or kind.replace("_", " "))
    if kind == "priority_changed":
        return f"Job priority changed to {p.get('new_priority')}"
    return kind.replace("_", " ").capitalize()


def _job_words(kind: str, p: Mapping[str, Any], name: str) -> str:
    noun = JOB_NOUNS.get(str(p.get("job_type") or p.get("kind") or ""), "Job")
    subject = f"{noun} of {name}" if p.get("photo_id") else noun
    if kind == "job_created":
        return f"{subject} queued"
    if kind == "job_started":
        return f"{subject} started"
    if kind == "job_progress":
        percent = f"{float(p.get('progress') or 0):.0f} %"
        if not p.get("photo_id") and p.get("message"):
            return f"{p['message']} ({percent})"  # a job of no photo says what it does
        return f"{subject}: {percent}"
    if kind == "job_completed":
        return f"{subject} finished"
    if kind == "job_failed":
        details = p.get("error_details") or {}
        if details.get("cancelled"):
            return f"{subject} cancelled"
        return f"{subject} failed: {p.get('error_message')}"
    return subject
