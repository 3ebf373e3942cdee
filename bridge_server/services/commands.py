"""WebSocket commands: each one validates its arguments and calls a service function."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ..context import BridgeContext
from ..validation import get_str, require_int, require_str
from . import approvals, jobs

CommandHandler = Callable[[BridgeContext, Mapping[str, Any]], Awaitable[dict[str, Any]]]

ID_MAX = 40


async def _approve(ctx: BridgeContext, args: Mapping[str, Any]) -> dict[str, Any]:
    photo = await approvals.approve_photo(ctx, require_str(args, "photo_id", max_len=ID_MAX))
    return {"photo": photo}


async def _reject(ctx: BridgeContext, args: Mapping[str, Any]) -> dict[str, Any]:
    photo_id = require_str(args, "photo_id", max_len=ID_MAX)
    reason = get_str(args, "reason", max_len=approvals.MAX_REASON, required=False, allow_empty=True)
    return {"photo": await approvals.reject_photo(ctx, photo_id, reason)}


async def _undo(ctx: BridgeContext, args: Mapping[str, Any]) -> dict[str, Any]:
    photo = await approvals.undo_decision(ctx, require_str(args, "photo_id", max_len=ID_MAX))
    return {"photo": photo}


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


COMMANDS: dict[str, CommandHandler] = {
    "approve_photo": _approve,
    "reject_photo": _reject,
    "undo_decision": _undo,
    "set_job_priority": _priority,
    "cancel_job": _cancel,
    "retry_job": _retry,
    "pause_processing": _pause,
    "resume_processing": _resume,
}
