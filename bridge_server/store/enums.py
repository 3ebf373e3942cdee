"""Every status value of the store, defined once; the database enforces them with CHECKs."""

from __future__ import annotations

from enum import StrEnum


class SessionStatus(StrEnum):
    """A shoot's life."""

    ACTIVE = "active"
    COMPLETED = "completed"
    EMPTY = "empty"  # its import ended (or was abandoned) without a single photo


class PhotoStatus(StrEnum):
    """How far analysis of a photo has got."""

    IMPORTED = "imported"
    ANALYZING = "analyzing"
    ANALYZED = "analyzed"
    FAILED = "failed"


class Selection(StrEnum):
    """What selection proposed for an analysed photo."""

    NONE = "none"
    KEEPER = "keeper"
    ALTERNATE = "alternate"
    BELOW_THRESHOLD = "below_threshold"


class Approval(StrEnum):
    """The photographer's decision."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class JobKind(StrEnum):
    """What a job does."""

    ANALYZE = "analyze"
    EXPORT = "export"
    TRAIN_PROFILE = "train_profile"  # the photographer's culling profile, from their decisions
    RESELECT = "reselect"  # selection again over every session (the settings changed)


# Kinds a caller may queue for one photo (POST /api/jobs); a reselection is the settings' own.
PHOTO_JOB_KINDS = (JobKind.ANALYZE, JobKind.EXPORT)


class JobStatus(StrEnum):
    """A job's life; only pending and running jobs are active."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_JOB_STATUSES = frozenset({JobStatus.PENDING, JobStatus.RUNNING})


class ExportStatus(StrEnum):
    """An export file's life."""

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    WITHDRAWING = "withdrawing"  # the pick was taken back: the file is being removed
    WITHDRAWN = "withdrawn"  # removed (or already gone) after the pick was taken back
    KEPT = "kept"  # the pick was taken back, but the file had changed: left alone


class ColorLabel(StrEnum):
    """A photographer's colour label (Lightroom's five; XMP writes them capitalised)."""

    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"
    BLUE = "blue"
    PURPLE = "purple"


class Flag(StrEnum):
    """The photographer's flag as photographers name it; stored as `Approval`."""

    PICK = "pick"
    REJECT = "reject"
    NONE = "none"


FLAG_APPROVAL: dict[Flag, Approval] = {
    Flag.PICK: Approval.APPROVED,
    Flag.REJECT: Approval.REJECTED,
    Flag.NONE: Approval.PENDING,
}
APPROVAL_FLAG: dict[Approval, Flag] = {v: k for k, v in FLAG_APPROVAL.items()}


class Verdict(StrEnum):
    """What the analysis made of a photo, for the library's filter."""

    PROPOSED = "proposed"  # proposed keeper
    ALTERNATE = "alternate"  # another frame of a burst or scene is better
    BELOW_THRESHOLD = "below_threshold"  # best of its scene, but under the keeper threshold
    FAILED = "failed"  # could not be analysed
    PENDING = "pending"  # analysis or selection has not finished
