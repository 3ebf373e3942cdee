"""REST: jobs, processing control and system status."""

from __future__ import annotations

from aiohttp import web

from ..roles import STAFF
from ..services import jobs, system
from ..store.enums import JobKind, JobStatus
from ..validation import parse_enum, require_int
from .context_keys import CTX
from .http_util import json_response, page, page_params, read_json_object
from .routes import route


@route(
    "GET",
    "/api/jobs",
    "List jobs, running first, then by priority and age",
    query=("status", "kind", "photo_id", "limit", "offset"),
    roles=STAFF,
)
async def list_jobs(request: web.Request) -> web.Response:
    """Jobs."""
    limit, offset = page_params(request)
    q = request.query
    items, total = await jobs.list_jobs(
        request.app[CTX],
        status=parse_enum(q.get("status"), JobStatus, "status"),
        kind=parse_enum(q.get("kind"), JobKind, "kind"),
        photo_id=q.get("photo_id"),
        limit=limit,
        offset=offset,
    )
    return page(items, total, limit, offset)


@route("GET", "/api/jobs/{job_id}", "One job", roles=STAFF)
async def get_job(request: web.Request) -> web.Response:
    """A job."""
    return json_response(await jobs.get_job(request.app[CTX], request.match_info["job_id"]))


@route("POST", "/api/jobs/{job_id}/cancel", "Cancel a job", roles=STAFF)
async def cancel_job(request: web.Request) -> web.Response:
    """Cancel."""
    return json_response(
        {"job": await jobs.cancel_job(request.app[CTX], request.match_info["job_id"])}
    )


@route("POST", "/api/jobs/{job_id}/retry", "Retry a failed or cancelled job", roles=STAFF)
async def retry_job(request: web.Request) -> web.Response:
    """Retry."""
    return json_response(
        {"job": await jobs.retry_job(request.app[CTX], request.match_info["job_id"])}
    )


@route(
    "POST",
    "/api/jobs/{job_id}/priority",
    "Change a job's priority",
    body={
        "type": "object",
        "required": ["priority"],
        "properties": {"priority": {"type": "integer", "minimum": 1, "maximum": 3}},
    },
    roles=STAFF,
)
async def set_priority(request: web.Request) -> web.Response:
    """Re-prioritise."""
    body = await read_json_object(request)
    priority = require_int(body, "priority", minimum=1, maximum=3)
    job = await jobs.set_job_priority(request.app[CTX], request.match_info["job_id"], priority)
    return json_response({"job": job})


@route("POST", "/api/processing/pause", "Pause all processing", roles=STAFF)
async def pause(request: web.Request) -> web.Response:
    """Pause."""
    return json_response(jobs.set_processing_paused(request.app[CTX], True))


@route("POST", "/api/processing/resume", "Resume processing", roles=STAFF)
async def resume(request: web.Request) -> web.Response:
    """Resume."""
    return json_response(jobs.set_processing_paused(request.app[CTX], False))


@route("GET", "/api/system/status", "Machine and bridge health", roles=STAFF)
async def system_status(request: web.Request) -> web.Response:
    """Status snapshot."""
    return json_response(system.snapshot(request.app[CTX]))
