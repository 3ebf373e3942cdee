"""REST: jobs, processing control and system status."""

from __future__ import annotations

from aiohttp import web

from ..roles import OPERATOR_ONLY, STAFF
from ..services import jobs, system
from ..services.errors import InvalidArguments
from ..store.enums import JobKind, JobStatus
from ..validation import get_int, get_str, parse_enum, require_int
from .context_keys import CTX
from .http_util import json_response, page, page_params, read_json_object
from .openapi_schemas import (
    ID_MAX,
    JOB,
    JOB_CREATE,
    PAGE,
    PRESET_MAX,
    PRIORITY,
    QUERY_ENUMS,
    page_response,
    wrapped,
)
from .routes import route


@route(
    "GET",
    "/api/jobs",
    "List jobs, running first, then by priority and age",
    query=(
        QUERY_ENUMS["job_status"],
        QUERY_ENUMS["job_kind"],
        ("photo_id", {"type": "string"}),
        *PAGE,
    ),
    response=page_response(JOB),
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


@route(
    "POST",
    "/api/jobs",
    "Queue an export (with a preset) or a re-analysis of a photo",
    roles=OPERATOR_ONLY,
    status=201,
    body=JOB_CREATE,
    response=wrapped("job", JOB),
)
async def create_job(request: web.Request) -> web.Response:
    """A new job for a photo; `job_created` tells every subscriber."""
    body = await read_json_object(request)
    photo_id = get_str(body, "photo_id", max_len=ID_MAX, allow_empty=True)
    assert photo_id is not None
    config = body.get("config")
    if config is not None and not isinstance(config, dict):
        raise InvalidArguments("'config' must be an object")
    config = config or {}
    kind_name = get_str(body, "kind", max_len=16, required=False) or get_str(
        config, "kind", max_len=16, required=False
    )
    preset = get_str(body, "preset", max_len=PRESET_MAX, required=False) or get_str(
        config, "preset", max_len=PRESET_MAX, required=False
    )
    kind = parse_enum(kind_name, JobKind, "kind") or (JobKind.EXPORT if preset else JobKind.ANALYZE)
    if kind not in (JobKind.ANALYZE, JobKind.EXPORT):
        raise InvalidArguments("'kind' must be 'analyze' or 'export'")
    priority = get_int(body, "priority", minimum=1, maximum=3, required=False)
    job = await jobs.create_job(
        request.app[CTX], photo_id, kind, priority or jobs.PRIORITY_NORMAL, preset
    )
    return json_response({"success": True, "job": job}, 201)


@route("GET", "/api/jobs/{job_id}", "One job", response=JOB, roles=STAFF)
async def get_job(request: web.Request) -> web.Response:
    """A job."""
    return json_response(await jobs.get_job(request.app[CTX], request.match_info["job_id"]))


@route(
    "POST", "/api/jobs/{job_id}/cancel", "Cancel a job", response=wrapped("job", JOB), roles=STAFF
)
async def cancel_job(request: web.Request) -> web.Response:
    """Cancel."""
    return json_response(
        {"job": await jobs.cancel_job(request.app[CTX], request.match_info["job_id"])}
    )


@route(
    "POST",
    "/api/jobs/{job_id}/retry",
    "Retry a failed or cancelled job",
    response=wrapped("job", JOB),
    roles=STAFF,
)
async def retry_job(request: web.Request) -> web.Response:
    """Retry."""
    return json_response(
        {"job": await jobs.retry_job(request.app[CTX], request.match_info["job_id"])}
    )


@route(
    "POST",
    "/api/jobs/{job_id}/priority",
    "Change a job's priority",
    body=PRIORITY,
    response=wrapped("job", JOB),
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
