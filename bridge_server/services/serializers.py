"""Store rows as the JSON resources of the protocol (docs/protocol.md)."""

from __future__ import annotations

from typing import Any

from ..store.enums import APPROVAL_FLAG, Approval, PhotoStatus, Selection, Verdict
from ..store.models import Device, Job, Photo, Session
from ..timeutil import iso


def photo_in_queue(photo: Photo) -> bool:
    """Whether the photo waits for the photographer's decision."""
    return (
        photo.status == PhotoStatus.ANALYZED
        and photo.selection == Selection.KEEPER
        and photo.approval == Approval.PENDING
    )


def analysis_with_learned(
    analysis: dict[str, Any], learned: dict[str, Any] | None
) -> dict[str, Any]:
    """The analysis results, with what the learned profile did added to its reasons."""
    if not learned:
        return analysis
    moved = f"{learned['learned']}: {learned['base']} → {learned['score']}"
    extra = [moved, *learned.get("reasons", [])]
    return {**analysis, "reasons": [*analysis.get("reasons", []), *extra]}


_SELECTION_VERDICT = {
    Selection.KEEPER: Verdict.PROPOSED,
    Selection.ALTERNATE: Verdict.ALTERNATE,
    Selection.BELOW_THRESHOLD: Verdict.BELOW_THRESHOLD,
}


def photo_verdict(photo: Photo) -> Verdict:
    """What analysis and selection made of the photo (queries.verdict_filter says it in SQL)."""
    if photo.status == PhotoStatus.FAILED:
        return Verdict.FAILED
    if photo.status != PhotoStatus.ANALYZED:
        return Verdict.PENDING
    return _SELECTION_VERDICT.get(photo.selection, Verdict.PENDING)


def photo_dict(photo: Photo) -> dict[str, Any]:
    """A photo resource; ai_score is the analysis' score moved by the learned profile, if any."""
    return {
        "photo_id": photo.id,
        "session_id": photo.session_id,
        "file_name": photo.file_name,
        "file_path": photo.file_path,
        "status": photo.status.value,
        "error": photo.error,
        "ai_score": photo.ai_score,
        "analysis_results": analysis_with_learned(photo.analysis or {}, photo.learned),
        "analysis_score": (photo.analysis or {}).get("ai_score"),
        "learned": photo.learned,
        "selection": photo.selection.value,
        "group_id": photo.group_id,
        "is_group_best": photo.is_group_best,
        "group_rank": photo.group_rank,
        "group_size": photo.group_size,
        "context_tag": photo.context_tag,
        "selected_preset": photo.selected_preset,
        "approval": photo.approval.value,
        "rejection_reason": photo.rejection_reason,
        "flag": APPROVAL_FLAG[photo.approval].value,
        "stars": photo.stars or 0,
        "color_label": photo.color_label,
        "keywords": list(photo.keywords or []),
        "export_preset": photo.export_preset,
        "verdict": photo_verdict(photo).value,
        "in_queue": photo_in_queue(photo),
        "exif": photo.exif or {},
        "width": photo.width,
        "height": photo.height,
        "captured_at": iso(photo.captured_at),
        "imported_at": iso(photo.imported_at),
        "decided_at": iso(photo.decided_at),
        "thumbnail_url": f"/api/photos/{photo.id}/thumbnail?size=small",
        "preview_url": f"/api/photos/{photo.id}/thumbnail?size=large",
        "full_url": f"/api/photos/{photo.id}/full",
        "favorites": photo.client_favorites,
        "comments": photo.client_comments,
    }


def job_dict(job: Job) -> dict[str, Any]:
    """A job resource."""
    return {
        "job_id": job.id,
        "kind": job.kind.value,
        "photo_id": job.photo_id,
        "priority": job.priority,
        "status": job.status.value,
        "progress": round(job.progress, 1),
        "stage": job.stage,
        "params": job.params or {},
        "result": job.result,
        "error": job.error,
        "retry_count": job.retry_count,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "worker": job.worker,
    }


def session_dict(session: Session, counts: dict[str, Any]) -> dict[str, Any]:
    """A session resource with its photo counts (queries.session_counts)."""
    total = counts.get("total", 0)
    processed = counts.get("processed", 0)
    first_capture = counts.get("first_capture")
    return {
        "session_id": session.id,
        "session_name": session.name,
        "import_folder": session.import_folder,
        "status": session.status.value,
        "created_at": iso(session.created_at),
        "completed_at": iso(session.completed_at),
        "total_photos": total,
        "processed_photos": processed,
        "approved_photos": counts.get("approved", 0),
        "rejected_photos": counts.get("rejected", 0),
        "queued_photos": counts.get("queued", 0),
        # The shoot's day: its first photo's capture time (camera wall time, kept as if UTC).
        "shoot_date": first_capture.date().isoformat() if first_capture else None,
        "progress_percent": round(100.0 * processed / total, 2) if total else 0.0,
    }


def device_dict(device: Device) -> dict[str, Any]:
    """A paired device, without any secret."""
    return {
        "device_id": device.id,
        "device_name": device.name,
        "role": device.role,
        "created_at": iso(device.created_at),
        "last_seen_at": iso(device.last_seen_at),
        "link_id": device.link_id,
    }
