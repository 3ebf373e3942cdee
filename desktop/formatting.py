"""Small text formatters shared by the models (times, durations, sizes, tooltips)."""

from __future__ import annotations

import html
from datetime import UTC, datetime


def literal_tooltip(text: str | None) -> str | None:
    """Tooltip text shown literally: Qt renders a tooltip that looks like markup as rich text,
    so one holding a `<` (a file or device name) is escaped."""
    if text is None or "<" not in text:
        return text
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"


def parse_iso(value: str | None) -> datetime | None:
    """An ISO-8601 timestamp as an aware datetime, or None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def local_time(value: str | None, *, seconds: bool = True) -> str:
    """HH:MM(:SS) in local time, with the date when not today."""
    moment = parse_iso(value)
    if moment is None:
        return ""
    local = moment.astimezone()
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    if local.date() != datetime.now().astimezone().date():
        return f"{local:%d %b} {clock}"
    return clock


def duration(seconds: float | None) -> str:
    """1.2 s, 42 s, 3 min 05 s, 1 h 02 min."""
    if seconds is None or seconds < 0:
        return ""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def elapsed(start: str | None, end: str | None = None) -> float | None:
    """Seconds from `start` to `end` (or now)."""
    begin = parse_iso(start)
    if begin is None:
        return None
    finish = parse_iso(end) or datetime.now(UTC)
    return (finish - begin).total_seconds()


def megabytes(mb: float | None) -> str:
    """Free space as '12.3 GB' or '850 MB'."""
    if mb is None:
        return "–"
    return f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb:.0f} MB"


def shutter_text(value: object) -> str:
    """Shutter speed as '1/250 s', '1 s', '2.5 s' (the store keeps '1/250' or '1s')."""
    text = str(value or "").strip()
    if text.lower().endswith("s"):
        text = text[:-1].rstrip()
    return f"{text} s" if text else ""
