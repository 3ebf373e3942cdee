"""WebSocket commands: each one declares its roles, validates its arguments and calls a service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..context import BridgeContext
from ..roles import STAFF, Role
from ..validation import get_str, require_int, require_str
from . import decisions, jobs

CommandHandler = Callable[[BridgeContext, Mapping[str, Any]], Awaitable[dict[str, Any]]]

ID_MAX = 40


async def _approve(ctx: BridgeContext, args: Mapping[str, Any]) -> dict[str, Any]:
    photo = await decisions.approve_photo(ctx, require_str(args, "photo_id", max_len=ID_MAX))
    return {"photo": photo}


async def _reject(ctx: BridgeContext, args: Mapping[str, Any]) -> dict[str, Any]:
    photo_id = require_str(args, "photo_id", max_len=ID_MAX)
    reason = get_str(args, "reason", max_len=decisions.MAX_REASON, required=False, allow_empty=True)
    return {"photo": await decisions.reject_photo(ctx, photo_id, reason)}


async def _undo(ctx: BridgeContext, args: Mapping[str, Any]) -> dict[str, Any]:
    photo = await decisions.undo_decision(ctx, require_str(args, "photo_id", max_len=ID_MAX))
    return {"photo": photo}


async def _decide(ctx: BridgeContext, args: Mapping[str, Any]) -> dict[str, Any]:
    photo_id = require_str(args, "photo_id", max_len=ID_MAX)
    decision = decisions.parse_decision(args, ctx.settings)
    return {"photo": await decisions.set_decision(ctx, photo_id, decision)}


async def _priority(ctx: BridgeContext, args: Mapping[str, Any]) -> dict[str, Any]:
    job_id = require_str(args, "job_id", max_len=ID_MAX)
    priority = require_int(args, "priority", minimum=1, maximum=3)
    return {"job": await jobs.set_job_priority(ctx, job_id, priority)}


async def _cancel(ctx: BridgeContext, args: Mapping[str, Any]) -> dict[str, Any]:
    return {"job": await jobs.cancel_job(ctx, require_str(args, "job_id", max_len=ID_MAX))}


async def _retry(ctx: BridgeContext, args: Mapping[str, Any]) -> dict[str, Any]:
    return {"job": await jobs.retry_job(ctx, require_str(args, "job_id", max_len=ID_MAX))}


async def _pause(ctx: BridgeContext, args: Mapping[str, Any]) -> dict[str, Any]:
    return jobs.set_processing_paused(ctx, True)


async def _resume(ctx: BridgeContext, args: Mapping[str, Any]) -> dict[str, Any]:
    return jobs.set_processing_paused(ctx, False)


@dataclass(frozen=True)
class Command:
    """A WebSocket command: the service call it makes and the roles that may send it."""

    handler: CommandHandler
    roles: frozenset[Role]

    def allows(self, role: Role | None) -> bool:
        """Whether a connection of `role` may run this command."""
        return role is not None and role in self.roles


# Every command declares who may call it; a name missing here is unknown, so refused.
COMMANDS: dict[str, Command] = {
    "approve_photo": Command(_approve, STAFF),
    "reject_photo": Command(_reject, STAFF),
    "undo_decision": Command(_undo, STAFF),
    "set_decision": Command(_decide, STAFF),
    "set_job_priority": Command(_priority, STAFF),
    "cancel_job": Command(_cancel, STAFF),
    "retry_job": Command(_retry, STAFF),
    "pause_processing": Command(_pause, STAFF),
    "resume_processing": Command(_resume, STAFF),
}
