"""SQLAlchemy models. Enums are stored as text with CHECK constraints, so no code path can
write a state the schema does not know."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from ..timeutil import utcnow
from .enums import Approval, ExportStatus, JobKind, JobStatus, PhotoStatus, Selection, SessionStatus


class UTCDateTime(TypeDecorator[datetime]):
    """Datetimes stored naive-UTC (SQLite has no zones) and returned aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def enum_column(enum: type[StrEnum], name: str) -> SAEnum:
    """A text column restricted by a named CHECK to the enum's values."""
    return SAEnum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        values_callable=lambda e: [m.value for m in e],
        length=24,
    )


class Base(DeclarativeBase):
    """Declarative base."""


class Session(Base):
    """A shoot: the photos imported together."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    import_folder: Mapped[str | None] = mapped_column(Text)
    status: Mapped[SessionStatus] = mapped_column(
        enum_column(SessionStatus, "session_status"), default=SessionStatus.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


UNSYNCED = "metadata_rev != metadata_synced_rev"


class Photo(Base):
    """One imported file and everything learned about it."""

    __tablename__ = "photos"
    __table_args__ = (
        UniqueConstraint("content_hash", name="uq_photos_content_hash"),
        # The pages' orders (migration 0007): queue by score, per library and per session
        # (that one also covers a session's counts). The queue
        # walks ai_score backwards; SQLite sorts only the ties (captured_at, id).
        Index("ix_photos_queue_order", "selection", "approval", "status", "ai_score"),
        Index(
            "ix_photos_session_queue", "session_id", "selection", "approval", "status", "ai_score"
        ),
        # A session's first capture in one seek (its counts are tallies: migration 0012).
        Index("ix_photos_session_first", "session_id", "captured_at"),
        # The few photos whose decisions are not in their files yet (start-up's catch-up).
        Index(
            "ix_photos_unsynced",
            "id",
            sqlite_where=text(UNSYNCED),
            postgresql_where=text(UNSYNCED),
        ),
        # The whole-shoot query's orders are expression indexes: migrations 0007 and 0011 only.
        CheckConstraint("ai_score IS NULL OR (ai_score >= 1 AND ai_score <= 5)", name="ck_score"),
        # A decision on a photo that never finished analysis is impossible.
        CheckConstraint(
            "approval = 'pending' OR status = 'analyzed'", name="ck_decided_only_analyzed"
        ),
        CheckConstraint(
            "rejection_reason IS NULL OR approval = 'rejected'", name="ck_reason_only_rejected"
        ),
        CheckConstraint("stars >= 0 AND stars <= 5", name="ck_stars"),
        CheckConstraint(
            "color_label IS NULL OR color_label IN ('red', 'yellow', 'green', 'blue', 'purple')",
            name="ck_color_label",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(String(255))
    file_path: Mapped[str] = mapped_column(Text)
    original_path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    file_size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    exif: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[PhotoStatus] = mapped_column(
        enum_column(PhotoStatus, "photo_status"), default=PhotoStatus.IMPORTED
    )
    error: Mapped[str | None] = mapped_column(Text)
    ai_score: Mapped[float | None] = mapped_column(Float)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    phash: Mapped[str | None] = mapped_column(String(64))
    group_id: Mapped[str | None] = mapped_column(String(32))
    is_group_best: Mapped[bool] = mapped_column(default=False)
    group_rank: Mapped[int | None] = mapped_column(Integer)  # 1 = best of its scene
    group_size: Mapped[int | None] = mapped_column(Integer)
    selection: Mapped[Selection] = mapped_column(
        enum_column(Selection, "photo_selection"), default=Selection.NONE
    )
    context_tag: Mapped[str | None] = mapped_column(String(32))
    selected_preset: Mapped[str | None] = mapped_column(String(100))
    approval: Mapped[Approval] = mapped_column(
        enum_column(Approval, "photo_approval"), default=Approval.PENDING
    )
    rejection_reason: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the photographer's learned profile did to ai_score (None: the analysis alone);
    # analysis["ai_score"] keeps the analysis' own score.
    learned: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # When stars or the colour label last changed (a rating is an opinion the profile learns).
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The photographer's rating, kept while the photo is rejected (the flag is `approval`).
    stars: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    color_label: Mapped[str | None] = mapped_column(String(8))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # The photographer's preset choice; selection's proposal (`selected_preset`) applies if None.
    export_preset: Mapped[str | None] = mapped_column(String(100))
    # Every decision change counts up `metadata_rev`; sidecar and export XMP are written up to
    # `metadata_synced_rev`. A difference left by a crash is written again at start-up.
    metadata_rev: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    metadata_synced_rev: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Counters kept beside the rows they count (services.proofing changes both in one
    # transaction), so listing photos needs no join.
    client_favorites: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    client_comments: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Job(Base):
    """A unit of background work with priority, status and progress."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 1 AND 3", name="ck_job_priority"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="ck_job_progress"),
        CheckConstraint("retry_count >= 0", name="ck_job_retry_count"),
        Index("ix_jobs_runnable", "status", "priority", "created_at"),
        Index("ix_jobs_photo", "photo_id"),
        Index("ix_jobs_order", "priority", "created_at", "id"),
        Index("ix_jobs_lease", "status", "lease_until"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[JobKind] = mapped_column(enum_column(JobKind, "job_kind"))
    photo_id: Mapped[str | None] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"))
    priority: Mapped[int] = mapped_column(Integer, default=2)
    status: Mapped[JobStatus] = mapped_column(
        enum_column(JobStatus, "job_status"), default=JobStatus.PENDING
    )
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    retry_count: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who runs (or last ran) the job: a bridge or an `autodev-bridge-worker`, by name.
    worker: Mapped[str | None] = mapped_column(String(100))
    # One value per claim: a worker whose lease lapsed and was claimed again cannot write over
    # the new claim's work, even if it is the same worker.
    claim_id: Mapped[str | None] = mapped_column(String(32))
    # In studio mode a running job belongs to its worker until then; renewed while it works.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Export(Base):
    """One exported file per photo and preset; the unique key makes exports idempotent.

    `output_path` is the job's claim on a file name (unique: no two exports claim one path);
    `content_hash` is recorded before the file is put in place, so adoption after a crash
    checks the content, never a timestamp.
    """

    __tablename__ = "exports"
    __table_args__ = (
        UniqueConstraint("photo_id", "preset_name", name="uq_export_photo_preset"),
        Index("uq_exports_output_path", "output_path", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    photo_id: Mapped[str] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"))
    preset_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[ExportStatus] = mapped_column(
        enum_column(ExportStatus, "export_status"), default=ExportStatus.PENDING
    )
    output_path: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FileIntent(Base):
    """A file operation that has begun and is not yet recorded: an import into the library
    (mode copy or move), or the removal of an export whose pick was taken back (unexport).

    Written before the file is touched and deleted in the transaction that records the
    outcome; start-up recovery finishes or rolls back every row left by a crash.
    """

    __tablename__ = "file_intents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))  # "copy", "move" or "unexport"
    source: Mapped[str] = mapped_column(Text)
    staging: Mapped[str] = mapped_column(Text)  # a hidden name only this intent uses
    target: Mapped[str | None] = mapped_column(Text)  # the final name, once chosen
    photo_id: Mapped[str] = mapped_column(String(32))
    session_id: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64))
    file_size: Mapped[int] = mapped_column(Integer)
    exif: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    export_id: Mapped[int | None] = mapped_column(Integer)  # the export an unexport removes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CullingProfile(Base):
    """A photographer's learned culling profile: JSON numbers by genre, never code.

    `revision` grows with every change, so a training run that read older decisions cannot
    overwrite a reset or an import that landed meanwhile (compare-and-set on it). Decisions
    made before `since` (the last reset or import) are not learned from.
    """

    __tablename__ = "culling_profiles"

    photographer: Mapped[str] = mapped_column(String(64), primary_key=True)
    profiles: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    examples: Mapped[int] = mapped_column(Integer, default=0)  # decisions at the last training
    note: Mapped[str] = mapped_column(Text, default="")
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    trained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Device(Base):
    """A paired phone or client; only the SHA-256 of its token is kept."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Plain text, not a CHECK: new roles (bridge_server.roles) need no schema change.
    role: Mapped[str] = mapped_column(String(24), default="approver", server_default="approver")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A proofing guest (role client) joined through this link and sees only its session.
    link_id: Mapped[str | None] = mapped_column(
        ForeignKey("proofing_links.id", ondelete="CASCADE", name="fk_devices_link_id"),
        nullable=True,
    )


class ProofingLink(Base):
    """A link the photographer shares with clients: one session, until it expires or is revoked.

    Only the SHA-256 of the link's secret is kept, as for device tokens.
    """

    __tablename__ = "proofing_links"
    __table_args__ = (
        CheckConstraint(
            "visibility IN ('picks', 'picks_and_proposals')", name="ck_link_visibility"
        ),
        Index("ix_proofing_links_session", "session_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    visibility: Mapped[str] = mapped_column(String(24), default="picks")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ClientFavorite(Base):
    """A proofing guest's heart on a photo (one per guest and photo)."""

    __tablename__ = "client_favorites"
    __table_args__ = (Index("ix_client_favorites_photo", "photo_id"),)

    photo_id: Mapped[str] = mapped_column(
        ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True
    )
    # No foreign key: a guest removed by the photographer leaves their hearts in place.
    device_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClientComment(Base):
    """A proofing guest's comment on a photo."""

    __tablename__ = "client_comments"
    __table_args__ = (Index("ix_client_comments_photo", "photo_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    photo_id: Mapped[str] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"))
    device_id: Mapped[str] = mapped_column(String(32))
    client_name: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventRecord(Base):
    """The persisted event log, for replay after a restart."""

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(16))
    timestamp: Mapped[str] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(Text)  # the exact serialized frame


class Meta(Base):
    """Small key/value facts, such as the sequence-number reservation."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class PhotoTally(Base):
    """Changes to a session's photo counts, one row per change (migration 0012's triggers
    write them, in the transaction that changed the photo; `store.tallies` sums and folds them).

    Rows are only ever added (never updated), so concurrent writers never wait for one another.
    """

    __tablename__ = "photo_tallies"
    __table_args__ = (Index("ix_photo_tallies_session", "session_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(32))
    total: Mapped[int] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer)
    waiting: Mapped[int] = mapped_column(Integer)
    approved: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)


class JobTally(Base):
    """Changes to the count of jobs in each status, one row per change (as PhotoTally)."""

    __tablename__ = "job_tallies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pending: Mapped[int] = mapped_column(Integer)
    running: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[int] = mapped_column(Integer)
