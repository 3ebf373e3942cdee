"""Timestamps: ISO-8601 in UTC with an offset, as the protocol requires."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def iso(dt: datetime | None) -> str | None:
    """Format an aware or naive-UTC datetime as ISO-8601 with a +00:00 offset."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat()


def now_iso() -> str:
    """Return the current time in protocol format."""
    return datetime.now(UTC).isoformat()
