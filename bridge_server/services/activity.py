"""The Activity history: pages of the retained event log, newest first, filtered by the caller.

A phone that pairs after 60 jobs gets no replay (it never saw a sequence number); it fills its
Activity screen from here instead. Staff see every event; a proofing guest only what the broker
would send it live (audience.may_receive), so history never shows more than the socket does.
"""

from __future__ import annotations

from typing import Any, Final

from ..audience import ProofingScope, may_receive
from ..broker import PublishedEvent
from ..context import BridgeContext
from ..events import EVENT_CHANNELS
from .errors import InvalidArguments

# Events worth a line in Activity (progress ticks and counters only update screens).
ACTIVITY_TYPES: Final = frozenset(
    {
        "photo_imported",
        "photo_approved",
        "photo_rejected",
        "photo_unflagged",
        "job_failed",
        "export_completed",
        "export_failed",
        "session_created",
        "session_completed",
        "resource_warning",
        "error_occurred",
        "system_status",
        "client_favorite_changed",
        "client_comment_added",
    }
)


def known_types() -> list[str]:
    """Every event type `types` may name."""
    return sorted(set(EVENT_CHANNELS) | ACTIVITY_TYPES)


def types_pattern() -> str:
    """A regular expression for `types`: known event types, comma-separated."""
    name = "(" + "|".join(known_types()) + ")"
    return f"^{name}(,{name})*$"


def parse_types(raw: str | None) -> frozenset[str]:
    """`types=a,b` as a set of known event types (default: the Activity set)."""
    if raw is None:
        return ACTIVITY_TYPES
    if raw == "":  # as the schema says: leave it out for the default, never an empty filter
        raise InvalidArguments("'types' must name at least one event type (or be left out)")
    # Exactly the documented form (names joined by commas): a stray character is an error,
    # not a silent "all types".
    names = frozenset(raw.split(","))
    unknown = sorted(n for n in names if n not in EVENT_CHANNELS and n not in ACTIVITY_TYPES)
    if unknown:
        raise InvalidArguments(f"Unknown event type(s) in 'types': {unknown[:5]}")
    return names


def activity_page(
    ctx: BridgeContext,
    scope: ProofingScope | None,
    before: int | None,
    limit: int,
    types: frozenset[str],
) -> dict[str, Any]:
    """One page of history for a caller with `scope` (None: staff), newest first."""

    def accept(event: PublishedEvent) -> bool:
        return event.type in types and may_receive(scope, event)

    found = ctx.broker.history_page(before, limit, accept)
    items = [event.as_message() for event in found]
    next_before = found[-1].seq if len(found) == limit else None
    return {"items": items, "next_before": next_before, "seq": ctx.broker.last_seq}
