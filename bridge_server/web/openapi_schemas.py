"""JSON Schemas of request bodies and query parameters, saying exactly what the handlers accept.

The fuzz test (tests/server/test_fuzz_rest.py) holds the server to these: data the schema allows
must not get a 400, data it forbids must not be accepted.
"""

from __future__ import annotations

import inspect
import typing
from enum import StrEnum
from typing import Any, Final

from .. import events
from ..pipeline.importer import MAX_PATHS
from ..services import settings as settings_service
from ..services.decisions import MAX_KEYWORD_LEN, MAX_KEYWORDS, MAX_REASON, MAX_STARS
from ..services.library import CURSOR_PATTERN, MAX_CURSOR_LEN, PROBLEMS, SortOrder
from ..store.enums import (
    Approval,
    ColorLabel,
    Flag,
    JobKind,
    JobStatus,
    PhotoStatus,
    Selection,
    SessionStatus,
    Verdict,
)
from .broadcast import MAX_TYPE_LEN, payload_fields
from .http_util import MAX_LIMIT, MAX_OFFSET

NAME_MAX: Final = 200
PATH_MAX: Final = 4096
PRESET_MAX: Final = 100
ID_MAX: Final = 64

# Text fields never hold NUL. A name also needs one character that Python's str.strip() keeps
# (the handlers strip names), spelled out because a schema's \S does not count U+001C..U+001F
# as white space (U+3000 is the highest code point Python calls white space).
_PYTHON_SPACE: Final = "".join(f"\\u{ord(c):04x}" for c in map(chr, range(0x3001)) if c.isspace())
NO_NUL: Final = r"^[^\u0000]*$"
NON_BLANK: Final = f"^[{_PYTHON_SPACE}]*[^{_PYTHON_SPACE}\\u0000][^\\u0000]*$"


def enum_schema(enum: type[StrEnum]) -> dict[str, Any]:
    """A string restricted to the enum's values."""
    return {"type": "string", "enum": [m.value for m in enum]}


def name_schema(max_len: int = NAME_MAX, *, nullable: bool = False) -> dict[str, Any]:
    """A non-blank string of at most `max_len` characters (null allowed: same as absent)."""
    return {
        "type": ["string", "null"] if nullable else "string",
        "minLength": 1,
        "maxLength": max_len,
        "pattern": NON_BLANK,
    }


LIMIT: Final = ("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT})
OFFSET: Final = ("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET})
PAGE: Final = (LIMIT, OFFSET)


def page_response(item: dict[str, Any] | None = None) -> dict[str, Any]:
    """The list response: items, total, limit, offset."""
    return {
        "type": "object",
        "required": ["items", "total", "limit", "offset"],
        "properties": {
            "items": {"type": "array", "items": item or {"type": "object"}},
            "total": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
        },
    }


OBJECT: Final[dict[str, Any]] = {"type": "object"}

SESSION_CREATE: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "session_name": name_schema(nullable=True),
        "name": name_schema(nullable=True),
        "import_folder": name_schema(PATH_MAX, nullable=True),
    },
    "anyOf": [
        {"required": ["session_name"], "properties": {"session_name": {"type": "string"}}},
        {"required": ["name"], "properties": {"name": {"type": "string"}}},
    ],
}

SESSION_PATCH: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "session_name": name_schema(nullable=True),
        "name": name_schema(nullable=True),
        "status": {"type": ["string", "null"], "enum": ["active", "completed", None]},
    },
}

# The kinds a caller may queue for a photo (profile training is the app's own doing).
PHOTO_JOB_KIND: Final[dict[str, Any]] = {
    "type": ["string", "null"],
    "enum": [JobKind.ANALYZE.value, JobKind.EXPORT.value],
}
JOB_CREATE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["photo_id"],
    "properties": {
        "photo_id": {"type": "string", "minLength": 1, "maxLength": ID_MAX, "pattern": NO_NUL},
        "kind": PHOTO_JOB_KIND,
        "preset": name_schema(PRESET_MAX, nullable=True),
        "priority": {"type": ["integer", "null"], "minimum": 1, "maximum": 3},
        "config": {
            "type": ["object", "null"],
            "description": "The original bridge's job config; `kind` and `preset` are read here.",
            "properties": {
                "kind": PHOTO_JOB_KIND,
                "preset": name_schema(PRESET_MAX, nullable=True),
            },
        },
    },
}

PRIORITY: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["priority"],
    "properties": {"priority": {"type": "integer", "minimum": 1, "maximum": 3}},
}

REJECT: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "reason": {"type": ["string", "null"], "maxLength": MAX_REASON, "pattern": NO_NUL}
    },
}

# A keyword: not blank, no control characters (XMP must hold it), at most MAX_KEYWORD_LEN.
NO_CONTROL: Final = r"^[^\u0000-\u001f\u007f-\u009f\ufffe\uffff]*$"
KEYWORD: Final[dict[str, Any]] = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_KEYWORD_LEN,
    "allOf": [{"pattern": NON_BLANK}, {"pattern": NO_CONTROL}],
}

DECISION: Final[dict[str, Any]] = {
    "type": "object",
    "description": (
        "Any part of a decision; absent (or null) fields stay as they are, except `color_label` "
        "and `preset`, where null clears the label or goes back to selection's preset. "
        "`reason` goes only with flag `reject`. An unknown preset is a 404."
    ),
    "properties": {
        "flag": {**enum_schema(Flag), "type": ["string", "null"]},
        "stars": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_STARS},
        "color_label": {"type": ["string", "null"], "enum": [*(c.value for c in ColorLabel), None]},
        "keywords": {"type": ["array", "null"], "maxItems": MAX_KEYWORDS, "items": KEYWORD},
        "preset": name_schema(PRESET_MAX, nullable=True),
        "reason": {"type": ["string", "null"], "maxLength": MAX_REASON, "pattern": NO_NUL},
    },
    "if": {
        "required": ["reason"],
        "properties": {"reason": {"type": "string", "pattern": NON_BLANK}},
    },
    "then": {"required": ["flag"], "properties": {"flag": {"const": Flag.REJECT.value}}},
}

IMPORT: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["paths"],
    "properties": {
        "paths": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_PATHS,
            "items": {"type": "string", "minLength": 1, "maxLength": PATH_MAX, "pattern": NO_NUL},
        },
        "session_name": name_schema(nullable=True),
    },
}

PAIRING_COMPLETE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["code", "device_name"],
    "properties": {"code": name_schema(32), "device_name": name_schema(64)},
}


def _field_schema(kind: Any) -> dict[str, Any]:
    """JSON Schema of one payload field, from the builder's type hint."""
    if kind is Any:
        return {}
    args = typing.get_args(kind)
    if args and type(None) in args and typing.get_origin(kind) is not dict:
        inner = [a for a in args if a is not type(None)]
        schema = _field_schema(inner[0]) if len(inner) == 1 else {}
        base = schema.get("type")
        return {**schema, "type": [base, "null"]} if isinstance(base, str) else {}
    origin = typing.get_origin(kind) or kind
    names = {
        str: "string",
        int: "integer",
        float: "number",
        dict: "object",
        bool: "boolean",
        list: "array",
    }
    return {"type": names[origin]} if origin in names else {}


def _payload_schema(event_type: str) -> tuple[dict[str, Any], list[str]] | None:
    """Properties and required fields of a typed event's payload (None: no builder to read)."""
    builder = getattr(events, event_type, None)
    if builder is None or not inspect.isfunction(builder):
        return None
    fields = payload_fields(builder)
    properties = {name: _field_schema(kind) for name, (kind, _) in fields.items()}
    return properties, [name for name, (_, needed) in fields.items() if needed]


def _typed_variants(event_type: str) -> list[dict[str, Any]]:
    """The two body shapes of one typed event: ours and the original's quick start."""
    own = events.EVENT_CHANNELS[event_type].value
    channel = {"type": ["string", "null"], "enum": [own, None]}
    payload = _payload_schema(event_type)
    if payload is None:
        data: dict[str, Any] = {"type": "object", "propertyNames": NOT_RESERVED}
        message: dict[str, Any] = {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"const": event_type}},
            "propertyNames": NOT_ENVELOPE,
        }
        required: list[str] = []
    else:
        properties, required = payload
        data = {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
        message = {
            "type": "object",
            "properties": {"type": {"const": event_type}, **properties},
            "required": ["type", *required],
            "additionalProperties": False,
        }
    return [
        {
            # No other field (so not `message`): one branch per form, which keeps the document
            # within what Schemathesis's canonicaliser models (a `not` per event did not).
            "required": ["type", "data"] if required else ["type"],
            "properties": {"type": {"const": event_type}, "channel": channel, "data": data},
            "additionalProperties": False,
        },
        {"required": ["message"], "properties": {"message": message, "channel": channel}},
    ]


NOT_RESERVED: Final = {"not": {"enum": sorted(events.RESERVED_KEYS)}}
NOT_ENVELOPE: Final = {"not": {"enum": sorted(events.RESERVED_KEYS - {"type"})}}


def broadcast_schema() -> dict[str, Any]:
    """Every body `POST /api/websocket/broadcast` accepts, typed events from the registry."""
    typed = sorted(events.EVENT_CHANNELS)
    open_channels = sorted(events.ALL_CHANNELS - events.SERVER_ONLY_CHANNELS)
    variants = [
        v
        for event_type in typed
        if events.EVENT_CHANNELS[event_type].value in open_channels
        for v in _typed_variants(event_type)
    ]
    custom_type = {
        "type": "string",
        "pattern": events.CUSTOM_EVENT_NAME.pattern.join("^$"),
        "not": {"enum": typed},
    }
    channel = {"type": "string", "enum": open_channels}
    variants.append(
        {
            "required": ["type", "channel"],
            "properties": {
                "type": custom_type,
                "channel": channel,
                "data": {"type": "object", "propertyNames": NOT_RESERVED},
            },
            "additionalProperties": False,
        }
    )
    variants.append(
        {
            "required": ["message", "channel"],
            "properties": {
                "message": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": custom_type},
                    "propertyNames": NOT_ENVELOPE,
                },
                "channel": channel,
            },
        }
    )
    return {
        "type": "object",
        "description": (
            "A typed event `{type, channel?, data}` with its checked payload, or a custom event "
            f"(`^[a-z][a-z0-9_]{{0,{MAX_TYPE_LEN - 1}}}$`, not a typed name) on any channel with "
            "free-form data; or the original bridge's `{message: {type, ...}, channel?}`. "
            "A typed event's channel defaults to its own."
        ),
        "anyOf": variants,
    }


BROADCAST_SCHEMA: Final = broadcast_schema()

QUERY_ENUMS: Final = {
    "session_status": ("status", enum_schema(SessionStatus)),
    "job_status": ("status", enum_schema(JobStatus)),
    "job_kind": ("kind", enum_schema(JobKind)),
    "photo_status": ("status", enum_schema(PhotoStatus)),
    "approval": ("approval", enum_schema(Approval)),
    "selection": ("selection", enum_schema(Selection)),
}


# Keyset paging: stable while photos arrive or leave, and no skipped rows to read.
CURSOR: Final = (
    "cursor",
    {
        "type": "string",
        "maxLength": MAX_CURSOR_LEN,
        "pattern": CURSOR_PATTERN,
        "description": "`next_cursor` of the previous page, as the server gave it",
    },
)
LIBRARY_QUERY: Final = (
    ("sort", enum_schema(SortOrder)),
    ("verdict", enum_schema(Verdict)),
    ("flag", enum_schema(Flag)),
    ("min_stars", {"type": "integer", "minimum": 0, "maximum": MAX_STARS}),
    ("color_label", enum_schema(ColorLabel)),
    ("problem", {"type": "string", "enum": list(PROBLEMS)}),
    ("collapse_stacks", {"type": "string", "enum": ["true", "false"]}),
    CURSOR,
)


# --- responses ------------------------------------------------------------------------------


def _obj(required: dict[str, Any]) -> dict[str, Any]:
    """An object with these required properties (more may follow: clients ignore them)."""
    return {"type": "object", "required": list(required), "properties": required}


STR: Final = {"type": "string"}
OPT_STR: Final = {"type": ["string", "null"]}
INT: Final = {"type": "integer"}
NUM: Final = {"type": "number"}

SESSION: Final = _obj(
    {
        "session_id": STR,
        "session_name": STR,
        "import_folder": OPT_STR,
        "status": enum_schema(SessionStatus),
        "created_at": OPT_STR,
        "completed_at": OPT_STR,
        "total_photos": INT,
        "processed_photos": INT,
        "approved_photos": INT,
        "rejected_photos": INT,
        "progress_percent": {"type": "number", "minimum": 0, "maximum": 100},
        "shoot_date": OPT_STR,
    }
)
SESSION_DELETE: Final = _obj(
    {
        "session_id": STR,
        "session_name": STR,
        "deleted_photos": INT,
        "deleted_decisions": INT,
        "cancelled_jobs": INT,
        "files_kept": INT,
        "exports_kept": INT,
    }
)
PHOTO: Final = _obj(
    {
        "photo_id": STR,
        "session_id": STR,
        "file_name": STR,
        "status": enum_schema(PhotoStatus),
        "selection": enum_schema(Selection),
        "approval": enum_schema(Approval),
        "in_queue": {"type": "boolean"},
        "thumbnail_url": STR,
        "flag": enum_schema(Flag),
        "stars": {"type": "integer", "minimum": 0, "maximum": MAX_STARS},
        "color_label": {"type": ["string", "null"], "enum": [*(c.value for c in ColorLabel), None]},
        "keywords": {"type": "array", "items": STR},
        "verdict": enum_schema(Verdict),
    }
)
LIBRARY_PAGE: Final = _obj(
    {
        "photos": {"type": "array", "items": PHOTO},
        "next_cursor": OPT_STR,
        "total": {"type": "integer", "minimum": 0},
        "items": {"type": "array", "items": PHOTO},
        "limit": INT,
        "offset": INT,
    }
)
QUEUE_PAGE: Final = {
    **page_response(PHOTO),
    "properties": {**page_response(PHOTO)["properties"], "next_cursor": OPT_STR},
}
JOB: Final = _obj(
    {
        "job_id": STR,
        "kind": enum_schema(JobKind),
        "photo_id": OPT_STR,
        "priority": {"type": "integer", "minimum": 1, "maximum": 3},
        "status": enum_schema(JobStatus),
        "progress": {"type": "number", "minimum": 0, "maximum": 100},
        "stage": STR,
        "worker": OPT_STR,  # the bridge or studio worker that runs or last ran it
    }
)
CLIENT: Final = _obj(
    {
        "id": STR,
        "client_id": STR,
        "client_type": STR,
        "client_name": STR,
        "connected_at": STR,
        "last_ping": OPT_STR,
        "subscriptions": {"type": "array", "items": STR},
        "queue_depth": INT,
        "messages_sent": INT,
    }
)
STUDIO: Final = _obj(
    {
        "studio": {"type": "boolean"},
        "stream": {"type": ["object", "null"]},
        "members": {"type": "array", "items": {"type": "object"}},
    }
)
CLIENTS: Final = _obj(
    {
        "success": {"const": True},
        "count": INT,
        "total": INT,
        "clients": {"type": "array", "items": CLIENT},
    }
)
STATS: Final = _obj(
    {
        "success": {"const": True},
        "connections": INT,
        "registered": INT,
        "by_type": {"type": "object", "additionalProperties": INT},
        "connections_since_start": INT,
        "messages_sent": INT,
        "queue_depths": {"type": "object", "additionalProperties": INT},
        "queued_frames": INT,
        "max_queue_depth": INT,
        "subscribers_by_channel": {"type": "object", "additionalProperties": INT},
        "last_seq": INT,
        "started_at": STR,
        "uptime_seconds": NUM,
    }
)
BROADCAST_REPLY: Final = _obj(
    {
        "success": {"const": True},
        "seq": INT,
        "type": STR,
        "channel": {"type": "string", "enum": sorted(events.ALL_CHANNELS)},
        "delivered_to": INT,
    }
)


def _live_settings() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name, (kind, low, high) in settings_service.LIVE_SETTINGS.items():
        if kind is bool:
            properties[name] = {"type": "boolean"}
        else:
            number = "integer" if kind is int else "number"
            properties[name] = {"type": number, "minimum": low, "maximum": high}
    return {"type": "object", "properties": properties, "additionalProperties": False}


LIVE_SETTINGS: Final = _live_settings()
SETTINGS_CHANGE: Final = _obj(
    {
        "settings": LIVE_SETTINGS,
        "changed": {"type": "array", "items": STR},
        "job": {"anyOf": [JOB, {"type": "null"}]},
    }
)


def wrapped(key: str, schema: dict[str, Any]) -> dict[str, Any]:
    """`{key: schema}`, as the action routes answer (`{"photo": {...}}`)."""
    return _obj({key: schema})
