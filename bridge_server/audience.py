"""Who may receive an event: the one predicate the broker asks for every connection and event.

Staff connections (operator, approver) have no scope and receive every event of their channels.
A proofing guest's connection carries a `ProofingScope` and receives only proofing events of its
own session about photos its link lets it see (or just stopped letting it see: the withdrawal).
Nothing else reaches it: no job, system, queue, export or other-session event, no decision.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .broker import PublishedEvent

# What a link may show: only picks, or picks and the photos the analysis proposes. Never rejects.
VISIBLE_LEVELS: Final[dict[str, frozenset[str]]] = {
    "picks": frozenset({"pick"}),
    "picks_and_proposals": frozenset({"pick", "proposal"}),
}
GUEST_EVENTS: Final = frozenset(
    {"proofing_photo_changed", "client_favorite_changed", "client_comment_added"}
)


@dataclass(frozen=True, slots=True)
class ProofingScope:
    """What one proofing guest may see: a session, at a visibility, under its own name."""

    session_id: str
    visibility: str
    device_id: str
    client_name: str
    link_id: str
    expires_at: float = float("inf")  # time.time() when the link expires: nothing after that

    def sees(self, level: object) -> bool:
        """Whether a photo at `level` (pick, proposal or None) is shown to this guest."""
        return level in VISIBLE_LEVELS.get(self.visibility, frozenset())


def may_receive(scope: ProofingScope | None, event: PublishedEvent) -> bool:
    """Whether a connection with `scope` (None: staff) may receive `event`. Deny by default."""
    if scope is None:
        return True
    if event.type not in GUEST_EVENTS or time.time() >= scope.expires_at:
        return False
    payload = event.payload
    if payload.get("session_id") != scope.session_id:
        return False
    return scope.sees(payload.get("level")) or scope.sees(payload.get("previous"))
